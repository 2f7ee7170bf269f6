"""What the seller API asks of the social loop, each call checked against the card's owner."""
from __future__ import annotations

from chalicelib.domain import InvalidRequest
from chalicelib.social import referrals, reservations, rules, shares
from chalicelib.store import cards


def settings(seller_id: str, card_id: str, payload: dict | None = None) -> dict:
    """The card's social settings; with a payload, changed first (only the fields it names)."""
    card = cards.get_owned(seller_id, card_id)
    if payload is not None:
        unknown = sorted(set(payload) - set(rules.SETTINGS))
        if unknown:
            raise InvalidRequest(f"'{unknown[0]}' is not a social setting.", unknown[0])
        card = cards.update_social_settings(card_id, rules.social_settings_from(payload))
    return rules.settings_json(card)


def referral_report(seller_id: str, card_id: str, fmt: str | None) -> dict | str:
    card = cards.get_owned(seller_id, card_id)
    if fmt not in (None, "json", "csv"):
        raise InvalidRequest("'format' must be json or csv.", "format")
    return referrals.report_csv(card) if fmt == "csv" else referrals.report(card)


def share_report(seller_id: str, card_id: str) -> dict:
    cards.get_owned(seller_id, card_id)
    return shares.report(card_id)


def reservers(seller_id: str, card_id: str, after: str | None) -> dict:
    cards.get_owned(seller_id, card_id)
    return reservations.reservers(card_id, after)
