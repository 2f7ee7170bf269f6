"""The blogger's shop: a name and an ordered list of the seller's own cards. Plain rules: which
cards may be in it is checked by the use case (chalicelib/shops.py), against the cards table."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.errors import InvalidRequest

__all__ = ["MAX_SHOP_NAME", "MAX_SHOP_CARDS", "MAX_SHOPS", "SHOP_ID_PATTERN", "Shop", "shop_fields_from_request"]

MAX_SHOP_NAME = 80
MAX_SHOP_CARDS = 24
MAX_SHOPS = 100  # a seller's shops listed in one answer
SHOP_ID_PATTERN = re.compile(r"^shop_[a-f0-9]{12}\Z")
_CARD_ID = re.compile(r"^card_[A-Za-z0-9]{1,32}\Z")


@dataclass(frozen=True)
class Shop:
    """A blogger's shop: a named, ordered list of their cards."""
    shop_id: str
    seller_id: str
    name: str
    card_ids: tuple[str, ...]
    created_at: int


def shop_fields_from_request(payload: Any, partial: bool) -> dict:
    """The name and card_ids a seller sent, checked for shape (ownership is the caller's); on a
    PATCH (partial) either may be left out, and at least one must be there."""
    if not isinstance(payload, dict):
        raise InvalidRequest("The body must be a JSON object.")
    fields: dict = {}
    if "name" in payload or not partial:
        name = payload.get("name")
        # Trimmed of ASCII white space only: a name the document allows (some character other than
        # JSON Schema's white space) is never trimmed to nothing.
        name = name.strip(" \t\n\r\f\v") if isinstance(name, str) else None
        if not name or len(name) > MAX_SHOP_NAME:
            raise InvalidRequest(f"'name' must be 1 to {MAX_SHOP_NAME} characters.", "name")
        fields["name"] = name
    if "card_ids" in payload or not partial:
        card_ids = payload.get("card_ids")
        if (not isinstance(card_ids, list) or not 1 <= len(card_ids) <= MAX_SHOP_CARDS
                or not all(isinstance(c, str) and _CARD_ID.match(c) for c in card_ids)):
            raise InvalidRequest(f"'card_ids' must list 1 to {MAX_SHOP_CARDS} card ids.", "card_ids")
        if len(set(card_ids)) != len(card_ids):
            raise InvalidRequest("'card_ids' lists a card twice.", "card_ids")
        fields["card_ids"] = tuple(card_ids)
    if not fields:
        raise InvalidRequest("Send 'name', 'card_ids' or both.", "name")
    return fields
