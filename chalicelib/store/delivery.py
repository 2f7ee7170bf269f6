"""Where an order goes, on the orders table: the buyer's shipping address (sealed before it gets
here) until the seller ships, and the shipping itself (carrier, tracking number)."""
from __future__ import annotations

import time

from pynamodb.exceptions import UpdateError

from chalicelib.domain import HELD, PAID, Card, Conflict, Order
from chalicelib.store import retention
from chalicelib.store.order_models import OrderModel
from chalicelib.store.orders import StaleOrder


def set_address(order: Order, card: Card, sealed: str) -> None:
    """Give (or correct) the address of a held or paid order not yet fulfilled, to be forgotten
    with the rest of the order's personal data; raises StaleOrder when the order has moved past
    that (ended unpaid, refunded, shipped)."""
    try:
        OrderModel(order.order_id).update(
            actions=[OrderModel.shipping_address.set(sealed), OrderModel.updated_at.set(int(time.time()))]
            + retention.mark_actions(order, card),
            condition=OrderModel.status.is_in(HELD, PAID) & OrderModel.fulfilled_at.does_not_exist())
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            raise StaleOrder() from None
        raise


def fulfil(order: Order, carrier: str, tracking_number: str) -> int:
    """Mark a paid order shipped (again to correct it); returns when."""
    at = int(time.time())
    try:
        OrderModel(order.order_id).update(
            actions=[OrderModel.carrier.set(carrier), OrderModel.tracking_number.set(tracking_number),
                     OrderModel.fulfilled_at.set(at), OrderModel.updated_at.set(at)],
            condition=OrderModel.status == PAID,
        )
    except UpdateError:
        raise Conflict("Only a paid order can be fulfilled.", "order_id") from None
    return at
