"""What a seller may change and ask for: card edits, list cursors, order filters, the funnel's
arithmetic, the CSV export. Plain Python like domain/ (no AWS, Stripe or Chalice)."""
from __future__ import annotations

import base64
import json
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from chalicelib.domain import (
    ADDRESS_FIELDS,
    ORDER_STATUSES,
    Card,
    Conflict,
    InvalidRequest,
    Order,
    StockLevel,
    new_card_from_request,
    group_setting_from,
    parse_timestamp,
    shipping_from_request,
)
from chalicelib.views import csv_text, iso

EDITABLE = ("title", "description", "image_url", "price", "stock", "sale", "limit_per_buyer",
            "hold_seconds", "share_text", "shipping", "compare_at", "return_days", "group")
# Buyers already paid (or are paying) this price and shipping under this limit, and groups are
# open at this group price and size: they stay as they were.
LOCKED_ONCE_ORDERED = ("price", "limit_per_buyer", "shipping", "group")
MAX_PAGE = 100
DEFAULT_PAGE = 25
MAX_STATS_DAYS = 92


@dataclass
class CardEdit:
    card: Card
    stock_change: int  # units to add to (or, negative, remove from) what is available


def card_edit_from_request(payload: Any, card: Card, level: StockLevel, has_orders: bool) -> CardEdit:
    """The card after a PATCH. Stock may go down only to what is sold or held; price, currency and
    the per-buyer limit and shipping are locked once the card has any order; the sale window, texts, image and
    hold time may change at any time (a new hold time applies to new holds)."""
    if not isinstance(payload, dict):
        raise InvalidRequest("The body must be a JSON object.")
    for name in payload:
        if name not in EDITABLE:
            raise InvalidRequest(f"'{name}' cannot be changed; editable: {', '.join(EDITABLE)}.", name)
    if has_orders:
        for name in LOCKED_ONCE_ORDERED:
            if name in payload and not _same(card, name, payload[name]):
                raise Conflict(f"'{name}' cannot change once the card has orders.", name)
    # Validate the whole card as a new one would be, from its current values and the changes.
    merged = {name: _current(card, name) for name in EDITABLE}
    merged.update(payload)
    merged["shards"] = 1  # shards are not the seller's to change; any stock allows one
    if "sale" in payload and payload["sale"] is not None and not isinstance(payload["sale"], dict):
        raise InvalidRequest("'sale' must be an object with 'starts_at' and 'ends_at'.", "sale")
    if isinstance(payload.get("sale"), dict):
        merged["sale"] = {**_current(card, "sale"), **payload["sale"]}
    in_use = level.sold + level.held
    edited = new_card_from_request(merged, card.card_id, card.seller_id, card.created_at)
    if edited.stock < in_use:
        raise Conflict(f"'stock' cannot go below the {in_use} unit(s) sold or held.", "stock")
    edited.shard_count, edited.status = card.shard_count, card.status
    return CardEdit(edited, edited.stock - card.stock)


def _same(card: Card, name: str, value: Any) -> bool:
    """Whether a locked field is sent as it is (shipping compared as the rules read it)."""
    if name == "shipping":
        try:
            return shipping_from_request(value) == card.shipping
        except InvalidRequest:
            return False
    if name == "group":
        try:
            return group_setting_from(value, card.price_amount) == card.group
        except InvalidRequest:
            return False
    return value == _current(card, name)


def _current(card: Card, name: str) -> Any:
    if name == "shipping":
        return None if not card.shipping.required else {
            "required": True, "countries": list(card.shipping.countries), "fee": {"amount": card.shipping.fee}}
    if name == "price":
        return {"amount": card.price_amount, "currency": card.currency}
    if name == "sale":
        return {"starts_at": iso(card.starts_at), "ends_at": iso(card.ends_at)}
    if name == "compare_at":
        return None if card.compare_at_amount is None else {"amount": card.compare_at_amount}
    if name == "group":
        return None if card.group is None else {"size": card.group.size, "price": {"amount": card.group.price_amount},
                                                "window_minutes": card.group.window_minutes, "only": card.group.only}
    return getattr(card, name)


