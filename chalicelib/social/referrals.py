"""Referral credit: a paid order that came through another buyer's link (?ref=CODE) is credited
to that buyer once, with the card's rebate, unless both orders were paid by the same person; the
rebate is earned once the order is past the refund window (REFUND_WINDOW_DAYS), pending until then.
Visits through such links are counted with the funnel (chalicelib/counters.py: batched per
container, so a viral link never becomes one hot item)."""
from __future__ import annotations

import time

from chalicelib import config, counters, views
from chalicelib.recent import Recent
from chalicelib.domain import REF_PATTERN, REFERRAL, Card, Discount, InvalidRequest, NotFound, Order
from chalicelib.social import rules
from chalicelib.store import cards, orders, referrals

TOP_REFERRERS = 10
# Whose link each referral code is ((card, buyer), or None): a code never changes owner, so every
# tap through a viral link need not query the index again.
_link_owners = Recent(300)


def credit(order: Order) -> bool:
    """Credit a paid order to its referrer, once. A code that is unknown, of another card or the
    buyer's own (by buyer token, card or email) is ignored: the buyer never hears about it."""
    if not order.ref or order.ref == order.referral_code:
        return False
    referrer = orders.with_referral_code(order.ref)
    if referrer is None or referrer.card_id != order.card_id or rules.same_person(order, referrer):
        return False
    card = cards.get(order.card_id)
    paid = order.amount - order.amount_refunded  # a partial refund may come before a retried credit
    return referrals.credit(
        order.card_id, order.order_id, referrer_code=order.ref, referrer_order_id=referrer.order_id,
        amount=paid, currency=order.currency, rebate=rules.rebate(paid, card.rebate_percent))


def follow_partial_refund(order: Order, amount_refunded: int) -> bool:
    """Part of a paid order's money went back (Stripe's cumulative amount_refunded): its credit, if
    any, counts what was paid and its rebate the card's percent of that. Lowering only, so safe to
    repeat and to receive out of order; False when nothing changed."""
    credited = referrals.of_order(order.card_id, order.order_id)
    paid = order.amount - amount_refunded
    if credited is None or int(credited.amount) <= paid:
        return False
    percent = cards.get(order.card_id).rebate_percent
    return referrals.lower(order.card_id, order.order_id, amount=paid,
                           rebate=rules.rebate_after_refund(paid, percent, int(credited.rebate or 0)))


def _referrers(card_id: str, at: float) -> tuple[list[dict], int, int]:
    """Each referrer's orders, revenue and rebate: `rebate` earned by `at`, `rebate_pending` still
    in the refund window."""
    by_code: dict[str, dict] = {}
    referred = revenue = 0
    for item in referrals.of_card(card_id):
        entry = by_code.setdefault(item.referrer_code, {
            "code": item.referrer_code, "order_id": item.referrer_order_id, "orders": 0, "revenue": 0, "rebate": 0,
            "rebate_pending": 0, "share_url": views.product_url(card_id, item.referrer_code),
        })
        entry["orders"] += 1
        entry["revenue"] += int(item.amount)
        earned = rules.rebate_earned(int(item.created_at), at, config.REFUND_WINDOW_DAYS)
        entry["rebate" if earned else "rebate_pending"] += int(item.rebate or 0)
        referred += 1
        revenue += int(item.amount)
    _name_referrers(by_code)
    ranked = sorted(by_code.values(), key=lambda e: (-e["revenue"], -e["orders"], e["code"]))
    return ranked, referred, revenue


def _name_referrers(by_code: dict[str, dict]) -> None:
    """Each referrer's name as their own order still has it: one place to forget it
    (store/retention.py), so a report never shows a name past its time."""
    referrer_orders = orders.get_many([entry.pop("order_id") for entry in by_code.values()])
    names = {order.referral_code: None if order.anonymous else order.display_name for order in referrer_orders}
    for code, entry in by_code.items():
        entry["name"] = names.get(code)


