"""Orders: their statuses and the moves between them, what a tap asks for, and the identifiers
derived from it. Plain Python."""
from __future__ import annotations

import hmac
import re
from dataclasses import dataclass, field
from typing import Any

from chalicelib.domain.cards import MAX_QUANTITY
from chalicelib.domain.clients import digest
from chalicelib.domain.errors import AmountMismatch, InvalidRequest
from chalicelib.domain.fields import REF_PATTERN, TOKEN_PATTERN, int_field, require, text_field

__all__ = ["HELD", "PAID", "EXPIRED", "REFUNDED", "CANCELED", "ORDER_STATUSES", "ORDER_TRANSITIONS",
           "NOT_RESTOCKED", "transition", "Order", "CheckoutRequest", "checkout_request_from",
           "order_id_for", "order_token", "token_matches", "referral_code_for", "PayRequest", "pay_request_from",
           "pays_for"]

# Order statuses; a held order is the only one that still owns stock it has not paid for.
HELD, PAID, EXPIRED, REFUNDED, CANCELED = "held", "paid", "expired", "refunded", "canceled"
ORDER_STATUSES = (HELD, PAID, EXPIRED, REFUNDED, CANCELED)

# Every move an order may make, and where its units go between a stock shard's counters
# (available, held, sold); None: they stay where they are. The store builds each conditional
# write from this table: an order moves only from a status listed here for its target.
ORDER_TRANSITIONS: dict[tuple[str, str], tuple[str, str] | None] = {
    (HELD, PAID): ("held", "sold"),            # paid in time
    (HELD, EXPIRED): ("held", "available"),    # the hold ran out unpaid
    (HELD, CANCELED): ("held", "available"),   # its PaymentIntent was canceled; Stripe was down at the tap
    (HELD, REFUNDED): ("held", "available"),   # paid past the per-buyer limit: the money goes back
    (EXPIRED, PAID): ("available", "sold"),    # paid after the hold ended, while stock was left
    (CANCELED, PAID): ("available", "sold"),
    (EXPIRED, REFUNDED): None,                 # paid after the hold ended, nothing left: money back
    (CANCELED, REFUNDED): None,
    (PAID, REFUNDED): ("sold", "available"),   # the seller refunds and the units go back on sale
}
# The seller refunds units that do not come back (damaged, kept by the buyer): they leave the stock.
NOT_RESTOCKED = ("sold", None)


def transition(sources: tuple[str, ...], target: str) -> tuple[str, str] | None:
    """The unit move of a change from any of sources to target; every pair must be allowed."""
    moves = set()
    for source in sources:
        if (source, target) not in ORDER_TRANSITIONS:
            raise ValueError(f"an order never moves from {source} to {target}")
        moves.add(ORDER_TRANSITIONS[(source, target)])
    if len(moves) != 1:
        raise ValueError(f"moves to {target} from {sources} do not move units alike")
    return moves.pop()



@dataclass
class Order:
    """One buyer's tap on one card: its units, what it costs, and where it is in its life."""
    order_id: str
    card_id: str
    buyer: str
    quantity: int
    amount: int
    currency: str
    status: str
    created_at: int
    expires_at: int
    seller_id: str = ""
    # Units taken from each stock shard.
    stock_take: dict[int, int] = field(default_factory=dict)
    payment_intent_id: str | None = None
    client_secret: str | None = None
    ref: str | None = None
    referral_code: str | None = None
    status_reason: str | None = None
    refund_id: str | None = None
    # What the tap asked for; the same Idempotency-Key with another body is refused.
    request_fingerprint: str | None = None
    counted: bool = False
    payment_attempt: int = 0
    paying_until: int | None = None
    # How the automatic share names the buyer: their name unless anonymous, else their city.
    display_name: str | None = None
    anonymous: bool = False
    city: str | None = None
    reservation_id: str | None = None
    country: str | None = None
    payer_ids: tuple[str, ...] = ()
    # The client (a keyed hash of its address) whose open holds count this order while it is held.
    client: str | None = None
    fulfilled_at: int | None = None
    carrier: str | None = None
    tracking_number: str | None = None
    # Where the goods ship, sealed (encrypted JSON: chalicelib/shipping.py); None until given.
    shipping_address: str | None = None
    # The discount priced into amount (domain/offers.py): "code" or "referral", and the code.
    code: str | None = None
    discount_kind: str | None = None
    discount_amount: int = 0
    review_key: str | None = None  # its buyer's review, once written
    # Group buying (domain/groups.py): the group it joined, and when its payment was authorised.
    group_id: str | None = None
    authorised_at: int | None = None
    # Money given back so far (minor units): a partial refund made in Stripe's dashboard keeps the
    # order paid; a full one refunds it.
    amount_refunded: int = 0
    # While the seller's refund is under way (its choice of restock), until the order is refunded:
    # a crash between Stripe and our write leaves this for a retry, the webhook or the sweeper.
    refund_restock: bool | None = None
    # The buyer's bank disputed the payment (charge.dispute.created): Stripe's reason and when.
    dispute_reason: str | None = None
    disputed_at: int | None = None


@dataclass
class CheckoutRequest:
    """A checkout body, checked: what the buyer asks to hold."""
    quantity: int
    buyer: str
    ref: str | None
    display_name: str | None = None
    anonymous: bool = False
    reservation_token: str | None = None
    code: str | None = None

    @property
    def fingerprint(self) -> str:
        base = f"{self.quantity}|{self.ref or ''}"
        return f"{base}|{self.code}" if self.code else base


