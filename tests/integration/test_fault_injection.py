"""A Lambda can die between any two calls. Each flow below is run once to count its DynamoDB and
Stripe calls, then again once per call with an exception injected at that call. Clients retry as
the real ones do (the widget repeats its tap with the same Idempotency-Key, Stripe redelivers its
webhook), the sweeper runs later, and then no unit may be lost and no payment left without goods."""
import contextlib
import itertools
import uuid

import boto3
import botocore.client
import pytest
from moto import mock_aws

from chalicelib import audit, checkout, config, payment_events
from chalicelib.store import cards, orders
from chalicelib.domain import Card, DomainError
from chalicelib.payments import PAYMENT_FAILED, PAYMENT_SUCCEEDED, PaymentEvent
from fakes import FakeStripe
from infra.tables import create_all

HOLD = 60
START = 1_900_000_000
STRIPE_CALLS = ("create_payment_intent", "cancel_payment_intent", "refund", "payer_identities")


class InjectedFault(Exception):
    pass


class Faults:
    """Counts every DynamoDB request (botocore) and Stripe call (the adapter); raises at call n."""

    def __init__(self, monkeypatch, stripe: FakeStripe):
        self.calls = 0
        self.fail_at = None
        make_api_call = botocore.client.BaseClient._make_api_call
        faults = self

        def counted_api_call(client, operation, params):
            faults.tick(f"dynamodb {operation}")
            return make_api_call(client, operation, params)

        monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", counted_api_call)
        for name in STRIPE_CALLS:
            original = getattr(stripe, name)
            monkeypatch.setattr(stripe, name, self._counted(original, f"stripe {name}"))
        stripe.install(monkeypatch)

    def _counted(self, call, label):
        def counted(*args, **kwargs):
            self.tick(label)
            return call(*args, **kwargs)
        return counted

    @contextlib.contextmanager
    def paused(self):
        """The test's own reads are not the code under test."""
        fail_at, self.fail_at, calls = self.fail_at, None, self.calls
        yield
        self.fail_at, self.calls = fail_at, calls

    def tick(self, label):
        self.calls += 1
        if self.calls == self.fail_at:
            raise InjectedFault(f"injected at call {self.calls}: {label}")


def retried(step, attempts=3):
    """Run a client step, repeating it after a crash like the widget or Stripe would."""
    for attempt in range(attempts):
        try:
            return step()
        except DomainError:
            return None
        except InjectedFault:
            if attempt == attempts - 1:
                raise


class World:
    def __init__(self, monkeypatch):
        self.stripe = FakeStripe()
        self.faults = Faults(monkeypatch, self.stripe)
        self.clock = START
        monkeypatch.setattr(checkout, "now", lambda: self.clock)
        self.ids = itertools.count(1)
        self.paid_intents: list[str] = []
        self.card = Card(card_id=f"card_fi_{uuid.uuid4().hex[:10]}", seller_id="sel_fi", title="Router",
                         description="", image_url="https://img.example/r.png", price_amount=9900,
                         currency="CNY", stock=3, limit_per_buyer=2, hold_seconds=HOLD, shard_count=2,
                         created_at=START)
        cards.create(self.card)

    def tap(self, buyer="buyer_fi_0001", quantity=1):
        key = f"tap-fi-{next(self.ids):04d}"
        payload = {"quantity": quantity, "buyer": buyer}
        return retried(lambda: checkout.checkout(self.card.card_id, payload, key))

    def webhook(self, order, event_type):
        if order is None:
            return
        with self.faults.paused():
            stored = orders.get(order["order_id"])
        intent = stored.payment_intent_id or (order.get("client_secret") or "").split("_secret_")[0]
        if not intent:
            return
        if event_type == PAYMENT_SUCCEEDED:
            self.paid_intents.append(intent)
        event = PaymentEvent(f"evt_fi_{next(self.ids)}", event_type, intent, order["order_id"], "pm_fi")
        retried(lambda: payment_events.apply_payment_event(event))

    def sweep(self, seconds=0):
        self.clock += seconds
        retried(lambda: payment_events.expire_holds(self.clock))


def pay_in_time(world):
    world.webhook(world.tap(), PAYMENT_SUCCEEDED)


def payment_fails(world):
    world.webhook(world.tap(quantity=2), PAYMENT_FAILED)


def hold_expires(world):
    world.tap()
    world.sweep(HOLD + 1)


def pay_after_expiry_while_stock_is_left(world):
    order = world.tap()
    world.sweep(HOLD + 1)
    world.webhook(order, PAYMENT_SUCCEEDED)


def pay_after_expiry_when_sold_out(world):
    order = world.tap()
    world.sweep(HOLD + 1)
    world.tap(buyer="buyer_fi_0002", quantity=2)
    world.tap(buyer="buyer_fi_0003")
    world.webhook(order, PAYMENT_SUCCEEDED)


FLOWS = [pay_in_time, payment_fails, hold_expires, pay_after_expiry_while_stock_is_left,
         pay_after_expiry_when_sold_out]


@pytest.fixture
def fresh_tables():
    def make():
        mock = mock_aws()
        mock.start()
        create_all(boto3.client("dynamodb", region_name=config.AWS_REGION), config.TABLE_PREFIX)
        return mock
    return make


def settle_and_check(world):
    """Later: Stripe's last redelivery has happened and the sweeper ran; nothing may be lost."""
    world.faults.fail_at = None
    world.sweep(10 * HOLD)
    report = audit.run(world.card.card_id)
    assert report.clean, report.problems
    for intent in world.paid_intents:
        order_id = world.stripe.intents[intent]["order_id"]
        status = orders.get(order_id).status
        assert status in ("paid", "refunded"), f"money taken for {order_id}, which is {status}"


@pytest.mark.parametrize("flow", FLOWS, ids=lambda flow: flow.__name__)
def test_a_crash_at_any_call_loses_nothing(flow, fresh_tables, monkeypatch):
    mock = fresh_tables()
    try:
        world = World(monkeypatch)
        world.faults.calls = 0
        flow(world)
        calls = world.faults.calls
        settle_and_check(world)
    finally:
        mock.stop()
    assert calls > 3

    for fail_at in range(1, calls + 1):
        mock = fresh_tables()
        try:
            world = World(monkeypatch)
            world.faults.calls = 0
            world.faults.fail_at = fail_at
            flow(world)
            settle_and_check(world)
        finally:
            mock.stop()
