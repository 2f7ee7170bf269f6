"""Group buying (拼团) use cases: start a group, join one (checkout with `group_id`), read it; a
member's authorised payment; the groups stream that captures a complete group and shares who
joined; the sweeper that fails a group whose window closed (every authorisation cancelled, every
unit back on sale). Rules in domain/groups.py, the table in store/groups.py.

A group order is held until its group closes (not for the card's hold time) and paid with a
PaymentIntent of capture_method=manual: money is only set aside while the group is open, taken
when it is complete, and never taken from a group that failed."""
from __future__ import annotations

import logging
import time

from chalicelib import config, counters, observability, payment_events, payments, secrets, shipping, views
from chalicelib.domain import (
    COMPLETE, FAILED, GROUP_CAPTURE_FAILED, GROUP_FAILED, HELD, OPEN, REFUNDED, AlreadyInGroup,
    Group, GroupBuyingOff, GroupClosed, IdempotencyMismatch, InvalidRequest, NotFound, Order, PaymentsUnavailable,
    address_of_tap, check_can_buy, check_joinable, checkout_request_from, group_id_for, open_holds_cap,
    order_id_for, order_token, price_order, pseudonym, pays_for, referral_code_for, render_share_text, shipping_fee,
)
from chalicelib.social import reservations, rules, shares
from chalicelib.store import cards, groups, orders
from chalicelib.store.transactions import Refused
from chalicelib.words import words_for

log = logging.getLogger(__name__)

GROUP_JOINED, GROUP_COMPLETED = "group.joined", "group.completed"
_GROUP_ID_CHARS = set("abcdefghijklmnopqrstuvwxyz234567_")


def now() -> int:
    return int(time.time())


# --- start, join, read ------------------------------------------------------------------------


def start(card_id: str, payload, idempotency_key: str | None, city: str | None = None,
          place: str | None = None, client: str | None = None) -> dict:
    """POST /cards/{card_id}/groups: a new group at the card's group price, its starter's units
    held in the same transaction, until the group's window closes."""
    if isinstance(payload, dict) and "group_id" in payload:
        raise InvalidRequest("'group_id' is for joining a group: send it to /cards/{card_id}/checkout.", "group_id")
    return _tap(card_id, payload, idempotency_key, None, city, place, client)


def join(card_id: str, payload, idempotency_key: str | None, city: str | None = None,
         place: str | None = None, client: str | None = None) -> dict:
    """Checkout with `group_id`: the member's units and their place in the group in one
    transaction, only while the group is open and has room."""
    group_id = payload.get("group_id")
    if not isinstance(group_id, str) or not 5 <= len(group_id) <= 64 or not set(group_id) <= _GROUP_ID_CHARS:
        raise InvalidRequest("'group_id' must be the id of a group of this card (grp_...).", "group_id")
    return _tap(card_id, payload, idempotency_key, group_id, city, place, client)


def view(card_id: str, group_id: str) -> dict:
    """GET /cards/{card_id}/groups/{group_id}: the group, without its buyers."""
    group = groups.get(group_id) if set(group_id) <= _GROUP_ID_CHARS and len(group_id) <= 64 else None
    if group is None or group.card_id != card_id:
        raise NotFound("This card has no group with this id.")
    return views.group_json(group, now())


