"""A pay call's claim on a held order (one Stripe payment at a time, its attempt number for
Stripe's idempotency key) and the PaymentIntent the order gets from it, on the orders table; and
on a card with a per-buyer limit, the payer's claim (one payment at a time per card or email)."""
from __future__ import annotations

from pynamodb.exceptions import UpdateError

from chalicelib.domain import HELD, Order
from chalicelib.store.models import BuyerLimitModel
from chalicelib.store.order_models import OrderModel
from chalicelib.store.orders import StaleOrder
from chalicelib.store.transactions import Refused, Transaction


def attach_payment_intent(order_id: str, payment_intent_id: str, client_secret: str) -> None:
    OrderModel(order_id).update(
        actions=[OrderModel.payment_intent_id.set(payment_intent_id),
                 OrderModel.client_secret.set(client_secret)],
        condition=OrderModel.order_id.exists(),
    )


def start_payment(order: Order, now: int, until: int, hold_until: int | None = None) -> int:
    """Claim the held order for one pay call until `until`, its hold lasting until `hold_until`
    (default: as it was) now that its buyer is paying: its attempt number (for Stripe's
    idempotency key). Raises StaleOrder when it is not held, ran out, or another pay call has it."""
    hold_until = hold_until or order.expires_at
    model = OrderModel(order.order_id)
    try:
        model.update(actions=[OrderModel.payment_attempt.add(1), OrderModel.paying_until.set(until),
                              OrderModel.expires_at.set(hold_until), OrderModel.hold_expires_at.set(hold_until)],
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


class PayerBusy(Exception):
    """The card or email is paying for another order of this card right now."""


def _paying_key(card_id: str, payer: str) -> str:
    return f"{card_id}#paying:{payer}"


def claim_payers(order: Order, payer_ids: tuple[str, ...], now: int, until: int) -> None:
    """Claim each payer identity for this order until `until`, all or none, so a card or email
    pays for one order of a limited card at a time: the limit is checked against what it bought
    once no other payment of it is under way. Raises PayerBusy."""
    if not payer_ids:
        return
    tx = Transaction()
    for payer in payer_ids:
        tx.update(payer, BuyerLimitModel(_paying_key(order.card_id, payer)),
                  actions=[BuyerLimitModel.paying_order.set(order.order_id), BuyerLimitModel.paying_until.set(until)],
                  condition=BuyerLimitModel.paying_until.does_not_exist() | (BuyerLimitModel.paying_until <= now)
                  | (BuyerLimitModel.paying_order == order.order_id))
    try:
        tx.commit()
    except Refused:
        raise PayerBusy() from None


def release_payers(order: Order, payer_ids: tuple[str, ...]) -> None:
    """The pay call is over: its payers may pay for another order (unless another call took over)."""
    for payer in payer_ids:
        try:
            BuyerLimitModel(_paying_key(order.card_id, payer)).update(
                actions=[BuyerLimitModel.paying_order.remove(), BuyerLimitModel.paying_until.remove()],
                condition=BuyerLimitModel.paying_order == order.order_id)
        except UpdateError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise
