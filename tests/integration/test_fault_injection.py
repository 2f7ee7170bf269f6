"""A Lambda can die between any two calls. Each flow below is run once to count its DynamoDB and
Stripe calls, then again once per call with an exception injected at that call. Clients retry as
the real ones do (the widget repeats its tap with the same Idempotency-Key and its pay call,
Stripe redelivers its webhook for every payment that succeeded), the sweeper runs later, and then
no unit may be lost, no payment left without goods, and no order charged twice."""
import itertools
import uuid
from types import SimpleNamespace

import boto3
import botocore.client
import pytest
from moto import mock_aws

from chalicelib import audit, checkout, config, paying, payment_events
from chalicelib.store import cards, codes, orders
from chalicelib.domain import Card, DomainError, new_code_from_request
from chalicelib.payments import PAYMENT_SUCCEEDED
from fakes import BANK_DEBIT, CARD_3DS, CARD_DECLINED, CARD_OK, FakeStripe
from infra.tables import create_all

HOLD = 60
START = 1_900_000_000
STRIPE_CALLS = ("pay", "payer_identities_of", "payer_identities", "cancel_payment_intent", "refund")


class InjectedFault(Exception):
    pass


class Faults:
    """Counts every DynamoDB request (botocore) and Stripe call (the adapter); raises at call n."""

    def __init__(self, monkeypatch, stripe: FakeStripe):
        self.calls = 0
        self.fail_at = None
        self.fault = InjectedFault  # what is raised: a crash, or (given) an error AWS answers
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

    def tick(self, label):
        self.calls += 1
        if self.calls == self.fail_at:
            raise self.fault(f"injected at call {self.calls}: {label}")


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
    def __init__(self, monkeypatch, code: str | None = None):
        self.stripe = FakeStripe()
        self.stripe.payers = {CARD_OK: ("card:fp_fi",), BANK_DEBIT: ("card:fp_fi",)}
        self.faults = Faults(monkeypatch, self.stripe)
        self.clock = START
        monkeypatch.setattr(checkout, "now", lambda: self.clock)
        monkeypatch.setattr(paying, "time", SimpleNamespace(time=lambda: self.clock))
        self.ids = itertools.count(1)
        self.card = Card(card_id=f"card_fi_{uuid.uuid4().hex[:10]}", seller_id="sel_fi", title="Router",
                         description="", image_url="https://img.example/r.png", price_amount=9900,
                         currency="CNY", stock=3, limit_per_buyer=2, hold_seconds=HOLD, shard_count=2,
                         created_at=START)
        cards.create(self.card)
        self.code = code  # every tap uses it: its redemptions must move with their orders
        if code:
            codes.create(new_code_from_request({"code": code, "percent_off": 10, "max_redemptions": 2},
                                               self.card.card_id, START))

    def tap(self, buyer="buyer_fi_0001", quantity=1):
        key = f"tap-fi-{next(self.ids):04d}"
        payload = {"quantity": quantity, "buyer": buyer, **({"code": self.code} if self.code else {})}
        return retried(lambda: checkout.checkout(self.card.card_id, payload, key))

    def pay(self, order, method=CARD_OK):
        """The buyer's pay call; the widget repeats it after a crash (a 409 or 503 ends the try)."""
        if order is None:
            return None
        payload = {"payment_method": method}
        return retried(lambda: checkout.pay(order["order_id"], order["order_token"], payload))

    def stripe_sends(self, intent, event_type=PAYMENT_SUCCEEDED):
        """Stripe's webhook about one intent (one event id per intent and type: a redelivery)."""
        event = self.stripe.event(event_type, intent, f"evt_fi_{event_type}_{intent}")
        retried(lambda: payment_events.apply_payment_event(event))

    def buyer_finishes(self, order, status="succeeded"):
        """3-D Secure done, or the bank debit cleared: the money moves and Stripe says so."""
        if order is None:
            return
        for intent in self.stripe.intents_of(order["order_id"]):
            if self.stripe.complete(intent, status):
                self.stripe_sends(intent)

    def stripe_redelivers_every_success(self):
        for intent in self.stripe.charged():
            self.stripe_sends(intent)

    def sweep(self, seconds=0):
        self.clock += seconds
        retried(lambda: payment_events.expire_holds(self.clock))


