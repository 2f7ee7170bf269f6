"""The orders and Stripe-events tables: every order transition, each one conditional transaction
over the order, its stock shards and buyer counts, the Stripe event id recorded in the same
transaction (so a redelivered event changes nothing). The allowed moves and where their units go
come from the domain's ORDER_TRANSITIONS. The only module that writes either table, but for the
sweeper's batched releases of expired holds (store/expiry.py), a pay call's claim on a held
order (store/pay_calls.py) and the buyer's shipping address (store/addresses.py)."""
from __future__ import annotations

import random
import time

from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError

from chalicelib import config, observability
from chalicelib.domain import (
    CANCELED,
    EXPIRED,
    HELD,
    PAID,
    REFUNDED,
    Card,
    Code,
    CodeUsedUp,
    LimitReached,
    NOT_RESTOCKED,
    NOT_RESTOCKED_REASON,
    Order,
    SoldOut,
    TooManyHolds,
    sold_out_message,
    transition,
)
from chalicelib.store import cards, codes, referrals, retention, stock
from chalicelib.store.order_models import OrderModel, StripeEventModel
from chalicelib.store.transactions import Refused, Transaction

ORDER, EVENT, BUYER, PAYER, CLIENT = "order", "event", "buyer", "payer:", "client"


class OrderExists(Exception):
    """The order id is taken: the same checkout was already made."""


class StaleOrder(Exception):
    """The order is no longer in the state the change expected; someone else moved it."""


class EventAlreadyApplied(Exception):
    """This Stripe event id was applied before."""


class PayerLimitReached(Exception):
    """The card or email that paid has already bought the card's limit."""


_FIELDS = (
    "order_id", "card_id", "buyer", "quantity", "amount", "currency", "status", "created_at",
    "expires_at", "seller_id", "payment_intent_id", "client_secret", "ref", "referral_code",
    "status_reason", "refund_id", "request_fingerprint", "counted", "payment_attempt",
    "display_name", "city", "reservation_id", "country", "carrier", "tracking_number", "client",
    "shipping_address", "code", "discount_kind", "review_key", "refund_restock", "dispute_reason", "group_id",
)


def _to_order(model: OrderModel) -> Order:
    values = {name: getattr(model, name) for name in _FIELDS}
    for name in ("quantity", "amount", "created_at", "expires_at", "payment_attempt"):
        values[name] = int(values[name])
    values["stock_take"] = {int(k): int(v) for k, v in model.stock_take.as_dict().items()}
    values["anonymous"] = bool(model.anonymous)
    values["payer_ids"] = tuple(model.payer_ids or ())
    values["fulfilled_at"] = None if model.fulfilled_at is None else int(model.fulfilled_at)
    values["paying_until"] = None if model.paying_until is None else int(model.paying_until)
    values["discount_amount"] = int(model.discount_amount or 0)
    values["amount_refunded"] = int(model.amount_refunded or 0)
    values["disputed_at"] = None if model.disputed_at is None else int(model.disputed_at)
    values["authorised_at"] = None if model.authorised_at is None else int(model.authorised_at)
    return Order(**values)


def _take_map(take: dict[int, int]) -> dict[str, int]:
    return {str(shard): units for shard, units in take.items()}


def _hold_shard() -> str:
    return f"h{random.randrange(config.HOLD_SHARDS)}"


# --- reading ----------------------------------------------------------------------------------


def get(order_id: str) -> Order | None:
    try:
        return _to_order(OrderModel.get(order_id, consistent_read=True))
    except DoesNotExist:
        return None


def of_card(card_id: str, status: str | None = None, since: int | None = None, until: int | None = None,
            limit: int | None = None, after: dict | None = None) -> tuple[list[Order], dict | None]:
    """A card's orders, newest first, filtered by status and creation time, and the key to
    continue after (None on the last page)."""
    if since is not None and until is not None:
        range_condition = OrderModel.created_at.between(since, until)
    elif since is not None:
        range_condition = OrderModel.created_at >= since
    elif until is not None:
        range_condition = OrderModel.created_at <= until
    else:
        range_condition = None
    pages = OrderModel.by_card.query(
        card_id, range_key_condition=range_condition, scan_index_forward=False, limit=limit,
        filter_condition=(OrderModel.status == status) if status else None, last_evaluated_key=after,
    )
    found = [_to_order(model) for model in pages]
    more = limit is not None and len(found) == limit
    return found, pages.last_evaluated_key if more else None


def has_orders(card_id: str) -> bool:
    return any(True for _ in OrderModel.by_card.query(card_id, limit=1))


