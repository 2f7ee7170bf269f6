"""What moves an order once its hold is made: a payment that succeeded (from the pay call or
Stripe's webhook), Stripe's other payment events, and the sweeper that ends unpaid holds. Money
that arrives for no goods is refunded; no paid order is lost."""
from __future__ import annotations

import logging
import time
from typing import Callable, Iterator

from chalicelib import counters, observability, payments
from chalicelib.domain import (
    CANCELED, EXPIRED, HELD, PAID, REFUNDED, Order, PaymentsBusy, PaymentsUnavailable, pays_for, referral_code_for,
)
from chalicelib.store import cards, expiry, orders

log = logging.getLogger(__name__)

AMOUNT_MISMATCH = "refunded_amount_mismatch"
# What _succeeded answers when the money went back and the order is not paid by it.
REFUNDED_UNPAID = ("refunded", AMOUNT_MISMATCH)


def now() -> int:
    return int(time.time())


def apply_payment_event(event: payments.PaymentEvent) -> str:
    """Move the order the event is about; returns what happened, for the log."""
    observability.order_context(event.order_id)
    if orders.event_seen(event.event_id):
        return "duplicate"
    for _ in range(3):
        order = orders.get(event.order_id) if event.order_id else None
        if order is None:
            orders.record_event(event.event_id, event.type)
            return "not_ours"
        try:
            return _apply(event, order)
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
    if order.discount_amount:
        counters.count(order.card_id, counters.DISCOUNTS, order.discount_amount)
    if order.discount_kind == "code":
        counters.count(order.card_id, counters.CODE_REDEMPTIONS)
    if order.group_id:
        counters.count(order.card_id, counters.GROUP_UNITS, order.quantity)


def _apply(event: payments.PaymentEvent, order: Order) -> str:
    if event.type == payments.PAYMENT_SUCCEEDED:
        outcome = _succeeded(order, event.received, lambda: payments.payer_identities(event.payment_method_id),
                             event.event_id)
        if outcome:
            return outcome
    elif event.type == payments.PAYMENT_CANCELED and order.status == HELD and not order.group_id \
            and order.payment_intent_id == event.payment_intent_id:  # a group's sweep gives its orders back
        orders.release(order, CANCELED, "payment_canceled", event.event_id)
        return "canceled"
    # A decline leaves the hold as it is: the buyer may try another card while it lasts.
    orders.record_event(event.event_id, event.type)
    return f"ignored_{order.status}"


def paid_by_pay_call(order_id: str, received: payments.Received, payer_ids: tuple[str, ...]) -> str:
    """The pay call's PaymentIntent succeeded: settle it as its webhook would; whichever of the
    two comes second finds it done."""
    for _ in range(3):
        try:
            return _succeeded(orders.get(order_id), received, lambda: payer_ids, None) or "already_paid"
        except orders.StaleOrder:
            continue  # its webhook or the sweeper moved it first: decide again on fresh state
    raise RuntimeError(f"order {order_id} kept changing while settling {received.payment_intent_id}")


def _succeeded(order: Order, received: payments.Received, payer_ids_of: Callable[[], tuple[str, ...]],
               event_id: str | None) -> str | None:
    """Money arrived for the order: it pays a held order, or is taken again after the hold ended,
    or, for an order another payment already paid or whose money is not the order's price, goes
    back. None: this payment paid it already."""
    payment_intent_id = received.payment_intent_id
    if order.status == PAID and order.payment_intent_id == payment_intent_id:
        return None
    if order.status in (PAID, REFUNDED):
        # A second payment for goods already paid for (another attempt that completed as well), or
        # any payment of an order whose money went back. Refunds are idempotent per intent.
        payments.refund(payment_intent_id, order.order_id, payments.CONFIRM)
        observability.count("refunds")
        if event_id:
            orders.record_event(event_id, "refunded_duplicate_payment")
        return "refunded_duplicate"
    if not pays_for(order, received.amount, received.currency):
        return _refund_mismatch(order, received, event_id)
    if order.status == HELD:
        return settle_paid(order, payment_intent_id, payer_ids_of(), event_id)
    if order.status in (EXPIRED, CANCELED):
        return _settle_late(order, payment_intent_id, payer_ids_of, event_id)
    return None


