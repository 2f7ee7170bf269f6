"""Money going back after a sale, and what Stripe says about it: the seller's refund, refunds made
in Stripe's own dashboard (charge.refunded) and disputes (charge.dispute.created).

The seller's refund never leaves money and order out of step. Before Stripe is asked, the order
notes that its refund is under way (and whether its units go back on sale); then Stripe refunds
(idempotency key from the order and its payment: asked twice, it refunds once); then one
transaction moves the order paid → refunded. Whatever dies in between, the order is still paid
with its refund under way, and whichever comes next finishes it with the seller's restock choice:
the seller asking again, Stripe's charge.refunded webhook, or the sweeper after
REFUND_SWEEP_SECONDS. Only the one whose transaction moves the order counts the refund and mails
the buyer; the others find it refunded and answer with it, never 409.
"""
from __future__ import annotations

import logging
import time

from chalicelib import config, counters, notices, observability, payments, views
from chalicelib.domain import (
    PAID, REFUNDED, REFUNDED_IN_STRIPE, Conflict, Order, PaymentsUnavailable, RefundPending,
)
from chalicelib.store import cards, orders
from chalicelib.store import refunds as stored
from chalicelib.store.transactions import Refused

log = logging.getLogger(__name__)

# A full refund made in Stripe's dashboard (REFUNDED_IN_STRIPE): its units leave the card's stock,
# not restocked, and its code's redemption stays spent. The goods may have shipped, or be with the
# buyer; tapcard cannot know they came back, and offering a unit that is not on the shelf is worse
# than one the seller adds back by raising the stock.
PENDING_MESSAGE = ("The refund is under way: it will show within a minute or two. "
                   "Asking again is safe; it never pays back twice.")


def now() -> int:
    return int(time.time())


def refund_by_seller(order: Order, restock: bool) -> Order:
    """Refund a paid order and answer it refunded. A refund already made answers the same;
    RefundPending (503) when it could not be finished now (the sweeper will)."""
    if order.status == REFUNDED:
        return order  # a retried request, or two clicks: the refund Stripe made
    if order.status != PAID or not order.payment_intent_id:
        raise Conflict(f"This order is {order.status}; only a paid order can be refunded.", "order_id")
    try:
        stored.begin(order, restock, now() + config.REFUND_SWEEP_SECONDS)
    except orders.StaleOrder:
        return _as_it_is_now(order.order_id)
    try:
        refund_id = payments.refund(order.payment_intent_id, order.order_id)
    except PaymentsUnavailable as error:  # busy or down: nothing or the refund happened; the sweeper asks again
        raise RefundPending(PENDING_MESSAGE, retry_after=getattr(error, "retry_after", None) or 5) from error
    except Conflict:  # Stripe refused it for good (a disputed charge): no refund is under way
        stored.cancel(order.order_id)
        raise
    return finish(order, refund_id, restock)


def finish(order: Order, refund_id: str, restock: bool, event_id: str | None = None,
           reason: str | None = None) -> Order:
    """Stripe refunded the order's payment: move it paid → refunded, once."""
    for attempt in range(3):
        try:
            orders.refund_paid(order, refund_id, restock, event_id, reason)
        except (orders.StaleOrder, orders.EventAlreadyApplied):
            return _as_it_is_now(order.order_id)
        except Refused as refused:
            # Which item a refusal names first is DynamoDB's choice (a shard's units moved by the
            # same refund done elsewhere, say): the order's state says what happened.
            if orders.get(order.order_id).status != PAID:
                return _as_it_is_now(order.order_id)
            if refused.conflicted and attempt < 2:
                continue  # another transaction touched the card's items at that moment
            raise RefundPending(PENDING_MESSAGE, retry_after=5) from refused
        except Exception as error:  # DynamoDB failing after Stripe refunded: never a 409
            log.warning("refund %s of %s made; the order's write failed (%s): left to the sweeper",
                        refund_id, order.order_id, type(error).__name__)
            raise RefundPending(PENDING_MESSAGE, retry_after=5) from error
        break
    counters.count(order.card_id, counters.REFUNDS)
    observability.count("refunds")
    refunded = orders.get(order.order_id)
    try:
        notices.refunded(refunded)
    except Exception:  # the mail never undoes the refund: a failed send is the sweeper's
        log.exception("the refunded mail of %s failed", order.order_id)
    return refunded


def _as_it_is_now(order_id: str) -> Order:
    """Someone else moved the order first: refunded is what the seller asked for; else say why not."""
    fresh = orders.get(order_id)
    if fresh.status == REFUNDED:
        return fresh
    raise Conflict(f"This order is {fresh.status}; only a paid order can be refunded.", "order_id")


