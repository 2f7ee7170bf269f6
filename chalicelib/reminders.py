"""Reservation reminders (issue 15): a reserver who left an email is told the sale opens, the card's
`reservations.reminder_minutes` (default 10) before its start, with a link that carries their
reservation. The sweeper sends them when due, each (reservation, kind) once through the notices
claim (notices.deliver), retried like every notice. Every reminder carries an unsubscribe link (a
signed token, and RFC 8058's List-Unsubscribe headers); an address that unsubscribed gets none.
Plain text and HTML in the card's locale. Addresses and bodies are never logged."""
from __future__ import annotations

import logging
import time
from datetime import datetime, timezone

from chalicelib import notices, secrets, views
from chalicelib.domain import (
    MAX_REMINDER_MINUTES,
    Card,
    NotFound,
    address_key,
    address_key_of_unsubscribe_token,
    check_visible,
    remind_at,
    reminder_pass,
    unsubscribe_token,
)
from chalicelib.store import cards
from chalicelib.store import notices as stored_notices
from chalicelib.store import reservations as stored_reservations
from chalicelib.words import pick_locale, words_for

log = logging.getLogger(__name__)

REMINDER = "reminder"
KINDS = (REMINDER,)
PAGE_SIZE = 100
UNSUBSCRIBE_CSP = ("default-src 'none'; style-src 'nonce-{nonce}'; base-uri 'none'; form-action 'self'; "
                   "frame-ancestors 'none'")


def _secret() -> str:
    return secrets.get("ORDER_TOKEN_SECRET")


def send_due(now: int | None = None, deadline: float | None = None) -> int:
    """The sweeper's part: remind the reservers of every card whose reminder time has come and whose
    sale has not opened; returns how many mails went. Where a card's reminders stopped (the sweep's
    deadline) is kept on the card, so the next sweep goes on from there."""
    now = int(time.time()) if now is None else now
    sent = 0
    for card_id, after in cards.reminding(now, MAX_REMINDER_MINUTES * 60):
        if deadline is not None and time.monotonic() > deadline:
            break
        try:
            card = check_visible(cards.get_fresh(card_id))
        except NotFound:  # hidden for now: reminded if it is published again in time
            continue
        if card.starts_at is None or remind_at(card.starts_at, card.reminder_minutes) > now:
            continue
        if card.starts_at <= now:  # opened already: a reminder would come too late
            cards.note_reminders(card_id, card.starts_at, cards.REMINDERS_DONE)
            continue
        sent += _remind_card(card, after, now, deadline)
    return sent


def _remind_card(card: Card, after: str | None, now: int, deadline: float | None) -> int:
    sent = 0
    start = None
    if after:
        reservation_id, _, created_at = after.rpartition(".")
        start = (reservation_id, int(created_at))
    while True:
        page, more = stored_reservations.page_of_card(card.card_id, PAGE_SIZE, start)
        for reservation in page:
            if reservation.email:
                sent += remind(card, reservation.reservation_id, reservation.email, now)
        if more is None:
            cards.note_reminders(card.card_id, card.starts_at, cards.REMINDERS_DONE)
            return sent
        cards.note_reminders(card.card_id, card.starts_at, f"{more[0]}.{more[1]}")
        start = more
        if deadline is not None and time.monotonic() > deadline:
            return sent


def remind_if_late(reservation) -> bool:
    """A reservation with an email made once its card's reminder time has come is reminded at
    once (the stream's part): the sweep may have finished that card's reminders before it existed.
    The notices claim keeps it to one mail if the sweep reaches it too."""
    now = int(time.time())
    card = cards.get(reservation.card_id)
    if not reservation.email or card is None or card.starts_at is None or card.starts_at <= now:
        return False
    if remind_at(card.starts_at, card.reminder_minutes) > now:
        return False
    try:
        check_visible(card)
    except NotFound:
        return False
    return remind(card, reservation.reservation_id, reservation.email, now)


