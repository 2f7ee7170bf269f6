"""Cards, stock shards and orders in DynamoDB: every change of stock is one conditional transaction."""
from __future__ import annotations

import random
import time

from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib import config, observability
from chalicelib.recent import Recent
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
    sold_out_message,
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


class PayerLimitReached(Exception):
    """The card or email that paid has already bought the card's limit."""


# What this container remembers. It reads a card and its stock at most about once a second, so
# a sold-out storm costs DynamoDB almost nothing: the remembered levels say zero and the tap is
# answered without a request. Its own writes update the memory at once.
_cards = Recent(config.CARD_CACHE_SECONDS)
_levels = Recent(config.STOCK_CACHE_SECONDS)


def set_stock_cache_seconds(seconds: float) -> None:
    """Dev stage: the benchmark compares runs with and without the sold-out short-circuit."""
    global _levels
    config.STOCK_CACHE_SECONDS = seconds
    _levels = Recent(seconds)


def forget_stock(card_id: str) -> None:
    _levels.forget(card_id)


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
# The social loop's card settings; a card stored before them reads as the defaults.
_SOCIAL_FIELDS = ("locale", "shares_enabled", "reservation_mode", "reservers_minutes", "rebate_percent")
_SOCIAL_DEFAULTS = {"locale": "en", "shares_enabled": True}


def _to_card(model: CardModel) -> Card:
    values = {name: getattr(model, name) for name in _CARD_FIELDS}
    for name in ("price_amount", "stock", "hold_seconds", "shard_count", "created_at"):
        values[name] = int(values[name])
    for name in ("starts_at", "ends_at", "limit_per_buyer"):
        values[name] = None if values[name] is None else int(values[name])
    for name in _SOCIAL_FIELDS:
        value = getattr(model, name)
        values[name] = _SOCIAL_DEFAULTS.get(name) if value is None else value
    for name in ("reservers_minutes", "rebate_percent"):
        values[name] = None if values[name] is None else int(values[name])
    return Card(**values)


def create_card(card: Card) -> None:
    """The card and its stock shards appear together or not at all."""
    per_shard, extra = divmod(card.stock, card.shard_count)
    with TransactWrite(connection=connection()) as tx:
        tx.save(CardModel(**{name: getattr(card, name) for name in _CARD_FIELDS + _SOCIAL_FIELDS},
                          # the sweeper announces the sale's start (sale.opened) once it comes
                          opening_shard="open" if card.starts_at is not None else None),
                condition=CardModel.card_id.does_not_exist())
        for shard in range(card.shard_count):
            units = per_shard + (1 if shard < extra else 0)
            tx.save(StockShardModel(StockShardModel.key(card.card_id, shard), card_id=card.card_id, shard=shard,
                                    available=units, held=0, sold=0))


def get_card(card_id: str) -> Card:
    return _cards.get(card_id, lambda: _read_card(card_id))


def update_social_settings(card_id: str, values: dict) -> Card:
    """Change a card's social settings (chalicelib.social.rules.SETTINGS), then read it back fresh."""
    if values:
        actions = [getattr(CardModel, name).remove() if value is None else getattr(CardModel, name).set(value)
                   for name, value in values.items()]
        CardModel(card_id).update(actions=actions, condition=CardModel.card_id.exists())
    _cards.forget(card_id)
    return _read_card(card_id, consistent=True)


def _read_card(card_id: str, consistent: bool = False) -> Card:
    try:
        return _to_card(CardModel.get(card_id, consistent_read=consistent))
    except DoesNotExist:
        raise NotFound("No card has this id.") from None


def _fetch_shards(card_id: str, consistent: bool = False) -> dict[int, list[int]]:
    """{shard: [available, held, sold]}, fresh from the table."""
    keys = [StockShardModel.key(card_id, shard) for shard in range(get_card(card_id).shard_count)]
    return {int(s.shard): [int(s.available), int(s.held), int(s.sold)]
            for s in StockShardModel.batch_get(keys, consistent_read=consistent)}


def _copy(shards: dict[int, list[int]]) -> dict[int, list[int]]:
    return {shard: list(values) for shard, values in shards.items()}


def _read_shards(card_id: str, consistent: bool = False) -> dict[int, list[int]]:
    """Fresh levels, remembered; the caller gets its own copy."""
    shards = _fetch_shards(card_id, consistent)
    _levels.put(card_id, shards)
    return _copy(shards)


