"""The buyer's pay call: POST /orders/{order_id}/pay. The tap only held the units; here, within the
hold's time, the payment is made in one call to Stripe, once the hold is known to be ours and the
payer within the card's limit, so money moves only for goods that are secured."""
from __future__ import annotations

import time

from chalicelib import config, grouping, payment_events, payments, views
from chalicelib.domain import (
    HELD,
    PAID,
    AlreadyPaid,
    HoldExpired,
    LimitReached,
    Order,
    PaymentInProgress,
    PaymentsBusy,
    ShippingAddressRequired,
    pay_request_from,
)
from chalicelib.store import cards, orders, pay_calls, stock

# A payment is not started in the hold's last seconds. (One started in time may finish after the
# hold's end: the sweeper leaves an order alone while a pay call has it.)
MARGIN_SECONDS = 3


def pay(order: Order, payload) -> dict:
    """{status: succeeded | requires_action | processing | failed, reason?, client_secret?, order}.
    Refused (nothing charged) when the order is paid, its hold ran out, another pay call is under
    way, the payer already bought the card's limit, or the card ships goods and the order has no
    address yet."""
    request = pay_request_from(payload, order, test_methods_allowed=config.DEV_ROUTES)
    at = int(time.time())
    _check_payable(order, at)
    card = cards.get(order.card_id)
    if card.shipping.required and not order.shipping_address:
        raise ShippingAddressRequired("This card ships goods: give the order's shipping address "
                                      "(PUT /orders/{order_id}/shipping) first. Nothing was charged.")
    # A hold made during a rush lasts only until its buyer starts paying; paying gives it the
    # card's full time, so a buyer waiting in Stripe's queue keeps the unit.
    hold_until = order.expires_at if order.group_id else max(order.expires_at, order.created_at + card.hold_seconds)
    deadline = hold_until - MARGIN_SECONDS
    # The sweeper leaves an order alone while a pay call has it, even past its hold's end.
    until = at + int(config.STRIPE_QUEUE_SECONDS) * 2 + 30
    try:
        attempt = pay_calls.start_payment(order, at, until, hold_until)
    except orders.StaleOrder:
        _check_payable(orders.get(order.order_id), at)
        raise PaymentInProgress("This order is being paid already; wait for that payment's answer.") from None
    result = None
    payer_ids = ()
    try:
        if card.limit_per_buyer:
            payer_ids = _claim_payers(order, payments.payer_identities_of(request, deadline), at, until)
            _check_payer_limit(order, payer_ids, card.limit_per_buyer)
        group_order = {"capture_later": True} if order.group_id else {}  # authorised now, captured with its group
        result = payments.pay(order.order_id, order.card_id, order.amount, order.currency, attempt, request, deadline,
                              **group_order)
        if result.status == payments.AUTHORIZED:  # a group order: its money waits for the group
            result = grouping.authorised_by_pay_call(order, result)
        if result.status == payments.SUCCEEDED and payment_events.paid_by_pay_call(
                order.order_id, result.received, payer_ids or result.payer_ids) in payment_events.REFUNDED_UNPAID:
            # Rare: two payments by one card raced past the limit check, the hold ended unseen, or
            # Stripe took another amount than asked.
            result = payments.PayResult(payments.FAILED, result.payment_intent_id,
                                        reason="This payment could not be kept and was refunded.")
    except PaymentsBusy as busy:
        busy.hold_ends_at = views.iso(hold_until)  # the card's countdown follows the longer hold
        raise
    finally:
        pay_calls.end_payment(order.order_id, result and result.payment_intent_id, result and result.client_secret)
        pay_calls.release_payers(order, payer_ids)
    body = {"status": result.status, "client_secret": result.client_secret,
            "order": views.order_json(orders.get(order.order_id))}
    if result.reason:
        body["reason"] = result.reason
    return body


def _check_payable(order: Order, at: int) -> None:
    if order.status == PAID or order.authorised_at:
        raise AlreadyPaid("This order is paid (or its group payment authorised) already; nothing more was charged.")
    if order.status != HELD or order.expires_at - MARGIN_SECONDS <= at:
        raise HoldExpired("The hold on this order has ended; nothing was charged. Tap buy to try again.")


def _claim_payers(order: Order, payer_ids: tuple[str, ...], at: int, until: int) -> tuple[str, ...]:
    """One payment at a time per card or email on a limited card: otherwise two payments by one
    card, each within the limit on its own, would both be charged and one refunded."""
    try:
        pay_calls.claim_payers(order, payer_ids, at, until)
    except pay_calls.PayerBusy:
        raise PaymentInProgress("This card or email is paying for another order of this item right now; "
                                "nothing was charged. Try again when that payment is done.") from None
    return payer_ids


def _check_payer_limit(order: Order, payer_ids: tuple[str, ...], limit: int) -> None:
    """The card and email about to pay, against what they already bought of this card."""
    bought = stock.buyer_units(order.card_id, set(payer_ids))
    if any(units + order.quantity > limit for units in bought.values()):
        raise LimitReached(f"This card or email has already bought {limit} of this item; nothing was charged.")
