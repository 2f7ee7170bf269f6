"""The Stripe adapter: the one module that talks to Stripe. stripe is imported lazily (cold start).
Every call first waits its turn in the account's shared budget (chalicelib/stripe_budget.py); a
429 from Stripe takes the next turn instead of giving anything up."""
from __future__ import annotations

import functools
import random
import time
from dataclasses import dataclass

from chalicelib import config, secrets, stripe_budget
from chalicelib.domain import Conflict, InvalidSignature, PaymentsBusy, PaymentsUnavailable, PayRequest, pseudonym
from chalicelib.stripe_budget import CANCEL, CONFIRM, REFUND

# Stripe event types tapcard acts on, mapped to what they mean for an order.
PAYMENT_SUCCEEDED = "payment_intent.succeeded"
PAYMENT_FAILED = "payment_intent.payment_failed"
PAYMENT_CANCELED = "payment_intent.canceled"
# A manual-capture payment (group buying) was authorised after the pay call (3-D Secure).
PAYMENT_AUTHORISED = "payment_intent.amount_capturable_updated"
# A charge's money went back (our refund, or one made in Stripe's dashboard, in full or in part),
# and a buyer's bank disputing a payment.
CHARGE_REFUNDED = "charge.refunded"
DISPUTE_CREATED = "charge.dispute.created"
HANDLED_EVENTS = (PAYMENT_SUCCEEDED, PAYMENT_FAILED, PAYMENT_CANCELED, PAYMENT_AUTHORISED, CHARGE_REFUNDED,
                  DISPUTE_CREATED)

# What a pay call came to (the contract's `status`), from the PaymentIntent's status. AUTHORIZED:
# a group order's money is set aside (manual capture) until its group is complete.
SUCCEEDED, REQUIRES_ACTION, PROCESSING, FAILED = "succeeded", "requires_action", "processing", "failed"
AUTHORIZED = "authorized"
_OUTCOME_OF = {"succeeded": SUCCEEDED, "requires_action": REQUIRES_ACTION, "processing": PROCESSING,
               "requires_capture": AUTHORIZED}

UNAVAILABLE_MESSAGE = "Payments are unavailable right now; please try again."


@dataclass(frozen=True)
class PaymentIntent:
    id: str
    client_secret: str


@dataclass(frozen=True)
class Received:
    """What a PaymentIntent took, as Stripe reports it: `amount_received` in minor units and the
    currency in Stripe's lower case."""
    payment_intent_id: str
    amount: int
    currency: str


@dataclass(frozen=True)
class PayResult:
    status: str
    payment_intent_id: str | None = None
    client_secret: str | None = None
    reason: str | None = None
    received: Received | None = None  # when it succeeded
    payer_ids: tuple[str, ...] = ()  # who paid: the card's fingerprint, the billing email


@dataclass(frozen=True)
class PaymentEvent:
    event_id: str
    type: str
    payment_intent_id: str
    order_id: str | None
    payment_method_id: str | None = None
    amount_received: int = 0
    currency: str = ""
    amount_capturable: int = 0  # what an authorised (not yet captured) payment set aside
    # charge.refunded: what the charge took and what went back so far, whether all of it did, and
    # the latest refund's id when the event carries it; charge.dispute.created: the amount
    # disputed and the bank's reason.
    amount: int = 0
    amount_refunded: int = 0
    refunded: bool = False
    refund_id: str | None = None
    dispute_reason: str | None = None

    @property
    def received(self) -> Received:
        return Received(self.payment_intent_id, self.amount_received, self.currency)


@functools.lru_cache(maxsize=1)
def get_client():
    import stripe

    base = {"api": config.STRIPE_API_BASE} if config.STRIPE_API_BASE else None
    # The SDK retries connection errors and 409s (with the same idempotency key); 429s come back
    # to _call, which waits for the budget's next turn.
    return stripe.StripeClient(secrets.get("STRIPE_SECRET_KEY"), base_addresses=base, max_network_retries=2)


def _call(priority: str, request, deadline: float | None = None):
    """One request to Stripe in its turn. Raises PaymentsBusy when no turn comes within the
    priority's patience (or before deadline), PaymentsUnavailable when Stripe is down."""
    import stripe

    deadline = min(deadline or float("inf"), time.time() + stripe_budget.patience(priority))
    for attempt in range(8):
        stripe_budget.wait_turn(priority, deadline)
        try:
            return request()
        except stripe.RateLimitError:
            if config.STRIPE_RATE_LIMIT <= 0:  # no shared budget to queue in: back off a little
                time.sleep(random.uniform(0, 0.1 * 2**attempt))
            if time.time() >= deadline:
                break
        except (stripe.APIConnectionError, stripe.APIError) as error:
            raise PaymentsUnavailable(UNAVAILABLE_MESSAGE) from error
    raise PaymentsBusy(stripe_budget.BUSY_MESSAGE, retry_after=2)