def _shard_levels(card_id: str) -> dict[int, list[int]]:
    return _copy(_levels.get(card_id, lambda: _fetch_shards(card_id)))


def stock_level(card_id: str) -> StockLevel:
    shards = _shard_levels(card_id).values()
    return StockLevel(
        available=sum(s[0] for s in shards),
        held=sum(s[1] for s in shards),
        sold=sum(s[2] for s in shards),
    )


# --- orders ---------------------------------------------------------------------------------

_ORDER_FIELDS = (
    "order_id", "card_id", "buyer", "quantity", "amount", "currency", "status", "created_at",
    "expires_at", "seller_id", "payment_intent_id", "client_secret", "ref", "referral_code",
    "status_reason", "refund_id", "request_fingerprint", "counted", "payment_attempt",
    "display_name", "city", "reservation_id",
)


def _to_order(model: OrderModel) -> Order:
    values = {name: getattr(model, name) for name in _ORDER_FIELDS}
    for name in ("quantity", "amount", "created_at", "expires_at", "payment_attempt"):
        values[name] = int(values[name])
    values["stock_take"] = {int(k): int(v) for k, v in model.stock_take.as_dict().items()}
    values["anonymous"] = bool(model.anonymous)
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


def hold(card: Card, order: Order, attempts: int = 6) -> Order:
    """Take the stock, count it against the buyer's limit (when the card has one) and create the
    held order, atomically. Without a limit no count is kept: a transaction item costs 2 WCU.

    Raises SoldOut, LimitReached or OrderExists. The units are chosen from, and at once reserved
    in, this container's memory of the shard levels, so its concurrent taps never race for the same
    last units. A shard that still refuses (another container emptied it) is set aside and another
    tried. A refusal for lack of stock always rests on levels read within the last second.
    """
    for attempt in range(attempts):
        take = _reserve(card.card_id, order.quantity, fresh=attempt > 0)
        if take is None:
            raise SoldOut(sold_out_message(stock_level(card.card_id).available, order.quantity))
        try:
            _commit_hold(card, order, take)
        except TransactWriteError as error:
            reasons = _reasons(error)
            short = [shard for shard, reason in zip(take, reasons[1:]) if reason == CONDITION_FAILED]
            _unreserve(card.card_id, take, short)
            if reasons and reasons[0] == CONDITION_FAILED:
                raise OrderExists(order.order_id) from None
            if card.limit_per_buyer is not None and reasons and reasons[-1] == CONDITION_FAILED:
                raise LimitReached(f"You can buy at most {card.limit_per_buyer} of this item.") from None
            if not any(r in (CONDITION_FAILED, TRANSACTION_CONFLICT) for r in reasons):
                raise
            if TRANSACTION_CONFLICT in reasons:
                time.sleep(random.uniform(0, 0.02 * 2**attempt))
            continue
        order.status = HELD
        order.stock_take = take
        order.counted = card.limit_per_buyer is not None
        observability.count("holds")
        return order
    raise SoldOut("Sold out.")


def _reserve(card_id: str, quantity: int, fresh: bool) -> dict[int, int] | None:
    """Choose the shards for the units and move them from available to held in memory.

    Memory that shows enough units is used whatever its age (the conditional write checks it);
    memory that shows too few is read again when it is older than a second, or when a take was
    just refused (fresh), before the answer is "sold out"."""
    if config.STOCK_CACHE_SECONDS <= 0:
        levels = {shard: values[0] for shard, values in _read_shards(card_id, consistent=fresh).items()}
        return plan_take(levels, quantity, random.Random())
    if _levels.age(card_id) == float("inf"):
        _shard_levels(card_id)
    chosen = _levels.change(card_id, lambda shards: _take_from(shards, quantity))
    if chosen is None and fresh:
        _read_shards(card_id, consistent=True)
    elif chosen is None and _levels.age(card_id) > config.STOCK_CACHE_SECONDS:
        _shard_levels(card_id)  # one tap reads; the others answer from memory meanwhile
    else:
        return chosen
    return _levels.change(card_id, lambda shards: _take_from(shards, quantity))


