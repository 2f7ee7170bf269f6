"""The buyer's use cases: the card, the tap that holds units, the order and its pay call.
Primitives in, plain dicts or domain objects out, domain errors raised."""
from __future__ import annotations

import time

from chalicelib import config, counters, grouping, observability, paying, payments, secrets, shipping, views
from chalicelib.domain import (
    CANCELED,
    CODE,
    HELD,
    PAID,
    Card,
    Conflict,
    IdempotencyMismatch,
    InvalidRequest,
    NotFound,
    Order,
    PaymentsUnavailable,
    SoldOut,
    TooManyHolds,
    address_from_request,
    address_of_tap,
    Code,
    CodeExpired,
    CodeInvalid,
    CodeUsedUp,
    Discount,
    best_discount,
    check_can_buy,
    check_code_usable,
    check_solo_allowed,
    hold_seconds_now,
    checkout_request_from,
    pseudonym,
    open_holds_cap,
    order_id_for,
    normalise_code,
    order_token,
    price_order,
    shipping_fee,
    token_matches,
)
from chalicelib.social import referrals, reservations, rules
from chalicelib.store import cards, codes, counts, delivery, orders, pay_calls, reviews, stock

# Why a tap's order was canceled when Stripe could not open its payment (STRIPE_AT_TAP only).
PAYMENTS_UNAVAILABLE = "payments_unavailable"
# Dev stage: the flash-sale benchmark's comparison run opens the PaymentIntent in the tap, outside
# the Stripe budget, as tapcard did before the pay call; a 429 then gives the units back.
STRIPE_AT_TAP = False


def now() -> int:
    return int(time.time())


def card_view(card: Card, at: int | None = None) -> dict:
    """The card's JSON with its live stock and social proof."""
    return views.card_json(card, stock.level(card), counts.of_card(card.card_id), now() if at is None else at,
                           reviews.stats(card.card_id))


def buyer_card(card_id: str) -> dict:
    return card_view(cards.get_for_buyer(card_id))


def _order_links(order_id: str) -> dict:
    """The buyer's proof of owning the order, and its page (status, fulfilment, tracking)."""
    token = order_token(secrets.get("ORDER_TOKEN_SECRET"), order_id)
    return {"order_token": token, "order_url": views.order_page_url(order_id, token)}


# --- the tap ----------------------------------------------------------------------------------


def checkout(card_id: str, payload, idempotency_key: str | None, is_retry: bool = False,
             city: str | None = None, place: str | None = None, client: str | None = None) -> dict:
    """Hold the units; no call to Stripe (the pay call makes the payment). A new tap costs one
    DynamoDB transaction. A first tap on a card this container saw sold out in the last second
    costs none: it is refused from the cached levels. A retry (the widget says so with a
    `Tapcard-Retry` header) looks for the order its first attempt may have made before refusing.
    client: who tapped (clients.client_key), capped in the units it may hold unpaid at once.
    With `group_id` the tap joins that group at its price (chalicelib/grouping.py)."""
    if isinstance(payload, dict) and "group_id" in payload:  # null too: 400 naming group_id, as documented
        return grouping.join(card_id, payload, idempotency_key, city, place, client)
    card = cards.get_for_buyer(card_id)
    request, key = checkout_request_from(payload, idempotency_key)
    if not is_retry:
        counters.count(card_id, counters.TAPS)
    at = now()
    check_can_buy(card, at, request.quantity)
    check_solo_allowed(card.group)
    address = address_of_tap(payload, card.shipping)
    reservation_id = reservations.reservation_of(card_id, request.buyer, request.reservation_token)
    rules.check_reservation(card, at, reserved=reservation_id is not None)
    order_id = order_id_for(card_id, request.buyer, key)
    try:
        code = _usable_code(card_id, request.code, at)
    except (CodeInvalid, CodeExpired, CodeUsedUp):
        # The retry of a tap that got its hold (and the code's last redemption) gets its order.
        replayed = orders.get(order_id) if is_retry else None
        if replayed is None:
            raise
        return _answer(_replayed(order_id, request, replayed))
    discount = best_discount(card.price_amount, request.quantity, card.currency,
                             _code_discount(code), referrals.referral_discount(card, request.ref, request.buyer))
    priced = price_order(card.price_amount, request.quantity, card.currency, discount, fee=shipping_fee(card.shipping))
    hold_seconds = hold_seconds_now(card, stock.level(card), config.RUSH_HOLD_SECONDS)
    order = Order(
        order_id=order_id, card_id=card_id,
        seller_id=card.seller_id, buyer=request.buyer, quantity=request.quantity,
        amount=priced.amount, discount_amount=priced.discount, code=discount.code if discount else None,
        discount_kind=discount.kind if discount else None, currency=card.currency, status=HELD,
        created_at=at, expires_at=at + hold_seconds, ref=request.ref,
        request_fingerprint=request.fingerprint, display_name=request.display_name,
        anonymous=request.anonymous, city=rules.viewer_city(city), reservation_id=reservation_id, country=place,
        client=pseudonym(secrets.get("ORDER_TOKEN_SECRET"), client) if client else None,
        shipping_address=shipping.seal(address),
    )
    observability.order_context(order.order_id)
    try:
        orders.hold(card, order, open_holds_cap(card.limit_per_buyer, config.OPEN_HOLDS_PER_LIMIT,
                                                config.OPEN_HOLDS_WITHOUT_LIMIT),
                    code=code if order.discount_kind == CODE else None)
        counters.count(card_id, counters.HOLDS)
    except orders.OrderExists:
        order = _replayed(order.order_id, request)
    except SoldOut:
        observability.count("sold_out_taps")
        known_sold_out = stock.level(card).available == 0
        replayed = None if known_sold_out and not is_retry else orders.get(order.order_id)
        if replayed is None:
            raise
        order = _replayed(order.order_id, request, replayed)
    except TooManyHolds:
        # The retry of a tap that got its hold, answered before the network dropped it.
        replayed = orders.get(order.order_id) if is_retry else None
        if replayed is None:
            raise
        order = _replayed(order.order_id, request, replayed)
    if STRIPE_AT_TAP and order.status == HELD and not order.payment_intent_id:
        _attach_payment_intent(order)
    return _answer(order)