# --- pages of a list ------------------------------------------------------------------------


def encode_cursor(last_key: dict | None) -> str | None:
    """DynamoDB's last evaluated key, opaque to clients."""
    if not last_key:
        return None
    return base64.urlsafe_b64encode(json.dumps(last_key, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, owner_attribute: str, owner: str) -> dict | None:
    """The key to start after; a cursor that is not one of ours, or of another list, is a 400."""
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError:
        key = None
    if not isinstance(key, dict) or (key.get(owner_attribute) or {}).get("S") != owner:
        raise InvalidRequest("'cursor' is not a cursor this list gave out.", "cursor")
    return key


def page_size(query: dict) -> int:
    raw = query.get("limit")
    if raw is None:
        return DEFAULT_PAGE
    if not re.fullmatch(r"[0-9]{1,4}", raw) or not 1 <= int(raw) <= MAX_PAGE:
        raise InvalidRequest(f"'limit' must be a whole number from 1 to {MAX_PAGE}.", "limit")
    return int(raw)


@dataclass
class OrderFilter:
    status: str | None
    since: int | None
    until: int | None


def order_filter(query: dict) -> OrderFilter:
    """?status=paid&from=2026-11-01&to=2026-11-30 (dates are whole UTC days; times with offset
    are exact)."""
    status = query.get("status") or None
    if status is not None and status not in ORDER_STATUSES:
        raise InvalidRequest(f"'status' must be one of {', '.join(ORDER_STATUSES)}.", "status")
    since = _moment(query.get("from"), "from", end_of_day=False)
    until = _moment(query.get("to"), "to", end_of_day=True)
    if since is not None and until is not None and until < since:
        raise InvalidRequest("'to' must not be before 'from'.", "to")
    return OrderFilter(status, since, until)


def _moment(value: str | None, name: str, end_of_day: bool) -> int | None:
    if not value:
        return None
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        day = _day(value, name)
        start = int(datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp())
        return start + 86399 if end_of_day else start
    return parse_timestamp(value, name)


def _day(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidRequest(f"'{name}' must be a date (YYYY-MM-DD).", name) from None


def stats_days(query: dict, today: date) -> tuple[date, date]:
    """?from=YYYY-MM-DD&to=YYYY-MM-DD, at most MAX_STATS_DAYS; the last 30 days by default."""
    last = _day(query["to"], "to") if query.get("to") else today
    first = _day(query["from"], "from") if query.get("from") else last - timedelta(days=29)
    if first > last:
        raise InvalidRequest("'to' must not be before 'from'.", "to")
    if (last - first).days >= MAX_STATS_DAYS:
        raise InvalidRequest(f"Ask for at most {MAX_STATS_DAYS} days at a time.", "from")
    return first, last


# --- the funnel -----------------------------------------------------------------------------

FUNNEL = ("views", "taps", "holds", "paid")
TOTALS = FUNNEL + ("units", "revenue", "expired_holds", "refunds", "shares_posted", "referral_visits",
                   "referred_orders", "code_redemptions", "discounts", "groups_started", "groups_completed",
                   "groups_failed", "group_units")


def _money(counts: Counter) -> dict:
    """Revenue after discounts is what was paid; before them, what the same orders listed at."""
    return {"revenue_before_discounts": counts["revenue"] + counts["discounts"]}


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _conversions(counts: Counter) -> dict:
    rates = {f"{a}_to_{b}": _rate(counts[b], counts[a]) for a, b in zip(FUNNEL, FUNNEL[1:])}
    rates["views_to_paid"] = _rate(counts["paid"], counts["views"])
    rates["referral_visits_to_referred_orders"] = _rate(counts["referred_orders"], counts["referral_visits"])
    return rates


def _places(counts: Counter, kind: str) -> dict:
    places: dict[str, dict[str, int]] = {}
    for name, n in counts.items():
        prefix, _, rest = name.partition(":")
        if prefix == kind:
            step, _, place = rest.partition(":")
            places.setdefault(place, {"views": 0, "paid": 0})[step] = n
    return dict(sorted(places.items(), key=lambda item: (-item[1]["paid"], -item[1]["views"], item[0])))


def funnel(days: dict[str, Counter], first: date, last: date) -> dict:
    """Per day and in total: every count, and the conversion from each step to the next."""
    total: Counter = Counter()
    per_day = []
    day = first
    while day <= last:
        counts = days.get(day.isoformat(), Counter())
        total.update(counts)
        per_day.append({"day": day.isoformat(), **{name: counts[name] for name in TOTALS}, **_money(counts),
                        "conversion": _conversions(counts)})
        day += timedelta(days=1)
    return {
        "from": first.isoformat(), "to": last.isoformat(),
        "total": {**{name: total[name] for name in TOTALS}, **_money(total), "conversion": _conversions(total)},
        "days": per_day,
        "countries": _places(total, "geo"),
        "regions": _places(total, "region"),
    }


# --- the CSV export -------------------------------------------------------------------------

CSV_COLUMNS = ("order_id", "created_at", "status", "quantity", "amount", "currency", "country", "ref",
               "referral_code", "carrier", "tracking_number", "fulfilled_at", "refund_id", "status_reason", "code",
               "discount_amount")
# The address each order ships to, after the order's own columns (ship_country: where it goes;
# country: where the tap came from). Cells pass views.csv_cell like every other.
ADDRESS_COLUMNS = tuple(f"ship_{name}" if name != "email" else name for name in ADDRESS_FIELDS)


_TIMES = ("created_at", "fulfilled_at")


def orders_csv(orders: list[Order], addresses: dict[str, dict | None] | None = None) -> str:
    """addresses: each order's shipping address in the clear, by order id (none: empty cells)."""
    addresses = addresses or {}
    return csv_text(CSV_COLUMNS + ADDRESS_COLUMNS, (
        [iso(getattr(order, name)) if name in _TIMES else getattr(order, name) for name in CSV_COLUMNS]
        + [(addresses.get(order.order_id) or {}).get(name) for name in ADDRESS_FIELDS] for order in orders))


# --- fulfilment -----------------------------------------------------------------------------


def fulfilment_from_request(payload: Any) -> tuple[str, str]:
    if not isinstance(payload, dict):
        raise InvalidRequest("The body must be a JSON object.")
    values = []
    for name, max_len in (("carrier", 60), ("tracking_number", 100)):
        value = payload.get(name)
        if not isinstance(value, str) or not value.strip():
            raise InvalidRequest(f"'{name}' is required text.", name)
        if len(value.strip()) > max_len:
            raise InvalidRequest(f"'{name}' must be at most {max_len} characters.", name)
        values.append(value.strip())
    return values[0], values[1]


def restock_from_request(payload: Any) -> bool:
    if not isinstance(payload, dict):
        raise InvalidRequest("The body must be a JSON object.")
    restock = payload.get("restock", True)
    if not isinstance(restock, bool):
        raise InvalidRequest("'restock' must be true or false.", "restock")
    return restock


def signup_from_request(payload: Any) -> tuple[str, str]:
    if not isinstance(payload, dict):
        raise InvalidRequest("The body must be a JSON object.")
    name, email = payload.get("name"), payload.get("email")
    if not isinstance(name, str) or not name.strip() or len(name) > 120:
        raise InvalidRequest("'name' is required: up to 120 characters.", "name")
    if not isinstance(email, str) or not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email.strip()) or len(email) > 254:
        raise InvalidRequest("'email' must be an email address.", "email")
    return name.strip(), email.strip()