def _tap(card_id: str, payload, idempotency_key: str | None, group_id: str | None, city: str | None,
         place: str | None, client: str | None) -> dict:
    card = cards.get_for_buyer(card_id)
    request, key = checkout_request_from(payload, idempotency_key)
    if card.group is None:
        raise GroupBuyingOff("This item has no group price.")
    if "code" in payload:
        raise InvalidRequest("A discount code does not apply to the group price.", "code")
    fingerprint = f"{request.fingerprint}|group:{group_id or 'new'}"
    order_id = order_id_for(card_id, request.buyer, key)
    replayed = orders.get(order_id)
    if replayed is not None:  # the same tap again: its order and group, whatever happened since
        return _replay(replayed, fingerprint)
    at = now()
    check_can_buy(card, at, request.quantity)
    address = address_of_tap(payload, card.shipping)
    reservation_id = reservations.reservation_of(card_id, request.buyer, request.reservation_token)
    rules.check_reservation(card, at, reserved=reservation_id is not None)
    if group_id is None:
        group = Group(group_id_for(order_id), card_id, card.group.size, 1, 0, card.group.price_amount, card.currency,
                      at + card.group.window_minutes * 60, OPEN, order_id, at,
                      starter_name=None if request.anonymous else request.display_name)
        also = groups.starting(group, request.buyer)
    else:
        group = check_joinable(groups.get(group_id), card_id, at)
        also = groups.joining(group, request.buyer, order_id, at)
    priced = price_order(group.price_amount, request.quantity, card.currency, None, fee=shipping_fee(card.shipping))
    order = Order(
        order_id=order_id, card_id=card_id, seller_id=card.seller_id, buyer=request.buyer,
        quantity=request.quantity, amount=priced.amount, currency=card.currency, status=HELD, created_at=at,
        expires_at=group.closes_at, ref=request.ref, request_fingerprint=fingerprint,
        display_name=request.display_name, anonymous=request.anonymous, city=rules.viewer_city(city),
        reservation_id=reservation_id, country=place, group_id=group.group_id,
        client=pseudonym(secrets.get("ORDER_TOKEN_SECRET"), client) if client else None,
        shipping_address=shipping.seal(address),
    )
    observability.order_context(order_id)
    counters.count(card_id, counters.TAPS)
    try:
        orders.hold(card, order, open_holds_cap(card.limit_per_buyer, config.OPEN_HOLDS_PER_LIMIT,
                                                config.OPEN_HOLDS_WITHOUT_LIMIT), also=also)
    except orders.OrderExists:
        return _replay(orders.get(order_id), fingerprint)
    except Refused as refused:
        if refused.failed(groups.MEMBER):
            raise AlreadyInGroup("You are in this group already: share it so friends join.") from None
        if refused.failed(groups.GROUP):
            check_joinable(groups.get(group.group_id), card_id, now())
            raise GroupClosed("This group has closed; start a new one.") from None
        raise
    counters.count(card_id, counters.HOLDS)
    if group_id is None:
        counters.count(card_id, counters.GROUPS_STARTED)
    return _answer(order, groups.get(group.group_id) or group)


def _replay(order: Order, fingerprint: str) -> dict:
    if order.request_fingerprint != fingerprint:
        raise IdempotencyMismatch("This Idempotency-Key was already used for a different request.")
    return _answer(order, groups.get(order.group_id))


def _answer(order: Order, group: Group) -> dict:
    token = order_token(secrets.get("ORDER_TOKEN_SECRET"), order.order_id)
    return {**views.order_json(order), "client_secret": order.client_secret, "order_token": token,
            "order_url": views.order_page_url(order.order_id, token), "group_id": group.group_id,
            "group": views.group_json(group, now())}


# --- authorisations ---------------------------------------------------------------------------


def authorised_by_pay_call(order: Order, result: payments.PayResult) -> payments.PayResult:
    """The pay call's payment was authorised: counted on the group (the last one completes it),
    or cancelled at once when the group closed meanwhile (nothing is charged)."""
    outcome = _authorise(order, result.payment_intent_id, result.received, result.payer_ids, None)
    if outcome == "authorised":
        return result
    return payments.PayResult(payments.FAILED, result.payment_intent_id,
                              reason="The group closed before this payment; nothing was charged.")


