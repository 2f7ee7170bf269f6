"""Rules of the social loop, without I/O (but for the share words, read once from
widgets/words/<locale>.json): share words per locale, who a share names, reservation windows,
channel URLs and their webhook secrets, referral credit and rebates, reservation ids and tokens."""
from __future__ import annotations

import base64
import ipaddress
import re
import secrets
import socket
import unicodedata
from typing import Any
from urllib.parse import unquote, urlsplit

from chalicelib.domain import (
    DEFAULT_SHARE_TEXT,
    MAX_REFERRAL_DISCOUNT_PERCENT,
    Card,
    Ended,
    InvalidRequest,
    Order,
    ReservationsOff,
    ReserversOnly,
    digest,
    int_field,
    reminder_minutes_from,
    reminder_minutes_of,
    reservation_of_pass,
    share_template,
)
from chalicelib.words import LOCALES, words_for

# The default words per locale are the "share" section of widgets/words/<locale>.json: "order" and
# "reservation" (a seller's own share_text replaces the order words; English "order" is
# DEFAULT_SHARE_TEXT), who bought when the share may not name them ("someone", "someone_in_city")
# and how many reserved ("one_reserver", "reservers").
RESERVATION_MODES = ("required", "first_minutes")
MAX_RESERVERS_MINUTES = 24 * 60
MAX_REBATE_PERCENT = 50
MAX_CITY_LENGTH = 60
# A dot that does not end a word ("St. Louis" does): what a domain name or a URL is made of.
_DOT_INSIDE = re.compile(r"\.\S")


def buyer_words(locale: str, display_name: str | None, anonymous: bool, city: str | None) -> str:
    """The buyer's own name when they gave one and did not opt out; else 'someone in CITY'."""
    if display_name and not anonymous:
        return display_name
    words = words_for(locale)["share"]
    return words["someone_in_city"].format(city=city) if city else words["someone"]


def order_template(card: Card) -> str:
    if card.share_text != DEFAULT_SHARE_TEXT:
        return card.share_text
    return words_for(card.locale)["share"]["order"]


def reservation_template(card: Card) -> str:
    return words_for(card.locale)["share"]["reservation"]


def reservers_words(locale: str, count: int) -> str:
    """Who reserved, counted: 'One person', '12 people'."""
    words = words_for(locale)["share"]
    return words["one_reserver"] if count == 1 else words["reservers"].format(count=count)


def viewer_city(header: str | None) -> str | None:
    """CloudFront-Viewer-City (URL-encoded by CloudFront) when it reads as a city name: letters of
    any script, spaces, hyphens, apostrophes, abbreviation dots ("St. John's", "Xi'an", "北京").
    Anything else (markup, digits, a link or a domain) is dropped, not shown."""
    if not header:
        return None
    city = unquote(header).strip()
    if not 0 < len(city) <= MAX_CITY_LENGTH or _DOT_INSIDE.search(city):
        return None
    return city if all(unicodedata.category(c)[0] in "LM" or c in " -'’." for c in city) else None


# --- card settings ----------------------------------------------------------------------------

SETTINGS = ("locale", "shares_enabled", "reservations", "rebate_percent", "referral_discount_percent", "share_text")


def social_settings_from(payload: Any) -> dict:
    """The social settings present in a card body, validated, as Card field values."""
    if not isinstance(payload, dict):
        raise InvalidRequest("The body must be a JSON object.")
    values: dict = {}
    if payload.get("locale") is not None:
        if payload["locale"] not in LOCALES:
            raise InvalidRequest(f"'locale' must be one of {', '.join(LOCALES)}.", "locale")
        values["locale"] = payload["locale"]
    if payload.get("shares_enabled") is not None:
        if not isinstance(payload["shares_enabled"], bool):
            raise InvalidRequest("'shares_enabled' must be true or false.", "shares_enabled")
        values["shares_enabled"] = payload["shares_enabled"]
    if "reservations" in payload:
        values.update(_reservation_settings(payload["reservations"]))
    if "rebate_percent" in payload:
        percent = payload["rebate_percent"]
        values["rebate_percent"] = None if percent is None else int_field(
            percent, "rebate_percent", 0, MAX_REBATE_PERCENT)
    if "referral_discount_percent" in payload:
        percent = payload["referral_discount_percent"]
        values["referral_discount_percent"] = None if percent is None else int_field(
            percent, "referral_discount_percent", 1, MAX_REFERRAL_DISCOUNT_PERCENT)
    if payload.get("share_text") is not None:
        values["share_text"] = share_template(payload["share_text"])
    return values


def _reservation_settings(value: Any) -> dict:
    if value is None:
        return {"reservation_mode": None, "reservers_minutes": None, "reminder_minutes": None}
    if not isinstance(value, dict) or value.get("mode") not in (None, "none", *RESERVATION_MODES):
        raise InvalidRequest("'reservations.mode' must be none, required or first_minutes.", "reservations.mode")
    mode = None if value.get("mode") in (None, "none") else value["mode"]
    minutes = None
    if mode == "first_minutes":
        minutes = int_field(value.get("minutes"), "reservations.minutes", 1, MAX_RESERVERS_MINUTES)
    return {"reservation_mode": mode, "reservers_minutes": minutes,
            "reminder_minutes": reminder_minutes_from(value.get("reminder_minutes"))}


def settings_json(card: Card) -> dict:
    return {
        "locale": card.locale,
        "shares_enabled": card.shares_enabled,
        "reservations": {"mode": card.reservation_mode or "none", "minutes": card.reservers_minutes,
                         "reminder_minutes": reminder_minutes_of(card.reminder_minutes)},
        "rebate_percent": card.rebate_percent,
        "referral_discount_percent": card.referral_discount_percent,
        "share_text": card.share_text,
    }


