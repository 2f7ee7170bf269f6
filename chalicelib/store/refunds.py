"""What the orders table keeps about money going back and disputes, besides the move to refunded
itself (store/orders.py `refund_paid`): the seller's refund under way, a partial refund made in
Stripe's dashboard, a dispute. A refund under way sits in the held_by_expiry index under the shard
"refunding" (the expiry sweep reads only h0, h1, ...), by when the sweeper should finish it."""
from __future__ import annotations

import time

from pynamodb.exceptions import UpdateError

from chalicelib import config
from chalicelib.domain import PAID, Order
from chalicelib.store.order_models import OrderModel, StripeEventModel
from chalicelib.store.orders import EVENT, ORDER, EventAlreadyApplied, StaleOrder
from chalicelib.store.transactions import Refused, Transaction

REFUNDING = "refunding"


def begin(order: Order, restock: bool, due: int) -> None:
    """Note, before Stripe is asked, that this paid order's refund is under way and how its units
    go; the latest ask wins until the order is refunded. StaleOrder when it is no longer paid."""
    try:
        OrderModel(order.order_id).update(
            actions=[OrderModel.refund_restock.set(restock), OrderModel.hold_shard.set(REFUNDING),
                     OrderModel.hold_expires_at.set(due), OrderModel.updated_at.set(int(time.time()))],
            condition=OrderModel.status == PAID)
    except UpdateError as error:
        if _condition_failed(error):
            raise StaleOrder() from None
        raise


def due(now: int, limit: int = 50) -> list[str]:
    """Ids of orders whose refund is under way and due for the sweeper to finish."""
    found = OrderModel.held_by_expiry.query(REFUNDING, OrderModel.hold_expires_at <= now, limit=limit)
    return [item.order_id for item in found][:limit]


def later(order_id: str, due_at: int) -> None:
    """Stripe could not take the refund now: the sweeper tries again at due_at."""
    _update_if(order_id, [OrderModel.hold_expires_at.set(due_at)], OrderModel.refund_restock.exists())


def drop(order_id: str) -> None:
    """An order no longer paid (refunded another way) has no refund under way."""
    _update_if(order_id, [OrderModel.refund_restock.remove(), OrderModel.hold_shard.remove(),
                          OrderModel.hold_expires_at.remove()], OrderModel.status != PAID)


def cancel(order_id: str) -> None:
    """Stripe refused the refund for good: the paid order has no refund under way any more."""
    _update_if(order_id, [OrderModel.refund_restock.remove(), OrderModel.hold_shard.remove(),
                          OrderModel.hold_expires_at.remove()], OrderModel.status == PAID)


def note_partial(order: Order, amount_refunded: int, event_id: str) -> None:
    """Part of a paid order's money went back (Stripe's dashboard): it stays paid and says how much.
    Stripe's totals only grow: an older total racing a newer one finds the order stale."""
    tx = _with_event(event_id, "charge.refunded_partially")
    grows = OrderModel.amount_refunded.does_not_exist() | (OrderModel.amount_refunded < amount_refunded)
    tx.update(ORDER, OrderModel(order.order_id), condition=(OrderModel.status == order.status) & grows,
              actions=[OrderModel.amount_refunded.set(amount_refunded), OrderModel.updated_at.set(int(time.time()))])
    _commit(tx)


def mark_disputed(order: Order, reason: str, at: int, event_id: str) -> None:
    """The buyer's bank disputes the payment; the order keeps its status and says so."""
    tx = _with_event(event_id, "charge.dispute.created")
    tx.update(ORDER, OrderModel(order.order_id), condition=OrderModel.order_id.exists(),
              actions=[OrderModel.dispute_reason.set(reason), OrderModel.disputed_at.set(at),
                       OrderModel.updated_at.set(int(time.time()))])
    _commit(tx)


def _with_event(event_id: str, event_type: str) -> Transaction:
    """A transaction that records the Stripe event, so its redelivery changes nothing."""
    tx = Transaction()
    tx.save(EVENT, StripeEventModel(event_id, type=event_type,
                                    expires_at=int(time.time()) + config.STRIPE_EVENT_TTL_SECONDS),
            condition=StripeEventModel.event_id.does_not_exist())
    return tx


def _commit(tx: Transaction) -> None:
    try:
        tx.commit()
    except Refused as refused:
        if refused.failed(EVENT):
            raise EventAlreadyApplied() from None
        if refused.failed(ORDER):
            raise StaleOrder() from None
        raise


def _update_if(order_id: str, actions: list, condition) -> None:
    try:
        OrderModel(order_id).update(actions=actions, condition=condition & OrderModel.order_id.exists())
    except UpdateError as error:
        if not _condition_failed(error):
            raise


def _condition_failed(error: UpdateError) -> bool:
    return getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException"
