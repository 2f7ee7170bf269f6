"""Cards, orders and the rules of a sale. Plain Python: no AWS, Stripe or Chalice here."""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import string
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any


class DomainError(Exception):
    code = "error"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidRequest(DomainError):
    code = "invalid_request"

    def __init__(self, message: str, field_name: str | None = None):
        super().__init__(message)
        self.field = field_name


class Unauthorized(DomainError):
    code = "unauthorized"


class NotFound(DomainError):
    code = "not_found"


class NotStarted(DomainError):
    code = "not_started"


class Ended(DomainError):
    code = "ended"


class SoldOut(DomainError):
    code = "sold_out"


class LimitReached(DomainError):
    code = "limit_reached"


class PaymentsUnavailable(DomainError):
    code = "payments_unavailable"


class IdempotencyMismatch(DomainError):
    code = "idempotency_mismatch"


class InvalidSignature(DomainError):
    code = "invalid_signature"


class InvalidTemplate(InvalidRequest):
    code = "invalid_template"


class ReserversOnly(DomainError):
    code = "reservers_only"
class SignupClosed(DomainError):
    code = "signup_closed"


class Conflict(DomainError):
    """The request is well formed but the thing's state refuses it (a locked field, a paid order)."""
    code = "conflict"

    def __init__(self, message: str, field_name: str | None = None):
        super().__init__(message)
        self.field = field_name


DEFAULT_HOLD_SECONDS = 600
MIN_HOLD_SECONDS = 10
MAX_HOLD_SECONDS = 3600
MAX_STOCK = 1_000_000
MAX_QUANTITY = 100
# Units per stock shard: 500 units keep each shard well under one partition's write rate.
UNITS_PER_SHARD = 500
MAX_SHARDS = 20
DEFAULT_SHARE_TEXT = "{buyer} just got {title} for {price}. {left} left: {link}"

# Order statuses; a held order is the only one that still owns stock it has not paid for.
HELD, PAID, EXPIRED, REFUNDED, CANCELED = "held", "paid", "expired", "refunded", "canceled"
ORDER_STATUSES = (HELD, PAID, EXPIRED, REFUNDED, CANCELED)
# A card's visibility: only a published card is shown to buyers and sold.
PUBLISHED, UNPUBLISHED, ARCHIVED = "published", "unpublished", "archived"
CARD_STATUSES = (PUBLISHED, UNPUBLISHED, ARCHIVED)

_CURRENCY = re.compile(r"^[A-Za-z]{3}$")
_TOKEN = re.compile(r"^[A-Za-z0-9_.\-]{8,128}$")
# What a referral code (?ref=) may look like; anything else is ignored, never the buyer's problem.
REF_PATTERN = re.compile(r"^[A-Za-z0-9_\-]{1,32}$")


@dataclass
class Card:
    card_id: str
    seller_id: str
    title: str
    description: str
    image_url: str
    price_amount: int
    currency: str
    stock: int
    starts_at: int | None = None
    ends_at: int | None = None
    limit_per_buyer: int | None = None
    hold_seconds: int = DEFAULT_HOLD_SECONDS
    share_text: str = DEFAULT_SHARE_TEXT
    shard_count: int = 1
    created_at: int = 0
    # The social loop (chalicelib/social): see social.rules for what each may hold.
    locale: str = "en"
    shares_enabled: bool = True
    reservation_mode: str | None = None
    reservers_minutes: int | None = None
    rebate_percent: int | None = None
    status: str = PUBLISHED


@dataclass
class StockLevel:
    available: int
    held: int
    sold: int


@dataclass
class Order:
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
    # How the automatic share names the buyer: their name unless anonymous, else their city.
    display_name: str | None = None
    anonymous: bool = False
    city: str | None = None
    reservation_id: str | None = None
    country: str | None = None
    payer_ids: tuple[str, ...] = ()
    fulfilled_at: int | None = None
    carrier: str | None = None
    tracking_number: str | None = None