def report(card, at: float | None = None) -> dict:
    at = time.time() if at is None else at
    referrers, referred, revenue = _referrers(card.card_id, at)
    counters.flush()  # what this container counted shows at once
    days = counters.read(card.card_id, counters.day_of(card.created_at), counters.day_of(at))
    return {
        "card_id": card.card_id,
        "currency": card.currency,
        "referral_visits": sum(day[counters.REFERRAL_VISITS] for day in days.values()),
        "referred_orders": referred,
        "referred_revenue": revenue,
        "rebate_percent": card.rebate_percent,
        "rebate_total": sum(r["rebate"] for r in referrers),
        "rebate_pending_total": sum(r["rebate_pending"] for r in referrers),
        "refund_window_days": config.REFUND_WINDOW_DAYS,
        "top_referrers": referrers[:TOP_REFERRERS],
    }


def earnings(order: Order, at: float | None = None) -> dict:
    """What a buyer's share link has earned them on its card: the orders it brought, the rebate
    earned (past the refund window) and the rebate still pending, in the card's currency."""
    at = time.time() if at is None else at
    body = {"referred_orders": 0, "rebate": 0, "rebate_pending": 0, "currency": order.currency}
    if not order.referral_code:
        return body
    for item in referrals.of_referrer(order.card_id, order.referral_code):
        body["referred_orders"] += 1
        earned = rules.rebate_earned(int(item.created_at), at, config.REFUND_WINDOW_DAYS)
        body["rebate" if earned else "rebate_pending"] += int(item.rebate or 0)
    return body


def report_csv(card, at: float | None = None) -> str:
    """Every referrer with their earned rebate (and the one still in the refund window), amounts in
    minor units, for paying out by hand."""
    referrers, _, _ = _referrers(card.card_id, time.time() if at is None else at)
    return views.csv_text(
        ["code", "name", "referred_orders", "referred_revenue", "rebate", "currency", "share_url", "rebate_pending"],
        ([r["code"], r["name"], r["orders"], r["revenue"], r["rebate"], card.currency, r["share_url"],
          r["rebate_pending"]] for r in referrers))

def referral_discount(card: Card, ref: str | None, buyer: str) -> Discount | None:
    """The card's referral discount, for a reader who came through another buyer's link of this
    card (checked like a credit's referrer, by buyer token at the tap); None otherwise."""
    if not card.referral_discount_percent or not ref:
        return None
    owner = _link_owners.get(ref, lambda: _owner_of(ref))
    if owner is None or owner[0] != card.card_id or owner[1] == buyer:
        return None
    return Discount(REFERRAL, percent_off=card.referral_discount_percent)


def _owner_of(ref: str) -> tuple[str, str] | None:
    referrer = orders.with_referral_code(ref)
    return None if referrer is None else (referrer.card_id, referrer.buyer)


# --- visits -----------------------------------------------------------------------------------


def record_view(card_id: str, body: dict, client: str, place: str | None) -> None:
    """The widget is on a reader's screen (POST /cards/{card_id}/views): a view of the card, once
    per client a minute, and through a referral link (body's "ref") a visit. Told by the page,
    not counted when its HTML is served: that HTML is cached at the edge."""
    ref = body.get("ref")
    if ref is not None and not (isinstance(ref, str) and REF_PATTERN.match(ref)):
        raise InvalidRequest("'ref' must be a referral code: 1 to 32 letters, digits, '-' or '_'.", "ref")
    cards.get_for_buyer(card_id)  # an unknown card is 404 (remembered: no read per view)
    counters.count_view(card_id, client, place=place)
    record_visit(card_id, body)


def record_visit(card_id: str, query: dict | None) -> None:
    """A page or widget served through a referral link (?ref=CODE)."""
    ref = (query or {}).get("ref")
    if not isinstance(ref, str) or not REF_PATTERN.match(ref):
        return
    try:
        cards.get_for_buyer(card_id)  # remembered: no read per visit
    except NotFound:
        return
    counters.count(card_id, counters.REFERRAL_VISITS)