def _take_from(shards: dict[int, list[int]], quantity: int) -> dict[int, int] | None:
    take = plan_take({shard: values[0] for shard, values in shards.items()}, quantity, random.Random())
    for shard, units in (take or {}).items():
        shards[shard][0] -= units
        shards[shard][1] += units
    return take


def _unreserve(card_id: str, take: dict[int, int], short: list[int]) -> None:
    """Undo a reservation whose write failed; shards that refused have less than remembered:
    remember none until the next read."""
    def edit(shards):
        for shard, units in take.items():
            shards[shard][0] = 0 if shard in short else shards[shard][0] + units
            shards[shard][1] -= units
    _levels.change(card_id, edit)


def _commit_hold(card: Card, order: Order, take: dict[int, int]) -> None:
    model = OrderModel(
        order.order_id, card_id=card.card_id, seller_id=card.seller_id, buyer=order.buyer,
        quantity=order.quantity, amount=order.amount, currency=order.currency, status=HELD,
        created_at=order.created_at, updated_at=order.created_at, expires_at=order.expires_at,
        stock_take={str(k): v for k, v in take.items()}, ref=order.ref,
        request_fingerprint=order.request_fingerprint, counted=card.limit_per_buyer is not None,
        display_name=order.display_name, anonymous=order.anonymous or None, city=order.city,
        reservation_id=order.reservation_id,
        hold_shard=f"h{random.randrange(config.HOLD_SHARDS)}", hold_expires_at=order.expires_at,
    )
    with TransactWrite(connection=connection()) as tx:
        tx.save(model, condition=OrderModel.order_id.does_not_exist())
        _move_units(tx, card.card_id, take, "available", "held")
        if card.limit_per_buyer is not None:
            _count_units(tx, _buyer_key(card.card_id, order.buyer), order.quantity, card.limit_per_buyer)


def _move_units(tx: TransactWrite, card_id: str, take: dict[int, int], source: str, target: str) -> None:
    """Move units between a shard's counters; taking from 'available' is conditional on enough."""
    for shard, units in take.items():
        source_attr, target_attr = getattr(StockShardModel, source), getattr(StockShardModel, target)
        tx.update(StockShardModel(StockShardModel.key(card_id, shard)),
                  actions=[source_attr.add(-units), target_attr.add(units)],
                  condition=(source_attr >= units) if source == "available" else None)


def _count_units(tx: TransactWrite, key: str, quantity: int, limit: int | None) -> None:
    """Add units to a buyer's count; with a limit, only while the count stays within it."""
    actions = [BuyerLimitModel.units.add(quantity)]
    if limit is None:
        tx.update(BuyerLimitModel(key), actions=actions)
    else:
        tx.update(BuyerLimitModel(key), actions=actions,
                  condition=BuyerLimitModel.units.does_not_exist() | (BuyerLimitModel.units <= limit - quantity))


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


def mark_paid(order: Order, referral_code: str, event_id: str | None = None,
              payer_ids: tuple[str, ...] = (), limit: int | None = None) -> None:
    """held → paid: the held units become sold. With a limit, the card fingerprint and email
    that paid are counted too; past the limit it raises PayerLimitReached and changes nothing."""
    def body(tx):
        _event_save(tx, event_id, "paid")
        _order_update(tx, order, (HELD,), [
            OrderModel.status.set(PAID), OrderModel.referral_code.set(referral_code),
            OrderModel.hold_shard.remove(), OrderModel.hold_expires_at.remove(),
        ])
        _move_units(tx, order.card_id, order.stock_take, "held", "sold")
        for payer in payer_ids:
            _count_units(tx, _buyer_key(order.card_id, payer), order.quantity, limit)

    try:
        _run_transition(body, event_id)
    except TransactWriteError as error:
        if payer_ids and CONDITION_FAILED in _reasons(error)[-len(payer_ids):]:
            raise PayerLimitReached(order.order_id) from None
        raise
    forget_stock(order.card_id)


def release(order: Order, to_status: str, reason: str, event_id: str | None = None,
            refund_id: str | None = None) -> None:
    """held → expired, canceled or refunded: the units go back on sale and off the buyer's count."""
    def body(tx):
        _event_save(tx, event_id, to_status)
        actions = [
            OrderModel.status.set(to_status), OrderModel.status_reason.set(reason),
            OrderModel.hold_shard.remove(), OrderModel.hold_expires_at.remove(),
        ]
        if refund_id:
            actions.append(OrderModel.refund_id.set(refund_id))
        _order_update(tx, order, (HELD,), actions)
        _move_units(tx, order.card_id, order.stock_take, "held", "available")
        if order.counted:
            tx.update(BuyerLimitModel(_buyer_key(order.card_id, order.buyer)),
                      actions=[BuyerLimitModel.units.add(-order.quantity)])

    _run_transition(body, event_id)
    forget_stock(order.card_id)