def _answer(order: Order) -> dict:
    # client_secret stays in the answer's shape: null, the pay call makes the payment.
    return {**views.order_json(order), "client_secret": order.client_secret, **_order_links(order.order_id)}


def _usable_code(card_id: str, typed: str | None, at: int) -> Code | None:
    """The card's code the buyer typed, if it may be used now (else code_invalid / code_expired /
    code_used_up); another card's code reads exactly like an unknown one."""
    if typed is None:
        return None
    name = normalise_code(typed)
    if name is None:
        raise CodeInvalid("This code is not valid for this item.")
    return check_code_usable(codes.for_tap(card_id, name), at)


def _code_discount(code: Code | None) -> Discount | None:
    return None if code is None else Discount(CODE, percent_off=code.percent_off, amount_off=code.amount_off,
                                              code=code.code)


def _replayed(order_id: str, request, order: Order | None = None) -> Order:
    order = order or orders.get(order_id)
    if order.request_fingerprint != request.fingerprint:
        raise IdempotencyMismatch("This Idempotency-Key was already used for a different request.")
    return order


def _attach_payment_intent(order: Order) -> None:
    try:
        intent = payments.create_payment_intent(order.order_id, order.card_id, order.amount, order.currency)
    except PaymentsUnavailable:
        # Stripe stayed down: give the units back now rather than strand them until the sweep.
        try:
            orders.release(order, CANCELED, PAYMENTS_UNAVAILABLE)
        except orders.StaleOrder:
            pass
        raise
    pay_calls.attach_payment_intent(order.order_id, intent.id, intent.client_secret)
    order.payment_intent_id, order.client_secret = intent.id, intent.client_secret


# --- the order --------------------------------------------------------------------------------


def _owned_order(order_id: str, token: str | None) -> Order:
    order = orders.get(order_id)
    # A wrong token answers like a missing order, so tokens cannot be probed.
    if order is None or not token_matches(secrets.get("ORDER_TOKEN_SECRET"), order_id, token):
        raise NotFound("No order has this id, or the token does not match it.")
    return order


def order_status(order_id: str, token: str | None) -> dict:
    """The buyer's own order; its shipping address only here, behind the order's token."""
    order = _owned_order(order_id, token)
    body = {**views.order_json(order), "order_url": _order_links(order_id)["order_url"],
            "shipping": shipping.address_of(order)}
    if order.status == PAID:
        body["earnings"] = referrals.earnings(order)
    return body


def order_for_buyer(order_id: str, token: str | None) -> tuple[Order, Card]:
    """The order behind the buyer's order page, and its card (even if no longer on sale)."""
    order = _owned_order(order_id, token)
    return order, cards.get(order.card_id)


def set_shipping_address(order_id: str, token: str | None, payload) -> dict:
    """PUT /orders/{order_id}/shipping: the address the order ships to, checked against the
    card's countries; the same wrong-token answer as every order route. Nothing is stored on an
    error. A held or paid order takes it until the seller ships."""
    order = _owned_order(order_id, token)
    card = cards.get(order.card_id)
    address = address_from_request(payload, card.shipping)
    if order.status not in (HELD, PAID) or order.fulfilled_at is not None:
        raise Conflict(f"This order is {'shipped' if order.fulfilled_at else order.status}; "
                       "its address can no longer change.", "order_id")
    try:
        delivery.set_address(order, card, shipping.seal(address))
    except orders.StaleOrder:
        raise Conflict("This order changed meanwhile (it ended or shipped); reload it.", "order_id") from None
    return {"order_id": order_id, "shipping": address}


def pay(order_id: str, token: str | None, payload) -> dict:
    answer = paying.pay(_owned_order(order_id, token), payload)
    answer["order"]["order_url"] = _order_links(order_id)["order_url"]
    return answer


# --- dev stage only ---------------------------------------------------------------------------


def dev_settings(payload) -> dict:
    """The flash-sale benchmark's comparison runs: without the sold-out short-circuit
    (stock_cache_seconds 0), and with the PaymentIntent opened in the tap (stripe_at_tap)."""
    global STRIPE_AT_TAP
    payload = payload if isinstance(payload, dict) else {}
    unknown = set(payload) - {"stock_cache_seconds", "stripe_at_tap"}
    if unknown:
        raise InvalidRequest(f"Unknown setting '{sorted(unknown)[0]}'.", sorted(unknown)[0])
    if "stock_cache_seconds" in payload:
        seconds = payload["stock_cache_seconds"]
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 <= seconds <= 60:
            raise InvalidRequest("'stock_cache_seconds' must be a number from 0 to 60.", "stock_cache_seconds")
        stock.set_cache_seconds(float(seconds))
    if "stripe_at_tap" in payload:
        if not isinstance(payload["stripe_at_tap"], bool):
            raise InvalidRequest("'stripe_at_tap' must be true or false.", "stripe_at_tap")
        STRIPE_AT_TAP = payload["stripe_at_tap"]
    return {"stock_cache_seconds": config.STOCK_CACHE_SECONDS, "stripe_at_tap": STRIPE_AT_TAP}
