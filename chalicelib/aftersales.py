"""After-sales requests as use cases. The buyer (with the order's token) opens one on a paid order,
reads its requests, writes in the thread and uploads up to three photos; the seller lists theirs,
approves (return instructions), declines (a reason), refunds (through the seller's refund of the
order, restock optional) or closes one, and writes in the thread. The seller's webhooks get
`request.opened`; the buyer is mailed at each step (chalicelib/notices.py, once per step). A request
or order of another seller answers like one that does not exist.
"""
from __future__ import annotations

import logging
import uuid

from chalicelib import backoffice, checkout, notices, photos, views
from chalicelib.domain import (
    MAX_PHOTO_BYTES,
    MAX_PHOTOS,
    OPEN,
    PAID,
    PHOTO_TYPES,
    REFUNDED,
    UNRESOLVED,
    AftersalesRequest,
    Card,
    NotFound,
    Order,
    RequestMessage,
    RequestPhoto,
    TooManyPhotos,
    WrongRequestState,
    check_can_open,
    check_move,
    decline_reason_from,
    instructions_from,
    message_from,
    new_request_from,
    photo_from,
    request_status_filter,
    return_window_ends,
)
from chalicelib.seller_rules import decode_cursor, encode_cursor, page_size, restock_from_request
from chalicelib.social import shares
from chalicelib.store import aftersales as stored
from chalicelib.store import cards, orders

log = logging.getLogger(__name__)

BUYER, SELLER = "buyer", "seller"


def request_json(request: AftersalesRequest, seller: bool = False) -> dict:
    """A request as the buyer sees it; the seller's view adds the card and short-lived photo links."""
    body = {
        "request_id": request.request_id, "order_id": request.order_id, "type": request.type,
        "status": request.status, "created_at": views.iso(request.created_at),
        "updated_at": views.iso(request.updated_at), "instructions": request.instructions,
        "reason": request.reason,
        "messages": [{"author": m.author, "text": m.text, "at": views.iso(m.at)} for m in request.messages],
        "photos": len(request.photos),
    }
    if seller:
        body.update(card_id=request.card_id, restock=request.restock,
                    photos=[{"photo_id": p.photo_id, "content_type": p.content_type, "size": p.size,
                             "url": photos.view_url(p.key)} for p in request.photos])
    return body


def _notify(order: Order, step: str, request: AftersalesRequest, detail: str = "") -> None:
    """The buyer's mail of this step, once; a failure never undoes the step (the sweeper retries)."""
    try:
        notices.notify(order, notices.request_kind(step, request.request_id, detail))
    except Exception:
        log.exception("the %s mail of request %s failed", step, request.request_id)


def _tell_seller(card: Card, order: Order, request: AftersalesRequest) -> None:
    """request.opened to the seller's webhooks, once per request; a failed post is retried by the sweeper."""
    try:
        shares.announce(card, {
            "type": shares.REQUEST_OPENED, "request_id": request.request_id, "order_id": order.order_id,
            "card_id": card.card_id, "request_type": request.type, "message": request.messages[0].text,
            "created_at": views.iso(request.created_at), "url": views.dashboard_url(),
        }, subject=request.request_id)
    except Exception:
        log.exception("request.opened for %s was not sent", request.request_id)


# --- the buyer ----------------------------------------------------------------------------------


def open_request(order_id: str, token: str | None, payload) -> dict:
    order, card = checkout.order_for_buyer(order_id, token)
    kind, message = new_request_from(payload)
    at = checkout.now()
    check_can_open(kind, order.status, card.shipping.required, order.fulfilled_at, order.created_at,
                   card.return_days, at)
    request = AftersalesRequest(
        request_id="req_" + uuid.uuid4().hex[:16], order_id=order.order_id, card_id=order.card_id,
        seller_id=order.seller_id or card.seller_id, type=kind, status=OPEN, created_at=at, updated_at=at,
        messages=[RequestMessage(BUYER, message, at)])
    stored.create(request)
    _tell_seller(card, order, request)
    _notify(order, "opened", request)
    return {"request_id": request.request_id, "status": request.status, "order_id": order.order_id}


def buyer_requests(order_id: str, token: str | None) -> dict:
    order, card = checkout.order_for_buyer(order_id, token)
    ends = return_window_ends(card.shipping.required, order.fulfilled_at, order.created_at, card.return_days)
    return {"return_days": card.return_days, "return_window_ends_at": views.iso(ends),
            "items": [request_json(r) for r in stored.of_order(order.order_id)]}


def _buyers_request(order_id: str, token: str | None, request_id: str) -> AftersalesRequest:
    order, _ = checkout.order_for_buyer(order_id, token)
    request = stored.get(request_id)
    if request is None or request.order_id != order.order_id:
        raise NotFound("This order has no request with this id.")
    return request