def finish_due(at: int | None = None, deadline: float | None = None) -> int:
    """The sweeper's part: finish the refunds under way whose request died or met a busy Stripe;
    returns how many it finished."""
    at = now() if at is None else at
    finished = 0
    for order_id in stored.due(at):
        if deadline is not None and time.monotonic() >= deadline:
            break
        order = orders.get(order_id)
        if order is None or order.status != PAID or order.refund_restock is None:
            stored.drop(order_id)
            continue
        try:
            refund_id = payments.refund(order.payment_intent_id, order.order_id)
            finish(order, refund_id, order.refund_restock)
            finished += 1
        except (PaymentsUnavailable, RefundPending):
            stored.later(order_id, at + config.REFUND_SWEEP_SECONDS)
        except Conflict as refused:  # Stripe refused it for good: the seller saw why, nothing went back
            log.warning("the refund of %s was refused: %s", order_id, refused.message)
            stored.cancel(order_id)
        except Exception:  # one broken refund must not stop the sweep
            log.exception("finishing the refund of %s", order_id)
    return finished


# --- what Stripe tells us ------------------------------------------------------------------------


def apply_charge_event(event: payments.PaymentEvent) -> str:
    """charge.refunded or charge.dispute.created, each event id applied once; returns what
    happened, for the log. Neither carries metadata of ours for sure: the order is found through
    the PaymentIntent's."""
    if orders.event_seen(event.event_id):
        return "duplicate"
    order_id = event.order_id
    if order_id is None and event.payment_intent_id:
        order_id = payments.order_id_of(event.payment_intent_id)
    observability.order_context(order_id)
    for _ in range(3):
        order = orders.get(order_id) if order_id else None
        if order is None:
            orders.record_event(event.event_id, event.type)
            return "not_ours"
        try:
            if event.type == payments.CHARGE_REFUNDED:
                return charge_refunded(event, order)
            return dispute_created(event, order)
        except orders.EventAlreadyApplied:
            return "duplicate"
        except orders.StaleOrder:
            continue  # a payment event or the seller moved it first: decide again on fresh state
    raise RuntimeError(f"order {order_id} kept changing while applying {event.event_id}")


def charge_refunded(event: payments.PaymentEvent, order: Order) -> str:
    """Money of the order's payment went back. All of it: the order is refunded (with the
    seller's restock choice when it was our refund, else units not restocked). Part of it, from
    Stripe's dashboard: the order stays paid and records how much. A refund of another payment
    (a duplicate we refunded) or of an order already refunded changes nothing."""
    if event.payment_intent_id != order.payment_intent_id or order.status != PAID:
        orders.record_event(event.event_id, event.type)
        return f"ignored_{order.status}"
    if not event.refunded and event.amount_refunded < event.amount:
        return partially_refunded(event, order)
    ours = order.refund_restock is not None
    refund_id = event.refund_id or payments.latest_refund(event.payment_intent_id)
    finish(order, refund_id, order.refund_restock if ours else False, event.event_id,
           None if ours else REFUNDED_IN_STRIPE)
    return "refunded" if ours else "refunded_in_stripe"


def partially_refunded(event: payments.PaymentEvent, order: Order) -> str:
    """Part of the money went back. Stripe's amount_refunded is the charge's total so far: an older
    event arriving late (a smaller total) changes nothing. The referral credit follows what was
    paid before the order records it: lowering is safe to repeat, so a crash in between is made
    good by Stripe's redelivery."""
    from chalicelib.social import referrals

    if event.amount_refunded <= order.amount_refunded:
        orders.record_event(event.event_id, event.type)
        return "ignored_older_refund"
    referrals.follow_partial_refund(order, event.amount_refunded)
    stored.note_partial(order, event.amount_refunded, event.event_id)
    return "partially_refunded"


def dispute_created(event: payments.PaymentEvent, order: Order) -> str:
    """The buyer's bank disputes the payment: the order says so (GET /api/cards/{id}/orders, the
    dashboard) and the seller's webhook gets order.disputed, once."""
    from chalicelib.social import shares

    at, reason = now(), event.dispute_reason or "general"
    # Told first, claimed once per order: a crash before the order's mark is redelivered and
    # marks it then, without telling twice.
    shares.tell_seller(cards.get(order.card_id), f"dispute:{order.order_id}", {
        "type": shares.ORDER_DISPUTED, "order_id": order.order_id, "card_id": order.card_id,
        "amount": event.amount, "currency": event.currency.upper(), "reason": reason,
        "status": order.status, "disputed_at": views.iso(at),
    })
    stored.mark_disputed(order, reason, at, event.event_id)
    observability.count("disputes")
    return "disputed"