def pay(order_id: str, card_id: str, amount: int, currency: str, attempt: int, method: PayRequest,
        deadline: float, capture_later: bool = False) -> PayResult:
    """Create and confirm the order's PaymentIntent in one call. A decline or a token Stripe
    refuses is FAILED with Stripe's reason; nothing was charged. capture_later (a group order):
    the payment is only authorised (AUTHORIZED, `received` is what it set aside) until capture()."""
    import stripe

    params = {
        "amount": amount, "currency": currency.lower(), "confirm": True,
        "metadata": {"order_id": order_id, "card_id": card_id},
    }
    if capture_later:
        params["capture_method"] = "manual"
    if method.confirmation_token:
        params["confirmation_token"] = method.confirmation_token
    else:
        params["payment_method"] = method.payment_method
    if config.STRIPE_PAYMENT_METHOD_TYPES:
        params["payment_method_types"] = config.STRIPE_PAYMENT_METHOD_TYPES
    params["expand"] = ["payment_method"]  # who paid comes back with the payment: no second request
    # One key per attempt: a doubled request is one payment; a new attempt (another card) is new.
    options = {"idempotency_key": f"pay-{order_id}-{attempt}"}
    try:
        intent = _call(CONFIRM, lambda: get_client().v1.payment_intents.create(params, options), deadline)
    except stripe.CardError as error:
        intent_id = ((error.json_body or {}).get("error", {}).get("payment_intent") or {}).get("id")
        return PayResult(FAILED, intent_id, reason=error.user_message or "Your card was declined.")
    except stripe.InvalidRequestError as error:
        return PayResult(FAILED, reason=error.user_message or "This payment could not be made.")
    outcome = _OUTCOME_OF.get(intent.status, FAILED)
    return PayResult(outcome, intent.id, intent.client_secret if outcome == REQUIRES_ACTION else None,
                     None if outcome != FAILED else "The payment did not go through.",
                     *_paid_by(intent.to_dict()))


def payer_identities_of(method: PayRequest, deadline: float) -> tuple[str, ...]:
    """Who is about to pay, before anything is charged: the card's fingerprint and the billing
    email, from the ConfirmationToken's preview (or the payment method itself)."""
    client = get_client().v1
    if method.confirmation_token:
        token = _call(CONFIRM, lambda: client.confirmation_tokens.retrieve(method.confirmation_token), deadline)
        preview = token.to_dict().get("payment_method_preview") or {}
    else:
        preview = _call(CONFIRM, lambda: client.payment_methods.retrieve(method.payment_method), deadline).to_dict()
    return _identities(preview)


def payer_identities(payment_method_id: str | None) -> tuple[str, ...]:
    """Who paid, as Stripe knows them (an asynchronous payment settled by its webhook)."""
    if not payment_method_id:
        return ()
    return _identities(_call(CONFIRM, lambda: get_client().v1.payment_methods.retrieve(payment_method_id)).to_dict())


def retrieve_paid(payment_intent_id: str) -> tuple[Received, tuple[str, ...]]:
    """What a PaymentIntent whose settlement was missed took, and who paid it (the sweeper finds
    it paid): one request."""
    intent = _call(CONFIRM, lambda: get_client().v1.payment_intents.retrieve(
        payment_intent_id, {"expand": ["payment_method"]}))
    return _paid_by(intent.to_dict())


def _paid_by(intent: dict) -> tuple[Received, tuple[str, ...]]:
    """What the intent took (or, authorised only, set aside), and who paid it when its payment
    method came expanded."""
    taken = intent.get("amount_capturable") if intent.get("status") == "requires_capture" else intent.get("amount_received")
    received = Received(intent["id"], int(taken or 0), intent.get("currency") or "")
    method = intent.get("payment_method")
    return received, _identities(method) if isinstance(method, dict) else ()


def _identities(method: dict) -> tuple[str, ...]:
    """The card's fingerprint and the billing email, each kept only as a keyed hash."""
    identities = []
    fingerprint = (method.get("card") or {}).get("fingerprint")
    if fingerprint:
        identities.append(f"card:{pseudonym(secrets.get('ORDER_TOKEN_SECRET'), fingerprint)}")
    email = (method.get("billing_details") or {}).get("email")
    if email:
        identities.append(f"email:{pseudonym(secrets.get('ORDER_TOKEN_SECRET'), email.strip().lower())}")
    return tuple(identities)


def cancel_payment_intent(payment_intent_id: str) -> str:
    """Cancel so a late confirm cannot charge; returns the intent's status afterwards (an intent
    that already succeeded or is processing cannot be canceled and says so). Lowest priority:
    raises PaymentsBusy when buyers are paying; the sweeper tries again on its next run."""
    import stripe

    intents = get_client().v1.payment_intents
    try:
        return _call(CANCEL, lambda: intents.cancel(payment_intent_id)).status
    except stripe.InvalidRequestError:
        return _call(CANCEL, lambda: intents.retrieve(payment_intent_id)).status


