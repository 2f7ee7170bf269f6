"""Notices by email to an order's buyer: the receipt when it is paid (from the orders stream,
beside the automatic share), shipped when the seller fulfils it, refunded when refunded. Each is
sent once per (order, kind), claimed in the notices table before it is sent (store/notices.py),
and only to an order whose shipping address carries an email. Plain text and HTML (Jinja2,
autoescaped: the seller's title is text) in the card's locale. Addresses and bodies are never
logged: the order id and the kind are.
"""
from __future__ import annotations

import logging
import random
import time

from chalicelib import mail, secrets, shipping, views
from chalicelib.domain import Card, Order, order_token
from chalicelib.store import cards, orders
from chalicelib.store import notices as stored
from chalicelib.words import words_for

log = logging.getLogger(__name__)

RECEIPT, SHIPPED, REFUNDED = "receipt", "shipped", "refunded"
KINDS = (RECEIPT, SHIPPED, REFUNDED)
# After-sales updates, one kind per (step, request): "request_<step>.<request_id>[.<n>]"
# (chalicelib/aftersales_notices.py has their words).
REQUEST_PREFIX = "request_"
MAX_ATTEMPTS = 5
BACKOFF_SECONDS = 30
MAX_BACKOFF_SECONDS = 3600


def receipt(order: Order) -> bool:
    return notify(order, RECEIPT)


def shipped(order: Order) -> bool:
    return notify(order, SHIPPED)


def refunded(order: Order) -> bool:
    return notify(order, REFUNDED)


def request_kind(step: str, request_id: str, detail: str = "") -> str:
    """The kind of an after-sales mail: once per step of each request (a reply: once per message)."""
    return f"{REQUEST_PREFIX}{step}.{request_id}" + (f".{detail}" if detail else "")


def notify(order: Order, kind: str, now: int | None = None) -> bool:
    """Send the order's `kind` mail unless it went already (or is going); True when sent now.
    A send that fails for now (SES throttling past the adapter's retries) is left to the sweeper,
    with backoff; one SES refused for good, or past MAX_ATTEMPTS, is recorded failed. Never raises
    for the mail itself: the share beside it and the seller's action stand."""
    address = shipping.address_of(order)
    to = (address or {}).get("email")
    if not to:
        return False
    return deliver(order.order_id, kind, to, lambda: compose(
        order, cards.get(order.card_id), kind, (address or {}).get("name") or ""), now)


def deliver(subject_id: str, kind: str, to: str, message, now: int | None = None) -> bool:
    """Claim (subject, kind), then send `message()` (subject, text, html[, headers]) to `to`; True
    when sent now. The one place a notice's claim, send, retry and failure are decided: an order's
    notices and a reservation's reminder (chalicelib/reminders.py) alike."""
    attempts = stored.claim(subject_id, kind, now)
    if attempts is None:
        return False
    attempts += 1
    try:
        mail.send(to, *message())
    except Exception as error:
        final = isinstance(error, mail.MailError) and error.final
        log.warning("the %s mail of %s was not sent (attempt %d): %s", kind, subject_id, attempts,
                    getattr(error, "code", type(error).__name__))
        if final or attempts >= MAX_ATTEMPTS:
            stored.mark_failed(subject_id, kind, attempts)
        else:
            backoff = min(BACKOFF_SECONDS * 2 ** (attempts - 1), MAX_BACKOFF_SECONDS) * random.uniform(0.8, 1.2)
            stored.retry_at(subject_id, kind, attempts, int(time.time() + backoff))
        return False
    stored.mark_sent(subject_id, kind, attempts)
    log.info("sent the %s mail of %s", kind, subject_id)
    return True


def _is_order_notice(kind: str) -> bool:
    return kind in KINDS or kind.startswith(REQUEST_PREFIX)


def retry_due(now: float | None = None, limit: int = 50) -> int:
    """The sweeper's part: send the mails whose retry (or whose dead sender's lease) is due;
    returns how many it tried. Each is claimed again first, so two sweeps send it once."""
    now = int(time.time() if now is None else now)
    tried = 0
    for order_id, kind in stored.due(now, limit, _is_order_notice):
        try:
            order = orders.get(order_id)
            if order is None:
                continue
            notify(order, kind, now)
            tried += 1
        except Exception:  # one broken notice must not stop the sweep
            log.exception("retrying the %s mail of %s", kind, order_id)
    return tried


def compose(order: Order, card: Card, kind: str, name: str) -> tuple[str, str, str]:
    """(subject, text, html) of one notice, in the card's words."""
    from chalicelib.pages import templates

    words = words_for(card.locale)["mail"]
    amount = views.format_money(order.amount, order.currency, card.locale)
    values = {"title": card.title, "name": name, "quantity": order.quantity, "amount": amount,
              "order_id": order.order_id, "carrier": order.carrier or "",
              "tracking_number": order.tracking_number or ""}
    if kind.startswith(REQUEST_PREFIX):
        from chalicelib import aftersales_notices

        subject, lines = aftersales_notices.subject_and_lines(kind, words, values)
    else:
        subject, lines = f"{kind}_subject", {
            RECEIPT: [words["receipt_intro"], words["receipt_line"]],
            SHIPPED: [words["shipped_intro"], words["tracking"]],
            REFUNDED: [words["refunded_intro"]],
        }[kind]
    link = views.order_page_url(order.order_id, order_token(secrets.get("ORDER_TOKEN_SECRET"), order.order_id))
    view = {
        "lang": card.locale, "subject": words[subject].format(**values),
        "greeting": words["greeting"].format(**values) if name else "",
        "lines": [line.format(**values) for line in lines],
        "link_words": words["order_link"], "link": link, "footer": words["footer"].format(**values),
    }
    if kind == SHIPPED:  # the review invitation (issue 17): the order page's review form
        view.update(review_words=words["review_invite"], review_link=f"{link}#review")
    env = templates()
    return (view["subject"], env.get_template("mail.txt").render(view),
            env.get_template("mail.html").render(view))
