"""The seller's use cases: sign-up and keys, their cards, their orders, the funnel.

A card or order of another seller answers exactly like one that does not exist."""
from __future__ import annotations

import dataclasses
import logging
import uuid
from datetime import datetime, timezone

from chalicelib import checkout, config, counters, notices, refunds, shipping, views
from chalicelib.domain import (
    ARCHIVED,
    PUBLISHED,
    UNPUBLISHED,
    Card,
    Conflict,
    InvalidRequest,
    NotFound,
    Order,
    SignupClosed,
    new_card_from_request,
    new_code_from_request,
    normalise_code,
)
from chalicelib.seller_rules import (
    card_edit_from_request,
    decode_cursor,
    encode_cursor,
    fulfilment_from_request,
    funnel,
    order_filter,
    orders_csv,
    page_size,
    restock_from_request,
    signup_from_request,
    stats_days,
)
from chalicelib.social import rules
from chalicelib.store import cards, codes, delivery, orders, reviews, sellers, stock

# Enough for any sale tapcard is built for; a longer export is cut here and says so.
MAX_CSV_ORDERS = 50_000


log = logging.getLogger(__name__)


# --- sign-up and keys -----------------------------------------------------------------------


def sign_up(payload) -> dict:
    if not config.OPEN_SIGNUP:
        raise SignupClosed("Sign-up is closed on this stage; ask the operators for an account.")
    seller_id, api_key = sellers.create_seller(*signup_from_request(payload))
    return {"seller_id": seller_id, "api_key": api_key}


def keys(seller_id: str) -> dict:
    return {"items": sellers.keys_of(seller_id)}


def new_key(seller_id: str) -> dict:
    api_key = sellers.issue_api_key(seller_id)
    return {"api_key": api_key, "prefix": api_key[:10]}


def revoke_key(seller_id: str, prefix: str) -> dict:
    sellers.revoke_key(seller_id, prefix)
    return {"prefix": prefix, "revoked": True}


# --- cards ----------------------------------------------------------------------------------


def create_card(seller_id: str, payload) -> dict:
    card = new_card_from_request(payload, "card_" + uuid.uuid4().hex[:12], seller_id, checkout.now())
    card = dataclasses.replace(card, **rules.social_settings_from(payload))
    cards.create(card)
    return {**checkout.card_view(card), "snippet": views.snippet(card)}


def seller_card_json(card: Card) -> dict:
    return {**checkout.card_view(card), "status": card.status, "share_text": card.share_text,
            "snippet": views.snippet(card), "created_at": views.iso(card.created_at)}


def list_cards(seller_id: str, query: dict) -> dict:
    limit = page_size(query)
    page, last = cards.of_seller(seller_id, limit, decode_cursor(query.get("cursor"), "seller_id", seller_id))
    return {"items": [seller_card_json(card) for card in page], "next_cursor": encode_cursor(last)}


def get_card(seller_id: str, card_id: str) -> dict:
    return seller_card_json(cards.get_owned(seller_id, card_id, fresh=True))


def update_card(seller_id: str, card_id: str, payload) -> dict:
    card = cards.get_owned(seller_id, card_id, fresh=True)
    if card.status == ARCHIVED:
        raise Conflict("An archived card cannot be edited.", "status")
    edit = card_edit_from_request(payload, card, stock.level(card), orders.has_orders(card_id))
    cards.update(card, edit.card, edit.stock_change)
    return seller_card_json(cards.get_fresh(card_id))


# Which status each action leads to, from which statuses.
_TRANSITIONS = {
    "publish": (PUBLISHED, (PUBLISHED, UNPUBLISHED)),
    "unpublish": (UNPUBLISHED, (PUBLISHED, UNPUBLISHED)),
    "archive": (ARCHIVED, (PUBLISHED, UNPUBLISHED, ARCHIVED)),
}


def set_card_status(seller_id: str, card_id: str, action: str) -> dict:
    """Publish (buyers see it), unpublish (hidden, can come back) or archive (hidden for good).
    Holds already made may still be paid."""
    cards.get_owned(seller_id, card_id)
    status, expected = _TRANSITIONS[action]
    cards.set_status(card_id, status, expected)
    return seller_card_json(cards.get_fresh(card_id))