def remind(card: Card, reservation_id: str, email: str, now: int | None = None) -> bool:
    """Send one reservation's reminder unless it went already or its address unsubscribed."""
    if stored_notices.opted_out(address_key(_secret(), email)):
        return False
    now = int(time.time()) if now is None else now
    return notices.deliver(reservation_id, REMINDER, email, lambda: compose(card, reservation_id, email, now), now)


def retry_due(now: float | None = None, limit: int = 50) -> int:
    """The reminders whose retry (or whose dead sender's lease) is due, each claimed again first;
    one whose sale opened meanwhile, or whose reservation is gone, is given up."""
    now = int(time.time() if now is None else now)
    tried = 0
    for reservation_id, kind in stored_notices.due(now, limit, KINDS.__contains__):
        try:
            reservation = stored_reservations.get(reservation_id)
            card = cards.get(reservation.card_id) if reservation is not None else None
            if card is None or not reservation.email or card.starts_at is None or card.starts_at <= now:
                attempts = stored_notices.claim(reservation_id, kind, now)
                if attempts is not None:
                    stored_notices.mark_failed(reservation_id, kind, attempts)
                continue
            remind(card, reservation_id, reservation.email, now)
            tried += 1
        except Exception:  # one broken reminder must not stop the sweep
            log.exception("retrying the %s mail of %s", kind, reservation_id)
    return tried


def compose(card: Card, reservation_id: str, email: str, now: int) -> tuple[str, str, str, dict]:
    """(subject, text, html, headers) of a reservation's reminder, in the card's words."""
    from chalicelib.pages import templates

    words = words_for(card.locale)["mail"]
    starts = datetime.fromtimestamp(card.starts_at, timezone.utc).strftime("%Y-%m-%d %H:%M")
    values = {"title": card.title, "minutes": max(1, round((card.starts_at - now) / 60)), "starts": starts}
    unsubscribe = views.unsubscribe_url(unsubscribe_token(_secret(), email))
    view = {
        "lang": card.locale, "subject": words["reminder_subject"].format(**values), "greeting": "",
        "lines": [words["reminder_intro"].format(**values)],
        "link_words": words["reminder_link"],
        "link": views.reminder_url(card.card_id, reminder_pass(_secret(), card.card_id, reservation_id)),
        "footer": words["reminder_footer"].format(**values),
        "unsubscribe_words": words["unsubscribe"], "unsubscribe_link": unsubscribe,
    }
    env = templates()
    # RFC 8058: mail clients offer one-click unsubscribe, a POST to the same link.
    headers = {"List-Unsubscribe": f"<{unsubscribe}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    return (view["subject"], env.get_template("mail.txt").render(view), env.get_template("mail.html").render(view),
            headers)


# --- unsubscribing ----------------------------------------------------------------------------


def unsubscribe_page(token: str | None, accept_language: str | None, done: bool = False):
    """The confirmation page of an unsubscribe link (its form POSTs to the same link), or the page
    saying it is done. A token that is not genuine is refused (400 naming `token`)."""
    from chalicelib import pages

    address_key_of_unsubscribe_token(_secret(), token)
    _, words_locale = pick_locale(None, accept_language)
    nonce = pages.new_nonce()
    html = pages.templates().get_template("unsubscribe.html").render(
        t=words_for(words_locale)["mail"], lang=words_locale, nonce=nonce, done=done,
        action=views.unsubscribe_url(token))
    return pages.Page(html, UNSUBSCRIBE_CSP.format(nonce=nonce))


def unsubscribe(token: str | None, accept_language: str | None):
    """The one-click POST (RFC 8058) and the confirmation page's button: no more reminders to the
    token's address. Idempotent."""
    stored_notices.opt_out(address_key_of_unsubscribe_token(_secret(), token))
    log.info("an address unsubscribed from reminders")
    return unsubscribe_page(token, accept_language, done=True)
