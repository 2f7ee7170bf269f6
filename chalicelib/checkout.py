"""Use cases: primitives in, plain dicts or domain objects out, domain errors raised."""
from __future__ import annotations

import dataclasses
import html
import logging
import time
import uuid
from datetime import datetime, timezone

from chalicelib import config, counters, inventory, observability, payments, secrets
from chalicelib.domain import (
    CANCELED,
    EXPIRED,
    HELD,
    PAID,
    PUBLISHED,
    REFUNDED,
    Card,
    IdempotencyMismatch,
    InvalidRequest,
    NotFound,
    Order,
    PaymentsUnavailable,
    SoldOut,
    check_can_buy,
    checkout_request_from,
    new_card_from_request,
    order_id_for,
    order_token,
    referral_code_for,
    sale_state,
    token_matches,
)
from chalicelib.inventory import EventAlreadyApplied, OrderExists, PayerLimitReached, StaleOrder
from chalicelib.social import counts, reservations, rules

log = logging.getLogger(__name__)
PAYMENTS_UNAVAILABLE = "payments_unavailable"


def iso(epoch: int | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat().replace("+00:00", "Z")


def now() -> int:
    return int(time.time())


# --- cards ----------------------------------------------------------------------------------


def snippet_for(card: Card) -> str:
    base = config.PUBLIC_BASE_URL
    title = html.escape(card.title)
    return (
        f'<div data-tapcard="{card.card_id}"><a href="{base}/p/{card.card_id}">Buy {title} on tapcard</a></div>\n'
        f'<script async src="{base}/embed.js"></script>'
    )


def card_json(card: Card, at: int | None = None) -> dict:
    at = now() if at is None else at
    level = inventory.stock_level(card.card_id)
    return {
        "id": card.card_id,
        "title": card.title,
        "description": card.description,
        "image_url": card.image_url,
        "price": {"amount": card.price_amount, "currency": card.currency},
        "stock": {"available": level.available, "sold": level.sold, "held": level.held},
        "sale": {
            "starts_at": iso(card.starts_at),
            "ends_at": iso(card.ends_at),
            "state": sale_state(card, at, level.available),
        },
        "limit_per_buyer": card.limit_per_buyer,
        "hold_seconds": card.hold_seconds,
        "url": f"{config.PUBLIC_BASE_URL}/p/{card.card_id}",
        **social_json(card),
    }


def social_json(card: Card) -> dict:
    """Social proof and reservation rules for the card: units bought, shares posted, reservations."""
    social = counts.of_card(card.card_id)
    return {
        "locale": card.locale,
        "bought": inventory.stock_level(card.card_id).sold,
        "shares": social[counts.SHARES],
        "reservations": social[counts.RESERVATIONS],
        "reservation": {
            "mode": card.reservation_mode or "none",
            "reservers_only_until": iso(rules.reservers_only_until(card)),
        },
    }


def create_card(seller_id: str, payload) -> dict:
    card = new_card_from_request(payload, "card_" + uuid.uuid4().hex[:12], seller_id, now())
    card = dataclasses.replace(card, **rules.social_settings_from(payload))
    inventory.create_card(card)
    return {**card_json(card), "snippet": snippet_for(card)}


def get_card(card_id: str) -> Card:
    """The card as buyers see it: an unpublished or archived card is not there for them."""
    card = inventory.get_card(card_id)
    if card.status != PUBLISHED:
        raise NotFound("This card is not available.")
    return card


# --- checkout -------------------------------------------------------------------------------


def order_json(order: Order) -> dict:
    body = {
        "order_id": order.order_id,
        "card_id": order.card_id,
        "status": order.status,
        "quantity": order.quantity,
        "amount": order.amount,
        "currency": order.currency,
        "expires_at": iso(order.expires_at),
    }
    if order.status_reason:
        body["status_reason"] = order.status_reason
    if order.status == PAID and order.referral_code:
        body["referral_code"] = order.referral_code
        body["share_url"] = f"{config.PUBLIC_BASE_URL}/p/{order.card_id}?ref={order.referral_code}"
    body["fulfilment"] = None if order.fulfilled_at is None else {
        "carrier": order.carrier, "tracking_number": order.tracking_number, "fulfilled_at": iso(order.fulfilled_at),
    }
    return body


def order_page_url(order_id: str) -> str:
    """The buyer's page of the order: status, fulfilment and tracking."""
    token = order_token(secrets.get("ORDER_TOKEN_SECRET"), order_id)
    return f"{config.PUBLIC_BASE_URL}/o/{order_id}?token={token}"


def checkout(card_id: str, payload, idempotency_key: str | None, is_retry: bool = False,
             city: str | None = None, place: str | None = None) -> dict:
    """Hold the units and open a PaymentIntent. A new tap costs two DynamoDB writes (the hold
    transaction, then the intent's id). A first tap on a card this container saw sold out in the
    last second costs none: it is refused from the cached levels. A retry (the widget says so with
    a `Tapcard-Retry` header) looks for the order its first attempt may have made before refusing."""
    card = get_card(card_id)
    request, key = checkout_request_from(payload, idempotency_key)
    if not is_retry:
        counters.count(card_id, counters.TAPS)
    at = now()
    check_can_buy(card, at, request.quantity)
    reservation_id = reservations.reservation_of(card_id, request.reservation_token)
    rules.check_reservation(card, at, reserved=reservation_id is not None)
    order = Order(
        order_id=order_id_for(card_id, request.buyer, key), card_id=card_id,
        seller_id=card.seller_id, buyer=request.buyer, quantity=request.quantity,
        amount=card.price_amount * request.quantity, currency=card.currency, status=HELD,
        created_at=at, expires_at=at + card.hold_seconds, ref=request.ref,
        request_fingerprint=request.fingerprint, display_name=request.display_name,
        anonymous=request.anonymous, city=rules.viewer_city(city), reservation_id=reservation_id, country=place,
    )
    observability.order_context(order.order_id)
    try:
        inventory.hold(card, order)
        counters.count(card_id, counters.HOLDS)
    except OrderExists:
        order = _replayed(order.order_id, request)
    except SoldOut:
        observability.count("sold_out_taps")
        known_sold_out = inventory.stock_level(card_id).available == 0
        replayed = None if known_sold_out and not is_retry else inventory.get_order(order.order_id)
        if replayed is None:
            raise
        order = _replayed(order.order_id, request, replayed)
    if order.status == CANCELED and order.status_reason == PAYMENTS_UNAVAILABLE:
        # Its first attempt found Stripe down and gave the units back: try again for real.
        order.expires_at = at + card.hold_seconds
        inventory.rehold(card, order)
    if order.status == HELD and not order.payment_intent_id:
        _attach_payment_intent(order)
    return {
        **order_json(order),
        "client_secret": order.client_secret,
        "order_token": order_token(secrets.get("ORDER_TOKEN_SECRET"), order.order_id),
        "order_url": order_page_url(order.order_id),
    }


def _replayed(order_id: str, request, order: Order | None = None) -> Order:
    order = order or inventory.get_order(order_id)
    if order.request_fingerprint != request.fingerprint:
        raise IdempotencyMismatch("This Idempotency-Key was already used for a different request.")
    return order


def _attach_payment_intent(order: Order) -> None:
    try:
        intent = payments.create_payment_intent(order.order_id, order.card_id, order.amount,
                                                order.currency, attempt=order.payment_attempt)
    except PaymentsUnavailable:
        # Stripe stayed down: give the units back now rather than strand them until the sweep.
        try:
            inventory.release(order, CANCELED, PAYMENTS_UNAVAILABLE)
        except StaleOrder:
            pass
        raise
    inventory.attach_payment_intent(order.order_id, intent.id, intent.client_secret)
    order.payment_intent_id, order.client_secret = intent.id, intent.client_secret


def _owned_order(order_id: str, token: str | None) -> Order:
    order = inventory.get_order(order_id)
    # A wrong token answers like a missing order, so tokens cannot be probed.
    if order is None or not token_matches(secrets.get("ORDER_TOKEN_SECRET"), order_id, token):
        raise NotFound("No order has this id, or the token does not match it.")
    return order


def order_status(order_id: str, token: str | None) -> dict:
    return {**order_json(_owned_order(order_id, token)), "order_url": order_page_url(order_id)}


def order_for_buyer(order_id: str, token: str | None) -> tuple[Order, Card]:
    """The order behind the buyer's order page, and its card (even if no longer on sale)."""
    order = _owned_order(order_id, token)
    return order, inventory.get_card(order.card_id)


def pay_with_test_card(order_id: str, token: str | None, outcome) -> dict:
    """Dev stage only: the TEST MODE payment sheet's pay button."""
    if outcome not in payments.TEST_CARDS:
        raise InvalidRequest(f"'card' must be one of {sorted(payments.TEST_CARDS)}.", "card")
    order = _owned_order(order_id, token)
    if order.status != HELD or not order.payment_intent_id:
        raise InvalidRequest(f"This order is {order.status}; only a held order can be paid.", "order_id")
    payments.pay_with_test_card(order.payment_intent_id, outcome)
    return order_json(order)


def set_stock_cache(payload) -> dict:
    """Dev stage: the flash-sale benchmark turns the sold-out short-circuit off for its comparison run."""
    seconds = payload.get("stock_cache_seconds") if isinstance(payload, dict) else None
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 <= seconds <= 60:
        raise InvalidRequest("'stock_cache_seconds' must be a number from 0 to 60.", "stock_cache_seconds")
    inventory.set_stock_cache_seconds(float(seconds))
    return {"stock_cache_seconds": seconds}


# --- payment events -------------------------------------------------------------------------


def apply_payment_event(event: payments.PaymentEvent) -> str:
    """Move the order the event is about; returns what happened, for the log."""
    observability.order_context(event.order_id)
    if inventory.event_seen(event.event_id):
        return "duplicate"
    for _ in range(3):
        order = inventory.get_order(event.order_id) if event.order_id else None
        if order is None or order.payment_intent_id not in (None, event.payment_intent_id):
            inventory.record_event(event.event_id, event.type)
            return "not_ours"
        try:
            outcome = _apply(event, order)
            if outcome in ("paid", "paid_late"):
                _count_paid(order)
            return outcome
        except EventAlreadyApplied:
            return "duplicate"
        except StaleOrder:
            continue  # another event or the sweeper moved it first: decide again on fresh state
    raise RuntimeError(f"order {event.order_id} kept changing while applying {event.event_id}")


def _count_paid(order: Order) -> None:
    counters.count(order.card_id, counters.PAID, place=order.country)
    counters.count(order.card_id, counters.UNITS, order.quantity)
    counters.count(order.card_id, counters.REVENUE, order.amount)
    if order.ref:
        counters.count(order.card_id, counters.REFERRED_ORDERS)


def _apply(event: payments.PaymentEvent, order: Order) -> str:
    if event.type == payments.PAYMENT_SUCCEEDED:
        code = referral_code_for(order.order_id)
        if order.status == HELD:
            return _settle_paid(event, order, code)
        if order.status in (EXPIRED, CANCELED):
            limit = inventory.get_card(order.card_id).limit_per_buyer
            why_not = inventory.retake_for_late_payment(order, code, event.event_id, limit=limit)
            if why_not is None:
                observability.count("paid")
                return "paid_late"
            refund_id = payments.refund(event.payment_intent_id, order.order_id)
            observability.count("refunds")
            inventory.mark_refunded(order, refund_id, why_not, event.event_id)
            return "refunded"
    elif order.status == HELD:
        reason = "payment_failed" if event.type == payments.PAYMENT_FAILED else "payment_canceled"
        inventory.release(order, CANCELED, reason, event.event_id)
        if event.type == payments.PAYMENT_FAILED:
            payments.cancel_payment_intent(event.payment_intent_id)
        return "canceled"
    inventory.record_event(event.event_id, event.type)
    return f"ignored_{order.status}"


def _settle_paid(event: payments.PaymentEvent, order: Order, code: str) -> str:
    """held → paid; with a per-buyer limit the card and email that paid must be within it too,
    or the money goes back and so do the units."""
    limit = inventory.get_card(order.card_id).limit_per_buyer
    payer_ids = payments.payer_identities(event.payment_method_id) if limit else ()
    try:
        inventory.mark_paid(order, code, event.event_id, payer_ids=payer_ids, limit=limit)
        observability.count("paid")
        return "paid"
    except PayerLimitReached:
        refund_id = payments.refund(event.payment_intent_id, order.order_id)
        observability.count("refunds")
        inventory.release(order, REFUNDED, "payer_limit_reached", event.event_id, refund_id=refund_id)
        return "refunded"


# --- the sweeper ----------------------------------------------------------------------------


def expire_holds(at: int | None = None) -> int:
    """Expire unpaid holds whose time is up; returns how many went back on sale."""
    at = now() if at is None else at
    expired = 0
    for order_id in inventory.expired_hold_ids(at):
        order = inventory.get_order(order_id)
        if order is None or order.status != HELD or order.expires_at > at:
            continue
        if order.payment_intent_id:
            try:
                if payments.cancel_payment_intent(order.payment_intent_id) in ("succeeded", "processing"):
                    continue  # the money is in flight: its webhook will settle the order
            except PaymentsUnavailable:
                log.warning("could not cancel %s; expiring anyway", order.payment_intent_id)
        try:
            inventory.release(order, EXPIRED, "hold_expired")
            counters.count(order.card_id, counters.EXPIRED)
            expired += 1
        except StaleOrder:
            pass
    observability.count("expired_holds", expired)
    return expired

