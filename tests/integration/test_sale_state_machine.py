"""A sale driven at random: taps and double taps; pay calls that succeed, are declined, wait on
3-D Secure, start a bank debit or find Stripe busy; buyers who finish (or fail) 3-D Secure and
debits that clear; Stripe's webhooks (succeeded, failed, canceled) and their redeliveries; time
passing with the sweeper expiring holds and canceling what a buyer could still finish. Interleaved
by hypothesis. After every step the audit must be clean and:
- never oversold;
- no paid order lost (once paid, an order stays paid: nobody refunds it here);
- no money kept without goods: every PaymentIntent whose money Stripe took either paid its order
  (the order is paid by that very intent) or was refunded, once tapcard acknowledged it (the pay
  call answered, or the webhook was taken: one answered 503 is redelivered by Stripe later);
- no order charged twice: at most one kept payment per order."""
import uuid

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import initialize, invariant, precondition, rule

from chalicelib import audit, checkout, payment_events
from chalicelib.store import cards, orders
from chalicelib.domain import Card, DomainError
from chalicelib.payments import PAYMENT_CANCELED, PAYMENT_FAILED, PAYMENT_SUCCEEDED, PaymentEvent
from sale_machine import SaleMachine

STOCK = 4
LIMIT = 2
HOLD = 60
BUYERS = [f"buyer_{n:04d}" for n in range(4)]
# The payment methods buyers pay with: what Stripe makes of each, and who pays with it (two cards
# are shared between buyer tokens, so the limit also counts who paid).
METHODS = {
    "pm_ok_ada": ("succeeded", ("card:fp_ada", "email:ada@example.com")),
    "pm_ok_bo": ("succeeded", ("card:fp_bo",)),
    "pm_3ds_ada": ("requires_action", ("card:fp_ada3", "email:ada@example.com")),
    "pm_debit_bo": ("processing", ("card:fp_bo",)),
    "pm_declined": ("failed", ("card:fp_cy",)),
    "pm_busy": ("busy", ()),
}
PAY_REFUSALS = {"hold_expired", "already_paid", "payment_in_progress", "limit_reached", "payments_busy"}


