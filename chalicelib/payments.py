"""The Stripe adapter: the one module that talks to Stripe. stripe is imported lazily (cold start)."""
from __future__ import annotations

import functools
import random
import time
from dataclasses import dataclass

from chalicelib import config, secrets
from chalicelib.domain import InvalidSignature, PaymentsUnavailable

# Stripe event types tapcard acts on, mapped to what they mean for an order.
PAYMENT_SUCCEEDED = "payment_intent.succeeded"
PAYMENT_FAILED = "payment_intent.payment_failed"
PAYMENT_CANCELED = "payment_intent.canceled"
HANDLED_EVENTS = (PAYMENT_SUCCEEDED, PAYMENT_FAILED, PAYMENT_CANCELED)

# Stripe test payment methods the dev-only payment sheet may use.
TEST_CARDS = {"success": "pm_card_visa", "decline": "pm_card_chargeCustomerFail"}


@dataclass(frozen=True)
class PaymentIntent:
    id: str
    client_secret: str


@dataclass(frozen=True)
class PaymentEvent:
    event_id: str
    type: str
    payment_intent_id: str
    order_id: str | None
    payment_method_id: str | None = None


@functools.lru_cache(maxsize=1)
def get_client():
    import stripe

    base = {"api": config.STRIPE_API_BASE} if config.STRIPE_API_BASE else None
    # The SDK retries connection errors, 409s and 429s that Stripe marks retryable, with backoff.
    return stripe.StripeClient(secrets.get("STRIPE_SECRET_KEY"), base_addresses=base, max_network_retries=3)


def _with_retries(call, attempts: int = 3):
    """Retry what the SDK gave up on (rate limits, outages) a little longer, then say so."""
    import stripe

    for attempt in range(attempts):
        try:
            return call()
        except (stripe.RateLimitError, stripe.APIConnectionError) as error:
            if attempt == attempts - 1:
                raise PaymentsUnavailable("Payments are unavailable right now; please try again.") from error
            time.sleep(random.uniform(0, 0.2 * 2**attempt))
        except stripe.APIError as error:
            raise PaymentsUnavailable("Payments are unavailable right now; please try again.") from error


def create_payment_intent(order_id: str, card_id: str, amount: int, currency: str,
                          attempt: int = 0) -> PaymentIntent:
    params = {
        "amount": amount,
        "currency": currency.lower(),
        "metadata": {"order_id": order_id, "card_id": card_id},
    }
    if config.STRIPE_PAYMENT_METHOD_TYPES:
        params["payment_method_types"] = config.STRIPE_PAYMENT_METHOD_TYPES
    # The order id as idempotency key: a retried or doubled checkout gets the same intent.
    key = f"pi-{order_id}" if attempt == 0 else f"pi-{order_id}-{attempt}"
    intent = _with_retries(lambda: get_client().v1.payment_intents.create(params, {"idempotency_key": key}))
    return PaymentIntent(id=intent.id, client_secret=intent.client_secret)


def cancel_payment_intent(payment_intent_id: str) -> str:
    """Cancel so a late confirm cannot charge; returns the intent's status afterwards (an intent
    that already succeeded or is processing cannot be canceled and says so)."""
    import stripe

    intents = get_client().v1.payment_intents
    try:
        return _with_retries(lambda: intents.cancel(payment_intent_id)).status
    except stripe.InvalidRequestError:
        return _with_retries(lambda: intents.retrieve(payment_intent_id)).status


def refund(payment_intent_id: str, order_id: str) -> str:
    refund_obj = _with_retries(
        lambda: get_client().v1.refunds.create(
            {"payment_intent": payment_intent_id, "metadata": {"order_id": order_id}},
            {"idempotency_key": f"refund-{order_id}"},
        )
    )
    return refund_obj.id


def parse_webhook(raw_body: bytes, signature_header: str | None) -> PaymentEvent | None:
    """Verify the signature against the raw body; None for event types tapcard ignores."""
    import stripe

    secret = secrets.get("STRIPE_WEBHOOK_SECRET")
    if not secret:
        raise InvalidSignature("The webhook secret is not configured.")
    try:
        event = get_client().construct_event(raw_body, signature_header or "", secret)
    except (stripe.SignatureVerificationError, ValueError):
        raise InvalidSignature("The Stripe signature does not match this body.") from None
    if event.type not in HANDLED_EVENTS:
        return None
    intent = event.data.object.to_dict()
    metadata = intent.get("metadata") or {}
    return PaymentEvent(
        event_id=event.id,
        type=event.type,
        payment_intent_id=intent["id"],
        order_id=metadata.get("order_id"),
        payment_method_id=intent.get("payment_method"),
    )


def payer_identities(payment_method_id: str | None) -> tuple[str, ...]:
    """Who paid, as Stripe knows them: the card's fingerprint and the billing email."""
    if not payment_method_id:
        return ()
    method = _with_retries(lambda: get_client().v1.payment_methods.retrieve(payment_method_id)).to_dict()
    identities = []
    fingerprint = (method.get("card") or {}).get("fingerprint")
    if fingerprint:
        identities.append(f"card:{fingerprint}")
    email = (method.get("billing_details") or {}).get("email")
    if email:
        identities.append(f"email:{email.strip().lower()}")
    return tuple(identities)


def pay_with_test_card(payment_intent_id: str, outcome: str) -> None:
    """Dev stage only: what a buyer's card entry does, done from the server (localstripe's way)."""
    import stripe

    intents = get_client().v1.payment_intents
    intents.update(payment_intent_id, {"payment_method": TEST_CARDS[outcome]})
    try:
        intents.confirm(payment_intent_id)
    except stripe.CardError:
        pass  # a decline: Stripe sends payment_intent.payment_failed
