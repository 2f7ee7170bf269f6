"""Reviews: one per paid order (fulfilled first, where the card ships), the seller's reply and hide,
and the card's rating. Plain Python."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chalicelib.domain.errors import Conflict, InvalidRequest
from chalicelib.domain.fields import int_field, text_field

__all__ = ["MAX_REVIEW_TEXT", "MAX_REVIEW_NAME", "MAX_REPLY_TEXT", "MAX_HIDE_REASON", "REVIEWS_PAGE", "Review",
           "ReviewStats", "NotReviewable", "AlreadyReviewed", "review_from_request", "check_reviewable",
           "reply_from_request", "hide_reason_from_request"]

MAX_REVIEW_TEXT = 500
MAX_REVIEW_NAME = 40
MAX_REPLY_TEXT = 500
MAX_HIDE_REASON = 200
REVIEWS_PAGE = 10


class NotReviewable(Conflict):
    """Only a paid order (and, where the card ships, a fulfilled one) may be reviewed."""
    code = "not_reviewable"


class AlreadyReviewed(Conflict):
    code = "already_reviewed"


@dataclass
class Review:
    """A buyer's review of a paid order, with the seller's reply and whether the seller hid it."""
    card_id: str
    order_id: str
    rating: int
    text: str
    name: str | None
    created_at: int
    hidden_at: int | None = None
    hidden_reason: str | None = None
    reply: str | None = None
    replied_at: int | None = None


@dataclass
class ReviewStats:
    """The card's reviews that are shown (hidden ones are not counted)."""
    count: int = 0
    total: int = 0
    histogram: dict[int, int] = field(default_factory=lambda: dict.fromkeys(range(1, 6), 0))

    @property
    def average(self) -> float | None:
        return round(self.total / self.count, 1) if self.count else None


def check_reviewable(status: str, fulfilled: bool, ships: bool, reviewed: bool) -> None:
    """A paid order, not refunded; where the card ships, once it is fulfilled; once."""
    if reviewed:
        raise AlreadyReviewed("This order has a review already.", "order_id")
    if status != "paid":
        raise NotReviewable("Only a paid order can be reviewed.", "order_id")
    if ships and not fulfilled:
        raise NotReviewable("This order can be reviewed once it has shipped.", "order_id")


def review_from_request(payload: Any, card_id: str, order_id: str, now: int) -> Review:
    if not isinstance(payload, dict):
        raise InvalidRequest("The body must be a JSON object.")
    unknown = sorted(set(payload) - {"rating", "text", "name"})
    if unknown:
        raise InvalidRequest(f"Unknown field '{unknown[0]}'.", unknown[0])
    rating = int_field(payload.get("rating"), "rating", 1, 5)
    text = text_field(payload.get("text", ""), "text", MAX_REVIEW_TEXT, required=False)  # null: not text
    name = payload.get("name")
    name = None if name is None else (text_field(name, "name", MAX_REVIEW_NAME, required=False) or None)
    return Review(card_id=card_id, order_id=order_id, rating=rating, text=text, name=name, created_at=now)


def reply_from_request(payload: Any) -> str:
    if not isinstance(payload, dict):
        raise InvalidRequest("The body must be a JSON object.")
    return text_field(payload.get("text"), "text", MAX_REPLY_TEXT)


def hide_reason_from_request(payload: Any) -> str:
    if not isinstance(payload, dict):
        raise InvalidRequest("The body must be a JSON object.")
    return text_field(payload.get("reason"), "reason", MAX_HIDE_REASON)
