"""The aftersales table: buyers' after-sales requests, each with its thread and photo keys, and
per order a mark ("open#<order_id>") while it has an unsettled request, put in the same transaction
as the request so an order has one at a time. The only module that writes it."""
from __future__ import annotations

import time

from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.expressions.condition import size

from chalicelib.domain import (
    MAX_MESSAGES,
    MAX_PHOTOS,
    UNRESOLVED,
    AftersalesRequest,
    NotFound,
    RequestAlreadyOpen,
    RequestMessage,
    RequestPhoto,
    TooManyMessages,
    TooManyPhotos,
    WrongRequestState,
)
from chalicelib.store.aftersales_models import AftersalesModel, MessageMap, PhotoMap
from chalicelib.store.transactions import Refused, Transaction


def open_mark(order_id: str) -> str:
    return f"open#{order_id}"


def _to_request(model: AftersalesModel) -> AftersalesRequest:
    return AftersalesRequest(
        request_id=model.request_id, order_id=model.order_id, card_id=model.card_id, seller_id=model.seller_id,
        type=model.type, status=model.status, created_at=int(model.created_at) // 1000, updated_at=int(model.updated_at),
        messages=[RequestMessage(m.author, m.text, int(m.at)) for m in model.messages or ()],
        photos=[RequestPhoto(p.photo_id, p.key, p.content_type, int(p.size), int(p.at)) for p in model.photos or ()],
        instructions=model.instructions, reason=model.reason, restock=model.restock)


def _message(message: RequestMessage) -> MessageMap:
    return MessageMap(author=message.author, text=message.text, at=message.at)


def _conditional_failed(error) -> bool:
    return error.cause_response_code == "ConditionalCheckFailedException"


def create(request: AftersalesRequest) -> None:
    """The request and its order's open mark together: RequestAlreadyOpen when the order has one."""
    tx = Transaction()
    tx.save("mark", AftersalesModel(open_mark(request.order_id), holder=request.request_id),
            condition=AftersalesModel.request_id.does_not_exist())
    tx.save("request", AftersalesModel(
        request.request_id, order_id=request.order_id, card_id=request.card_id, seller_id=request.seller_id,
        # In milliseconds: the indexes list an order's (and a seller's) requests newest first.
        type=request.type, status=request.status, created_at=int(time.time() * 1000), updated_at=request.updated_at,
        messages=[_message(m) for m in request.messages], photos=[]),
        condition=AftersalesModel.request_id.does_not_exist())
    try:
        tx.commit()
    except Refused:
        raise RequestAlreadyOpen("This order has a request under way already; write in its thread.",
                                 "order_id") from None


def get(request_id: str) -> AftersalesRequest | None:
    if request_id.startswith("open#"):
        return None
    try:
        return _to_request(AftersalesModel.get(request_id, consistent_read=True))
    except DoesNotExist:
        return None


def of_order(order_id: str) -> list[AftersalesRequest]:
    """The order's requests, newest first."""
    return [_to_request(m) for m in AftersalesModel.by_order.query(order_id, scan_index_forward=False)]


def of_seller(seller_id: str, status: str | None, limit: int, after: dict | None) -> tuple[list, dict | None]:
    """A page of the seller's requests, newest first (only `status` when given); the key to go on from."""
    results = AftersalesModel.by_seller.query(
        seller_id, scan_index_forward=False, limit=limit, last_evaluated_key=after,
        filter_condition=None if status is None else AftersalesModel.status == status)
    found = [_to_request(m) for m in results]
    return found, results.last_evaluated_key


def add_message(request: AftersalesRequest, message: RequestMessage) -> None:
    """Append to the thread while it has room (TooManyMessages) and is not closed."""
    try:
        AftersalesModel(request.request_id).update(
            actions=[AftersalesModel.messages.set(AftersalesModel.messages.append([_message(message)])),
                     AftersalesModel.updated_at.set(message.at)],
            condition=AftersalesModel.order_id.exists() & (size(AftersalesModel.messages) < MAX_MESSAGES)
            & (AftersalesModel.status != "closed"))
    except UpdateError as error:
        if not _conditional_failed(error):
            raise
        raise TooManyMessages(f"A request's thread holds {MAX_MESSAGES} messages, or it is closed.", "text") from None


def add_photo(request: AftersalesRequest, photo: RequestPhoto) -> None:
    """Keep a photo's key while the request has fewer than MAX_PHOTOS and is still unsettled."""
    try:
        AftersalesModel(request.request_id).update(
            actions=[AftersalesModel.photos.set(AftersalesModel.photos.append([PhotoMap(
                photo_id=photo.photo_id, key=photo.key, content_type=photo.content_type, size=photo.size,
                at=photo.at)]))],
            condition=(size(AftersalesModel.photos) < MAX_PHOTOS) & AftersalesModel.status.is_in(*UNRESOLVED))
    except UpdateError as error:
        if not _conditional_failed(error):
            raise
        raise TooManyPhotos(f"A request takes at most {MAX_PHOTOS} photos, while it is open or approved.",
                            "photos") from None


def move(request: AftersalesRequest, target: str, starts: tuple[str, ...], at: int, note: RequestMessage | None = None,
         **values) -> None:
    """Move the request to `target` from one of `starts` (WrongRequestState if it moved meanwhile),
    setting values (instructions, reason, restock) and adding the seller's note to the thread; a
    settled request gives its order's open mark back, so the buyer may open another."""
    actions = [AftersalesModel.status.set(target), AftersalesModel.updated_at.set(at)]
    actions += [getattr(AftersalesModel, name).set(value) for name, value in values.items()]
    if note is not None:
        actions.append(AftersalesModel.messages.set(AftersalesModel.messages.append([_message(note)])))
    tx = Transaction()
    tx.update("request", AftersalesModel(request.request_id), actions=actions,
              condition=AftersalesModel.status.is_in(*starts))
    if target not in UNRESOLVED and request.status in UNRESOLVED:
        tx.delete("mark", AftersalesModel(open_mark(request.order_id)),
                  condition=AftersalesModel.holder == request.request_id)
    try:
        tx.commit()
    except Refused:
        raise WrongRequestState("This request changed meanwhile; reload it.", "status") from None


def require(request_id: str) -> AftersalesRequest:
    found = get(request_id)
    if found is None:
        raise NotFound("No request has this id.")
    return found
