"""Test doubles shared by the integration and functional tiers.

FakeStripe replaces the Stripe adapter (chalicelib.payments) at its boundary: the functions that
would call Stripe (pay, payer_identities_of, payer_identities, retrieve_paid, cancel_payment_intent,
capture, refund, and create_payment_intent for the dev benchmark's STRIPE_AT_TAP baseline) are swapped for
recorders that keep the PaymentIntents they made, so a test can say where money went. Webhook verification
(payments.parse_webhook) is NOT faked: tests send it bodies signed exactly the way Stripe signs
them (see signed_webhook).
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
from chalicelib.domain import PaymentsBusy, PaymentsUnavailable

# Must match STRIPE_WEBHOOK_SECRET in tests/conftest.py.
WEBHOOK_SECRET = "whsec_test_secret"

# Stripe's own test payment methods, and what paying with each comes to in FakeStripe.
CARD_OK = "pm_card_visa"
CARD_DECLINED = "pm_card_chargeDeclined"
CARD_3DS = "pm_card_authenticationRequired"
BANK_DEBIT = "pm_sepa_debit_processing"
OUTCOMES = {CARD_OK: "succeeded", CARD_DECLINED: "failed", CARD_3DS: "requires_action", BANK_DEBIT: "processing"}
# What a PaymentIntent's status is at Stripe after a pay call with that outcome.
_INTENT_STATUS = {"succeeded": "succeeded", "requires_action": "requires_action", "processing": "processing",
                  "failed": "requires_payment_method"}
DECLINE_REASON = "Your card was declined."

_ids = itertools.count(1)


def _next(prefix: str) -> str:
    return f"{prefix}_{next(_ids):06d}fake"


@dataclass
class Call:
    name: str
    args: tuple


@dataclass
class FakeStripe:
    """Records every call and every PaymentIntent it made.

    - `outcomes` says what a pay call with a payment method or confirmation token comes to:
      "succeeded", "requires_action", "processing", "failed" (a decline) or "busy" (the adapter's
      budget answers PaymentsBusy, nothing sent); unknown methods succeed.
    - `unavailable` names adapter functions that answer like Stripe being down, `busy` those that
      answer PaymentsBusy (the shared budget is spent): both raise before anything is charged.
    """

    calls: list[Call] = field(default_factory=list)
    intents: dict[str, dict] = field(default_factory=dict)
    unavailable: set[str] = field(default_factory=set)
    busy: set[str] = field(default_factory=set)
    retry_after: int = 3
    outcomes: dict[str, str] = field(default_factory=lambda: dict(OUTCOMES))
    # What Stripe says a cancel request did to an intent that has not succeeded or started processing.
    cancel_status: str = "canceled"
    # Intents whose capture the card's issuer refuses (the authorisation lapsed, the card was closed).
    capture_fails: set[str] = field(default_factory=set)
    # Who pays with each payment method or confirmation token (card fingerprint, email).
    payers: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Stripe's idempotency: the intent each pay call's key made.
    _by_key: dict[str, str] = field(default_factory=dict)
    _refunds: dict[str, str] = field(default_factory=dict)  # intent -> refund id
    refund_priorities: dict[str, str] = field(default_factory=dict)  # intent -> the budget's priority

    def install(self, monkeypatch) -> "FakeStripe":
        for name in ("pay", "payer_identities_of", "payer_identities", "retrieve_paid",
                     "cancel_payment_intent", "refund", "latest_refund", "order_id_of", "create_payment_intent",
                     "capture"):
            monkeypatch.setattr(payments, name, getattr(self, name))
        return self

    def _record(self, name: str, *args) -> None:
        self.calls.append(Call(name, args))
        if name in self.busy:
            raise PaymentsBusy("Payments are busy: your unit is kept while the payment opens.", self.retry_after)
        if name in self.unavailable:
            raise PaymentsUnavailable("Payments are unavailable right now; please try again.")

    def calls_to(self, name: str) -> list[tuple]:
        return [call.args for call in self.calls if call.name == name]

    # --- where the money is -------------------------------------------------------------------

    def charged(self) -> list[str]:
        """The intents whose money Stripe took (succeeded), in the order they were made."""
        return [pi for pi, intent in self.intents.items() if intent["status"] == "succeeded"]

    def refunded(self) -> set[str]:
        """The intents whose money went back (calls refused as busy or down refunded nothing)."""
        return set(self._refunds)

    def intents_of(self, order_id: str) -> list[str]:
        return [pi for pi, intent in self.intents.items() if intent["order_id"] == order_id]

    def received(self, payment_intent_id: str) -> payments.Received:
        """What Stripe reports the intent took: its amount once it succeeded, currency in lower case."""
        intent = self.intents[payment_intent_id]
        amount = intent["amount"] if intent["status"] == "succeeded" else 0
        return payments.Received(payment_intent_id, amount, intent["currency"])

    def event(self, event_type: str, payment_intent_id: str, event_id: str) -> payments.PaymentEvent:
        """The typed webhook event Stripe would send about one of its intents now."""
        intent, received = self.intents[payment_intent_id], self.received(payment_intent_id)
        return payments.PaymentEvent(event_id, event_type, payment_intent_id, intent["order_id"],
                                     intent.get("payment_method"), received.amount, received.currency)

    def complete(self, payment_intent_id: str, status: str = "succeeded") -> bool:
        """The buyer finishes 3-D Secure (or a bank debit clears): the intent moves on, unless it
        was canceled meanwhile. Returns whether it did; the test then sends the webhook."""
        intent = self.intents[payment_intent_id]
        if intent["status"] not in ("requires_action", "processing"):
            return False
        intent["status"] = status
        return True

    # --- the adapter's functions ----------------------------------------------------------

    def authorised(self) -> list[str]:
        """The intents whose money is set aside, not taken (manual capture, not captured yet)."""
        return [pi for pi, intent in self.intents.items() if intent["status"] == "requires_capture"]

    def pay(self, order_id: str, card_id: str, amount: int, currency: str, attempt: int, method,
            deadline: float, capture_later: bool = False) -> payments.PayResult:
        paid_with = method.confirmation_token or method.payment_method
        self._record("pay", order_id, paid_with, amount, currency, attempt)
        outcome = self.outcomes.get(paid_with, "succeeded")
        if outcome == "busy":
            raise PaymentsBusy("Payments are busy: your unit is kept while the payment opens.", self.retry_after)
        key = f"pay-{order_id}-{attempt}"
        intent_id = self._by_key.get(key)
        if intent_id is None:
            intent_id = self._by_key[key] = _next("pi")
            status = _INTENT_STATUS[outcome]
            if capture_later and status == "succeeded":
                status = "requires_capture"
            self.intents[intent_id] = {"order_id": order_id, "card_id": card_id, "amount": amount,
                                       "currency": currency.lower(), "status": status,
                                       "payment_method": paid_with, "attempt": attempt}
        status = self.intents[intent_id]["status"]
        if status == "requires_capture":
            return payments.PayResult(payments.AUTHORIZED, intent_id,
                                      received=payments.Received(intent_id, amount, currency.lower()),
                                      payer_ids=self.payers.get(paid_with, ()))
        if status == "requires_payment_method":
            return payments.PayResult(payments.FAILED, intent_id, reason=DECLINE_REASON)
        secret = f"{intent_id}_secret_fake" if status == "requires_action" else None
        return payments.PayResult(status, intent_id, secret, received=self.received(intent_id),
                                  payer_ids=self.payers.get(paid_with, ()))

    def payer_identities_of(self, method, deadline: float) -> tuple[str, ...]:
        paid_with = method.confirmation_token or method.payment_method
        self._record("payer_identities_of", paid_with)
        return self.payers.get(paid_with, ())

    def payer_identities(self, payment_method_id: str | None) -> tuple[str, ...]:
        self._record("payer_identities", payment_method_id)
        return self.payers.get(payment_method_id, ()) if payment_method_id else ()

    def create_payment_intent(self, order_id: str, card_id: str, amount: int, currency: str):
        self._record("create_payment_intent", order_id, card_id, amount, currency)
        intent_id = _next("pi")
        self.intents[intent_id] = {"order_id": order_id, "card_id": card_id, "amount": amount,
                                   "currency": currency.lower(), "status": "requires_payment_method"}
        return payments.PaymentIntent(id=intent_id, client_secret=f"{intent_id}_secret_fake")

    def cancel_payment_intent(self, payment_intent_id: str) -> str:
        self._record("cancel_payment_intent", payment_intent_id)
        intent = self.intents.get(payment_intent_id)
        if intent is not None and intent["status"] in ("succeeded", "processing", "canceled"):
            return intent["status"]  # Stripe cannot cancel money that moved, and says so
        if intent is not None and self.cancel_status == "canceled":
            intent["status"] = "canceled"
        return self.cancel_status

    def retrieve_paid(self, payment_intent_id: str) -> tuple[payments.Received, tuple[str, ...]]:
        self._record("retrieve_paid", payment_intent_id)
        method = self.intents[payment_intent_id].get("payment_method")
        return self.received(payment_intent_id), self.payers.get(method, ()) if method else ()

    def capture(self, payment_intent_id: str) -> payments.Received | None:
        self._record("capture", payment_intent_id)
        intent = self.intents[payment_intent_id]
        if intent["status"] == "requires_capture" and payment_intent_id not in self.capture_fails:
            intent["status"] = "succeeded"
        return self.received(payment_intent_id) if intent["status"] == "succeeded" else None

    def refund(self, payment_intent_id: str, order_id: str, priority: str = "refund") -> str:
        self.refund_priorities[payment_intent_id] = priority
        self._record("refund", payment_intent_id, order_id)
        # The adapter's idempotency key is the order's and the intent's: asked twice, Stripe refunds once.
        return self._refunds.setdefault(payment_intent_id, f"re_{payment_intent_id}")

    def refund_in_dashboard(self, payment_intent_id: str) -> str:
        """The seller refunds in Stripe's dashboard, outside tapcard."""
        return self._refunds.setdefault(payment_intent_id, f"re_dash_{payment_intent_id}")

    def latest_refund(self, payment_intent_id: str) -> str:
        self._record("latest_refund", payment_intent_id)
        return self._refunds[payment_intent_id]

    def order_id_of(self, payment_intent_id: str) -> str | None:
        self._record("order_id_of", payment_intent_id)
        intent = self.intents.get(payment_intent_id)
        return intent["order_id"] if intent else None