def with_referral_code(code: str) -> Order | None:
    """The paid order whose referral code this is; None for a code no order has."""
    for item in OrderModel.by_referral_code.query(code, limit=1):
        return get(item.order_id)
    return None


def get_many(order_ids: list[str]) -> list[Order]:
    """The orders with these ids that exist, read fresh, a hundred to a request, in no order."""
    return [_to_order(model) for model in OrderModel.batch_get(order_ids, consistent_read=True)]


# --- a new hold -------------------------------------------------------------------------------


def hold(card: Card, order: Order, open_holds_cap: int = 0, attempts: int = 6, code: Code | None = None,
         also=None) -> Order:
    """Take the stock, count it against the buyer's limit (when the card has one) and against its
    client's open holds (when open_holds_cap and order.client are set), and create the held
    order, atomically. Without a limit no buyer count is kept: a transaction item costs 2 WCU.

    With code (the order's discount), it is redeemed in the same transaction (store/codes.py);
    also(tx) adds other items (a group's: store/groups.py), whose refusal comes back as Refused.

    Raises SoldOut, LimitReached, TooManyHolds, CodeUsedUp or OrderExists. A client this container saw
    refused in the last few seconds is refused again without a write. The units are chosen from, and at once reserved
    in, this container's memory of the shard levels. A shard that still refuses (another
    container emptied it) is set aside and another tried. A refusal for lack of stock always
    rests on levels read within the last second.
    """
    counted = card.limit_per_buyer is not None
    client = order.client if open_holds_cap else None
    if client and stock.client_refused_recently(card.card_id, client):
        raise _too_many_holds()
    for attempt in range(attempts):
        take = stock.reserve(card, order.quantity, fresh=attempt > 0)
        if take is None:
            raise SoldOut(sold_out_message(stock.level(card).available, order.quantity))
        tx = Transaction()
        tx.save(ORDER, OrderModel(
            order.order_id, card_id=card.card_id, seller_id=card.seller_id, buyer=order.buyer,
            quantity=order.quantity, amount=order.amount, currency=order.currency, status=HELD,
            created_at=order.created_at, updated_at=order.created_at, expires_at=order.expires_at,
            stock_take=_take_map(take), ref=order.ref, request_fingerprint=order.request_fingerprint,
            counted=counted, display_name=order.display_name, anonymous=order.anonymous or None,
            city=order.city, reservation_id=order.reservation_id, country=order.country,
            hold_shard=_hold_shard(), hold_expires_at=order.expires_at, client=client,
            code=order.code, discount_kind=order.discount_kind, discount_amount=order.discount_amount or None,
            shipping_address=order.shipping_address, group_id=order.group_id,
            **retention.marks(order, card),
        ), condition=OrderModel.order_id.does_not_exist())
        stock.move_units(tx, card.card_id, take, "available", "held")
        if counted:
            stock.count_units(tx, BUYER, card.card_id, order.buyer, order.quantity, card.limit_per_buyer)
        if client:
            stock.count_open_holds(tx, CLIENT, card.card_id, client, order.quantity, open_holds_cap)
        if code is not None:
            codes.redeem(tx, code, order.buyer)
        if also is not None:
            also(tx)
        try:
            tx.commit()
        except TransactWriteError:  # not a cancellation (throttled, unreachable): nothing was taken
            stock.unreserve(card.card_id, take, [])
            raise
        except Refused as refused:
            short = [shard for shard in take if refused.failed(stock.shard_label(shard))]
            stock.unreserve(card.card_id, take, short)
            if refused.failed(ORDER):
                raise OrderExists(order.order_id) from None
            if refused.failed(BUYER):
                raise LimitReached(f"You can buy at most {card.limit_per_buyer} of this item.") from None
            if refused.failed(CLIENT):
                stock.remember_client_refused(card.card_id, client)
                raise _too_many_holds() from None
            if code is not None and codes.refused(refused, code):
                raise CodeUsedUp("This code has been used up (or you used it as often as it allows).") from None
            if refused.conflicted:
                time.sleep(random.uniform(0, 0.02 * 2**attempt))
            elif not short:
                raise
            continue
        order.status, order.stock_take, order.counted, order.client = HELD, take, counted, client
        observability.count("holds")
        return order
    raise SoldOut("Sold out.")


def _too_many_holds() -> TooManyHolds:
    return TooManyHolds("Units you hold are waiting for payment: pay for them, or try again when they run out.",
                        retry_after=config.OPEN_HOLDS_REFUSAL_SECONDS)


# --- moves of an order ------------------------------------------------------------------------