class Sale(SaleMachine):
    def __init__(self):
        super().__init__()
        self.stripe.outcomes = {method: outcome for method, (outcome, _) in METHODS.items()}
        self.stripe.payers = {method: payers for method, (_, payers) in METHODS.items()}
        self.patch.setattr(checkout, "now", lambda: self.clock)
        self.taps: dict[str, tuple[str, dict]] = {}  # key -> (buyer, payload)
        self.orders: dict[str, dict] = {}  # key -> checkout response
        self.sent_events: list[PaymentEvent] = []  # delivered and taken
        self.pending: list[PaymentEvent] = []  # answered 503: Stripe delivers them again later
        self.acknowledged: set[str] = set()  # intents whose success tapcard has taken in
        self.paid_orders: set[str] = set()

    @initialize()
    def open_sale(self):
        self.card = Card(card_id=f"card_sm_{uuid.uuid4().hex[:10]}", seller_id="sel_sm", title="Router",
                         description="", image_url="https://img.example/r.png", price_amount=9900,
                         currency="CNY", stock=STOCK, limit_per_buyer=LIMIT, hold_seconds=HOLD,
                         shard_count=2, created_at=self.clock)
        cards.create(self.card)

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
        # A hold opens no payment: the client secret is one a pay call left for 3-D Secure, if any.
        assert response["client_secret"] == orders.get(response["order_id"]).client_secret
        assert response["client_secret"] is None or self.stripe.calls_to("pay"), "a hold opened a payment"
        self.orders[key] = response
        return response

    @precondition(lambda self: self.orders)
    @rule(data=st.data(), method=st.sampled_from(sorted(METHODS)))
    def pay(self, data, method):
        self._pay(data.draw(st.sampled_from(sorted(self.orders))), method)

    @precondition(lambda self: self.orders)
    @rule(data=st.data(), method=st.sampled_from(sorted(METHODS)))
    def pay_again_after_the_answer_was_lost(self, data, method):
        """The connection dropped before the answer: the widget submits the same payment again."""
        key = data.draw(st.sampled_from(sorted(self.orders)))
        self._pay(key, method)
        self._pay(key, method)

    def _pay(self, key, method):
        order = self.orders[key]
        before = orders.get(order["order_id"])
        try:
            answer = checkout.pay(order["order_id"], order["order_token"], {"payment_method": method})
        except DomainError as error:
            assert error.code in PAY_REFUSALS, error.code
            after = orders.get(order["order_id"])
            assert after.status == before.status, f"a refused pay call ({error.code}) moved the order"
            assert after.paying_until is None or after.paying_until == before.paying_until
            return
        assert answer["status"] == METHODS[method][0], answer
        if answer["status"] == "succeeded":
            assert answer["order"]["status"] == "paid", answer
            self.acknowledged.add(self.stripe.intents_of(order["order_id"])[-1])

    @precondition(lambda self: self._open_intents())
    @rule(data=st.data(), succeeds=st.booleans())
    def buyer_finishes_or_debit_settles(self, data, succeeds):
        """3-D Secure passed or failed, a bank debit cleared or bounced: Stripe says so by webhook."""
        intent = data.draw(st.sampled_from(self._open_intents()))
        if succeeds:
            self.stripe.complete(intent)
            self._send(PAYMENT_SUCCEEDED, intent)
        else:
            self.stripe.complete(intent, "requires_payment_method")
            self._send(PAYMENT_FAILED, intent)

    def _open_intents(self):
        return sorted(pi for pi, intent in self.stripe.intents.items()
                      if intent["status"] in ("requires_action", "processing"))

    # --- Stripe ----------------------------------------------------------------------------

    def _send(self, event_type, intent):
        self._deliver(self.stripe.event(event_type, intent, f"evt_{next(self.ids)}"))

    def _deliver(self, event):
        """POST /webhooks/stripe: a domain error is a non-2xx answer, and Stripe tries again later."""
        try:
            payment_events.apply_payment_event(event)
        except DomainError as error:
            assert error.code in ("payments_busy", "payments_unavailable"), error.code
            self.pending.append(event)
            return
        self.sent_events.append(event)
        if event.type == PAYMENT_SUCCEEDED:
            self.acknowledged.add(event.payment_intent_id)

    @precondition(lambda self: self.pending)
    @rule(data=st.data())
    def stripe_redelivers_an_unanswered_webhook(self, data):
        event = self.pending.pop(data.draw(st.integers(0, len(self.pending) - 1)))
        self._deliver(event)

    @precondition(lambda self: self._unannounced())
    @rule(data=st.data())
    def stripe_sends_a_webhook(self, data):
        """The webhook of something the pay call or the sweeper already saw: a success the pay call
        settled, a decline it answered, a cancel the sweeper made."""
        event_type, intent = data.draw(st.sampled_from(self._unannounced()))
        self._send(event_type, intent)

    def _unannounced(self):
        kinds = {"succeeded": PAYMENT_SUCCEEDED, "requires_payment_method": PAYMENT_FAILED,
                 "canceled": PAYMENT_CANCELED}
        sent = {(event.type, event.payment_intent_id) for event in self.sent_events + self.pending}
        return sorted((kinds[intent["status"]], pi) for pi, intent in self.stripe.intents.items()
                      if intent["status"] in kinds and (kinds[intent["status"]], pi) not in sent)

    @precondition(lambda self: self.sent_events)
    @rule(data=st.data())
    def replay_webhook(self, data):
        event = data.draw(st.sampled_from(self.sent_events))
        assert payment_events.apply_payment_event(event) == "duplicate"

    @rule(busy=st.booleans())
    def stripe_budget_is_spent(self, busy):
        """Every container's calls to Stripe are refused for a while (PaymentsBusy)."""
        if busy:
            self.stripe.busy |= {"pay", "payer_identities_of", "payer_identities", "cancel_payment_intent", "refund"}
        else:
            self.stripe.busy.clear()

    @rule(seconds=st.integers(0, 2 * HOLD))
    def time_passes_and_sweeper_runs(self, seconds):
        self.clock += seconds
        try:
            payment_events.expire_holds(self.clock)
        except DomainError as error:
            assert error.code in ("payments_busy", "payments_unavailable"), error.code

    # --- what must always hold --------------------------------------------------------------

    @invariant()
    def audit_is_clean(self):
        if not hasattr(self, "card"):
            return
        report = audit.run(self.card.card_id)
        assert report.clean, report.problems
        assert report.sold <= STOCK

    @invariant()
    def no_paid_order_is_lost(self):
        for response in self.orders.values():
            if orders.get(response["order_id"]).status == "paid":
                self.paid_orders.add(response["order_id"])
        for order_id in self.paid_orders:
            assert orders.get(order_id).status == "paid", f"{order_id} was paid and is not any more"

    @invariant()
    def no_money_kept_without_goods_and_no_order_charged_twice(self):
        charged, refunded = set(self.stripe.charged()) & self.acknowledged, self.stripe.refunded()
        for order_id in {intent["order_id"] for intent in self.stripe.intents.values()}:
            kept = [pi for pi in self.stripe.intents_of(order_id) if pi in charged and pi not in refunded]
            order = orders.get(order_id)
            assert len(kept) <= 1, f"{order_id} is charged {len(kept)} times: {kept}"
            if order.status == "paid":
                assert kept == [order.payment_intent_id], f"{order_id} paid by {order.payment_intent_id}, kept {kept}"
            else:
                assert kept == [], f"money kept for {order_id}, which is {order.status}"


Sale.TestCase.settings = settings(
    max_examples=60, stateful_step_count=30, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestSale = Sale.TestCase