def checkout_request_from(payload: Any, idempotency_key: str | None) -> tuple[CheckoutRequest, str]:
    if not idempotency_key or not TOKEN_PATTERN.match(idempotency_key):
        raise InvalidRequest(
            "The 'Idempotency-Key' header is required: 8 to 128 letters, digits, '-', '_' or '.'.",
            "Idempotency-Key",
        )
    if not isinstance(payload, dict):
        raise InvalidRequest("The body must be a JSON object.")
    quantity = int_field(require(payload, "quantity"), "quantity", 1, MAX_QUANTITY)
    buyer = require(payload, "buyer")
    if not isinstance(buyer, str) or not TOKEN_PATTERN.match(buyer):
        raise InvalidRequest("'buyer' must be a token of 8 to 128 letters, digits, '-', '_' or '.'.", "buyer")
    # A referral code that cannot be one is ignored, like an unknown one: never the buyer's problem.
    ref = payload.get("ref")
    if not isinstance(ref, str) or not REF_PATTERN.match(ref):
        ref = None
    name = payload.get("name")
    if name is not None:
        name = text_field(name, "name", 40, required=False) or None
    anonymous = payload.get("anonymous", False)
    if not isinstance(anonymous, bool):
        raise InvalidRequest("'anonymous' must be true or false.", "anonymous")
    reservation = payload.get("reservation")
    if reservation is not None and (not isinstance(reservation, str) or not TOKEN_PATTERN.match(reservation)):
        raise InvalidRequest("'reservation' must be the token the reservation returned.", "reservation")
    code = payload.get("code")
    if "code" in payload and not isinstance(code, str):  # null too: openapi.json says text or absent
        raise InvalidRequest("'code' must be text.", "code")
    if isinstance(code, str):
        # A code that cannot be one is still the buyer's typo: checkout answers it code_invalid.
        code = code.strip().upper()[:64] or None
    return CheckoutRequest(quantity=quantity, buyer=buyer, ref=ref, display_name=name, anonymous=anonymous,
                           reservation_token=reservation, code=code), idempotency_key


# --- identifiers ----------------------------------------------------------------------------


def order_id_for(card_id: str, buyer: str, idempotency_key: str) -> str:
    """The same tap (card, buyer, Idempotency-Key) always names the same order."""
    return "ord_" + digest("order-id", card_id, buyer, idempotency_key)[:24]


def order_token(secret: str, order_id: str) -> str:
    """The buyer's proof of owning an order, derived so it needs no storage."""
    return digest(secret, "order-token", order_id)[:32]


def token_matches(secret: str, order_id: str, token: Any) -> bool:
    return (isinstance(token, str) and token.isascii()
            and hmac.compare_digest(order_token(secret, order_id), token))


def referral_code_for(order_id: str) -> str:
    return digest("referral", order_id)[:10]


# --- the pay call -----------------------------------------------------------------------------

_CONFIRMATION_TOKEN = re.compile(r"^ctoken_[A-Za-z0-9_]{1,200}\Z")
_PAYMENT_METHOD = re.compile(r"^pm_[A-Za-z0-9_]{1,200}\Z")


@dataclass(frozen=True)
class PayRequest:
    """How the buyer pays: a ConfirmationToken from Stripe.js, or (dev stage) a test payment method."""
    confirmation_token: str | None = None
    payment_method: str | None = None


def pay_request_from(payload: Any, order: Order, test_methods_allowed: bool) -> PayRequest:
    """The body of POST /orders/{id}/pay. An amount or currency the card showed the buyer that is
    not the order's is refused before anything is charged."""
    if not isinstance(payload, dict):
        raise InvalidRequest("The body must be a JSON object.")
    token, method = payload.get("confirmation_token"), payload.get("payment_method")
    if (token is None) == (method is None):
        raise InvalidRequest("Send 'confirmation_token', the id Stripe.js gave the payment form.", "confirmation_token")
    if token is not None and not (isinstance(token, str) and _CONFIRMATION_TOKEN.match(token)):
        raise InvalidRequest("'confirmation_token' is not a Stripe ConfirmationToken id (ctoken_...).",
                             "confirmation_token")
    if method is not None:
        if not test_methods_allowed:
            raise InvalidRequest("'payment_method' is taken on the dev stage only; send 'confirmation_token'.",
                                 "payment_method")
        if not (isinstance(method, str) and _PAYMENT_METHOD.match(method)):
            raise InvalidRequest("'payment_method' is not a Stripe payment method id (pm_...).", "payment_method")
    amount, currency = payload.get("amount", order.amount), payload.get("currency", order.currency)
    if isinstance(amount, bool) or amount != order.amount or not isinstance(currency, str) or currency.upper() != order.currency.upper():
        raise AmountMismatch(f"This order is {order.amount} {order.currency} (in minor units); "
                             "the payment form was set up for another amount. Nothing was charged.")
    return PayRequest(confirmation_token=token, payment_method=method)


def pays_for(order: Order, amount_received: int, currency: str) -> bool:
    """Whether money a payment took is exactly the order's price. Both count in minor units (as
    Stripe does); Stripe writes the currency in lower case, the order in ISO 4217's upper case."""
    return amount_received == order.amount and currency.upper() == order.currency.upper()
