"""The buyer's shipping address on an order (sealed before it gets here), on the orders table."""
from __future__ import annotations

import time

from pynamodb.exceptions import UpdateError

from chalicelib.domain import HELD, PAID
from chalicelib.store.models import OrderModel
from chalicelib.store.orders import StaleOrder


def set_address(order_id: str, sealed: str) -> None:
    """Give (or correct) the address of a held or paid order not yet fulfilled; raises StaleOrder
    when the order has moved past that (ended unpaid, refunded, shipped)."""
    try:
        OrderModel(order_id).update(
            actions=[OrderModel.shipping_address.set(sealed), OrderModel.updated_at.set(int(time.time()))],
            condition=OrderModel.status.is_in(HELD, PAID) & OrderModel.fulfilled_at.does_not_exist())
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            raise StaleOrder() from None
        raise
