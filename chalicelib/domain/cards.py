"""Cards and the rules of a sale: what a card may hold, who may see it, when it sells, how its
stock is split and taken. Plain Python."""
from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.errors import Ended, InvalidRequest, InvalidTemplate, LimitReached, NotFound, NotStarted
from chalicelib.domain.fields import (CURRENCY_PATTERN, MAX_AMOUNT, int_field, parse_timestamp, require, text_field,
                                      url_field)
from chalicelib.domain.shipping import NO_SHIPPING, Shipping, shipping_from_request
from chalicelib.domain.groups import GroupSetting, group_setting_from

__all__ = ["DEFAULT_HOLD_SECONDS", "MIN_HOLD_SECONDS", "MAX_HOLD_SECONDS", "MAX_STOCK", "MAX_QUANTITY",
           "UNITS_PER_SHARD", "MAX_SHARDS", "DEFAULT_SHARE_TEXT", "DEFAULT_RETURN_DAYS", "MAX_RETURN_DAYS",
           "PUBLISHED", "UNPUBLISHED", "ARCHIVED",
           "CARD_STATUSES", "Card", "StockLevel", "SHARE_PLACEHOLDERS", "share_template", "shard_count_for",
           "new_card_from_request", "sale_state", "sold_out_message", "check_can_buy", "render_share_text",
           "plan_take", "check_visible", "hold_seconds_now", "compare_at_from", "return_days_from"]

DEFAULT_HOLD_SECONDS = 600
MIN_HOLD_SECONDS = 10
MAX_HOLD_SECONDS = 3600
MAX_STOCK = 1_000_000
MAX_QUANTITY = 100
# Units per stock shard: 500 units keep each shard well under one partition's write rate.
UNITS_PER_SHARD = 500
MAX_SHARDS = 20
DEFAULT_SHARE_TEXT = "{buyer} just got {title} for {price}. {left} left: {link}"
# Days after fulfilment (or, for digital goods, the order) a buyer may ask for a return (domain/aftersales.py).
DEFAULT_RETURN_DAYS, MAX_RETURN_DAYS = 14, 365

# A card's visibility: only a published card is shown to buyers and sold.
PUBLISHED, UNPUBLISHED, ARCHIVED = "published", "unpublished", "archived"
CARD_STATUSES = (PUBLISHED, UNPUBLISHED, ARCHIVED)


@dataclass
class Card:
    """A product card as its seller set it up: what it sells, at what price, how many, when."""
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
    reminder_minutes: int | None = None  # reservers' reminder before the start (None: the default)
    rebate_percent: int | None = None
    status: str = PUBLISHED
    # Where the goods ship and for what fee; digital goods ship nothing (domain/shipping.py).
    shipping: Shipping = NO_SHIPPING
    # What makes a reader buy (domain/offers.py): the price shown struck through, and the
    # discount a reader arriving through a referral link gets.
    compare_at_amount: int | None = None
    referral_discount_percent: int | None = None
    group: GroupSetting | None = None  # group buying (domain/groups.py)
    # Days after fulfilment (or, for digital goods, the order) to ask for a return (domain/aftersales.py).
    return_days: int = DEFAULT_RETURN_DAYS


@dataclass
class StockLevel:
    """A card's units: still for sale, held by unpaid orders, sold."""
    available: int
    held: int
    sold: int



SHARE_PLACEHOLDERS = ("buyer", "title", "price", "left", "link")


def share_template(value: Any) -> str:
    """Only the plain placeholders: '{title.x}' or '{left[0]}' would break every share of the card."""
    text = text_field(value, "share_text", 280)
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




def shard_count_for(stock: int) -> int:
    return max(1, min(MAX_SHARDS, -(-stock // UNITS_PER_SHARD)))


def _description(value: Any) -> str:
    # null or absent: no description; anything else must be text ({} or [] is not "empty").
    return "" if value is None else text_field(value, "description", 2000, required=False)


def new_card_from_request(payload: Any, card_id: str, seller_id: str, now: int) -> Card:
    if not isinstance(payload, dict):
        raise InvalidRequest("The body must be a JSON object.")
    price = require(payload, "price")
    if not isinstance(price, dict):
        raise InvalidRequest("'price' must be an object with 'amount' and 'currency'.", "price")
    currency = require(price, "currency", "price.currency")
    if not isinstance(currency, str) or not CURRENCY_PATTERN.match(currency):
        raise InvalidRequest("'price.currency' must be a three-letter ISO 4217 code.", "price.currency")
    stock = int_field(require(payload, "stock"), "stock", 1, MAX_STOCK)

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
        limit = int_field(limit, "limit_per_buyer", 1, MAX_QUANTITY)
    hold_seconds = payload.get("hold_seconds")
    if hold_seconds is None:
        hold_seconds = DEFAULT_HOLD_SECONDS
    hold_seconds = int_field(hold_seconds, "hold_seconds", MIN_HOLD_SECONDS, MAX_HOLD_SECONDS)
    share_text = payload.get("share_text")
    share_text = DEFAULT_SHARE_TEXT if share_text is None else share_template(share_text)

    shards = payload.get("shards")
    shards = shard_count_for(stock) if shards is None else int_field(shards, "shards", 1, MAX_SHARDS)
    if shards > stock:
        raise InvalidRequest("'shards' cannot be more than 'stock'.", "shards")
    price_amount = int_field(require(price, "amount", "price.amount"), "price.amount", 1, MAX_AMOUNT)
    return Card(
        card_id=card_id,
        seller_id=seller_id,
        title=text_field(require(payload, "title"), "title", 120),
        description=_description(payload.get("description")),
        image_url=url_field(require(payload, "image_url"), "image_url"),
        price_amount=price_amount,
        compare_at_amount=compare_at_from(payload.get("compare_at"), price_amount),
        currency=currency.upper(),
        stock=stock,
        starts_at=starts_at,
        ends_at=ends_at,
        limit_per_buyer=limit,
        hold_seconds=hold_seconds,
        share_text=share_text,
        shard_count=shards,
        created_at=now,
        shipping=shipping_from_request(payload.get("shipping")),
        group=group_setting_from(payload.get("group"), price_amount),
        return_days=return_days_from(payload.get("return_days")),
    )


def compare_at_from(value: Any, price_amount: int) -> int | None:
    """The card's "compare at" price ({"amount"}), shown struck through: above the price, or None."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidRequest("'compare_at' must be an object with 'amount' (or null).", "compare_at")
    amount = int_field(require(value, "amount", "compare_at.amount"), "compare_at.amount", 2, MAX_AMOUNT)
    if amount <= price_amount:
        raise InvalidRequest("'compare_at.amount' must be greater than the price.", "compare_at.amount")
    return amount


def return_days_from(value: Any) -> int:
    return DEFAULT_RETURN_DAYS if value is None else int_field(value, "return_days", 0, MAX_RETURN_DAYS)


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


def hold_seconds_now(card: Card, level: StockLevel, rush_seconds: int) -> int:
    """How long a new hold lasts. During a rush (as many units wait on payment as are left to
    take) it is rush_seconds, the time to start paying: an abandoned unit comes back on sale
    sooner, and the pay call gives a buyer who started paying the card's full hold_seconds."""
    if rush_seconds and level.held and level.held >= level.available:
        return min(card.hold_seconds, rush_seconds)
    return card.hold_seconds


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



def check_visible(card: Card) -> Card:
    """Only a published card is shown to buyers: its widget, page, feed, reservations and sale."""
    if card.status != PUBLISHED:
        raise NotFound("This card is not available.")
    return card
