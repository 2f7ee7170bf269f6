"""Reservations before a sale (预约): one tap, optionally an email, on a published card whose
seller turned reservations on. One per card and client identity (buyer token and address), a few a
minute per address; each counts on the card, and the card's reservations are shared together
(through the reservations table's stream, at most once per few minutes: shares.py). When the sale
opens the sweeper sends sale.opened with the count to the seller's webhook channels, once per card."""
from __future__ import annotations

import re
import time

from chalicelib import config, secrets, views
from chalicelib.domain import TOKEN_PATTERN, InvalidRequest, NotFound, personal_data_until
from chalicelib.social import rules, shares
from chalicelib.store import cards, counts
from chalicelib.store import reservations as stored

_EMAIL = re.compile(r"^[^@\s<>]{1,64}@[^@\s<>]{1,190}\.[^@\s<>]{2,63}\Z")


def reserve(card_id: str, payload, client: str) -> tuple[dict, bool]:
    """(the reservation, whether it is new). The same buyer token reserving again from the same
    client address gets the same one. client: the caller's address (api.http.client)."""
    if not isinstance(payload, dict):
        raise InvalidRequest("The body must be a JSON object.")
    card = cards.get_for_buyer(card_id)
    now = int(time.time())
    rules.check_reservable(card, now)
    buyer, email = payload.get("buyer"), payload.get("email")
    if buyer is not None and (not isinstance(buyer, str) or not TOKEN_PATTERN.match(buyer)):
        raise InvalidRequest("'buyer' must be a token of 8 to 128 letters, digits, '-', '_' or '.'.", "buyer")
    if email is not None and (not isinstance(email, str) or not _EMAIL.match(email.strip())):
        raise InvalidRequest("'email' must be an email address.", "email")
    secret = secrets.get("ORDER_TOKEN_SECRET")
    reservation_id = rules.reservation_id_for(secret, card_id, client, buyer)
    forget_at = personal_data_until(now, card.ends_at or card.starts_at, config.PERSONAL_DATA_DAYS)
    created = stored.create(reservation_id, card_id, card.seller_id, now, email.strip() if email else None, client,
                            forget_at)
    return {
        "reservation_id": reservation_id,
        "token": rules.reservation_token(secret, card_id, reservation_id, buyer),
        "card_id": card_id,
    }, created


def reservation_of(card_id: str, buyer: str, token: str | None) -> str | None:
    """The reservation a checkout's token proves for its buyer, checked without a read; None when
    it proves none (forged, another card's, or another buyer's: a token gives its reserver's
    priority to nobody else)."""
    return rules.reservation_of_token(secrets.get("ORDER_TOKEN_SECRET"), card_id, buyer, token)


PAGE_SIZE = 500


def reservers(card_id: str, after: str | None = None) -> dict:
    """A page of the card's reservations, oldest first, for the seller to notify them; 'next' is the
    cursor of the following page (absent on the last)."""
    start = None
    if after is not None:
        reservation_id, _, created_at = after.partition(".")
        if not re.fullmatch(r"[0-9]{1,20}", created_at):  # str.isdigit() also takes '²', which int() does not
            raise InvalidRequest("'after' must be the 'next' cursor of the previous page.", "after")
        start = (reservation_id, int(created_at))
    page, more = stored.page_of_card(card_id, PAGE_SIZE, start)
    body: dict = {"items": [{"reservation_id": r.reservation_id, "email": r.email, "created_at": int(r.created_at)}
                            for r in page]}
    if more:
        body["next"] = f"{more[0]}.{more[1]}"
    return body


def announce_openings(now: int | None = None) -> int:
    """Send sale.opened for every card whose sale start has come; returns how many cards."""
    now = int(time.time()) if now is None else now
    announced = 0
    for card_id in cards.opening_due(now):
        try:
            card = cards.get(card_id)
        except NotFound:
            continue
        counts.forget(card.card_id)
        shares.announce(card, {
            "type": shares.SALE_OPENED, "card_id": card.card_id, "title": card.title,
            "url": views.product_url(card.card_id), "starts_at": views.iso(card.starts_at),
            "reservations": counts.of_card(card.card_id)[counts.RESERVATIONS],
        })
        # The sale's start is announced once: only one sweeper clears the mark.
        announced += cards.mark_opened(card.card_id)
    return announced