def apply_authorised_event(event: payments.PaymentEvent) -> str:
    """Stripe's payment_intent.amount_capturable_updated: a group payment authorised after its
    pay call (3-D Secure). Each event is applied once."""
    observability.order_context(event.order_id)
    if orders.event_seen(event.event_id):
        return "duplicate"
    order = orders.get(event.order_id) if event.order_id else None
    if order is None or not order.group_id:
        orders.record_event(event.event_id, event.type)
        return "not_ours"
    received = payments.Received(event.payment_intent_id, event.amount_capturable, event.currency)
    outcome = _authorise(order, event.payment_intent_id, received, payments.payer_identities(event.payment_method_id),
                         event.event_id)
    if outcome == CANCELED:  # for good (the group closed, the order moved): a redelivery is a duplicate
        orders.record_event(event.event_id, event.type)
    return outcome


def _authorise(order: Order, payment_intent_id: str, received: payments.Received | None,
               payer_ids: tuple[str, ...], event_id: str | None) -> str:
    """authorised (counted now or before), duplicate (event seen), or canceled (the group closed,
    the order moved, or the amount is not the order's: the authorisation is cancelled)."""
    if received is None or not pays_for(order, received.amount, received.currency):
        return _cancel(payment_intent_id, "amount_mismatch")
    for _ in range(8):
        group = groups.get(order.group_id)
        try:
            complete = groups.authorise(order, group, payment_intent_id, payer_ids, now(), event_id)
        except groups.NotAuthorised as refusal:
            if refusal.reason == groups.EVENT:
                return "duplicate"
            fresh = orders.get(order.order_id)
            if refusal.reason == groups.ORDER and fresh.authorised_at and fresh.payment_intent_id == payment_intent_id:
                return "authorised"
            return _cancel(payment_intent_id, f"not_authorised_{refusal.reason}")
        except Refused:
            continue  # another member authorised at the same moment: read the count again
        if complete:
            counters.count(order.card_id, counters.GROUPS_COMPLETED)
        return "authorised"
    raise RuntimeError(f"group {order.group_id} kept changing while authorising {order.order_id}")


CANCELED, CANCEL_LATER = "canceled", "cancel_later"


def _cancel(payment_intent_id: str, why: str) -> str:
    """canceled, or cancel_later when Stripe cannot be reached now (a redelivered event tries again)."""
    log.info("cancelling authorisation %s: %s", payment_intent_id, why)
    try:
        payments.cancel_payment_intent(payment_intent_id)
    except PaymentsUnavailable:  # PaymentsBusy included: the group's sweep cancels what is left
        log.warning("could not cancel %s now", payment_intent_id)
        return CANCEL_LATER
    return CANCELED


# --- the group stream: capture, shares --------------------------------------------------------


def handle_change(record: dict) -> None:
    """A record of the groups table: a group that became complete is captured, then shared once;
    a member that authorised posts "join my group" once."""
    change = record.get("dynamodb") or {}
    keys = change.get("Keys") or {}
    group_id, item = keys["group_id"]["S"], keys["item"]["S"]
    new, old = change.get("NewImage") or {}, change.get("OldImage") or {}
    if item == groups.GROUP_ITEM:
        if _text(new, "state") == COMPLETE and _text(old, "state") != COMPLETE:
            capture_complete(group_id)
            _share(group_id, None)
    elif "authorised_at" in new and "authorised_at" not in old:
        _share(group_id, new["order_id"]["S"])


def _text(image: dict, name: str) -> str | None:
    return (image.get(name) or {}).get("S")


def capture_complete(group_id: str) -> bool:
    """Take every member's money at the group price, each order once (a capture is idempotent at
    Stripe, the paid move conditional on held). A member whose capture fails drops out: its
    order is canceled, its units go back, the others are still captured. True when settled."""
    group = groups.get(group_id)
    if group is None or group.state != COMPLETE:
        return False
    left = 0
    for order in orders.get_many(groups.member_order_ids(group_id)):
        if order.status != HELD:
            continue  # paid already (a redelivered record), or dropped out
        try:
            received = payments.capture(order.payment_intent_id)
        except PaymentsUnavailable:
            left += 1  # busy or down: the sweeper captures it on a later run
            continue
        try:
            if received is None or not pays_for(order, received.amount, received.currency):
                _drop_out(order, received)
            else:
                payment_events.settle_paid(order, order.payment_intent_id, order.payer_ids)
        except orders.StaleOrder:
            pass  # its webhook (payment_intent.succeeded) settled it first
    if not left:
        groups.mark_settled(group_id)
    return not left


