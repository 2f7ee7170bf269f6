"""What makes a reader buy: discount codes, the referral discount, and the one function that prices
an order (the struck-through "compare at" price is a card's field: domain/cards.py). Plain Python.

`price_order` is the only place an order's amount is computed: the PaymentIntent, the webhook's
amount check, refunds and rebates all use the order's stored `amount`, which it gave.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.domain.errors import CodeExpired, CodeInvalid, CodeUsedUp, InvalidRequest
from chalicelib.domain.fields import CODE_PATTERN, MAX_AMOUNT, int_field, parse_timestamp, require

__all__ = ["MAX_CODES_PER_CARD", "MAX_REFERRAL_DISCOUNT_PERCENT", "CODE", "REFERRAL", "Code", "new_code_from_request", "normalise_code", "check_code_usable",
           "Discount", "Priced", "minimum_charge", "price_order", "best_discount", "STRIPE_MINIMUM_CHARGE",
           "NOT_RESTOCKED_REASON", "REFUNDED_IN_STRIPE", "holds_redemption"]

MAX_CODES_PER_CARD = 100
MAX_REFERRAL_DISCOUNT_PERCENT = 90
CODE, REFERRAL = "code", "referral"
# Why a paid order was refunded when its units did not go back on sale (store/orders.py writes it).
NOT_RESTOCKED_REASON = "refunded_by_seller_not_restocked"
# A full refund made in Stripe's dashboard: its units leave the stock too (chalicelib/refunds.py).
REFUNDED_IN_STRIPE = "refunded_in_stripe"

# Stripe's minimum charge per currency, in minor units (docs.stripe.com/currencies#minimum-and-
# maximum-charge-amounts); a currency not listed takes 50 minor units. A discount never takes an
# order below it (nor below its own undiscounted amount, for a card priced below it).
STRIPE_MINIMUM_CHARGE = {
    "USD": 50, "EUR": 50, "GBP": 30, "AUD": 50, "CAD": 50, "CHF": 50, "NZD": 50, "SGD": 50, "INR": 50,
    "BRL": 50, "DKK": 250, "NOK": 300, "SEK": 300, "PLN": 200, "CZK": 1500, "HUF": 17500, "HKD": 400,
    "JPY": 50, "MXN": 1000, "MYR": 200, "THB": 1000, "RON": 200, "BGN": 100, "AED": 200,
}


# --- codes ------------------------------------------------------------------------------------


@dataclass
class Code:
    """A seller's discount code for one card: what it takes off and how often it may be used."""
    card_id: str
    code: str
    percent_off: int | None = None
    amount_off: int | None = None
    max_redemptions: int | None = None
    per_buyer: int | None = None
    starts_at: int | None = None
    ends_at: int | None = None
    redeemed: int = 0
    created_at: int = 0
    deleted: bool = False


def normalise_code(value: Any) -> str | None:
    """A code as stored (upper case), or None when it cannot be one."""
    if not isinstance(value, str) or not CODE_PATTERN.match(value.strip()):
        return None
    return value.strip().upper()


def new_code_from_request(payload: Any, card_id: str, now: int) -> Code:
    if not isinstance(payload, dict):
        raise InvalidRequest("The body must be a JSON object.")
    code = normalise_code(require(payload, "code"))
    if code is None:
        raise InvalidRequest("'code' must be 3 to 32 letters, digits, '-' or '_'.", "code")
    percent, amount = payload.get("percent_off"), payload.get("amount_off")
    if (percent is None) == (amount is None):
        raise InvalidRequest("Give exactly one of 'percent_off' and 'amount_off'.", "percent_off")
    if percent is not None:
        percent = int_field(percent, "percent_off", 1, 100)
    if amount is not None:
        amount = int_field(amount, "amount_off", 1, MAX_AMOUNT)
    most = payload.get("max_redemptions")
    most = None if most is None else int_field(most, "max_redemptions", 1, 1_000_000)
    per_buyer = payload.get("per_buyer")
    per_buyer = None if per_buyer is None else int_field(per_buyer, "per_buyer", 1, 1000)
    starts_at = None if payload.get("starts_at") is None else parse_timestamp(payload["starts_at"], "starts_at")
    ends_at = None if payload.get("ends_at") is None else parse_timestamp(payload["ends_at"], "ends_at")
    if ends_at is not None and ends_at <= (starts_at if starts_at is not None else now):
        raise InvalidRequest("'ends_at' must be after the code starts (and in the future).", "ends_at")
    return Code(card_id=card_id, code=code, percent_off=percent, amount_off=amount, max_redemptions=most,
                per_buyer=per_buyer, starts_at=starts_at, ends_at=ends_at, created_at=now)