EVENTS = Path(__file__).parent / "events"


def load_event(name: str) -> dict:
    """A saved real-shaped event payload from tests/events/."""
    return json.loads((EVENTS / name).read_text())


def stripe_event(event_type: str, payment_intent_id: str, order_id: str | None,
                 event_id: str | None = None, created: int | None = None,
                 payment_method: str | None = None, amount: int = 1800, currency: str = "eur") -> dict:
    """A Stripe event about a PaymentIntent, in the shape Stripe posts it (from tests/events/);
    payment_method replaces the saved one. amount is in minor units and, once succeeded, received;
    Stripe writes currency in lower case."""
    template = ("stripe_payment_intent_payment_failed.json" if event_type == "payment_intent.payment_failed"
                else "stripe_payment_intent_succeeded.json")
    event = load_event(template)
    event["id"] = event_id or _next("evt")
    event["type"] = event_type
    event["created"] = int(time.time()) if created is None else created
    intent = event["data"]["object"]
    intent["id"] = payment_intent_id
    intent["client_secret"] = f"{payment_intent_id}_secret_fake"
    if payment_method is not None:
        intent["payment_method"] = payment_method
    intent.update(amount=amount, currency=currency,
                  amount_received=amount if event_type == "payment_intent.succeeded" else 0)
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


