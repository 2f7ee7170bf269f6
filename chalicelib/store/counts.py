"""The social-counts table: the card's social proof (shares, reservations), each counter split over
shards so a burst never writes one item, and read at most every few seconds per container. The
only module that writes it; a reservation's transaction adds its increment through add_item."""
from __future__ import annotations

import random

from chalicelib import config
from chalicelib.store.social_models import SocialCountModel
from chalicelib.recent import Recent
from chalicelib.store.transactions import Transaction

SHARES, RESERVATIONS = "shares", "reservations"
NAMES = (SHARES, RESERVATIONS)
_recent = Recent(config.CARD_CACHE_SECONDS / 2)


def key(card_id: str, name: str, shard: int | None = None) -> str:
    shard = random.randrange(config.SOCIAL_COUNT_SHARDS) if shard is None else shard
    return f"{card_id}#{name}#{shard}"


def add(card_id: str, name: str, amount: int = 1) -> None:
    SocialCountModel(key(card_id, name)).update(actions=[SocialCountModel.value.add(amount)])
    _recent.forget(card_id)


def add_item(tx: Transaction, card_id: str, name: str, amount: int = 1) -> None:
    """The same increment, inside a caller's transaction."""
    tx.update(f"count:{name}", SocialCountModel(key(card_id, name)), actions=[SocialCountModel.value.add(amount)])


def of_card(card_id: str) -> dict[str, int]:
    """{name: count} for every counter of the card, remembered for a few seconds."""
    return dict(_recent.get(card_id, lambda: _read(card_id)))


def _read(card_id: str) -> dict[str, int]:
    totals = dict.fromkeys(NAMES, 0)
    keys = [key(card_id, name, shard) for name in NAMES for shard in range(config.SOCIAL_COUNT_SHARDS)]
    for item in SocialCountModel.batch_get(keys):
        totals[item.counter_key.split("#")[1]] += int(item.value)
    return totals


def forget(card_id: str) -> None:
    _recent.forget(card_id)