def _move(order: Order, sources: tuple[str, ...], target: str, actions: list, event_id: str | None,
          take: dict[int, int] | None = None, event_type: str | None = None,
          units: tuple[str, str | None] | None = None) -> Transaction:
    """A transaction that moves the order from sources to target, its units as the domain's
    table says (or as units says), and records the Stripe event that caused it."""
    tx = Transaction()
    if event_id:
        tx.save(EVENT, StripeEventModel(event_id, type=event_type or target,
                                        expires_at=int(time.time()) + config.STRIPE_EVENT_TTL_SECONDS),
                condition=StripeEventModel.event_id.does_not_exist())
    tx.update(ORDER, OrderModel(order.order_id), condition=OrderModel.status.is_in(*sources),
              actions=[OrderModel.status.set(target), OrderModel.updated_at.set(int(time.time()))] + actions)
    allowed = transition(sources, target)  # raises for a move the table does not have
    units = units or allowed
    if units:
        stock.move_units(tx, order.card_id, order.stock_take if take is None else take, *units)
    return tx


def _commit(tx: Transaction, event_id: str | None) -> None:
    try:
        tx.commit()
    except Refused as refused:
        if refused.failed(EVENT):
            raise EventAlreadyApplied(event_id) from None
        if refused.failed(ORDER):
            raise StaleOrder() from None
        raise


def mark_paid(order: Order, payment_intent_id: str, referral_code: str, event_id: str | None = None,
              payer_ids: tuple[str, ...] = (), limit: int | None = None) -> None:
    """held → paid by that PaymentIntent: the held units become sold, and the card fingerprint
    and email that paid are kept (referrals compare them). With a limit they are counted too;
    past the limit it raises PayerLimitReached and changes nothing."""
    tx = _move(order, (HELD,), PAID, [
        OrderModel.payment_intent_id.set(payment_intent_id), OrderModel.referral_code.set(referral_code),
        OrderModel.hold_shard.remove(), OrderModel.hold_expires_at.remove(), OrderModel.paying_until.remove(),
        OrderModel.status_reason.remove(),  # a refused payment's note no longer applies
    ] + _payer_actions(payer_ids), event_id)
    _count_payers(tx, order, payer_ids, limit)
    _close_open_hold(tx, order)
    try:
        _commit(tx, event_id)
    except Refused as refused:
        if refused.failed_any(PAYER):
            raise PayerLimitReached(order.order_id) from None
        raise
    stock.forget(order.card_id)


def _payer_actions(payer_ids: tuple[str, ...]) -> list:
    return [OrderModel.payer_ids.set(list(payer_ids))] if payer_ids else []


def _count_payers(tx: Transaction, order: Order, payer_ids: tuple[str, ...], limit: int | None) -> None:
    """Only a card with a per-buyer limit counts its payers (refund_paid takes them off again)."""
    if limit:
        for payer in payer_ids:
            stock.count_units(tx, PAYER + payer, order.card_id, payer, order.quantity, limit)


def note_refused_payment(order: Order, reason: str, event_id: str | None = None) -> None:
    """A payment that did not pay the order went back: the order stays as it is, saying why.
    Raises StaleOrder when the order moved meanwhile."""
    tx = Transaction()
    if event_id:
        tx.save(EVENT, StripeEventModel(event_id, type=f"refunded_{reason}",
                                        expires_at=int(time.time()) + config.STRIPE_EVENT_TTL_SECONDS),
                condition=StripeEventModel.event_id.does_not_exist())
    tx.update(ORDER, OrderModel(order.order_id), condition=OrderModel.status == order.status,
              actions=[OrderModel.status_reason.set(reason), OrderModel.updated_at.set(int(time.time()))])
    _commit(tx, event_id)


def release(order: Order, to_status: str, reason: str, event_id: str | None = None,
            refund_id: str | None = None) -> None:
    """held → expired, canceled or refunded: the units go back on sale and off the buyer's count."""
    tx = _move(order, (HELD,), to_status, [
        OrderModel.status_reason.set(reason), OrderModel.hold_shard.remove(), OrderModel.hold_expires_at.remove(),
    ] + ([OrderModel.refund_id.set(refund_id)] if refund_id else []), event_id)
    if order.counted:
        stock.uncount_units(tx, BUYER, order.card_id, order.buyer, order.quantity)
    _close_open_hold(tx, order)
    codes.give_back_order(tx, order)
    _commit(tx, event_id)
    stock.forget(order.card_id)



