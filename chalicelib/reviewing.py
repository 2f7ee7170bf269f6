"""Reviews as use cases: a buyer reviews their paid order (with the order's token), readers page
through a card's reviews, the seller replies to or hides one (with a reason; hidden reviews leave
the rating). A card or order of another seller answers like one that does not exist."""
from __future__ import annotations

from chalicelib import checkout, views
from chalicelib.domain import (
    REVIEWS_PAGE,
    Card,
    NotFound,
    NotReviewable,
    Order,
    check_reviewable,
    check_visible,
    hide_reason_from_request,
    reply_from_request,
    review_from_request,
)
from chalicelib.seller_rules import decode_cursor, encode_cursor, page_size
from chalicelib.store import cards, orders, reviews


def ships(card: Card) -> bool:
    """Whether the card's goods are shipped, so a review waits for the order's fulfilment."""
    return card.shipping.required


def form_state(order: Order, card: Card) -> str | None:
    """What the order page offers its buyer: "open" (the review form), "done" (reviewed), "later"
    (paid, waiting to ship), or None (nothing to review: unpaid, expired, refunded)."""
    if order.review_key is not None:
        return "done"
    try:
        check_reviewable(order.status, order.fulfilled_at is not None, ships(card), False)
    except NotReviewable:
        return "later" if order.status == "paid" else None
    return "open"


def write(order_id: str, token: str | None, payload) -> dict:
    order, card = checkout.order_for_buyer(order_id, token)
    check_reviewable(order.status, order.fulfilled_at is not None, ships(card), order.review_key is not None)
    review = review_from_request(payload, order.card_id, order.order_id, checkout.now())
    reviews.add(order, review)
    return views.review_json(review)


def card_reviews(card_id: str, query: dict) -> dict:
    """The rating (hidden reviews left out) and a page of the reviews shown, newest first."""
    check_visible(cards.get(card_id))
    found, last = reviews.page(card_id, REVIEWS_PAGE, decode_cursor(query.get("cursor"), "card_id", card_id))
    return {**views.rating_json(reviews.stats(card_id), histogram=True),
            "items": [views.review_json(review) for review in found], "next_cursor": encode_cursor(last)}


def _owned_reviewed_order(seller_id: str, card_id: str, order_id: str) -> Order:
    cards.get_owned(seller_id, card_id)
    order = orders.get(order_id)
    if order is None or order.card_id != card_id or not order.review_key:
        raise NotFound("No review of this card has this order id.")
    return order


def seller_reviews(seller_id: str, card_id: str, query: dict) -> dict:
    """Every review of the card, hidden ones too (with why), newest first."""
    cards.get_owned(seller_id, card_id)
    found, last = reviews.page(card_id, page_size(query), decode_cursor(query.get("cursor"), "card_id", card_id),
                               include_hidden=True)
    return {**views.rating_json(reviews.stats(card_id), histogram=True),
            "items": [views.review_json(review, seller=True) for review in found], "next_cursor": encode_cursor(last)}


def reply(seller_id: str, card_id: str, order_id: str, payload) -> dict:
    order = _owned_reviewed_order(seller_id, card_id, order_id)
    reviews.reply(order, reply_from_request(payload))
    return views.review_json(reviews.of_order(order), seller=True)


def hide(seller_id: str, card_id: str, order_id: str, payload) -> dict:
    order = _owned_reviewed_order(seller_id, card_id, order_id)
    reviews.hide(order, hide_reason_from_request(payload))
    return views.review_json(reviews.of_order(order), seller=True)
