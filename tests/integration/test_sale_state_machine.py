"""A sale driven at random: checkouts, double taps, payments on time and late, failures, expiries,
automatic refunds and replayed webhooks, interleaved by hypothesis. After every step the audit
must be clean and no payment may be left without goods or a refund."""
import itertools
import uuid

import boto3
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from moto import mock_aws

from chalicelib import audit, checkout, config, payment_events
from chalicelib.store import cards, orders
from chalicelib.domain import Card, DomainError
from chalicelib.payments import PAYMENT_FAILED, PAYMENT_SUCCEEDED, PaymentEvent
from fakes import FakeStripe
from infra.tables import create_all

STOCK = 4
LIMIT = 3
HOLD = 60
BUYERS = [f"buyer_{n:04d}" for n in range(4)]


class Sale(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.mock = mock_aws()
        self.mock.start()
        create_all(boto3.client("dynamodb", region_name=config.AWS_REGION), config.TABLE_PREFIX)
        self.stripe = FakeStripe()
        self.patch = pytest.MonkeyPatch()
        self.stripe.install(self.patch)
        self.clock = 1_900_000_000
        self.patch.setattr(checkout, "now", lambda: self.clock)
        self.ids = itertools.count(1)
        self.taps: dict[str, tuple[str, dict]] = {}  # key -> (buyer, payload)
        self.orders: dict[str, dict] = {}  # order_id -> checkout response
        self.sent_events: list[PaymentEvent] = []
        self.paid_intents: set[str] = set()

    @initialize()
    def open_sale(self):
        self.card = Card(card_id=f"card_sm_{uuid.uuid4().hex[:10]}", seller_id="sel_sm", title="Router",
                         description="", image_url="https://img.example/r.png", price_amount=9900,
                         currency="CNY", stock=STOCK, limit_per_buyer=LIMIT, hold_seconds=HOLD,
                         shard_count=2, created_at=self.clock)
        cards.create(self.card)

    def teardown(self):
        self.patch.undo()
        self.mock.stop()

    # --- buyers ---------------------------------------------------------------------------

    @rule(buyer=st.sampled_from(BUYERS), quantity=st.integers(1, 3))
    def tap(self, buyer, quantity):
        key = f"tap-{next(self.ids):05d}"
        payload = {"quantity": quantity, "buyer": buyer}
        self.taps[key] = (buyer, payload)
        self._checkout(key, payload)

    @precondition(lambda self: self.taps)
    @rule(data=st.data())
    def double_tap(self, data):
        key = data.draw(st.sampled_from(sorted(self.taps)))
        before = {k: v["order_id"] for k, v in self.orders.items()}
        response = self._checkout(key, self.taps[key][1])
        if response and key in before:
            assert response["order_id"] == before[key], "a double tap made a second order"

    def _checkout(self, key, payload):
        try:
            response = checkout.checkout(self.card.card_id, payload, key)
        except DomainError as error:
            assert error.code in ("sold_out", "limit_reached"), error.code
            return None
        self.orders[key] = response
        return response

    # --- Stripe ----------------------------------------------------------------------------

    def _intent(self, key):
        return self.orders[key]["client_secret"].split("_secret_")[0]

    def _send(self, event):
        self.sent_events.append(event)
        payment_events.apply_payment_event(event)

    @precondition(lambda self: self.orders)
    @rule(data=st.data())
    def pay(self, data):
        key = data.draw(st.sampled_from(sorted(self.orders)))
        intent = self._intent(key)
        if intent in self.paid_intents:
            return  # Stripe charges an intent once
        self.paid_intents.add(intent)
        self._send(PaymentEvent(f"evt_{next(self.ids)}", PAYMENT_SUCCEEDED, intent,
                                self.orders[key]["order_id"], f"pm_{key}"))

    @precondition(lambda self: self.orders)
    @rule(data=st.data())
    def fail(self, data):
        key = data.draw(st.sampled_from(sorted(self.orders)))
        intent = self._intent(key)
        if intent in self.paid_intents:
            return
        self._send(PaymentEvent(f"evt_{next(self.ids)}", PAYMENT_FAILED, intent, self.orders[key]["order_id"]))

    @precondition(lambda self: self.sent_events)
    @rule(data=st.data())
    def replay_webhook(self, data):
        event = data.draw(st.sampled_from(self.sent_events))
        assert payment_events.apply_payment_event(event) == "duplicate"

    @rule(seconds=st.integers(0, 2 * HOLD))
    def time_passes_and_sweeper_runs(self, seconds):
        self.clock += seconds
        payment_events.expire_holds(self.clock)

    # --- what must always hold --------------------------------------------------------------

    @invariant()
    def audit_is_clean(self):
        if not hasattr(self, "card"):
            return
        report = audit.run(self.card.card_id)
        assert report.clean, report.problems
        assert report.sold <= STOCK

    @invariant()
    def no_payment_without_goods(self):
        for intent in self.paid_intents:
            order_id = self.stripe.intents[intent]["order_id"]
            status = orders.get(order_id).status
            assert status in ("paid", "refunded"), f"{order_id} was paid but is {status}"
            if status == "refunded":
                assert any(args[0] == intent for args in self.stripe.calls_to("refund"))


Sale.TestCase.settings = settings(
    max_examples=40, stateful_step_count=25, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestSale = Sale.TestCase
