"""A pay call's claim on a held order (one Stripe payment at a time, its attempt number for
Stripe's idempotency key) and the PaymentIntent the order gets from it, on the orders table."""
from __future__ import annotations

from pynamodb.exceptions import UpdateError

from chalicelib.domain import HELD, Order
from chalicelib.store.models import OrderModel
from chalicelib.store.orders import StaleOrder


def attach_payment_intent(order_id: str, payment_intent_id: str, client_secret: str) -> None:
    OrderModel(order_id).update(
        actions=[OrderModel.payment_intent_id.set(payment_intent_id),
                 OrderModel.client_secret.set(client_secret)],
        condition=OrderModel.order_id.exists(),
    )


def start_payment(order: Order, now: int, until: int) -> int:
    """Claim the held order for one pay call until `until`: its attempt number (for Stripe's
    idempotency key). Raises StaleOrder when it is not held, ran out, or another pay call has it."""
    model = OrderModel(order.order_id)
    try:
        model.update(actions=[OrderModel.payment_attempt.add(1), OrderModel.paying_until.set(until)],
                     condition=(OrderModel.status == HELD) & (OrderModel.expires_at > now)
                     & (OrderModel.paying_until.does_not_exist() | (OrderModel.paying_until <= now)))
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            raise StaleOrder() from None
        raise
    return int(model.payment_attempt)


def end_payment(order_id: str, payment_intent_id: str | None = None, client_secret: str | None = None) -> None:
    """The pay call is back from Stripe: the intent it made (if any) becomes the held order's. An
    order paid meanwhile keeps the intent that paid it (and no longer has a pay call)."""
    actions = [OrderModel.paying_until.remove()]
    if payment_intent_id:
        actions += [OrderModel.payment_intent_id.set(payment_intent_id),
                    OrderModel.client_secret.set(client_secret) if client_secret else OrderModel.client_secret.remove()]
    try:
        OrderModel(order_id).update(actions=actions, condition=OrderModel.status == HELD)
    except UpdateError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise
