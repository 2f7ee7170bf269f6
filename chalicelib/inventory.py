"""Cards, stock shards and orders in DynamoDB: every change of stock is one conditional transaction."""
from __future__ import annotations

import random
import time

from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib import config
from chalicelib.domain import (
    CANCELED,
    EXPIRED,
    HELD,
    PAID,
    REFUNDED,
    Card,
    LimitReached,
    NotFound,
    Order,
    SoldOut,
    StockLevel,
    plan_take,
)
from chalicelib.models import (
    BuyerLimitModel,
    CardModel,
    OrderModel,
    StockShardModel,
    StripeEventModel,
    connection,
)

CONDITION_FAILED = "ConditionalCheckFailed"
TRANSACTION_CONFLICT = "TransactionConflict"


class OrderExists(Exception):
    """The order id is taken: the same checkout was already made."""


class StaleOrder(Exception):
    """The order is no longer in the state the change expected; someone else moved it."""


class EventAlreadyApplied(Exception):
    """This Stripe event id was applied before."""


def tables_reachable() -> bool:
    try:
        return CardModel.exists() and OrderModel.exists()
    except Exception:  # any failure to reach DynamoDB means "not ready"
        return False


# --- cards ----------------------------------------------------------------------------------

_CARD_FIELDS = (
    "card_id", "seller_id", "title", "description", "image_url", "price_amount", "currency",
    "stock", "starts_at", "ends_at", "limit_per_buyer", "hold_seconds", "share_text",
    "shard_count", "created_at",
)


def _to_card(model: CardModel) -> Card:
    values = {name: getattr(model, name) for name in _CARD_FIELDS}
    for name in ("price_amount", "stock", "hold_seconds", "shard_count", "created_at"):
        values[name] = int(values[name])
    for name in ("starts_at", "ends_at", "limit_per_buyer"):
        values[name] = None if values[name] is None else int(values[name])
    return Card(**values)


def create_card(card: Card) -> None:
    """The card and its stock shards appear together or not at all."""
    per_shard, extra = divmod(card.stock, card.shard_count)
    with TransactWrite(connection=connection()) as tx:
        tx.save(CardModel(**{name: getattr(card, name) for name in _CARD_FIELDS}),
                condition=CardModel.card_id.does_not_exist())
        for shard in range(card.shard_count):
            units = per_shard + (1 if shard < extra else 0)
            tx.save(StockShardModel(card.card_id, shard, available=units, held=0, sold=0))


def get_card(card_id: str) -> Card:
    try:
        return _to_card(CardModel.get(card_id))
    except DoesNotExist:
        raise NotFound("No card has this id.") from None


def _shards(card_id: str, consistent: bool = False) -> list[StockShardModel]:
    return list(StockShardModel.query(card_id, consistent_read=consistent))


def stock_level(card_id: str) -> StockLevel:
    shards = _shards(card_id)
    return StockLevel(
        available=sum(int(s.available) for s in shards),
        held=sum(int(s.held) for s in shards),
        sold=sum(int(s.sold) for s in shards),
    )


# --- orders ---------------------------------------------------------------------------------

_ORDER_FIELDS = (
    "order_id", "card_id", "buyer", "quantity", "amount", "currency", "status", "created_at",
    "expires_at", "seller_id", "payment_intent_id", "client_secret", "ref", "referral_code",
    "status_reason",
)


def _to_order(model: OrderModel) -> Order:
    values = {name: getattr(model, name) for name in _ORDER_FIELDS}
    for name in ("quantity", "amount", "created_at", "expires_at"):
        values[name] = int(values[name])
    values["stock_take"] = {int(k): int(v) for k, v in model.stock_take.as_dict().items()}
    return Order(**values)


def get_order(order_id: str) -> Order | None:
    try:
        return _to_order(OrderModel.get(order_id, consistent_read=True))
    except DoesNotExist:
        return None


def _buyer_key(card_id: str, buyer: str) -> str:
    return f"{card_id}#{buyer}"


def _reasons(error: TransactWriteError) -> list[str | None]:
    return [reason.code if reason else None for reason in error.cancellation_reasons]


def hold(card: Card, order: Order, attempts: int = 5) -> Order:
    """Take the stock, count it against the buyer's limit and create the held order, atomically.

    Raises SoldOut, LimitReached or OrderExists. Shard levels are read first; a stale read or a
    conflicting transaction makes one more attempt with fresh levels.
    """
    for attempt in range(attempts):
        levels = {int(s.shard): int(s.available) for s in _shards(card.card_id, consistent=attempt > 0)}
        take = plan_take(levels, order.quantity, random.Random())
        if take is None:
            raise SoldOut("Sold out.")
        hold_shard = f"h{random.randrange(config.HOLD_SHARDS)}"
        model = OrderModel(
            order.order_id, card_id=card.card_id, seller_id=card.seller_id, buyer=order.buyer,
            quantity=order.quantity, amount=order.amount, currency=order.currency, status=HELD,
            created_at=order.created_at, updated_at=order.created_at, expires_at=order.expires_at,
            stock_take={str(k): v for k, v in take.items()}, ref=order.ref,
            hold_shard=hold_shard, hold_expires_at=order.expires_at,
        )
        try:
            with TransactWrite(connection=connection()) as tx:
                tx.save(model, condition=OrderModel.order_id.does_not_exist())
                for shard, units in take.items():
                    tx.update(
                        StockShardModel(card.card_id, shard),
                        actions=[StockShardModel.available.add(-units), StockShardModel.held.add(units)],
                        condition=StockShardModel.available >= units,
                    )
                limit_actions = [BuyerLimitModel.units.add(order.quantity)]
                if card.limit_per_buyer is None:
                    tx.update(BuyerLimitModel(_buyer_key(card.card_id, order.buyer)), actions=limit_actions)
                else:
                    headroom = card.limit_per_buyer - order.quantity
                    tx.update(
                        BuyerLimitModel(_buyer_key(card.card_id, order.buyer)),
                        actions=limit_actions,
                        condition=BuyerLimitModel.units.does_not_exist() | (BuyerLimitModel.units <= headroom),
                    )
        except TransactWriteError as error:
            reasons = _reasons(error)
            if reasons and reasons[0] == CONDITION_FAILED:
                raise OrderExists(order.order_id) from None
            if reasons and reasons[-1] == CONDITION_FAILED:
                raise LimitReached(f"You can buy at most {card.limit_per_buyer} of this item.") from None
            if not reasons or not any(r in (CONDITION_FAILED, TRANSACTION_CONFLICT) for r in reasons):
                raise
            time.sleep(random.uniform(0, 0.02 * 2**attempt))
            continue
        order.status = HELD
        order.stock_take = take
        return order
    raise SoldOut("Sold out.")


def attach_payment_intent(order_id: str, payment_intent_id: str, client_secret: str) -> None:
    OrderModel(order_id).update(
        actions=[OrderModel.payment_intent_id.set(payment_intent_id),
                 OrderModel.client_secret.set(client_secret)],
        condition=OrderModel.order_id.exists(),
    )


def _event_save(tx: TransactWrite, event_id: str | None, event_type: str) -> None:
    if event_id:
        tx.save(
            StripeEventModel(event_id, type=event_type,
                             expires_at=int(time.time()) + config.STRIPE_EVENT_TTL_SECONDS),
            condition=StripeEventModel.event_id.does_not_exist(),
        )


def _run_transition(tx_body, event_id: str | None) -> None:
    """Commit a transition whose puts are [event?] and whose first update is the order."""
    try:
        with TransactWrite(connection=connection()) as tx:
            tx_body(tx)
    except TransactWriteError as error:
        reasons = _reasons(error)
        if event_id and reasons and reasons[0] == CONDITION_FAILED:
            raise EventAlreadyApplied(event_id) from None
        order_reason = reasons[1 if event_id else 0] if reasons else None
        if order_reason == CONDITION_FAILED:
            raise StaleOrder() from None
        raise


def _order_update(tx: TransactWrite, order: Order, expected: tuple[str, ...], actions: list) -> None:
    condition = OrderModel.status.is_in(*expected)
    tx.update(OrderModel(order.order_id), actions=actions + [OrderModel.updated_at.set(int(time.time()))],
              condition=condition)


def mark_paid(order: Order, referral_code: str, event_id: str | None = None) -> None:
    """held → paid: the held units become sold."""
    def body(tx):
        _event_save(tx, event_id, "paid")
        _order_update(tx, order, (HELD,), [
            OrderModel.status.set(PAID), OrderModel.referral_code.set(referral_code),
            OrderModel.hold_shard.remove(), OrderModel.hold_expires_at.remove(),
        ])
        for shard, units in order.stock_take.items():
            tx.update(StockShardModel(order.card_id, shard),
                      actions=[StockShardModel.held.add(-units), StockShardModel.sold.add(units)])

    _run_transition(body, event_id)


def release(order: Order, to_status: str, reason: str, event_id: str | None = None) -> None:
    """held → expired or canceled: the units go back on sale and off the buyer's count."""
    def body(tx):
        _event_save(tx, event_id, to_status)
        _order_update(tx, order, (HELD,), [
            OrderModel.status.set(to_status), OrderModel.status_reason.set(reason),
            OrderModel.hold_shard.remove(), OrderModel.hold_expires_at.remove(),
        ])
        for shard, units in order.stock_take.items():
            tx.update(StockShardModel(order.card_id, shard),
                      actions=[StockShardModel.held.add(-units), StockShardModel.available.add(units)])
        tx.update(BuyerLimitModel(_buyer_key(order.card_id, order.buyer)),
                  actions=[BuyerLimitModel.units.add(-order.quantity)])

    _run_transition(body, event_id)


def retake_for_late_payment(order: Order, referral_code: str, event_id: str | None = None) -> bool:
    """expired/canceled → paid when the money arrived after the hold ended and stock is left.

    Returns False when no stock is left (the caller refunds)."""
    levels = {int(s.shard): int(s.available) for s in _shards(order.card_id, consistent=True)}
    take = plan_take(levels, order.quantity, random.Random())
    if take is None:
        return False

    def body(tx):
        _event_save(tx, event_id, "late_paid")
        _order_update(tx, order, (EXPIRED, CANCELED), [
            OrderModel.status.set(PAID), OrderModel.referral_code.set(referral_code),
            OrderModel.stock_take.set({str(k): v for k, v in take.items()}),
            OrderModel.status_reason.set("paid_after_hold_ended"),
        ])
        for shard, units in take.items():
            tx.update(StockShardModel(order.card_id, shard),
                      actions=[StockShardModel.available.add(-units), StockShardModel.sold.add(units)],
                      condition=StockShardModel.available >= units)
        tx.update(BuyerLimitModel(_buyer_key(order.card_id, order.buyer)),
                  actions=[BuyerLimitModel.units.add(order.quantity)])

    try:
        _run_transition(body, event_id)
    except TransactWriteError:
        return False  # a shard ran dry between the read and the write
    return True


def mark_refunded(order: Order, refund_id: str, reason: str, event_id: str | None = None) -> None:
    """A payment that could not get goods: expired/canceled → refunded; stock already went back."""
    def body(tx):
        _event_save(tx, event_id, REFUNDED)
        _order_update(tx, order, (EXPIRED, CANCELED), [
            OrderModel.status.set(REFUNDED), OrderModel.refund_id.set(refund_id),
            OrderModel.status_reason.set(reason),
        ])

    _run_transition(body, event_id)


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


def expired_hold_ids(now: int, limit: int = 100) -> list[str]:
    """Ids of held orders whose hold ended, from the sparse index, across its shards."""
    ids: list[str] = []
    for shard in range(config.HOLD_SHARDS):
        for item in OrderModel.held_by_expiry.query(
            f"h{shard}", OrderModel.hold_expires_at <= now, limit=limit
        ):
            ids.append(item.order_id)
    return ids
