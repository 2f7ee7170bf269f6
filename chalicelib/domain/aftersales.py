"""After-sales requests: a buyer asks for a return, a refund, or says the parcel never came or came
damaged; the seller approves (with return instructions), declines (with a reason), refunds or
closes it; both write in its thread; up to three photos. Plain Python: the rules and the checks of
what clients send.

The return window: a card's `return_days` (default 14) count from the order's fulfilment where the
card ships goods, and from the order's creation (its hold, minutes before its payment) for digital
goods. Returns and damaged goods must be asked for within it; a refund or a missing parcel may be
asked for while the order is paid.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chalicelib.domain.errors import Conflict, InvalidRequest
from chalicelib.domain.fields import int_field, text_field

__all__ = ["REQUEST_TYPES", "REQUEST_STATUSES", "OPEN", "APPROVED", "DECLINED", "REFUNDED", "CLOSED",
           "UNRESOLVED", "REQUEST_MOVES", "MAX_REQUEST_MESSAGE", "MAX_INSTRUCTIONS", "MAX_DECLINE_REASON",
           "MAX_MESSAGES", "MAX_PHOTOS", "MAX_PHOTO_BYTES", "PHOTO_TYPES", "WINDOWED_TYPES", "AftersalesRequest",
           "RequestMessage", "RequestPhoto",
           "RequestNotAllowed", "ReturnWindowClosed", "RequestAlreadyOpen", "WrongRequestState",
           "TooManyPhotos", "TooManyMessages", "new_request_from", "message_from", "instructions_from",
           "decline_reason_from", "photo_from", "check_can_open", "check_move",
           "return_window_ends", "request_status_filter"]

REQUEST_TYPES = ("return", "refund", "not_received", "damaged")
# Asked for within the card's return window only; the others while the order is paid.
WINDOWED_TYPES = ("return", "damaged")
OPEN, APPROVED, DECLINED, REFUNDED, CLOSED = "open", "approved", "declined", "refunded", "closed"
REQUEST_STATUSES = (OPEN, APPROVED, DECLINED, REFUNDED, CLOSED)
# A request not yet settled: an order has at most one.
UNRESOLVED = (OPEN, APPROVED)
# What each seller action does: (the status it leads to, the statuses it may start from).
REQUEST_MOVES = {
    "approve": (APPROVED, (OPEN,)),
    "decline": (DECLINED, (OPEN,)),
    "refund": (REFUNDED, (OPEN, APPROVED)),
    "close": (CLOSED, (OPEN, APPROVED, DECLINED, REFUNDED)),
}
MAX_REQUEST_MESSAGE = 2000
MAX_INSTRUCTIONS = 2000
MAX_DECLINE_REASON = 500
MAX_MESSAGES = 50  # a thread's messages, both sides, the first one included
MAX_PHOTOS = 3
MAX_PHOTO_BYTES = 5 * 1024 * 1024
PHOTO_TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
DAY = 24 * 3600


class RequestNotAllowed(Conflict):
    """The order cannot take a request now: not paid (held, expired, refunded), or not shipped yet
    for a return or damaged goods."""
    code = "request_not_allowed"


class ReturnWindowClosed(Conflict):
    code = "return_window_closed"


class RequestAlreadyOpen(Conflict):
    code = "request_already_open"


class WrongRequestState(Conflict):
    code = "wrong_request_state"


class TooManyPhotos(Conflict):
    code = "too_many_photos"


class TooManyMessages(Conflict):
    code = "too_many_messages"


@dataclass
class RequestMessage:
    """One message of an after-sales conversation, in the order written."""
    author: str  # "buyer" or "seller"
    text: str
    at: int


@dataclass
class RequestPhoto:
    """A photo the buyer attached to a request (stored in the photos bucket, shown to the seller)."""
    photo_id: str
    key: str  # the object's key in the photos bucket
    content_type: str
    size: int
    at: int


@dataclass
class AftersalesRequest:
    """A buyer's request about one paid order (a return, a refund, goods not received or damaged) and where it stands."""
    request_id: str
    order_id: str
    card_id: str
    seller_id: str
    type: str
    status: str
    created_at: int
    updated_at: int
    messages: list[RequestMessage] = field(default_factory=list)
    photos: list[RequestPhoto] = field(default_factory=list)
    instructions: str | None = None
    reason: str | None = None
    restock: bool | None = None


