"""The buyer's shipping address on an order (sealed before it gets here), on the orders table."""
from __future__ import annotations

import time

from pynamodb.exceptions import UpdateError

from chalicelib.domain import HELD, PAID, Card, Order
from chalicelib.store import retention
from chalicelib.store.models import OrderModel
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