def _drop_out(order: Order, received: payments.Received | None) -> None:
    if received is not None:  # taken, but not the order's amount: it goes back
        refund_id = payments.refund(received.payment_intent_id, order.order_id, payments.CONFIRM)
        orders.release(order, REFUNDED, GROUP_CAPTURE_FAILED, refund_id=refund_id)
        return
    _cancel(order.payment_intent_id, "capture failed")
    orders.release(order, CANCELED, GROUP_CAPTURE_FAILED)


def _share(group_id: str, order_id: str | None) -> None:
    """'Ada is buying X at the group price: 1 more needed. Join: <link>' for a member who
    authorised; 'The group for X is complete' once for the group. Each (subject, channel) once."""
    group = groups.get(group_id)
    card = cards.get(group.card_id)
    words = words_for(card.locale)["share"]
    order = orders.get(order_id or group.starter_order_id)
    buyer = rules.buyer_words(card.locale, order.display_name, order.anonymous, order.city)
    price = views.format_money(group.price_amount, group.currency, card.locale)
    link = views.group_url(card.card_id, group_id, referral_code_for(order.order_id))  # credits once it is paid
    template = words["group_joined"] if order_id else words["group_complete"]
    text = render_share_text(template, buyer=buyer, title=card.title, price=price,
                             left=max(0, group.size - group.authorised), link=link)
    subject = f"group:{group_id}:{order_id or 'complete'}"
    data = {"card_id": card.card_id, "group_id": group_id, "text": text, "link": link}
    shares.post_group_share(card, subject, GROUP_JOINED if order_id else GROUP_COMPLETED, text, link, data)


# --- the sweeper ------------------------------------------------------------------------------


def sweep(at: int | None = None, deadline: float | None = None) -> int:
    """Groups whose window closed: an open one fails (authorisations cancelled, units back); a
    complete one not yet captured (its stream record lost) is captured. Returns groups settled."""
    at = now() if at is None else at
    settled = 0
    for group_id in groups.due(at):
        try:
            settled += close(group_id, at)
        except Exception:  # one broken group must not stop the sweep
            log.exception("closing group %s", group_id)
        if deadline is not None and time.monotonic() >= deadline:
            break
    return settled


def close(group_id: str, at: int) -> int:
    group = groups.get(group_id)
    if group is None or group.settled or group.closes_at > at:
        return 0
    if group.state == OPEN and groups.fail(group_id, at):
        counters.count(group.card_id, counters.GROUPS_FAILED)
        group.state = FAILED
    if group.state == COMPLETE:
        return int(capture_complete(group_id))
    group = groups.get(group_id)
    if group.state != FAILED:
        return 0
    left = 0
    for order in orders.get_many(groups.member_order_ids(group_id)):
        if order.status == HELD and not _give_back(order, at):
            left += 1
    if not left:
        groups.mark_settled(group_id)
    return int(not left)


def _give_back(order: Order, at: int) -> bool:
    """A member of a failed group: its authorisation (or a payment still waiting on the buyer) is
    cancelled, then its units go back: canceled, `group_failed`, nothing charged. False: later."""
    if (order.paying_until or 0) > at:
        return False  # a pay call is with Stripe: its answer, then the next run
    try:
        status = payments.cancel_payment_intent(order.payment_intent_id) if order.payment_intent_id else "canceled"
    except PaymentsUnavailable:
        return False
    try:
        if status == "succeeded":  # cannot be by design (no capture before complete): money back
            refund_id = payments.refund(order.payment_intent_id, order.order_id, payments.CONFIRM)
            orders.release(order, REFUNDED, GROUP_FAILED, refund_id=refund_id)
        else:
            orders.release(order, CANCELED, GROUP_FAILED)
    except orders.StaleOrder:
        pass
    return True