def _object(payload: Any) -> dict:
    if not isinstance(payload, dict):
        raise InvalidRequest("The body must be a JSON object.")
    return payload


def _only(payload: dict, names: tuple[str, ...]) -> None:
    unknown = sorted(set(payload) - set(names))
    if unknown:
        raise InvalidRequest(f"Unknown field '{unknown[0]}'.", unknown[0])


def new_request_from(payload: Any) -> tuple[str, str]:
    """(type, message) of a buyer's new request."""
    payload = _object(payload)
    _only(payload, ("type", "message"))
    kind = payload.get("type")
    if kind not in REQUEST_TYPES:
        raise InvalidRequest(f"'type' must be one of {', '.join(REQUEST_TYPES)}.", "type")
    return kind, text_field(payload.get("message"), "message", MAX_REQUEST_MESSAGE)


def _only_text(payload: Any, name: str, limit: int) -> str:
    """The one text field a body holds (and nothing else)."""
    payload = _object(payload)
    _only(payload, (name,))
    return text_field(payload.get(name), name, limit)


def message_from(payload: Any) -> str:
    return _only_text(payload, "text", MAX_REQUEST_MESSAGE)


def instructions_from(payload: Any) -> str:
    return _only_text(payload, "instructions", MAX_INSTRUCTIONS)


def decline_reason_from(payload: Any) -> str:
    return _only_text(payload, "reason", MAX_DECLINE_REASON)


def photo_from(payload: Any) -> tuple[str, int]:
    """(content_type, size in bytes) a buyer says a photo has; the upload's policy holds them to it."""
    payload = _object(payload)
    _only(payload, ("content_type", "size"))
    content_type = payload.get("content_type")
    if content_type not in PHOTO_TYPES:
        raise InvalidRequest(f"'content_type' must be one of {', '.join(PHOTO_TYPES)}.", "content_type")
    return content_type, int_field(payload.get("size"), "size", 1, MAX_PHOTO_BYTES)


def request_status_filter(value: str | None) -> str | None:
    if value in (None, ""):
        return None
    if value not in REQUEST_STATUSES:
        raise InvalidRequest(f"'status' must be one of {', '.join(REQUEST_STATUSES)}.", "status")
    return value


def return_window_ends(ships: bool, fulfilled_at: int | None, created_at: int, return_days: int) -> int | None:
    """When the card's return window closes for this order; None while goods are not shipped yet."""
    start = fulfilled_at if ships else created_at
    return None if start is None else start + return_days * DAY


def check_can_open(kind: str, order_status: str, ships: bool, fulfilled_at: int | None, created_at: int,
                   return_days: int, now: int) -> None:
    if order_status != "paid":
        raise RequestNotAllowed(f"This order is {order_status}: only a paid order takes a request.", "order_id")
    if kind not in WINDOWED_TYPES:
        return
    ends = return_window_ends(ships, fulfilled_at, created_at, return_days)
    if ends is None:
        raise RequestNotAllowed("This order has not shipped yet: ask for a refund instead.", "type")
    if now > ends:
        raise ReturnWindowClosed(f"Returns and damaged goods are taken within {return_days} days "
                                 f"{'of shipping' if ships else 'of the order'}.", "type")


def check_move(action: str, status: str) -> str:
    """The status `action` leads to from `status`, or WrongRequestState."""
    target, starts = REQUEST_MOVES[action]
    if status not in starts:
        raise WrongRequestState(f"A request that is {status} cannot be {target}.", "status")
    return target