def _close_open_hold(tx: Transaction, order: Order) -> None:
    """A hold paid or released no longer counts in its client's open holds. Both moves start
    from held only (the order's condition), so it is taken off exactly once."""
    if order.client:
        stock.uncount_open_holds(tx, CLIENT, order.card_id, order.client, order.quantity)


def retake_for_late_payment(order: Order, card: Card, payment_intent_id: str, referral_code: str,
                            event_id: str | None = None, payer_ids: tuple[str, ...] = ()) -> str | None:
    """expired/canceled → paid when the money arrived after the hold ended, if stock is left and
    the buyer (and the card and email that paid) stay within the limit. Returns None when paid,
    else why not (the caller refunds)."""
    take, _ = stock.plan_fresh(card, order.quantity)
    if take is None:
        return "sold_out_after_hold"
    tx = _move(order, (EXPIRED, CANCELED), PAID, [
        OrderModel.payment_intent_id.set(payment_intent_id), OrderModel.referral_code.set(referral_code),
        OrderModel.stock_take.set(_take_map(take)), OrderModel.status_reason.set("paid_after_hold_ended"),
    ] + _payer_actions(payer_ids), event_id, take=take, event_type="late_paid")
    if order.counted:
        stock.count_units(tx, BUYER, order.card_id, order.buyer, order.quantity, card.limit_per_buyer)
    _count_payers(tx, order, payer_ids, card.limit_per_buyer)
    if not codes.redeem_again(tx, order):  # its redemption went back with the hold
        return "code_used_up_after_hold"
    try:
        _commit(tx, event_id)
    except Refused as refused:
        # The buyer bought up to the limit meanwhile, or a shard ran dry since the read.
        over = refused.failed(BUYER) or refused.failed_any(PAYER)
        if refused.failed(codes.CODE_ITEM) or refused.failed(codes.CODE_BUYER):
            return "code_used_up_after_hold"
        return "limit_reached_after_hold" if over else "sold_out_after_hold"
    except TransactWriteError:
        return "sold_out_after_hold"
    stock.forget(order.card_id)
    return None


def mark_refunded(order: Order, refund_id: str, reason: str, event_id: str | None = None) -> None:
    """A payment that could not get goods: expired/canceled → refunded; stock already went back."""
    _commit(_move(order, (EXPIRED, CANCELED), REFUNDED, [
        OrderModel.refund_id.set(refund_id), OrderModel.status_reason.set(reason)], event_id), event_id)


def refund_paid(order: Order, refund_id: str, restock: bool, event_id: str | None = None,
                reason: str | None = None) -> None:
    """paid → refunded (by the seller, or in Stripe's dashboard: reason). Restocked units go back
    on sale; others leave the card's stock (damaged, kept by the buyer). Either way they leave the
    buyer's and the payer's counts, so the buyer may buy again, and the order's referral credit is
    taken back. The refund under way, if any, is done. StaleOrder: the order is no longer paid
    (or the event was applied); DynamoDB failing raises as it is (the money went back: retry)."""
    reason = reason or ("refunded_by_seller" if restock else NOT_RESTOCKED_REASON)
    tx = _move(order, (PAID,), REFUNDED, [
        OrderModel.refund_id.set(refund_id), OrderModel.status_reason.set(reason),
        OrderModel.amount_refunded.set(order.amount), OrderModel.refund_restock.remove(),
        OrderModel.hold_shard.remove(), OrderModel.hold_expires_at.remove()],
               event_id, units=None if restock else NOT_RESTOCKED, event_type="charge.refunded")
    if not restock:
        cards.remove_units(tx, order.card_id, order.quantity)
    referrals.uncredit(tx, order.card_id, order.order_id)
    if restock:
        codes.give_back_order(tx, order)
    if order.counted:  # a card with a limit: the buyer and the payers were counted
        stock.uncount_units(tx, BUYER, order.card_id, order.buyer, order.quantity)
        for payer in order.payer_ids:
            stock.uncount_units(tx, PAYER + payer, order.card_id, payer, order.quantity)
    _commit(tx, event_id)
    cards.forget(order.card_id)


# --- Stripe events ----------------------------------------------------------------------------


def record_event(event_id: str, event_type: str) -> None:
    """Remember an event that changed nothing, so its redelivery is skipped cheaply."""
    try:
        StripeEventModel(event_id, type=event_type,
                         expires_at=int(time.time()) + config.STRIPE_EVENT_TTL_SECONDS).save(
            condition=StripeEventModel.event_id.does_not_exist())
    except PutError:
        pass


def event_seen(event_id: str) -> bool:
    try:
        StripeEventModel.get(event_id, consistent_read=True)
        return True
    except DoesNotExist:
        return False