# --- discount codes ---------------------------------------------------------------------------


def create_code(seller_id: str, card_id: str, payload) -> dict:
    cards.get_owned(seller_id, card_id)
    code = new_code_from_request(payload, card_id, checkout.now())
    codes.create(code)
    return views.code_json(code)


def list_codes(seller_id: str, card_id: str) -> dict:
    cards.get_owned(seller_id, card_id)
    return {"items": [views.code_json(code) for code in codes.of_card(card_id)]}


def remove_code(seller_id: str, card_id: str, code: str) -> None:
    """Buyers can no longer use it; holds made with it keep their price and may still be paid."""
    cards.get_owned(seller_id, card_id)
    name = normalise_code(code)
    if name is None:
        raise NotFound("This card has no code of that name.")
    codes.remove(card_id, name)


# --- orders ---------------------------------------------------------------------------------


def seller_order_json(order: Order) -> dict:
    """An order as its seller sees it: with the address it ships to (and the buyer's email)."""
    return {**views.order_json(order), "created_at": views.iso(order.created_at),
            "country": order.country, "ref": order.ref, "refund_id": order.refund_id,
            "amount_refunded": order.amount_refunded, "refund_pending": order.refund_restock is not None,
            "dispute": None if order.disputed_at is None else {
                "reason": order.dispute_reason, "disputed_at": views.iso(order.disputed_at)},
            "shipping": shipping.address_of(order)}


def list_orders(seller_id: str, card_id: str, query: dict) -> dict:
    cards.get_owned(seller_id, card_id)
    wanted = order_filter(query)
    page, last = orders.of_card(card_id, wanted.status, wanted.since, wanted.until, page_size(query),
                                     decode_cursor(query.get("cursor"), "card_id", card_id))
    return {"items": [seller_order_json(order) for order in page], "next_cursor": encode_cursor(last)}


def orders_format(query: dict) -> str:
    """?format=json (the default) or csv; another is refused rather than answered as JSON."""
    fmt = query.get("format", "json")
    if fmt not in ("json", "csv"):
        raise InvalidRequest("'format' must be json or csv.", "format")
    return fmt


def export_orders(seller_id: str, card_id: str, query: dict) -> str:
    cards.get_owned(seller_id, card_id)
    wanted = order_filter(query)
    found, _ = orders.of_card(card_id, wanted.status, wanted.since, wanted.until, MAX_CSV_ORDERS)
    return orders_csv(found, {order.order_id: shipping.address_of(order) for order in found if order.shipping_address})


def _owned_order(seller_id: str, order_id: str) -> Order:
    order = orders.get(order_id)
    if order is None or order.seller_id != seller_id:
        raise NotFound("No order of yours has this id.")
    return order


def fulfil(seller_id: str, order_id: str, payload) -> dict:
    order = _owned_order(seller_id, order_id)
    carrier, tracking_number = fulfilment_from_request(payload)
    order.fulfilled_at = delivery.fulfil(order, carrier, tracking_number)
    order.carrier, order.tracking_number = carrier, tracking_number
    _notify(notices.shipped, order)
    return seller_order_json(order)


def _notify(notice, order) -> None:
    """The buyer's mail, once; a failure never undoes what the seller did (a failed send is the
    sweeper's to retry; anything else is logged with the order id)."""
    try:
        notice(order)
    except Exception:
        log.exception("the buyer's mail for %s failed", order.order_id)


def refund(seller_id: str, order_id: str, payload) -> dict:
    """Give the money back through Stripe, then the order becomes refunded (chalicelib/refunds.py:
    a retry, two clicks or a crash in between never pay back twice nor answer 409)."""
    order = _owned_order(seller_id, order_id)
    return seller_order_json(refunds.refund_by_seller(order, restock_from_request(payload)))


# --- the funnel -----------------------------------------------------------------------------


def stats(seller_id: str, card_id: str, query: dict) -> dict:
    cards.get_owned(seller_id, card_id)
    first, last = stats_days(query, datetime.now(timezone.utc).date())
    counters.flush()  # what this container counted shows at once
    return {"card_id": card_id, **funnel(counters.read(card_id, first.isoformat(), last.isoformat()), first, last),
            "reviews": views.rating_json(reviews.stats(card_id))}
