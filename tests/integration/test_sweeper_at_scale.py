"""The sweeper at a flash sale's scale: thousands of holds abandoned at once go back on sale in one
run, within the run's deadline, and a run cut short leaves nothing half done."""
import json
import time
from collections import Counter
from pathlib import Path

import pytest

from chalicelib import audit, config, payment_events, sweep
from chalicelib.domain import EXPIRED, HELD, PAID, Order, order_id_for
from chalicelib.store import cards, orders, stock
from chalicelib.store.models import BuyerLimitModel
from fixtures import mark_paid
from infra.local import dynamodb_server

ROOT = Path(__file__).resolve().parents[2]
STOCK = 1_200  # three stock shards


@pytest.fixture(autouse=True)
def transactions_back_up_touched_items(monkeypatch):
    """moto copies a whole table for each item of a transaction (a hundred-item transaction over a
    thousand orders took half a minute); the local stack's moto server backs up only the items a
    transaction touches, and so does this module's in-process moto."""
    dynamodb_server.back_up_only_touched_items(monkeypatch.setattr)


def abandoned_holds(card, count: int, ended: int | None = None) -> tuple[list[str], int]:
    """count holds (two per buyer, one in ten of two units) whose time ran out a minute ago (or at
    ended); returns (their order ids, when they ended)."""
    ended = int(time.time()) - 60 if ended is None else ended
    ids = []
    for n in range(count):
        buyer, quantity = f"buyer-{n // 2:04d}", 2 if n % 10 == 0 else 1
        order = orders.hold(card, Order(
            order_id=order_id_for(card.card_id, buyer, f"tap-{n}"), card_id=card.card_id, seller_id=card.seller_id,
            buyer=buyer, quantity=quantity, amount=card.price_amount * quantity, currency=card.currency,
            status=HELD, created_at=ended - card.hold_seconds, expires_at=ended))
        ids.append(order.order_id)
    return ids, ended


def stock_level(card) -> tuple[int, int, int]:
    level = stock.level(cards.get_fresh(card.card_id))
    return level.available, level.held, level.sold


def statuses(ids: list[str]) -> Counter:
    return Counter(order.status for order in orders.get_many(ids))


def buyers_counted(card) -> int:
    return sum(int(item.units) for item in BuyerLimitModel.scan() if item.card_buyer.startswith(card.card_id))


def test_one_sweep_puts_a_thousand_abandoned_holds_back_on_sale(make_card, fake_stripe):
    card = make_card(stock=STOCK, limit_per_buyer=4)
    ids, ended = abandoned_holds(card, 1_000)
    assert stock_level(card) == (STOCK - 1_100, 1_100, 0)

    assert payment_events.expire_holds(at=ended + 1) == 1_000

    assert stock_level(card) == (STOCK, 0, 0)
    assert statuses(ids) == {EXPIRED: 1_000}
    assert buyers_counted(card) == 0  # each buyer may buy their full limit again
    assert audit.run(card.card_id).clean
    assert fake_stripe.calls == []


def test_the_holds_of_several_cards_expire_in_the_same_sweep(make_card, fake_stripe):
    mug, vase = make_card(stock=STOCK, limit_per_buyer=4), make_card(stock=40)
    # Both cards' holds end at the same second, however long making them takes on a busy machine.
    mug_ids, ended = abandoned_holds(mug, 30)
    vase_ids, _ = abandoned_holds(vase, 30, ended)

    assert payment_events.expire_holds(at=ended + 1) == 60

    assert stock_level(mug) == (STOCK, 0, 0) and stock_level(vase) == (40, 0, 0)
    assert statuses(mug_ids + vase_ids) == {EXPIRED: 60}
    assert audit.run(mug.card_id).clean and audit.run(vase.card_id).clean


def test_an_order_paid_while_the_sweep_reads_it_stays_paid(make_card, fake_stripe, monkeypatch):
    card = make_card(stock=STOCK, limit_per_buyer=4)
    ids, ended = abandoned_holds(card, 60)
    read = orders.get_many

    def read_then_paid(order_ids):
        found = read(order_ids)
        if ids[7] in order_ids:
            mark_paid(ids[7])  # the buyer's payment lands between the sweeper's read and its write
        return found

    monkeypatch.setattr(orders, "get_many", read_then_paid)

    assert payment_events.expire_holds(at=ended + 1) == 59
    monkeypatch.undo()

    assert orders.get(ids[7]).status == PAID
    assert statuses(ids) == {EXPIRED: 59, PAID: 1}
    assert stock_level(card) == (STOCK - 1, 0, 1)
    assert audit.run(card.card_id).clean


def test_a_sweep_stops_at_its_deadline_and_the_next_run_releases_the_rest(make_card, fake_stripe, monkeypatch):
    card = make_card(stock=STOCK, limit_per_buyer=4)
    ids, ended = abandoned_holds(card, 500)
    expire = payment_events.expiry.expire

    def slow_expire(batch):  # each batch takes at least 0.2 s: the deadline comes after a few
        released = expire(batch)
        time.sleep(0.2)
        return released

    monkeypatch.setattr(payment_events.expiry, "expire", slow_expire)

    first = payment_events.expire_holds(at=ended + 1, deadline=time.monotonic() + 0.5)

    assert 0 < first < 500
    assert statuses(ids) == {EXPIRED: first, HELD: 500 - first}
    assert audit.run(card.card_id).clean

    monkeypatch.setattr(payment_events.expiry, "expire", expire)
    assert payment_events.expire_holds(at=ended + 1) == 500 - first

    assert statuses(ids) == {EXPIRED: 500}
    assert stock_level(card) == (STOCK, 0, 0)
    assert audit.run(card.card_id).clean


class LambdaContext:
    def __init__(self, remaining_ms: int):
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def test_the_sweep_takes_no_new_work_after_80_percent_of_its_lambda_time():
    began = time.monotonic()
    deadline = sweep.deadline(LambdaContext(50_000))
    assert began + 39.9 <= deadline <= time.monotonic() + 40.0


def test_without_a_lambda_context_the_sweep_still_ends_before_the_lambda_timeout():
    stages = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]
    for stage in stages.values():
        timeout = stage["lambda_functions"]["sweep_expired_holds"]["lambda_timeout"]
        assert config.SWEEP_SECONDS <= 0.8 * timeout
    began = time.monotonic()
    assert began + config.SWEEP_SECONDS <= sweep.deadline(None) <= time.monotonic() + config.SWEEP_SECONDS
