"""The sweeper's side of the orders table: the holds whose time is up, read page by page from the
sparse index, and released many to a transaction.

A transaction per order put every release of a hot card on the same few stock shard items, one
after another, at most 400 a run: 5,000 holds abandoned in a flash sale took 13 one-minute sweeps.
Here one transaction releases as many orders of one card as fit in DynamoDB's 100 items, each stock
shard's and each buyer's units summed into one item (an item may appear once in a transaction).
"""
from __future__ import annotations

import itertools
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterator

from chalicelib import config
from chalicelib.domain import EXPIRED, HELD, Order, transition
from chalicelib.store import codes, orders, stock
from chalicelib.store.order_models import OrderModel
from chalicelib.store.transactions import Refused, Transaction

# Orders read per page (BatchGetItem takes 100 keys a request; a longer page packs the
# transactions fuller) and items per transaction (TransactWriteItems' limit).
PAGE = 500
TRANSACTION_ITEMS = 100


def expired_holds(now: int) -> Iterator[list[Order]]:
    """The held orders whose hold ended by now, a page at a time, read fresh. The sparse index is
    queried shard by shard and page by page, so the caller may stop between any two pages; what it
    releases leaves the index, so the next run starts again from the oldest left."""
    for shard in range(config.HOLD_SHARDS):
        found = OrderModel.held_by_expiry.query(f"h{shard}", OrderModel.hold_expires_at <= now)
        ids = (item.order_id for item in found)
        while page := list(itertools.islice(ids, PAGE)):
            yield orders.get_many(page)


@dataclass
class _Batch:
    orders: list[Order] = field(default_factory=list)
    shards: set[int] = field(default_factory=set)
    buyers: set[str] = field(default_factory=set)
    clients: set[str] = field(default_factory=set)
    codes: set[str] = field(default_factory=set)
    code_buyers: set[tuple[str, str]] = field(default_factory=set)

    def fits(self, order: Order) -> bool:
        new_buyer = order.counted and order.buyer not in self.buyers
        new_client = bool(order.client) and order.client not in self.clients
        redeems = codes.redeems(order)
        new_code = redeems and order.code not in self.codes
        new_code_buyer = redeems and (order.code, order.buyer) not in self.code_buyers
        items = (len(self.orders) + 1 + len(self.shards | order.stock_take.keys()) + len(self.buyers) + new_buyer
                 + len(self.clients) + new_client + len(self.codes) + new_code
                 + len(self.code_buyers) + new_code_buyer)
        return items <= TRANSACTION_ITEMS

    def add(self, order: Order) -> None:
        self.orders.append(order)
        self.shards |= order.stock_take.keys()
        if order.counted:
            self.buyers.add(order.buyer)
        if order.client:
            self.clients.add(order.client)
        if codes.redeems(order):
            self.codes.add(order.code)
            self.code_buyers.add((order.code, order.buyer))


def batches(held: list[Order]) -> list[list[Order]]:
    """The orders in groups one transaction can release: one card per group, and its orders, stock
    shards and counted buyers within TRANSACTION_ITEMS. Taken in shard order, so a group touches
    one or two shards, not all of them: more room for orders, and less to collide with the sale's
    own transactions on those hot items."""
    full, filling = [], {}
    for order in sorted(held, key=lambda order: (order.card_id, sorted(order.stock_take))):
        batch = filling.setdefault(order.card_id, _Batch())
        if not batch.fits(order):
            full.append(batch.orders)
            batch = filling[order.card_id] = _Batch()
        batch.add(order)
    return full + [batch.orders for batch in filling.values()]


def _label(order: Order) -> str:
    return f"order:{order.order_id}"


def _transaction(held: list[Order]) -> Transaction:
    card_id, at = held[0].card_id, int(time.time())
    tx = Transaction()
    units, buyers, clients, redeemed = Counter(), Counter(), Counter(), {}
    for order in held:
        tx.update(_label(order), OrderModel(order.order_id), condition=OrderModel.status == HELD, actions=[
            OrderModel.status.set(EXPIRED), OrderModel.updated_at.set(at), OrderModel.status_reason.set("hold_expired"),
            OrderModel.hold_shard.remove(), OrderModel.hold_expires_at.remove()])
        units.update(order.stock_take)
        if order.counted:
            buyers[order.buyer] += order.quantity
        if order.client:
            clients[order.client] += order.quantity
        if codes.redeems(order):  # the hold's redemption of its code comes back with it
            redeemed.setdefault(order.code, Counter())[order.buyer] += 1
    stock.move_units(tx, card_id, dict(units), *transition((HELD,), EXPIRED))
    for buyer, quantity in buyers.items():
        stock.uncount_units(tx, f"buyer:{buyer}", card_id, buyer, quantity)
    for client, quantity in clients.items():  # no longer open holds of their client
        stock.uncount_open_holds(tx, f"client:{client}", card_id, client, quantity)
    for code, by_buyer in redeemed.items():
        codes.give_back(tx, card_id, code, sum(by_buyer.values()), dict(by_buyer))
    return tx


def expire(batch: list[Order], attempts: int = 6) -> list[Order]:
    """held → expired for one of batches(), in one transaction: the units go back on sale and off
    their buyers' counts. Each order's change is conditional on its still being held, so one that
    moved meanwhile (paid at the last moment) is left out and the rest committed again; a conflict
    with another transaction on the same items is tried again after a pause. Returns the orders
    released; none when the conflicts outlast the attempts (the next run tries again)."""
    pending = list(batch)
    for attempt in range(attempts):
        if not pending:
            return []
        try:
            _transaction(pending).commit()
        except Refused as refused:
            moved = {order.order_id for order in pending if refused.failed(_label(order))}
            if not moved and not refused.conflicted:
                raise
            pending = [order for order in pending if order.order_id not in moved]
            if refused.conflicted:
                time.sleep(random.uniform(0, 0.02 * 2**attempt))
            continue
        stock.forget(pending[0].card_id)
        return pending
    return []