def check_code_usable(code: Code | None, now: int) -> Code:
    """The code, if a buyer may use it now: unknown, removed and not-yet-valid codes all answer
    code_invalid; the hold's transaction makes the final count against max_redemptions."""
    if code is None or code.deleted or (code.starts_at is not None and now < code.starts_at):
        raise CodeInvalid("This code is not valid for this item.")
    if code.ends_at is not None and now >= code.ends_at:
        raise CodeExpired("This code has expired.")
    if code.max_redemptions is not None and code.redeemed >= code.max_redemptions:
        raise CodeUsedUp("This code has been used up.")
    return code


# --- pricing an order -------------------------------------------------------------------------


@dataclass(frozen=True)
class Discount:
    """Where a discount comes from (CODE or REFERRAL) and how much it takes off, by percent or by
    an amount off the whole order."""
    kind: str
    percent_off: int | None = None
    amount_off: int | None = None
    code: str | None = None


@dataclass(frozen=True)
class Priced:
    """What one order costs, in minor units of the card's currency."""
    subtotal: int     # the units at the card's price
    discount: int     # taken off the subtotal
    amount: int       # what the buyer pays, shipping included: the order's amount

    @property
    def parts(self) -> tuple[int, int, int]:
        return self.subtotal, self.discount, self.amount


def minimum_charge(currency: str) -> int:
    return STRIPE_MINIMUM_CHARGE.get(currency.upper(), 50)


def price_order(unit_amount: int, quantity: int, currency: str, discount: Discount | None = None,
                fee: int = 0) -> Priced:
    """What an order of quantity units costs, with the discount and the shipping fee (once per
    order, never discounted): a percent rounds the saving down to a whole minor unit; the
    discounted goods never go below Stripe's minimum charge for the currency (or the undiscounted
    amount, if that is lower already). The one place an order's amount is made: the
    PaymentIntent, the checks of what Stripe took, refunds and rebates all read it."""
    subtotal = unit_amount * quantity
    off = 0
    if discount is not None:
        if discount.percent_off is not None:
            off = subtotal * discount.percent_off // 100
        elif discount.amount_off is not None:
            off = discount.amount_off
    floor = min(subtotal, minimum_charge(currency))
    goods = max(floor, subtotal - off)
    return Priced(subtotal=subtotal, discount=subtotal - goods, amount=goods + fee)


def best_discount(unit_amount: int, quantity: int, currency: str, *offers: Discount | None) -> Discount | None:
    """The offer that saves the most (the first on a tie); a code and the referral discount never
    add up. None when none saves anything."""
    best, saving = None, 0
    for offer in offers:
        if offer is None:
            continue
        off = price_order(unit_amount, quantity, currency, offer).discount
        if off > saving:
            best, saving = offer, off
    return best


def holds_redemption(status: str, discount_kind: str | None, code: str | None, status_reason: str | None) -> bool:
    """Whether an order counts in its code's redeemed count: priced by the code and held, paid, or
    refunded without its units coming back on sale (by the seller, or in Stripe's dashboard). A hold that expired or was
    canceled, a payment refunded before it got goods, and a refund whose units went back on sale
    gave the redemption back (the unit is on sale again, and so is its discount)."""
    if discount_kind != CODE or not code:
        return False
    return status in ("held", "paid") or (status == "refunded" and status_reason in (NOT_RESTOCKED_REASON,
                                                                                      REFUNDED_IN_STRIPE))
