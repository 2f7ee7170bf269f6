"""Reservation reminders (issue 15): when a reserver who left an email is reminded before the sale
opens, the link that carries their reservation, and the signed unsubscribe token. Plain Python."""
from __future__ import annotations

import hmac
import re
from typing import Any

from chalicelib.domain.errors import InvalidRequest
from chalicelib.domain.fields import REMINDER_PASS_PATTERN, int_field
from chalicelib.domain.clients import digest

__all__ = ["DEFAULT_REMINDER_MINUTES", "MAX_REMINDER_MINUTES", "reminder_minutes_from",
           "reminder_minutes_of", "remind_at", "reminder_pass", "reservation_of_pass", "address_key",
           "unsubscribe_token", "address_key_of_unsubscribe_token"]

DEFAULT_REMINDER_MINUTES = 10
MAX_REMINDER_MINUTES = 24 * 60
_UNSUBSCRIBE_TOKEN = re.compile(r"^([a-z2-7]{32})\.([a-z2-7]{24})\Z")


def reminder_minutes_from(value: Any) -> int | None:
    """A seller's `reservations.reminder_minutes`: 1 to a day; null or absent means the default."""
    return None if value is None else int_field(value, "reservations.reminder_minutes", 1, MAX_REMINDER_MINUTES)


def reminder_minutes_of(stored: int | None) -> int:
    return DEFAULT_REMINDER_MINUTES if stored is None else stored


def remind_at(starts_at: int, minutes: int | None) -> int:
    """When a card's reservers are reminded: `minutes` (the card's, else the default) before the start."""
    return starts_at - reminder_minutes_of(minutes) * 60


def reminder_pass(secret: str, card_id: str, reservation_id: str) -> str:
    """The reservation as the reminder's link carries it: unlike the widget's token it is not bound
    to the reserver's buyer token (they may open the mail on another device), so it gives the
    reservation's priority to whoever holds the mail."""
    return f"{reservation_id}.m{digest(secret, 'reservation-pass', card_id, reservation_id)[:24]}"


def reservation_of_pass(secret: str, card_id: str, token: Any) -> str | None:
    """The reservation a reminder's pass proves on this card; None for anything else."""
    if not isinstance(token, str) or not REMINDER_PASS_PATTERN.match(token):
        return None
    reservation_id = token.split(".", 1)[0]
    expected = reminder_pass(secret, card_id, reservation_id)
    return reservation_id if hmac.compare_digest(expected.encode(), token.encode()) else None


def address_key(secret: str, email: str) -> str:
    """An email address as stored for an unsubscription: keyed, so the table holds no address."""
    return digest(secret, "mail-address", email.strip().lower())[:32]


def unsubscribe_token(secret: str, email: str) -> str:
    """'<address key>.<mac>': the unsubscribe link's token, signed so no one can unsubscribe others."""
    key = address_key(secret, email)
    return f"{key}.{digest(secret, 'unsubscribe', key)[:24]}"


def address_key_of_unsubscribe_token(secret: str, token: Any) -> str:
    """The address key a genuine token names; InvalidRequest naming `token` for any other."""
    match = _UNSUBSCRIBE_TOKEN.match(token) if isinstance(token, str) else None
    if match is None or not hmac.compare_digest(digest(secret, "unsubscribe", match.group(1))[:24].encode(),
                                                match.group(2).encode()):
        raise InvalidRequest("This unsubscribe link is not valid (copy the whole link from the email).", "token")
    return match.group(1)