def capture(payment_intent_id: str) -> Received | None:
    """Take the money an authorised payment set aside (a complete group); what it took, or None
    when it cannot be taken (the authorisation was canceled or ran out): nothing was charged.
    Asked again for an intent already captured, it answers what that capture took."""
    import stripe

    intents = get_client().v1.payment_intents
    try:
        intent = _call(CONFIRM, lambda: intents.capture(payment_intent_id, {},
                                                        {"idempotency_key": f"capture-{payment_intent_id}"}))
    except (stripe.InvalidRequestError, stripe.CardError):
        intent = _call(CONFIRM, lambda: intents.retrieve(payment_intent_id))
    if intent.status != "succeeded":
        return None
    return Received(intent.id, int(intent.to_dict().get("amount_received") or 0), intent.currency or "")


def refund(payment_intent_id: str, order_id: str, priority: str = REFUND) -> str:
    """Give a payment back. A seller's refund waits behind buyers paying; money taken for goods
    that are gone goes back at a payment's own priority (CONFIRM): it is part of settling one.
    The idempotency key comes from the order and its payment, so a retry gets the same refund;
    past Stripe's 24 h of keys, a payment already refunded in full answers with its refund."""
    import stripe

    try:
        refund_obj = _call(priority, lambda: get_client().v1.refunds.create(
            {"payment_intent": payment_intent_id, "metadata": {"order_id": order_id}},
            {"idempotency_key": f"refund-{order_id}-{payment_intent_id}"},
        ))
    except stripe.InvalidRequestError as error:
        if error.code == "charge_already_refunded":
            return latest_refund(payment_intent_id)
        # Refused for good (a disputed charge, say): nothing went back, and asking again won't help.
        raise Conflict(f"Stripe refused this refund: {error.user_message or error.code}", "order_id") from error
    return refund_obj.id


def latest_refund(payment_intent_id: str) -> str:
    """The id of the payment's latest refund (one made in Stripe's dashboard, or ours)."""
    found = _call(REFUND, lambda: get_client().v1.refunds.list({"payment_intent": payment_intent_id, "limit": 1}))
    return found.data[0].id


def order_id_of(payment_intent_id: str) -> str | None:
    """The order a PaymentIntent pays (its metadata), for events that carry no metadata of ours."""
    intent = _call(REFUND, lambda: get_client().v1.payment_intents.retrieve(payment_intent_id))
    return (intent.to_dict().get("metadata") or {}).get("order_id")


def create_payment_intent(order_id: str, card_id: str, amount: int, currency: str) -> PaymentIntent:
    """The design before the pay call (a PaymentIntent opened by the tap itself, outside the
    budget): kept for the dev stage's benchmark comparison only (checkout.STRIPE_AT_TAP)."""
    import stripe

    params = {"amount": amount, "currency": currency.lower(), "metadata": {"order_id": order_id, "card_id": card_id}}
    if config.STRIPE_PAYMENT_METHOD_TYPES:
        params["payment_method_types"] = config.STRIPE_PAYMENT_METHOD_TYPES
    for attempt in range(3):
        try:
            intent = get_client().v1.payment_intents.create(params, {"idempotency_key": f"pi-{order_id}"})
            return PaymentIntent(id=intent.id, client_secret=intent.client_secret)
        except (stripe.RateLimitError, stripe.APIConnectionError):
            time.sleep(random.uniform(0, 0.2 * 2**attempt))
        except stripe.APIError as error:
            raise PaymentsUnavailable(UNAVAILABLE_MESSAGE) from error
    raise PaymentsUnavailable(UNAVAILABLE_MESSAGE)


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
    obj = event.data.object.to_dict()
    if event.type == CHARGE_REFUNDED:
        refunds = (obj.get("refunds") or {}).get("data") or []  # left out by API versions since 2022-11-15
        return PaymentEvent(
            event_id=event.id, type=event.type, payment_intent_id=obj.get("payment_intent") or "",
            order_id=(obj.get("metadata") or {}).get("order_id"), currency=obj.get("currency") or "",
            amount=int(obj.get("amount") or 0), amount_refunded=int(obj.get("amount_refunded") or 0),
            refunded=bool(obj.get("refunded")), refund_id=refunds[0]["id"] if refunds else None)
    if event.type == DISPUTE_CREATED:
        return PaymentEvent(
            event_id=event.id, type=event.type, payment_intent_id=obj.get("payment_intent") or "",
            order_id=None, currency=obj.get("currency") or "", amount=int(obj.get("amount") or 0),
            dispute_reason=obj.get("reason") or "general")
    metadata = obj.get("metadata") or {}
    return PaymentEvent(
        event_id=event.id,
        type=event.type,
        payment_intent_id=obj["id"],
        order_id=metadata.get("order_id"),
        payment_method_id=obj.get("payment_method"),
        amount_received=int(obj.get("amount_received") or 0),
        currency=obj.get("currency") or "",
        amount_capturable=int(obj.get("amount_capturable") or 0),
    )
