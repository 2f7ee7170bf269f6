"""Checks of what clients send, shared by every body and query: each failure names its field."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from chalicelib.domain.errors import InvalidRequest

__all__ = ["MAX_AMOUNT", "CURRENCY_PATTERN", "TOKEN_PATTERN", "REF_PATTERN", "CODE_PATTERN", "REMINDER_PASS_PATTERN",
           "require", "int_field", "text_field", "url_field", "parse_timestamp"]

MAX_AMOUNT = 99_999_999  # any amount a client sends, in minor units
CURRENCY_PATTERN = re.compile(r"^[A-Za-z]{3}\Z")
# Buyer tokens, Idempotency-Keys, reservation tokens.
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_.\-]{8,128}\Z")
# What a referral code (?ref=) may look like; anything else is ignored, never the buyer's problem.
REF_PATTERN = re.compile(r"^[A-Za-z0-9_\-]{1,32}\Z")
# A discount code as sellers type it and buyers enter it (?code= too), compared in upper case.
CODE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{3,32}\Z")
# A reservation reminder's link (?reservation=): '<reservation id>.m<mac>' (domain/reminders.py signs it).
REMINDER_PASS_PATTERN = re.compile(r"^rsv_[a-z2-7]{20}\.m[a-z2-7]{24}\Z")


def require(payload: dict, name: str, path: str | None = None) -> Any:
    if payload.get(name) is None:
        raise InvalidRequest(f"'{path or name}' is required.", path or name)
    return payload[name]


def int_field(value: Any, name: str, low: int, high: int) -> int:
    # JSON has one number type: 226.0 is the whole number 226 (JSON Schema's integer says so too,
    # and Python's json reads it as a float). bool is an int in Python; a JSON true is not a number.
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRequest(f"'{name}' must be a whole number.", name)
    if not low <= value <= high:
        raise InvalidRequest(f"'{name}' must be between {low} and {high}.", name)
    return value


def text_field(value: Any, name: str, max_len: int, required: bool = True) -> str:
    if not isinstance(value, str):
        raise InvalidRequest(f"'{name}' must be text.", name)
    value = value.strip()
    if required and not value:
        raise InvalidRequest(f"'{name}' must not be empty.", name)
    if len(value) > max_len:
        raise InvalidRequest(f"'{name}' must be at most {max_len} characters.", name)
    return value


def url_field(value: Any, name: str) -> str:
    url = text_field(value, name, 2048)
    if not url.startswith(("https://", "http://")):
        raise InvalidRequest(f"'{name}' must be an http(s) URL.", name)
    return url



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

