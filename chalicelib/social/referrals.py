"""Referral credit: a paid order that came through another buyer's link (?ref=CODE) is credited
to that buyer once, with the card's rebate; visits through such links are counted with the funnel
(chalicelib/counters.py: batched per container, so a viral link never becomes one hot item)."""
from __future__ import annotations

import csv
import io
import re
import time

from pynamodb.exceptions import PutError

from chalicelib import config, counters, inventory
from chalicelib.domain import NotFound, Order
from chalicelib.models import OrderModel, ReferralModel
from chalicelib.social import rules

_CODE = re.compile(r"^[A-Za-z0-9_\-]{1,32}$")
TOP_REFERRERS = 10


def referrer_of(code: str) -> Order | None:
    """The paid order whose referral code this is; None for a code no order has."""
    for item in OrderModel.by_referral_code.query(code, limit=1):
        return inventory.get_order(item.order_id)
    return None


def credit(order: Order) -> bool:
    """Credit a paid order to its referrer, once. A code that is unknown, of another card or the
    buyer's own is ignored: the buyer never hears about it."""
    if not order.ref or order.ref == order.referral_code:
        return False
    referrer = referrer_of(order.ref)
    if referrer is None or referrer.card_id != order.card_id or referrer.buyer == order.buyer:
        return False
    card = inventory.get_card(order.card_id)
    name = None if referrer.anonymous else referrer.display_name
    try:
        ReferralModel(
            order.card_id, order.order_id, referrer_code=order.ref, referrer_order_id=referrer.order_id,
            referrer_name=name, amount=order.amount, currency=order.currency,
            rebate=rules.rebate(order.amount, card.rebate_percent), created_at=int(time.time()),
        ).save(condition=ReferralModel.order_id.does_not_exist())
    except PutError:
        return False  # credited by an earlier delivery of the same record
    return True


def _referrers(card_id: str) -> tuple[list[dict], int, int]:
    by_code: dict[str, dict] = {}
    orders = revenue = 0
    for item in ReferralModel.query(card_id):
        entry = by_code.setdefault(item.referrer_code, {
            "code": item.referrer_code, "name": item.referrer_name, "orders": 0, "revenue": 0, "rebate": 0,
            "share_url": f"{config.PUBLIC_BASE_URL}/p/{card_id}?ref={item.referrer_code}",
        })
        entry["orders"] += 1
        entry["revenue"] += int(item.amount)
        entry["rebate"] += int(item.rebate or 0)
        orders += 1
        revenue += int(item.amount)
    ranked = sorted(by_code.values(), key=lambda e: (-e["revenue"], -e["orders"], e["code"]))
    return ranked, orders, revenue


def report(card) -> dict:
    referrers, orders, revenue = _referrers(card.card_id)
    counters.flush()  # what this container counted shows at once
    days = counters.read(card.card_id, counters.day_of(card.created_at), counters.day_of(time.time()))
    return {
        "card_id": card.card_id,
        "currency": card.currency,
        "referral_visits": sum(day[counters.REFERRAL_VISITS] for day in days.values()),
        "referred_orders": orders,
        "referred_revenue": revenue,
        "rebate_percent": card.rebate_percent,
        "rebate_total": sum(r["rebate"] for r in referrers),
        "top_referrers": referrers[:TOP_REFERRERS],
    }


def report_csv(card) -> str:
    """Every referrer with their accrued rebate, amounts in minor units, for paying out by hand."""
    referrers, _, _ = _referrers(card.card_id)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["code", "name", "referred_orders", "referred_revenue", "rebate", "currency", "share_url"])
    for r in referrers:
        # A leading = + - @ would make a spreadsheet run the name as a formula.
        name = (r["name"] or "")
        name = "'" + name if name[:1] in ("=", "+", "-", "@") else name
        writer.writerow([r["code"], name, r["orders"], r["revenue"], r["rebate"], card.currency, r["share_url"]])
    return out.getvalue()


# --- visits -----------------------------------------------------------------------------------


def record_visit(card_id: str, query: dict | None) -> None:
    """A page or widget served through a referral link (?ref=CODE)."""
    ref = (query or {}).get("ref")
    if not isinstance(ref, str) or not _CODE.match(ref):
        return
    try:
        inventory.get_card(card_id)  # remembered: no read per visit
    except NotFound:
        return
    counters.count(card_id, counters.REFERRAL_VISITS)
