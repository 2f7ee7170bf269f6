"""The stock and buyer-limits tables: a card's units split over shards (available, held, sold),
this container's memory of their levels, the plans that choose which shards give units, and the
per-buyer counts. The only module that writes either table; other store modules add its items to
their transactions.

The memory is what makes a sold-out storm cheap: levels read at most about once a second, so a
tap on a card remembered as sold out is answered without a DynamoDB request. This container's own
writes update the memory at once.
"""
from __future__ import annotations

import random

from pynamodb.exceptions import DoesNotExist

from chalicelib import config
from chalicelib.domain.cards import Card, StockLevel, plan_take
from chalicelib.recent import Recent
from chalicelib.store.models import BuyerLimitModel, StockShardModel
from chalicelib.store.transactions import Transaction

Levels = dict[int, list[int]]  # {shard: [available, held, sold]}

_levels = Recent(config.STOCK_CACHE_SECONDS)


def set_cache_seconds(seconds: float) -> None:
    """Dev stage: the benchmark compares runs with and without the sold-out short-circuit."""
    global _levels
    config.STOCK_CACHE_SECONDS = seconds
    _levels = Recent(seconds)


def forget(card_id: str) -> None:
    _levels.forget(card_id)


# --- reading ----------------------------------------------------------------------------------


def _fetch(card: Card, consistent: bool = False) -> Levels:
    keys = [StockShardModel.key(card.card_id, shard) for shard in range(card.shard_count)]
    return {int(s.shard): [int(s.available), int(s.held), int(s.sold)]
            for s in StockShardModel.batch_get(keys, consistent_read=consistent)}


def _copy(levels: Levels) -> Levels:
    return {shard: list(values) for shard, values in levels.items()}


def read_fresh(card: Card) -> Levels:
    """Levels read consistently now, and remembered; the caller gets its own copy."""
    levels = _fetch(card, consistent=True)
    _levels.put(card.card_id, levels)
    return _copy(levels)


def _remembered(card: Card) -> Levels:
    return _copy(_levels.get(card.card_id, lambda: _fetch(card)))


def level(card: Card) -> StockLevel:
    """What the card has, as this container remembers it (at most about a second old)."""
    shards = _remembered(card).values()
    return StockLevel(available=sum(s[0] for s in shards), held=sum(s[1] for s in shards),
                      sold=sum(s[2] for s in shards))


def plan_fresh(card: Card, quantity: int) -> tuple[dict[int, int] | None, int]:
    """(the shards to take quantity from, per fresh levels, or None; the units available)."""
    available = {shard: values[0] for shard, values in read_fresh(card).items()}
    return plan_take(available, quantity, random.Random()), sum(available.values())


def plan_spread(card: Card, change: int) -> dict[int, int] | None:
    """Units to add to each shard (negative: to remove) for a stock edit: added evenly, removed
    from the fullest shards first. None when fewer units are available than the edit removes."""
    if change == 0:
        return {}
    if change > 0:
        per_shard, extra = divmod(change, card.shard_count)
        spread = {shard: per_shard + (1 if shard < extra else 0) for shard in range(card.shard_count)}
        return {shard: units for shard, units in spread.items() if units}
    removed, remaining = {}, -change
    for shard, (available, _, _) in sorted(read_fresh(card).items(), key=lambda item: -item[1][0]):
        if remaining and available:
            removed[shard] = -min(available, remaining)
            remaining += removed[shard]
    return None if remaining else removed


# --- this container's reservations in memory -------------------------------------------------


def reserve(card: Card, quantity: int, fresh: bool) -> dict[int, int] | None:
    """Choose the shards for the units and move them from available to held in memory, so this
    container's concurrent taps never race for the same last units.

    Memory that shows enough units is used whatever its age (the conditional write checks it);
    memory that shows too few is read again when it is older than a second, or when a take was
    just refused (fresh), before the answer is "sold out"."""
    if config.STOCK_CACHE_SECONDS <= 0:
        available = {shard: values[0] for shard, values in _fetch(card, consistent=fresh).items()}
        return plan_take(available, quantity, random.Random())
    if _levels.age(card.card_id) == float("inf"):
        _remembered(card)
    chosen = _levels.change(card.card_id, lambda shards: _take_from(shards, quantity))
    if chosen is None and fresh:
        read_fresh(card)
    elif chosen is None and _levels.age(card.card_id) > config.STOCK_CACHE_SECONDS:
        _remembered(card)  # one tap reads; the others answer from memory meanwhile
    else:
        return chosen
    return _levels.change(card.card_id, lambda shards: _take_from(shards, quantity))


