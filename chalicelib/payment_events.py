"""What moves an order once its hold is made: Stripe's payment events and the sweeper that ends
unpaid holds. Money that arrives for no goods is refunded; no paid order is lost."""
from __future__ import annotations

import logging
import time

from chalicelib import counters, observability, payments
from chalicelib.domain import CANCELED, EXPIRED, HELD, REFUNDED, Order, PaymentsUnavailable, referral_code_for
from chalicelib.store import cards, orders

log = logging.getLogger(__name__)


def now() -> int:
    return int(time.time())


def apply_payment_event(event: payments.PaymentEvent) -> str:
    """Move the order the event is about; returns what happened, for the log."""
    observability.order_context(event.order_id)
    if orders.event_seen(event.event_id):
        return "duplicate"
    for _ in range(3):
        order = orders.get(event.order_id) if event.order_id else None
        if order is None or order.payment_intent_id not in (None, event.payment_intent_id):
            orders.record_event(event.event_id, event.type)
            return "not_ours"
        try:
            outcome = _apply(event, order)
            if outcome in ("paid", "paid_late"):
                _count_paid(order)
            return outcome
        except orders.EventAlreadyApplied:
            return "duplicate"
        except orders.StaleOrder:
            continue  # another event or the sweeper moved it first: decide again on fresh state
    raise RuntimeError(f"order {event.order_id} kept changing while applying {event.event_id}")


def _count_paid(order: Order) -> None:
    counters.count(order.card_id, counters.PAID, place=order.country)
    counters.count(order.card_id, counters.UNITS, order.quantity)
    counters.count(order.card_id, counters.REVENUE, order.amount)
    if order.ref:
        counters.count(order.card_id, counters.REFERRED_ORDERS)


def _apply(event: payments.PaymentEvent, order: Order) -> str:
    if event.type == payments.PAYMENT_SUCCEEDED:
        code = referral_code_for(order.order_id)
        if order.status == HELD:
            return _settle_paid(event, order, code)
        if order.status in (EXPIRED, CANCELED):
            why_not = orders.retake_for_late_payment(order, cards.get(order.card_id), code, event.event_id)
            if why_not is None:
                observability.count("paid")
                return "paid_late"
            refund_id = payments.refund(event.payment_intent_id, order.order_id)
            observability.count("refunds")
            orders.mark_refunded(order, refund_id, why_not, event.event_id)
            return "refunded"
    elif order.status == HELD:
        reason = "payment_failed" if event.type == payments.PAYMENT_FAILED else "payment_canceled"
        orders.release(order, CANCELED, reason, event.event_id)
        if event.type == payments.PAYMENT_FAILED:
            payments.cancel_payment_intent(event.payment_intent_id)
        return "canceled"
    orders.record_event(event.event_id, event.type)
    return f"ignored_{order.status}"


def _settle_paid(event: payments.PaymentEvent, order: Order, code: str) -> str:
    """held → paid; with a per-buyer limit the card and email that paid must be within it too,
    or the money goes back and so do the units."""
    limit = cards.get(order.card_id).limit_per_buyer
    payer_ids = payments.payer_identities(event.payment_method_id) if limit else ()
    try:
        orders.mark_paid(order, code, event.event_id, payer_ids=payer_ids, limit=limit)
        observability.count("paid")
        return "paid"
    except orders.PayerLimitReached:
        refund_id = payments.refund(event.payment_intent_id, order.order_id)
        observability.count("refunds")
        orders.release(order, REFUNDED, "payer_limit_reached", event.event_id, refund_id=refund_id)
        return "refunded"


def expire_holds(at: int | None = None) -> int:
    """Expire unpaid holds whose time is up; returns how many went back on sale."""
    at = now() if at is None else at
    expired = 0
    for order_id in orders.expired_hold_ids(at):
        order = orders.get(order_id)
        if order is None or order.status != HELD or order.expires_at > at:
            continue
        if order.payment_intent_id:
            try:
                if payments.cancel_payment_intent(order.payment_intent_id) in ("succeeded", "processing"):
                    continue  # the money is in flight: its webhook will settle the order
            except PaymentsUnavailable:
                log.warning("could not cancel %s; expiring anyway", order.payment_intent_id)
        try:
            orders.release(order, EXPIRED, "hold_expired")
            counters.count(order.card_id, counters.EXPIRED)
            expired += 1
        except orders.StaleOrder:
            pass
    observability.count("expired_holds", expired)
    return expired
