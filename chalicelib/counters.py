"""The funnel: what happened to a card, counted per day, added up in memory and written in batches.

A flash sale taps one card hundreds of thousands of times. One write per event would make the
counter the sale's hot key and would take away the point of the sold-out short-circuit (a refused
tap costs no DynamoDB request). So each container adds its counts in memory and writes them at most
every COUNTER_FLUSH_SECONDS: one UpdateItem per (card, day), to a shard of the day's counters chosen
once per container, so containers rarely write the same item. Counts a container holds when it is
shut down are lost: the funnel is a close estimate; orders and money are exact in the orders table.

The counts are top-level number attributes named at run time ("taps", "geo:views:CN",
"region:paid:US-CA"); chalicelib/store/counters.py writes and reads them.
"""
from __future__ import annotations

import logging
import random
import re
import threading
import time
from collections import Counter
from datetime import datetime, timezone

from chalicelib import config
from chalicelib.store import counters as stored

log = logging.getLogger(__name__)

# The funnel's steps, in the order a buyer goes through them, then what comes after.
VIEWS, TAPS, HOLDS, PAID = "views", "taps", "holds", "paid"
UNITS, REVENUE, EXPIRED, REFUNDS = "units", "revenue", "expired_holds", "refunds"
SHARES_POSTED, REFERRAL_VISITS, REFERRED_ORDERS = "shares_posted", "referral_visits", "referred_orders"
# Paid orders a code discounted, and what discounts took off paid orders (revenue is after them).
CODE_REDEMPTIONS, DISCOUNTS = "code_redemptions", "discounts"
# Group buying: groups started, completed (the last member authorised), failed (closed short),
# and units paid through groups.
GROUPS_STARTED, GROUPS_COMPLETED, GROUPS_FAILED, GROUP_UNITS = ("groups_started", "groups_completed",
                                                                "groups_failed", "group_units")
NAMES = (VIEWS, TAPS, HOLDS, PAID, UNITS, REVENUE, EXPIRED, REFUNDS, SHARES_POSTED, REFERRAL_VISITS,
         REFERRED_ORDERS, CODE_REDEMPTIONS, DISCOUNTS, GROUPS_STARTED, GROUPS_COMPLETED, GROUPS_FAILED, GROUP_UNITS)
# Counted by where the buyer is, too.
BY_PLACE = (VIEWS, PAID)

_COUNTRY = re.compile(r"^[A-Za-z]{2}\Z")
_REGION = re.compile(r"^[A-Za-z0-9]{1,3}\Z")
# The region subtag of the first language the browser asks for: "zh-CN,zh;q=0.9" -> CN.
_LANGUAGE_REGION = re.compile(r"^\s*[A-Za-z]{2,3}(?:-[A-Za-z]{4})?-([A-Za-z]{2})\b")

_pending: dict[tuple[str, str], Counter] = {}
# When each (card, client) was last counted a view. A container serves one request at a time, so
# this many is several minutes of distinct readers: forgetting them all at once then loses little.
_last_view: dict[tuple[str, str], float] = {}
MAX_REMEMBERED_VIEWS = 20_000
_lock = threading.Lock()
_last_flush = float("-inf")  # a container's first counts are written at once
_shard = random.randrange(config.COUNTER_SHARDS)


def day_of(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%d")


def place_of(viewer_headers: dict, accept_language: str | None) -> str | None:
    """"CN" or "US-CA" from CloudFront's viewer headers (only those our CloudFront wrote:
    api.http.viewer_headers); without them the region of the browser's first language is the best
    guess. None when neither says."""
    country = viewer_headers.get("cloudfront-viewer-country") or ""
    if _COUNTRY.match(country):
        region = viewer_headers.get("cloudfront-viewer-country-region") or ""
        return f"{country.upper()}-{region.upper()}" if _REGION.match(region) else country.upper()
    match = _LANGUAGE_REGION.match(accept_language or "")
    return match.group(1).upper() if match else None


def count(card_id: str, name: str, n: int = 1, place: str | None = None, at: float | None = None) -> None:
    """Add n to a card's count for the day; costs no request (see flush)."""
    counts_of_place = {}
    if place and name in BY_PLACE:
        country, _, region = place.partition("-")
        counts_of_place[f"geo:{name}:{country}"] = n
        if region:
            counts_of_place[f"region:{name}:{place}"] = n
    with _lock:
        counts = _pending.setdefault((card_id, day_of(time.time() if at is None else at)), Counter())
        counts[name] += n
        counts.update(counts_of_place)


def count_view(card_id: str, client: str, place: str | None = None, at: float | None = None) -> None:
    """A view of the card, counted once per client in VIEW_DEDUP_SECONDS, so reloading (or a
    script) does not pump the funnel. Remembered in the container's memory: cheap, no request;
    a client whose views reach several containers counts once in each, which a funnel can bear."""
    at = time.time() if at is None else at
    with _lock:
        last = _last_view.get((card_id, client))
        if last is not None and at - last < config.VIEW_DEDUP_SECONDS:
            return
        if len(_last_view) >= MAX_REMEMBERED_VIEWS:
            _last_view.clear()
        _last_view[(card_id, client)] = at
    count(card_id, VIEWS, place=place, at=at)


def flush_if_due() -> None:
    if _pending and time.monotonic() - _last_flush >= config.COUNTER_FLUSH_SECONDS:
        flush()


def flush() -> None:
    """Write what this container counted; what fails to write is kept for the next flush."""
    global _last_flush
    with _lock:
        pending = dict(_pending)
        _pending.clear()
        _last_flush = time.monotonic()
    for (card_id, day), counts in pending.items():
        try:
            stored.add(card_id, f"{day}#{_shard}", counts)
        except Exception:  # counting must never fail a sale
            log.warning("could not write counts of %s on %s; keeping them", card_id, day, exc_info=True)
            with _lock:
                _pending.setdefault((card_id, day), Counter()).update(counts)


def discard_pending() -> None:
    """Forget unwritten counts (tests start each case from empty tables)."""
    with _lock:
        _pending.clear()


def read(card_id: str, first_day: str, last_day: str) -> dict[str, Counter]:
    """{day: counts} from first_day to last_day (YYYY-MM-DD), the shards added up."""
    return stored.read(card_id, first_day, last_day)
