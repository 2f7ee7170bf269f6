"""What an order keeps about its buyer (the name and city the share uses, the shipping address and
email) is forgotten PERSONAL_DATA_DAYS after the sale: the order itself stays, for the seller's
books. Orders that keep any carry forget_shard/forget_at, a sparse index the sweeper reads like the
expired holds'."""
from __future__ import annotations

import random
import time

from chalicelib import config
from chalicelib.domain import Card, Order, personal_data_until
from chalicelib.store.order_models import OrderModel

PERSONAL_FIELDS = (OrderModel.display_name, OrderModel.city, OrderModel.shipping_address)


def _forget(order: Order, card: Card) -> dict:
    return {"forget_shard": f"f{random.randrange(config.HOLD_SHARDS)}",
            "forget_at": personal_data_until(order.created_at, card.ends_at, config.PERSONAL_DATA_DAYS)}


def marks(order: Order, card: Card) -> dict:
    """The attributes a new order needs to be forgotten in time; none when it keeps nothing."""
    return _forget(order, card) if order.display_name or order.city or order.shipping_address else {}


def mark_actions(order: Order, card: Card) -> list:
    """The same, as update actions, for personal data given after the tap (a shipping address)."""
    forget = _forget(order, card)
    return [OrderModel.forget_shard.set(forget["forget_shard"]), OrderModel.forget_at.set(forget["forget_at"])]


def forget_due(now: int, deadline: float) -> int:
    """Drop the personal data of every order whose time has come, until `deadline`
    (time.monotonic()); the next run goes on from there. Returns how many orders."""
    forgotten = 0
    for shard in range(config.HOLD_SHARDS):
        for item in OrderModel.personal_by_expiry.query(f"f{shard}", OrderModel.forget_at <= now):
            if time.monotonic() >= deadline:
                return forgotten
            OrderModel(item.order_id).update(
                actions=[field.remove() for field in PERSONAL_FIELDS]
                + [OrderModel.forget_shard.remove(), OrderModel.forget_at.remove()],
                condition=OrderModel.order_id.exists())
            forgotten += 1
    return forgotten