def charge_refunded_event(payment_intent_id: str, amount: int, amount_refunded: int, order_id: str | None = None,
                          event_id: str | None = None, currency: str = "eur") -> dict:
    """Stripe's charge.refunded about the charge of a PaymentIntent (from tests/events/): Stripe
    sends it for every refund, ours or one made in its dashboard. Since API version 2022-11-15
    the charge carries no list of refunds, and its metadata is the charge's own (empty here)."""
    event = load_event("stripe_charge_refunded.json")
    event["id"] = event_id or _next("evt")
    event["created"] = int(time.time())
    charge = event["data"]["object"]
    charge.update(payment_intent=payment_intent_id, amount=amount, amount_captured=amount, currency=currency,
                  amount_refunded=amount_refunded, refunded=amount_refunded >= amount,
                  metadata={"order_id": order_id} if order_id else {})
    return event


def dispute_created_event(payment_intent_id: str, amount: int, reason: str = "fraudulent",
                          event_id: str | None = None, currency: str = "eur") -> dict:
    """Stripe's charge.dispute.created (from tests/events/): a dispute names the charge and its
    PaymentIntent, never our metadata."""
    event = load_event("stripe_charge_dispute_created.json")
    event["id"] = event_id or _next("evt")
    event["created"] = int(time.time())
    event["data"]["object"].update(payment_intent=payment_intent_id, amount=amount, reason=reason, currency=currency)
    return event