@dataclass
class CheckoutRequest:
    quantity: int
    buyer: str
    ref: str | None
    display_name: str | None = None
    anonymous: bool = False
    reservation_token: str | None = None

    @property
    def fingerprint(self) -> str:
        return f"{self.quantity}|{self.ref or ''}"


# --- validation of what clients send -------------------------------------------------------


def _require(payload: dict, name: str, path: str | None = None) -> Any:
    if payload.get(name) is None:
        raise InvalidRequest(f"'{path or name}' is required.", path or name)
    return payload[name]


def _int_field(value: Any, name: str, low: int, high: int) -> int:
    # bool is an int in Python; a JSON true is not a number here.
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRequest(f"'{name}' must be a whole number.", name)
    if not low <= value <= high:
        raise InvalidRequest(f"'{name}' must be between {low} and {high}.", name)
    return value


def _text_field(value: Any, name: str, max_len: int, required: bool = True) -> str:
    if not isinstance(value, str):
        raise InvalidRequest(f"'{name}' must be text.", name)
    value = value.strip()
    if required and not value:
        raise InvalidRequest(f"'{name}' must not be empty.", name)
    if len(value) > max_len:
        raise InvalidRequest(f"'{name}' must be at most {max_len} characters.", name)
    return value


def _url_field(value: Any, name: str) -> str:
    url = _text_field(value, name, 2048)
    if not url.startswith(("https://", "http://")):
        raise InvalidRequest(f"'{name}' must be an http(s) URL.", name)
    return url


SHARE_PLACEHOLDERS = ("buyer", "title", "price", "left", "link")


def _share_template(value: Any) -> str:
    """Only the plain placeholders: '{title.x}' or '{left[0]}' would break every share of the card."""
    text = _text_field(value, "share_text", 280)
    try:
        fields = [(name, spec, conversion) for _, name, spec, conversion in string.Formatter().parse(text)
                  if name is not None]
    except ValueError:
        raise InvalidTemplate("'share_text' has an unmatched '{' or '}' (write '{{' for a brace).", "share_text") from None
    for name, spec, conversion in fields:
        if name not in SHARE_PLACEHOLDERS or spec or conversion:
            allowed = ", ".join("{" + p + "}" for p in SHARE_PLACEHOLDERS)
            raise InvalidTemplate(f"'share_text' may use only {allowed}.", "share_text")
    return text


def share_template(value: Any) -> str:
    return _share_template(value)


def parse_timestamp(value: Any, name: str) -> int:
    """ISO 8601 with an offset, to epoch seconds; a time without offset is ambiguous."""
    if not isinstance(value, str):
        raise InvalidRequest(f"'{name}' must be an ISO 8601 time with offset.", name)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidRequest(f"'{name}' must be an ISO 8601 time with offset.", name) from None
    if parsed.tzinfo is None:
        raise InvalidRequest(f"'{name}' needs a UTC offset, such as +00:00.", name)
    try:
        utc = parsed.astimezone(timezone.utc)
    except (OverflowError, ValueError):
        utc = None
    if utc is None or not 1970 <= utc.year <= 9998:
        raise InvalidRequest(f"'{name}' must be between the years 1970 and 9998.", name)
    return int(utc.timestamp())