def _take_from(shards: Levels, quantity: int) -> dict[int, int] | None:
    take = plan_take({shard: values[0] for shard, values in shards.items()}, quantity, random.Random())
    for shard, units in (take or {}).items():
        shards[shard][0] -= units
        shards[shard][1] += units
    return take


def unreserve(card_id: str, take: dict[int, int], short: list[int]) -> None:
    """Undo a reservation whose write failed; shards that refused have less than remembered:
    remember none there until the next read."""
    def edit(shards):
        for shard, units in take.items():
            shards[shard][0] = 0 if shard in short else shards[shard][0] + units
            shards[shard][1] -= units
    _levels.change(card_id, edit)


# --- transaction items ------------------------------------------------------------------------


def shard_label(shard: int) -> str:
    return f"shard:{shard}"


def add_shards(tx: Transaction, card: Card) -> None:
    """A new card's shards, its stock spread evenly."""
    per_shard, extra = divmod(card.stock, card.shard_count)
    for shard in range(card.shard_count):
        tx.save(shard_label(shard), StockShardModel(
            StockShardModel.key(card.card_id, shard), card_id=card.card_id, shard=shard,
            available=per_shard + (1 if shard < extra else 0), held=0, sold=0))


def move_units(tx: Transaction, card_id: str, take: dict[int, int], source: str, target: str | None) -> None:
    """Move units between a shard's counters (target None: out of the stock altogether); taking
    from 'available' is conditional on enough being there."""
    for shard, units in take.items():
        source_attr = getattr(StockShardModel, source)
        actions = [source_attr.add(-units)] + ([getattr(StockShardModel, target).add(units)] if target else [])
        tx.update(shard_label(shard), StockShardModel(StockShardModel.key(card_id, shard)), actions=actions,
                  condition=(source_attr >= units) if source == "available" else None)


def change_available(tx: Transaction, card_id: str, units_by_shard: dict[int, int]) -> None:
    """A stock edit: units added to or (negative) removed from what is available, never below zero."""
    for shard, units in units_by_shard.items():
        tx.update(shard_label(shard), StockShardModel(StockShardModel.key(card_id, shard)),
                  actions=[StockShardModel.available.add(units)],
                  condition=(StockShardModel.available >= -units) if units < 0 else None)


def _buyer_key(card_id: str, who: str) -> str:
    return f"{card_id}#{who}"


def count_units(tx: Transaction, label: str, card_id: str, who: str, quantity: int, limit: int | None) -> None:
    """Add units to a buyer's (or payer's) count; with a limit, only while it stays within it."""
    model = BuyerLimitModel(_buyer_key(card_id, who))
    actions = [BuyerLimitModel.units.add(quantity)]
    condition = None if limit is None else \
        BuyerLimitModel.units.does_not_exist() | (BuyerLimitModel.units <= limit - quantity)
    tx.update(label, model, actions=actions, condition=condition)


def uncount_units(tx: Transaction, label: str, card_id: str, who: str, quantity: int) -> None:
    tx.update(label, BuyerLimitModel(_buyer_key(card_id, who)), actions=[BuyerLimitModel.units.add(-quantity)])


# --- a client's open holds on a card ----------------------------------------------------------

_refused_clients = Recent(config.OPEN_HOLDS_REFUSAL_SECONDS)


def _client(client: str) -> str:
    return f"client:{client}"


def count_open_holds(tx: Transaction, label: str, card_id: str, client: str, quantity: int, cap: int) -> None:
    count_units(tx, label, card_id, _client(client), quantity, cap)


def uncount_open_holds(tx: Transaction, label: str, card_id: str, client: str, quantity: int) -> None:
    uncount_units(tx, label, card_id, _client(client), quantity)


def remember_client_refused(card_id: str, client: str) -> None:
    _refused_clients.put(_buyer_key(card_id, client), True)


def client_refused_recently(card_id: str, client: str) -> bool:
    return _refused_clients.age(_buyer_key(card_id, client)) < config.OPEN_HOLDS_REFUSAL_SECONDS


def open_holds(card_id: str, clients: set[str]) -> dict[str, int]:
    """Each client's counted open holds, read fresh (the audit)."""
    counted = buyer_units(card_id, {_client(client) for client in clients})
    return {client: counted[_client(client)] for client in clients}


def buyer_units(card_id: str, buyers: set[str]) -> dict[str, int]:
    """The counted units of each buyer, read fresh (the audit)."""
    units = {}
    for buyer in buyers:
        try:
            units[buyer] = int(BuyerLimitModel.get(_buyer_key(card_id, buyer), consistent_read=True).units)
        except DoesNotExist:
            units[buyer] = 0
    return units
