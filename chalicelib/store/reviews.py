"""The reviews table: a card's reviews and its totals of those shown, written in one transaction
with the order's mark that it has its review (so an order is reviewed once). The only module that
writes it."""
from __future__ import annotations

import time
from typing import TYPE_CHECKING

from pynamodb.exceptions import DoesNotExist

from chalicelib import config, later
from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.domain.reviews import AlreadyReviewed, Review, ReviewStats
from chalicelib.recent import Recent
from chalicelib.store.models import ReviewModel
from chalicelib.store.transactions import Refused, Transaction

if TYPE_CHECKING:
    from chalicelib.domain.orders import Order

order_models = later("chalicelib.store.order_models")  # a review's write alone: a widget reads stats

STATS = "stats"
_PREFIX = "r#"
_stats = Recent(config.CARD_CACHE_SECONDS)
_newest = Recent(config.CARD_CACHE_SECONDS)


def _key(review: Review) -> str:
    return f"{_PREFIX}{review.created_at:010d}#{review.order_id}"


def _to_review(model: ReviewModel) -> Review:
    def number(value):
        return None if value is None else int(value)

    return Review(card_id=model.card_id, order_id=model.order_id, rating=int(model.rating), text=model.text or "",
                  name=model.name, created_at=int(model.created_at), hidden_at=number(model.hidden_at),
                  hidden_reason=model.hidden_reason, reply=model.reply, replied_at=number(model.replied_at))


def _stats_actions(rating: int, sign: int) -> list:
    return [ReviewModel.count.add(sign), ReviewModel.total.add(sign * rating),
            getattr(ReviewModel, f"h{rating}").add(sign)]


def add(order: Order, review: Review) -> None:
    """The review, the card's totals and the order's mark, together: only a paid order without a
    review gets one (AlreadyReviewed, NotReviewable when it moved meanwhile)."""
    key = _key(review)
    tx = Transaction()
    order_model = order_models.OrderModel
    tx.update("order", order_model(order.order_id), actions=[order_model.review_key.set(key)],
              condition=(order_model.status == "paid") & order_model.review_key.does_not_exist())
    tx.save("review", ReviewModel(review.card_id, key, order_id=review.order_id, rating=review.rating,
                                  text=review.text, name=review.name, created_at=review.created_at),
            condition=ReviewModel.review_key.does_not_exist())
    tx.update("stats", ReviewModel(review.card_id, STATS), actions=_stats_actions(review.rating, 1))
    _commit(tx, review.card_id, AlreadyReviewed("This order has a review already (or is no longer paid).", "order_id"))


def of_order(order: Order) -> Review | None:
    if not order.review_key:
        return None
    try:
        return _to_review(ReviewModel.get(order.card_id, order.review_key, consistent_read=True))
    except DoesNotExist:
        return None


def page(card_id: str, limit: int, after: dict | None, include_hidden: bool = False) -> tuple[list[Review], dict | None]:
    """Newest first; hidden ones left out unless include_hidden. The key to continue after, or None."""
    results = ReviewModel.query(
        card_id, ReviewModel.review_key.startswith(_PREFIX), scan_index_forward=False, limit=limit,
        filter_condition=None if include_hidden else ReviewModel.hidden_at.does_not_exist(),
        last_evaluated_key=after)
    found = [_to_review(model) for model in results]
    return found, (results.last_evaluated_key if len(found) == limit else None)


def newest(card_id: str, count: int = 5) -> list[Review]:
    """The newest reviews shown (the widget's and the product page's), remembered a few seconds."""
    return _newest.get(card_id, lambda: page(card_id, 5, None)[0])[:count]


def stats(card_id: str) -> ReviewStats:
    """The card's totals of the reviews shown, remembered a few seconds per container."""
    return _stats.get(card_id, lambda: _read_stats(card_id))


def _read_stats(card_id: str) -> ReviewStats:
    try:
        model = ReviewModel.get(card_id, STATS)
    except DoesNotExist:
        return ReviewStats()
    return ReviewStats(count=int(model.count or 0), total=int(model.total or 0),
                       histogram={n: int(getattr(model, f"h{n}") or 0) for n in range(1, 6)})


def reply(order: Order, text: str) -> None:
    ReviewModel(order.card_id, _require_key(order)).update(
        actions=[ReviewModel.reply.set(text), ReviewModel.replied_at.set(int(time.time()))],
        condition=ReviewModel.review_key.exists())


def hide(order: Order, reason: str) -> None:
    """Hidden from readers and taken out of the card's rating, once (a second hide is a Conflict)."""
    review = of_order(order)
    if review is None:
        raise NotFound("This order has no review.")
    tx = Transaction()
    tx.update("review", ReviewModel(order.card_id, order.review_key),
              actions=[ReviewModel.hidden_at.set(int(time.time())), ReviewModel.hidden_reason.set(reason)],
              condition=ReviewModel.hidden_at.does_not_exist())
    tx.update("stats", ReviewModel(order.card_id, STATS), actions=_stats_actions(review.rating, -1))
    _commit(tx, order.card_id, Conflict("This review is hidden already.", "order_id"))


def _commit(tx: Transaction, card_id: str, refusal: Exception) -> None:
    """Commit a change of the card's shown reviews (refusal when a condition fails), then let this
    container read them afresh."""
    try:
        tx.commit()
    except Refused:
        raise refusal from None
    _stats.forget(card_id)
    _newest.forget(card_id)


def _require_key(order: Order) -> str:
    if not order.review_key:
        raise NotFound("This order has no review.")
    return order.review_key