def pay_in_time(world):
    order = world.tap()
    world.pay(order)
    world.stripe_redelivers_every_success()


def declined_then_paid_with_another_card(world):
    order = world.tap(quantity=2)
    world.pay(order, CARD_DECLINED)
    world.pay(order, CARD_OK)


def three_d_secure_settled_by_the_webhook(world):
    order = world.tap()
    world.pay(order, CARD_3DS)
    world.buyer_finishes(order)


def three_d_secure_abandoned_then_another_card_then_finished(world):
    order = world.tap()
    world.pay(order, CARD_3DS)
    world.pay(order, CARD_OK)
    world.buyer_finishes(order)  # the first intent too: refunded


def hold_expires(world):
    world.tap()
    world.sweep(HOLD + 1)


def three_d_secure_hold_expires(world):
    order = world.tap()
    world.pay(order, CARD_3DS)
    world.sweep(HOLD + 1)
    world.buyer_finishes(order)  # canceled by the sweeper: charges nothing


def busy_then_paid(world):
    order = world.tap()
    world.stripe.busy.add("pay")
    world.pay(order)
    world.stripe.busy.clear()
    world.pay(order)


def pay_after_expiry_while_stock_is_left(world):
    order = world.tap()
    world.pay(order, BANK_DEBIT)
    world.sweep(HOLD + 1)
    world.buyer_finishes(order)


def pay_after_expiry_when_sold_out(world):
    order = world.tap()
    world.pay(order, BANK_DEBIT)
    world.sweep(HOLD + 1)
    world.tap(buyer="buyer_fi_0002", quantity=2)
    world.tap(buyer="buyer_fi_0003")
    world.buyer_finishes(order)


def same_card_pays_two_orders_past_the_limit(world):
    first, second = world.tap(quantity=2), world.tap(buyer="buyer_fi_0002")
    world.pay(second, BANK_DEBIT)  # the same card, within the limit while the first is unpaid
    world.pay(first, CARD_OK)
    world.buyer_finishes(second)  # now past it: refunded


FLOWS = [pay_in_time, declined_then_paid_with_another_card, three_d_secure_settled_by_the_webhook,
         three_d_secure_abandoned_then_another_card_then_finished, hold_expires, three_d_secure_hold_expires,
         busy_then_paid, pay_after_expiry_while_stock_is_left, pay_after_expiry_when_sold_out,
         same_card_pays_two_orders_past_the_limit]


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
    world.stripe_redelivers_every_success()
    world.sweep(10 * HOLD)
    report = audit.run(world.card.card_id)
    assert report.clean, report.problems
    charged, refunded = world.stripe.charged(), world.stripe.refunded()
    for intent in charged:
        order = orders.get(world.stripe.intents[intent]["order_id"])
        kept = [pi for pi in world.stripe.intents_of(order.order_id) if pi in charged and pi not in refunded]
        assert len(kept) <= 1, f"{order.order_id} was charged {len(kept)} times"
        if order.status == "paid":
            assert kept == [order.payment_intent_id], f"{order.order_id} is paid by {order.payment_intent_id}, kept {kept}"
        else:
            assert kept == [], f"money kept for {order.order_id}, which is {order.status}"


# The flows where a code's redemption is taken, given back by the sweeper, and taken again by a
# late payment (or refused with the money returned).
CODE_FLOWS = [pay_in_time, hold_expires, pay_after_expiry_while_stock_is_left, pay_after_expiry_when_sold_out]


@pytest.mark.parametrize("flow, code", [(flow, None) for flow in FLOWS] + [(flow, "FI10") for flow in CODE_FLOWS],
                         ids=lambda value: getattr(value, "__name__", None) or ("with-code" if value else "no-code"))
def test_a_crash_at_any_call_loses_nothing(flow, code, fresh_tables, monkeypatch):
    mock = fresh_tables()
    try:
        world = World(monkeypatch, code)
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
            world = World(monkeypatch, code)
            world.faults.calls = 0
            world.faults.fail_at = fail_at
            flow(world)
            settle_and_check(world)
        finally:
            mock.stop()
