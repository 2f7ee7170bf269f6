"""localstripe as `make run` serves it (infra/local/stripe_server.py) reports what a payment took
as Stripe does, so the local stack's payments pay their orders: the pay call's answer and the
signed webhook carry `amount_received` and the currency, and the payer's card fingerprint."""
import http.server
import threading
import time

import pytest
import requests

from chalicelib import config, payments
from chalicelib.domain import Order, PayRequest, pays_for
from fakes import WEBHOOK_SECRET
from test_local_stripe_rate_limit import _serve, _stop

ORDER = Order(order_id="ord_e2e_local_stripe", card_id="card_e2e", buyer="buyer-token-0001", quantity=1,
              amount=2500, currency="USD", status="held", created_at=0, expires_at=0)


@pytest.fixture(scope="module")
def server():
    url, process = _serve("--rate-limit", "0")
    yield url
    _stop(process)


@pytest.fixture
def adapter(server, monkeypatch):
    """The Stripe adapter pointed at localstripe, as the local stack's API is."""
    monkeypatch.setattr(config, "STRIPE_API_BASE", server)
    monkeypatch.setattr(config, "STRIPE_RATE_LIMIT", 0)
    monkeypatch.setattr(config, "STRIPE_PAYMENT_METHOD_TYPES", ["card"])
    payments.get_client.cache_clear()
    yield server
    payments.get_client.cache_clear()


@pytest.fixture
def webhooks(server):
    """Signed webhook deliveries localstripe sends, as (body, Stripe-Signature)."""
    received = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            received.append((body, self.headers.get("Stripe-Signature")))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{receiver.server_address[1]}/webhooks/stripe"
    registered = requests.post(f"{server}/_config/webhooks/e2e", data={"url": url, "secret": WEBHOOK_SECRET},
                               headers={"Connection": "close"}, timeout=5)
    assert registered.status_code == 200, registered.text
    yield received
    receiver.shutdown()
    receiver.server_close()


def test_a_payment_and_its_webhook_report_the_amount_received(adapter, webhooks):
    result = payments.pay(ORDER.order_id, ORDER.card_id, ORDER.amount, ORDER.currency, 1,
                          PayRequest(payment_method="pm_card_visa"), deadline=time.time() + 10)

    assert result.status == payments.SUCCEEDED
    assert result.received == payments.Received(result.payment_intent_id, 2500, "usd")
    assert pays_for(ORDER, result.received.amount, result.received.currency)
    assert [identity.split(":")[0] for identity in result.payer_ids] == ["card"]  # its fingerprint

    deadline = time.time() + 10
    while not webhooks and time.time() < deadline:
        time.sleep(0.1)
    events = [payments.parse_webhook(body, signature) for body, signature in webhooks]
    [succeeded] = [event for event in events if event and event.type == payments.PAYMENT_SUCCEEDED]
    assert (succeeded.order_id, succeeded.received) == (ORDER.order_id, result.received)


def test_who_paid_is_kept_as_keyed_hashes_not_as_an_email_or_a_card_fingerprint(adapter):
    """The per-buyer limit counts payers by card and email; the orders and limit tables keep only
    keyed hashes of them, the same for the same payer (so the count still works)."""
    method = payments.get_client().v1.payment_methods.create({
        "type": "card", "billing_details": {"email": "Ada@Example.com"},
        "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}})
    fingerprint = method.to_dict()["card"]["fingerprint"]

    ids = payments.payer_identities(method.id)

    assert [identity.split(":")[0] for identity in ids] == ["card", "email"]
    assert not any(fingerprint in identity or "example.com" in identity.lower() for identity in ids)
    again = payments.get_client().v1.payment_methods.create({
        "type": "card", "billing_details": {"email": "ada@example.com "},
        "card": {"number": "4242424242424242", "exp_month": 1, "exp_year": 2031, "cvc": "321"}})
    assert payments.payer_identities(again.id) == ids


def test_a_refund_is_made_once_and_announced_by_charge_refunded(adapter, webhooks):
    """The seller's refund against localstripe: asked twice (a retry) it is one refund; Stripe's
    charge.refunded names the payment, which leads back to the order; past Stripe's 24 h of
    idempotency keys a payment refunded already answers with its refund."""
    paid = payments.pay("ord_e2e_refund", ORDER.card_id, ORDER.amount, ORDER.currency, 1,
                        PayRequest(payment_method="pm_card_visa"), deadline=time.time() + 10)

    first = payments.refund(paid.payment_intent_id, "ord_e2e_refund")
    assert payments.refund(paid.payment_intent_id, "ord_e2e_refund") == first
    assert payments.refund(paid.payment_intent_id, "ord_e2e_refund_key_expired") == first  # charge_already_refunded
    assert payments.latest_refund(paid.payment_intent_id) == first

    refunded = wait_for_event(webhooks, payments.CHARGE_REFUNDED)
    assert (refunded.payment_intent_id, refunded.refunded, refunded.amount_refunded) == (paid.payment_intent_id, True, 2500)
    assert payments.order_id_of(refunded.payment_intent_id) == "ord_e2e_refund"
    assert len([e for e in events_of(webhooks) if e.type == payments.CHARGE_REFUNDED]) == 1


def test_a_dispute_is_announced_by_charge_dispute_created(adapter, webhooks, server):
    paid = payments.pay("ord_e2e_dispute", ORDER.card_id, ORDER.amount, ORDER.currency, 1,
                        PayRequest(payment_method="pm_card_visa"), deadline=time.time() + 10)

    answer = requests.post(f"{server}/_config/disputes", json={"payment_intent": paid.payment_intent_id,
                                                                 "reason": "product_not_received"}, timeout=5)
    assert answer.status_code == 200, answer.text

    disputed = wait_for_event(webhooks, payments.DISPUTE_CREATED)
    assert (disputed.payment_intent_id, disputed.amount, disputed.dispute_reason) == (
        paid.payment_intent_id, 2500, "product_not_received")


def events_of(webhooks):
    return [event for event in (payments.parse_webhook(body, signature) for body, signature in list(webhooks)) if event]


def wait_for_event(webhooks, event_type, seconds=10):
    deadline = time.time() + seconds
    while time.time() < deadline:
        found = [event for event in events_of(webhooks) if event.type == event_type]
        if found:
            time.sleep(1.5)  # a second one, were it sent, would arrive by now
            return found[0]
        time.sleep(0.1)
    raise AssertionError(f"no {event_type} from localstripe")