# --- reservations -----------------------------------------------------------------------------


def reservers_only_until(card: Card) -> int | None:
    """Until when only reservers may buy (epoch seconds); None when anyone may."""
    if card.reservation_mode == "first_minutes" and card.reservers_minutes:
        opens = card.starts_at if card.starts_at is not None else card.created_at
        return opens + card.reservers_minutes * 60
    return None


def check_reservable(card: Card, at: int) -> None:
    """A reader may reserve only where the seller turned reservations on, until the sale ends."""
    if card.ends_at is not None and at >= card.ends_at:
        raise Ended("This sale has ended.")
    if card.reservation_mode is None:
        raise ReservationsOff("This card takes no reservations.")


def check_reservation(card: Card, at: int, reserved: bool) -> None:
    if reserved:
        return
    if card.reservation_mode == "required":
        raise ReserversOnly("This sale is for readers who reserved. Reserve first, then buy.")
    until = reservers_only_until(card)
    if until is not None and at < until:
        raise ReserversOnly("The first minutes of this sale are for readers who reserved.")


def reservation_id_for(secret: str, card_id: str, client: str, buyer: str | None) -> str:
    """One reservation per card and client identity (buyer token and address): reserving twice is
    the same reservation. Keyed, so the id the seller sees does not give the reader's address away."""
    return "rsv_" + digest(secret, "reservation-id", card_id, client, buyer or "")[:20]


def reservation_token(secret: str, card_id: str, reservation_id: str, buyer: str | None) -> str:
    """Proof of a reservation for the buyer token that made it, checkable without a read:
    '<reservation_id>.<mac>'. Not bound to the address: a reader may reserve at home and buy on
    the train. Without a buyer token it proves nothing at checkout (which always names a buyer)."""
    return f"{reservation_id}.{digest(secret, 'reservation', card_id, reservation_id, buyer or '')[:24]}"


def reservation_of_token(secret: str, card_id: str, buyer: str, token: str | None) -> str | None:
    """The reservation the token proves for this buyer on this card; None for another buyer's token.
    The pass a reminder's link carries (domain.reminder_pass) proves it for whoever follows the link."""
    import hmac

    passed = reservation_of_pass(secret, card_id, token)
    if passed is not None:
        return passed
    if not isinstance(token, str) or "." not in token:
        return None
    reservation_id = token.split(".", 1)[0]
    expected = reservation_token(secret, card_id, reservation_id, buyer)
    return reservation_id if hmac.compare_digest(expected.encode(), token.encode()) else None


# --- channels and money -----------------------------------------------------------------------


def channel_url(value: Any, name: str, allow_loopback_http: bool) -> str:
    """https only; plain http just to this machine, and only where the stage allows it (dev). An
    address inside a private network, in any of its spellings, is refused: tapcard must not be a
    way in. (A name is checked again, resolved, at every send: senders.py.)"""
    if not isinstance(value, str) or len(value) > 2048:
        raise InvalidRequest(f"'{name}' must be an https URL.", name)
    try:
        parts = urlsplit(value.strip())
        parts.port  # noqa: B018 -- raises on a malformed port
    except ValueError:
        raise InvalidRequest(f"'{name}' must be an https URL.", name) from None
    host = (parts.hostname or "").rstrip(".")
    literal = literal_address(host)
    loopback = host == "localhost" or (literal is not None and literal.is_loopback)
    if parts.scheme in ("https", "http") and loopback and allow_loopback_http:
        return value.strip()
    if parts.scheme == "https" and host and not loopback and (literal is None or literal.is_global):
        return value.strip()
    raise InvalidRequest(f"'{name}' must be an https URL on the public internet.", name)


def literal_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a host name spells out, in every form a resolver takes (127.0.0.1, 127.1,
    2130706433, 0x7f000001, ::ffff:127.0.0.1), or None for a real name."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        try:
            address = ipaddress.IPv4Address(socket.inet_aton(host))
        except (OSError, ValueError):
            return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def address_allowed(address: str, allow_loopback: bool) -> bool:
    """Whether a share may be sent to this resolved address."""
    parsed = literal_address(address)
    if parsed is None:
        return False
    return parsed.is_global or (allow_loopback and parsed.is_loopback)


def new_webhook_secret() -> str:
    """A Standard Webhooks signing secret, shown to the seller once."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def rebate(amount: int, percent: int | None) -> int:
    """The referrer's rebate in minor units, rounded down."""
    return amount * percent // 100 if percent else 0


def rebate_after_refund(paid: int, percent: int | None, credited: int) -> int:
    """The rebate once part of the order's money went back: the card's percent of what was paid,
    never more than was credited (the seller may have raised the percent since the sale)."""
    return min(credited, rebate(max(paid, 0), percent))


def same_person(order: Order, referrer: Order) -> bool:
    """Whether a referral would credit the buyer themselves: the same buyer token, or a card or
    email that paid both orders (a second buyer token is only another browser). Orders paid before
    tapcard kept who paid compare by token alone."""
    return order.buyer == referrer.buyer or bool(set(order.payer_ids) & set(referrer.payer_ids))


def rebate_earned(credited_at: int, at: float, refund_window_days: int) -> bool:
    """A rebate is earned once its order is past the refund window; until then it is pending (a
    refund in the window takes the credit back)."""
    return credited_at + refund_window_days * 24 * 3600 <= at