def buyer_message(order_id: str, token: str | None, request_id: str, payload) -> dict:
    request = _buyers_request(order_id, token, request_id)
    text = message_from(payload)
    stored.add_message(request, RequestMessage(BUYER, text, checkout.now()))
    return request_json(stored.require(request_id))


def photo_upload(order_id: str, token: str | None, request_id: str, payload) -> dict:
    """A presigned POST for one photo: S3 takes only this key, this content type and at most
    MAX_PHOTO_BYTES. The photo's slot is kept first, so a fourth is refused before any upload."""
    request = _buyers_request(order_id, token, request_id)
    content_type, size = photo_from(payload)
    if len(request.photos) >= MAX_PHOTOS:
        raise TooManyPhotos(f"A request takes at most {MAX_PHOTOS} photos.", "photos")
    photo_id = uuid.uuid4().hex[:12]
    key = f"requests/{request.request_id}/{photo_id}.{PHOTO_TYPES[content_type]}"
    stored.add_photo(request, RequestPhoto(photo_id, key, content_type, size, checkout.now()))
    return {"photo_id": photo_id, "max_bytes": MAX_PHOTO_BYTES, **photos.upload_form(key, content_type, MAX_PHOTO_BYTES)}


# --- the seller ---------------------------------------------------------------------------------


def _sellers_request(seller_id: str, request_id: str) -> AftersalesRequest:
    request = stored.get(request_id)
    if request is None or request.seller_id != seller_id:
        raise NotFound("No request of yours has this id.")
    return request


def seller_requests(seller_id: str, query: dict) -> dict:
    status = request_status_filter(query.get("status"))
    found, last = stored.of_seller(seller_id, status, page_size(query),
                                   decode_cursor(query.get("cursor"), "seller_id", seller_id))
    return {"items": [request_json(r, seller=True) for r in found], "next_cursor": encode_cursor(last)}


def seller_request(seller_id: str, request_id: str) -> dict:
    return request_json(_sellers_request(seller_id, request_id), seller=True)


def seller_message(seller_id: str, request_id: str, payload) -> dict:
    request = _sellers_request(seller_id, request_id)
    text = message_from(payload)
    stored.add_message(request, RequestMessage(SELLER, text, checkout.now()))
    _notify(orders.get(request.order_id), "reply", request, str(len(request.messages)))
    return request_json(stored.require(request_id), seller=True)


def _move(seller_id: str, request_id: str, action: str, parse, field: str | None) -> AftersalesRequest:
    """approve / decline / close: check the body, then the state move, then mail the buyer."""
    request = _sellers_request(seller_id, request_id)
    value = parse() if parse else None
    target = check_move(action, request.status)
    at = checkout.now()
    stored.move(request, target, (request.status,), at, **({field: value} if field else {}))
    _notify(orders.get(request.order_id), target, request)
    return stored.require(request_id)


def approve(seller_id: str, request_id: str, payload) -> dict:
    request = _move(seller_id, request_id, "approve", lambda: instructions_from(payload), "instructions")
    return request_json(request, seller=True)


def decline(seller_id: str, request_id: str, payload) -> dict:
    request = _move(seller_id, request_id, "decline", lambda: decline_reason_from(payload), "reason")
    return request_json(request, seller=True)


def close(seller_id: str, request_id: str, payload) -> dict:
    """Close a request (settled, or the conversation is over); a `text` goes in the thread."""
    request = _sellers_request(seller_id, request_id)
    note = message_from(payload) if payload else None
    target = check_move("close", request.status)
    at = checkout.now()
    stored.move(request, target, (request.status,), at, RequestMessage(SELLER, note, at) if note else None)
    _notify(orders.get(request.order_id), target, request)
    return request_json(stored.require(request_id), seller=True)


def refund(seller_id: str, request_id: str, payload) -> dict:
    """Refund the order through the seller's refund (Stripe, the order's idempotency key, the
    refunded mail once), then the request is refunded. An order refunded already (a retry after a
    failure between the two) only moves the request."""
    request = _sellers_request(seller_id, request_id)
    restock = restock_from_request(payload)
    check_move("refund", request.status)
    order = orders.get(request.order_id)
    if order.status == PAID:
        backoffice.refund(seller_id, order.order_id, {"restock": restock})
    elif order.status != REFUNDED:
        raise WrongRequestState(f"The order is {order.status}: it cannot be refunded.", "status")
    stored.move(request, REFUNDED, UNRESOLVED, checkout.now(), restock=restock)
    return request_json(stored.require(request_id), seller=True)