def _refund_mismatch(order: Order, received: payments.Received, event_id: str | None) -> str:
    """Money that is not the order's price (another amount or currency: a tampered or foreign
    payment) pays nothing: it goes back and the order says why (`status_reason: amount_mismatch`),
    but otherwise stays as it was. A held order keeps its hold, as after a decline: its buyer may
    still pay the right amount while the hold lasts, and a payment its buyer did not make cannot
    take their unit away; unpaid, the sweeper ends the hold as any other. An expired or canceled
    order takes no stock. So no unit is lost and no money is kept without goods."""
    log.warning("payment %s took %s %s for order %s of %s %s: refunded", received.payment_intent_id,
                received.amount, received.currency, order.order_id, order.amount, order.currency)
    payments.refund(received.payment_intent_id, order.order_id, payments.CONFIRM)
    observability.count("refunds")
    orders.note_refused_payment(order, "amount_mismatch", event_id)
    return AMOUNT_MISMATCH


def _settle_late(order: Order, payment_intent_id: str, payer_ids_of: Callable[[], tuple[str, ...]],
                 event_id: str | None) -> str:
    """Money that arrived after the hold ended (an asynchronous method, a late 3-D Secure): the
    units are taken again if any are left, else the money goes back."""
    code = referral_code_for(order.order_id)
    why_not = orders.retake_for_late_payment(order, cards.get(order.card_id), payment_intent_id, code, event_id,
                                             payer_ids=payer_ids_of())
    if why_not is None:
        observability.count("paid")
        _count_paid(order)
        return "paid_late"
    refund_id = payments.refund(payment_intent_id, order.order_id, payments.CONFIRM)
    observability.count("refunds")
    orders.mark_refunded(order, refund_id, why_not, event_id)
    return "refunded"


def settle_paid(order: Order, payment_intent_id: str, payer_ids: tuple[str, ...], event_id: str | None = None) -> str:
    """held → paid; with a per-buyer limit the card and email that paid must be within it too,
    or the money goes back and so do the units. Raises StaleOrder when the order moved meanwhile."""
    limit = cards.get(order.card_id).limit_per_buyer
    code = referral_code_for(order.order_id)
    try:
        orders.mark_paid(order, payment_intent_id, code, event_id, payer_ids=payer_ids, limit=limit)
    except orders.PayerLimitReached:
        refund_id = payments.refund(payment_intent_id, order.order_id, payments.CONFIRM)
        observability.count("refunds")
        orders.release(order, REFUNDED, "payer_limit_reached", event_id, refund_id=refund_id)
        return "refunded"
    observability.count("paid")
    _count_paid(order)
    return "paid"


def expire_holds(at: int | None = None, deadline: float | None = None) -> int:
    """Expire unpaid holds whose time is up; returns how many went back on sale. With a deadline
    (time.monotonic()), no new step starts after it and the next run releases the rest."""
    at = now() if at is None else at
    expired = 0
    for released in _expiry_steps(at):
        expired += released
        if deadline is not None and time.monotonic() >= deadline:
            break
    observability.count("expired_holds", expired)
    return expired


def _expiry_steps(at: int) -> Iterator[int]:
    """The sweep's work a step at a time (a batch of holds, or one hold waiting on the buyer), each
    step yielding how many holds it released."""
    for page in expiry.expired_holds(at):
        due = [order for order in page if order.status == HELD and order.expires_at <= at
               and (order.paying_until or 0) <= at  # not paid or moved meanwhile, no pay call with Stripe now
               and not order.group_id]  # a group's orders end with their group (grouping.sweep)
        # A hold that never reached Stripe, or whose payment was declined, costs Stripe nothing:
        # many go back in one transaction.
        for batch in expiry.batches([order for order in due if not order.client_secret]):
            released = len(expiry.expire(batch))
            if released:
                counters.count(batch[0].card_id, counters.EXPIRED, released)
            yield released
        for order in due:
            if order.client_secret:
                yield _expire_waiting_on_buyer(order)


def _expire_waiting_on_buyer(order: Order) -> int:
    """A hold waiting on the buyer (3-D Secure) is canceled first, so it cannot charge later; if
    Stripe says it was paid after all (its webhook lost or refused), it is settled here, as its
    webhook would have: paid, or the money goes back. 1 when the hold went back on sale."""
    try:
        status = payments.cancel_payment_intent(order.payment_intent_id)
        if status == "succeeded":
            received, payer_ids = payments.retrieve_paid(order.payment_intent_id)
            if _succeeded(order, received, lambda: payer_ids, None) != AMOUNT_MISMATCH:
                return 0
            # Its money went back: the hold ends unpaid, as any other.
        if status == "processing":
            return 0  # the money is on its way: its webhook will settle the order
    except PaymentsBusy:
        return 0  # buyers are paying: cancel (then expire) on the next run
    except orders.StaleOrder:
        return 0
    except PaymentsUnavailable:
        log.warning("could not cancel %s; expiring anyway", order.payment_intent_id)
    try:
        orders.release(order, EXPIRED, "hold_expired")
    except orders.StaleOrder:
        return 0
    counters.count(order.card_id, counters.EXPIRED)
    return 1