def shard_count_for(stock: int) -> int:
    return max(1, min(MAX_SHARDS, -(-stock // UNITS_PER_SHARD)))


def new_card_from_request(payload: Any, card_id: str, seller_id: str, now: int) -> Card:
    if not isinstance(payload, dict):
        raise InvalidRequest("The body must be a JSON object.")
    price = _require(payload, "price")
    if not isinstance(price, dict):
        raise InvalidRequest("'price' must be an object with 'amount' and 'currency'.", "price")
    currency = _require(price, "currency", "price.currency")
    if not isinstance(currency, str) or not _CURRENCY.match(currency):
        raise InvalidRequest("'price.currency' must be a three-letter ISO 4217 code.", "price.currency")
    stock = _int_field(_require(payload, "stock"), "stock", 1, MAX_STOCK)

    starts_at = ends_at = None
    sale = payload.get("sale")
    if sale is not None:
        if not isinstance(sale, dict):
            raise InvalidRequest("'sale' must be an object with 'starts_at' and 'ends_at'.", "sale")
        if sale.get("starts_at") is not None:
            starts_at = parse_timestamp(sale["starts_at"], "sale.starts_at")
        if sale.get("ends_at") is not None:
            ends_at = parse_timestamp(sale["ends_at"], "sale.ends_at")
        if ends_at is not None and ends_at <= (starts_at if starts_at is not None else now):
            raise InvalidRequest("'sale.ends_at' must be after the start of the sale.", "sale.ends_at")

    limit = payload.get("limit_per_buyer")
    if limit is not None:
        limit = _int_field(limit, "limit_per_buyer", 1, MAX_QUANTITY)
    hold_seconds = payload.get("hold_seconds")
    if hold_seconds is None:
        hold_seconds = DEFAULT_HOLD_SECONDS
    hold_seconds = _int_field(hold_seconds, "hold_seconds", MIN_HOLD_SECONDS, MAX_HOLD_SECONDS)
    share_text = payload.get("share_text")
    share_text = DEFAULT_SHARE_TEXT if share_text is None else _share_template(share_text)

    shards = payload.get("shards")
    shards = shard_count_for(stock) if shards is None else _int_field(shards, "shards", 1, MAX_SHARDS)
    if shards > stock:
        raise InvalidRequest("'shards' cannot be more than 'stock'.", "shards")
    return Card(
        card_id=card_id,
        seller_id=seller_id,
        title=_text_field(_require(payload, "title"), "title", 120),
        description=_text_field(payload.get("description") or "", "description", 2000, required=False),
        image_url=_url_field(_require(payload, "image_url"), "image_url"),
        price_amount=_int_field(_require(price, "amount", "price.amount"), "price.amount", 1, 99_999_999),
        currency=currency.upper(),
        stock=stock,
        starts_at=starts_at,
        ends_at=ends_at,
        limit_per_buyer=limit,
        hold_seconds=hold_seconds,
        share_text=share_text,
        shard_count=shards,
        created_at=now,
    )


def checkout_request_from(payload: Any, idempotency_key: str | None) -> tuple[CheckoutRequest, str]:
    if not idempotency_key or not _TOKEN.match(idempotency_key):
        raise InvalidRequest(
            "The 'Idempotency-Key' header is required: 8 to 128 letters, digits, '-', '_' or '.'.",
            "Idempotency-Key",
        )
    if not isinstance(payload, dict):
        raise InvalidRequest("The body must be a JSON object.")
    quantity = _int_field(_require(payload, "quantity"), "quantity", 1, MAX_QUANTITY)
    buyer = _require(payload, "buyer")
    if not isinstance(buyer, str) or not _TOKEN.match(buyer):
        raise InvalidRequest("'buyer' must be a token of 8 to 128 letters, digits, '-', '_' or '.'.", "buyer")
    # A referral code that cannot be one is ignored, like an unknown one: never the buyer's problem.
    ref = payload.get("ref")
    if not isinstance(ref, str) or not REF_PATTERN.match(ref):
        ref = None
    name = payload.get("name")
    if name is not None:
        name = _text_field(name, "name", 40, required=False) or None
    anonymous = payload.get("anonymous", False)
    if not isinstance(anonymous, bool):
        raise InvalidRequest("'anonymous' must be true or false.", "anonymous")
    reservation = payload.get("reservation")
    if reservation is not None and (not isinstance(reservation, str) or not _TOKEN.match(reservation)):
        raise InvalidRequest("'reservation' must be the token the reservation returned.", "reservation")
    return CheckoutRequest(quantity=quantity, buyer=buyer, ref=ref, display_name=name, anonymous=anonymous,
                           reservation_token=reservation), idempotency_key


# --- the sale -------------------------------------------------------------------------------


def sale_state(card: Card, now: int, available: int) -> str:
    if card.ends_at is not None and now >= card.ends_at:
        return "ended"
    if card.starts_at is not None and now < card.starts_at:
        return "upcoming"
    if available <= 0:
        return "sold_out"
    return "live"


def sold_out_message(available: int, quantity: int) -> str:
    if available <= 0:
        return "Sold out."
    return f"Only {available} left; you asked for {quantity}."


def check_can_buy(card: Card, now: int, quantity: int) -> None:
    """The rules that do not need the stock count; stock and limits are checked by the write."""
    if card.ends_at is not None and now >= card.ends_at:
        raise Ended("This sale has ended.")
    if card.starts_at is not None and now < card.starts_at:
        raise NotStarted("This sale has not started yet.")
    if card.limit_per_buyer is not None and quantity > card.limit_per_buyer:
        raise LimitReached(f"You can buy at most {card.limit_per_buyer} of this item.")


def render_share_text(template: str, *, buyer: str, title: str, price: str, left: int, link: str) -> str:
    values = {"buyer": buyer, "title": title, "price": price, "left": left, "link": link}
    try:
        text = template.format(**values)
    except Exception:  # a template stored before validation existed must still share
        # A seller's template with an unknown placeholder still shares, with the default words.
        text = DEFAULT_SHARE_TEXT.format(**values)
    if link not in text:
        text = f"{text} {link}"
    return text


def plan_take(available_by_shard: dict[int, int], quantity: int, rng) -> dict[int, int] | None:
    """Which shards give the units: one random shard that holds them all when there is one (it
    spreads the writes), else the fullest shards together. None when the total is short."""
    if sum(available_by_shard.values()) < quantity:
        return None
    whole = [shard for shard, units in available_by_shard.items() if units >= quantity]
    if whole:
        return {rng.choice(whole): quantity}
    take: dict[int, int] = {}
    remaining = quantity
    for shard, units in sorted(available_by_shard.items(), key=lambda item: -item[1]):
        if remaining == 0:
            break
        if units > 0:
            take[shard] = min(units, remaining)
            remaining -= take[shard]
    return take


# --- identifiers ----------------------------------------------------------------------------


def _digest(secret: str, *parts: str) -> str:
    mac = hmac.new(secret.encode(), "\x1f".join(parts).encode(), hashlib.sha256).digest()
    return base64.b32encode(mac).decode().rstrip("=").lower()


def order_id_for(card_id: str, buyer: str, idempotency_key: str) -> str:
    """The same tap (card, buyer, Idempotency-Key) always names the same order."""
    return "ord_" + _digest("order-id", card_id, buyer, idempotency_key)[:24]


def order_token(secret: str, order_id: str) -> str:
    """The buyer's proof of owning an order, derived so it needs no storage."""
    return _digest(secret, "order-token", order_id)[:32]


def token_matches(secret: str, order_id: str, token: Any) -> bool:
    return (isinstance(token, str) and token.isascii()
            and hmac.compare_digest(order_token(secret, order_id), token))


def referral_code_for(order_id: str) -> str:
    return _digest("referral", order_id)[:10]


# Stripe's zero- and three-decimal currencies; everything else has two decimals in minor units.
_ZERO_DECIMAL = {"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND",
                 "VUV", "XAF", "XOF", "XPF"}


_THREE_DECIMAL = {"BHD", "JOD", "KWD", "OMR", "TND"}


def minor_unit_exponent(currency: str) -> int:
    currency = currency.upper()
    if currency in _ZERO_DECIMAL:
        return 0
    return 3 if currency in _THREE_DECIMAL else 2
