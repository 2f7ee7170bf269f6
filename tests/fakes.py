"""Test doubles shared by the integration and functional tiers.

FakeStripe replaces the Stripe adapter (chalicelib.payments) at its boundary: the functions that
would call Stripe (create_payment_intent, cancel_payment_intent, refund, pay_with_test_card,
payer_identities) are swapped for recorders. Webhook verification (payments.parse_webhook) is
NOT faked: tests send it bodies signed exactly the way Stripe signs them (see signed_webhook).
"""
from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from chalicelib import payments
from chalicelib.domain import PaymentsUnavailable

# Must match STRIPE_WEBHOOK_SECRET in tests/conftest.py.
WEBHOOK_SECRET = "whsec_test_secret"

_ids = itertools.count(1)


def _next(prefix: str) -> str:
    return f"{prefix}_{next(_ids):06d}fake"


@dataclass
class Call:
    name: str
    args: tuple


@dataclass
class FakeStripe:
    """Records every call; `unavailable` names the functions that answer like Stripe being down."""

    calls: list[Call] = field(default_factory=list)
    intents: dict[str, dict] = field(default_factory=dict)
    unavailable: set[str] = field(default_factory=set)
    # What Stripe says an intent's status is after a cancel request.
    cancel_status: str = "canceled"
    # Who paid with each payment method (card fingerprint, email), as payer_identities reports it.
    payers: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def install(self, monkeypatch) -> "FakeStripe":
        monkeypatch.setattr(payments, "create_payment_intent", self.create_payment_intent)
        monkeypatch.setattr(payments, "cancel_payment_intent", self.cancel_payment_intent)
        monkeypatch.setattr(payments, "refund", self.refund)
        monkeypatch.setattr(payments, "pay_with_test_card", self.pay_with_test_card)
        if hasattr(payments, "payer_identities"):
            monkeypatch.setattr(payments, "payer_identities", self.payer_identities)
        return self

    def _record(self, name: str, *args) -> None:
        self.calls.append(Call(name, args))
        if name in self.unavailable:
            raise PaymentsUnavailable("Payments are unavailable right now; please try again.")

    def calls_to(self, name: str) -> list[tuple]:
        return [call.args for call in self.calls if call.name == name]

    # --- the adapter's functions ----------------------------------------------------------

    def create_payment_intent(self, order_id: str, card_id: str, amount: int, currency: str, attempt: int = 0):
        self._record("create_payment_intent", order_id, card_id, amount, currency)
        intent_id = _next("pi")
        self.intents[intent_id] = {"order_id": order_id, "amount": amount, "currency": currency,
                                   "status": "requires_payment_method"}
        return payments.PaymentIntent(id=intent_id, client_secret=f"{intent_id}_secret_fake")

    def cancel_payment_intent(self, payment_intent_id: str) -> str:
        self._record("cancel_payment_intent", payment_intent_id)
        if payment_intent_id in self.intents:
            self.intents[payment_intent_id]["status"] = self.cancel_status
        return self.cancel_status

    def refund(self, payment_intent_id: str, order_id: str) -> str:
        self._record("refund", payment_intent_id, order_id)
        return _next("re")

    def pay_with_test_card(self, payment_intent_id: str, outcome: str) -> None:
        self._record("pay_with_test_card", payment_intent_id, outcome)

    def payer_identities(self, payment_method_id: str | None) -> tuple[str, ...]:
        self._record("payer_identities", payment_method_id)
        return self.payers.get(payment_method_id, ()) if payment_method_id else ()


EVENTS = Path(__file__).parent / "events"


def load_event(name: str) -> dict:
    """A saved real-shaped event payload from tests/events/."""
    return json.loads((EVENTS / name).read_text())


def stripe_event(event_type: str, payment_intent_id: str, order_id: str | None,
                 event_id: str | None = None, created: int | None = None) -> dict:
    """A Stripe event about a PaymentIntent, in the shape Stripe posts it (from tests/events/)."""
    template = ("stripe_payment_intent_payment_failed.json" if event_type == "payment_intent.payment_failed"
                else "stripe_payment_intent_succeeded.json")
    event = load_event(template)
    event["id"] = event_id or _next("evt")
    event["type"] = event_type
    event["created"] = int(time.time()) if created is None else created
    intent = event["data"]["object"]
    intent["id"] = payment_intent_id
    intent["client_secret"] = f"{payment_intent_id}_secret_fake"
    if event_type == "payment_intent.canceled":
        intent.update(status="canceled", amount_received=0, latest_charge=None, cancellation_reason="abandoned")
    if order_id is None:
        intent["metadata"] = {}
    else:
        intent["metadata"]["order_id"] = order_id
    return event


def stripe_signature(payload: str, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """The Stripe-Signature header: t=<ts>,v1=<hex HMAC-SHA256 of '<ts>.<payload>'>."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def signed_webhook(event: dict, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> tuple[str, dict]:
    """(body, headers) of a webhook delivery, signed like Stripe signs it."""
    body = json.dumps(event)
    return body, {
        "Content-Type": "application/json; charset=utf-8",
        "Stripe-Signature": stripe_signature(body, secret, timestamp),
        "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
    }