def retake_for_late_payment(order: Order, referral_code: str, event_id: str | None = None,
                            limit: int | None = None) -> str | None:
    """expired/canceled → paid when the money arrived after the hold ended, if stock is left and
    the buyer stays within the limit. Returns None when paid, else why not (the caller refunds)."""
    levels = {shard: values[0] for shard, values in _read_shards(order.card_id, consistent=True).items()}
    take = plan_take(levels, order.quantity, random.Random())
    if take is None:
        return "sold_out_after_hold"

    def body(tx):
        _event_save(tx, event_id, "late_paid")
        _order_update(tx, order, (EXPIRED, CANCELED), [
            OrderModel.status.set(PAID), OrderModel.referral_code.set(referral_code),
            OrderModel.stock_take.set({str(k): v for k, v in take.items()}),
            OrderModel.status_reason.set("paid_after_hold_ended"),
        ])
        _move_units(tx, order.card_id, take, "available", "sold")
        if order.counted:
            _count_units(tx, _buyer_key(order.card_id, order.buyer), order.quantity, limit)

    try:
        _run_transition(body, event_id)
    except TransactWriteError as error:
        # The buyer bought up to the limit meanwhile, or a shard ran dry since the read.
        return "limit_reached_after_hold" if order.counted and _reasons(error)[-1] == CONDITION_FAILED \
            else "sold_out_after_hold"
    forget_stock(order.card_id)
    return None


def rehold(card: Card, order: Order) -> None:
    """canceled (Stripe was down) → held again, taking stock as a new hold would: the retry of a
    tap whose first attempt could not open a payment. Raises SoldOut or LimitReached."""
    levels = {shard: values[0] for shard, values in _read_shards(card.card_id, consistent=True).items()}
    take = plan_take(levels, order.quantity, random.Random())
    if take is None:
        raise SoldOut(sold_out_message(sum(levels.values()), order.quantity))
    counted = card.limit_per_buyer is not None

    def body(tx):
        _order_update(tx, order, (CANCELED,), [
            OrderModel.status.set(HELD), OrderModel.status_reason.remove(),
            OrderModel.stock_take.set({str(k): v for k, v in take.items()}),
            OrderModel.expires_at.set(order.expires_at), OrderModel.counted.set(counted),
            OrderModel.payment_attempt.add(1),
            OrderModel.hold_shard.set(f"h{random.randrange(config.HOLD_SHARDS)}"),
            OrderModel.hold_expires_at.set(order.expires_at),
        ])
        _move_units(tx, card.card_id, take, "available", "held")
        if counted:
            _count_units(tx, _buyer_key(card.card_id, order.buyer), order.quantity, card.limit_per_buyer)

    try:
        _run_transition(body, None)
    except TransactWriteError as error:
        if counted and _reasons(error)[-1] == CONDITION_FAILED:
            raise LimitReached(f"You can buy at most {card.limit_per_buyer} of this item.") from None
        raise SoldOut("Sold out.") from None
    forget_stock(card.card_id)
    order.status, order.status_reason, order.stock_take = HELD, None, take
    order.counted, order.payment_attempt = counted, order.payment_attempt + 1


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


def audit_snapshot(card_id: str) -> dict:
    """Everything the audit compares, read fresh (not from the caches)."""
    card = _read_card(card_id, consistent=True)
    orders = [_to_order(model) for model in OrderModel.by_card.query(card_id)]
    buyer_units = {}
    for buyer in {order.buyer for order in orders if order.counted}:
        try:
            buyer_units[buyer] = int(BuyerLimitModel.get(_buyer_key(card_id, buyer), consistent_read=True).units)
        except DoesNotExist:
            buyer_units[buyer] = 0
    return {
        "stock": card.stock,
        "shards": _read_shards(card_id, consistent=True),
        "orders": orders,
        "buyer_units": buyer_units,
        "limit": card.limit_per_buyer,
    }
