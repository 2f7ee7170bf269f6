"""Notices by email to an order's buyer: the receipt when it is paid (from the orders stream,
beside the automatic share), shipped when the seller fulfils it, refunded when refunded. Each is
sent once per (order, kind), claimed in the notices table before it is sent (store/notices.py),
and only to an order whose shipping address carries an email. Plain text and HTML (Jinja2,
autoescaped: the seller's title is text) in the card's locale. Addresses and bodies are never
logged: the order id and the kind are.
"""
from __future__ import annotations

import logging

from chalicelib import mail, secrets, shipping, views
from chalicelib.domain import Card, Order, order_token
from chalicelib.store import cards
from chalicelib.store import notices as stored
from chalicelib.words import words_for

log = logging.getLogger(__name__)

RECEIPT, SHIPPED, REFUNDED = "receipt", "shipped", "refunded"
KINDS = (RECEIPT, SHIPPED, REFUNDED)


def receipt(order: Order) -> bool:
    return notify(order, RECEIPT)


def shipped(order: Order) -> bool:
    return notify(order, SHIPPED)


def refunded(order: Order) -> bool:
    return notify(order, REFUNDED)


def notify(order: Order, kind: str) -> bool:
    """Send the order's `kind` mail unless it went already (or is going); True when sent now.
    A send that failed for now (SES throttling past our retries, storage) releases the claim and
    raises, so the caller's retry (the stream's) sends it; one SES refused for good is recorded
    failed and not tried again."""
    address = shipping.address_of(order)
    to = (address or {}).get("email")
    if not to:
        return False
    if not stored.claim(order.order_id, kind):
        return False
    card = cards.get(order.card_id)
    try:
        mail.send(to, *compose(order, card, kind, (address or {}).get("name") or ""))
    except mail.MailError as error:
        if not error.final:
            stored.release(order.order_id, kind)
            raise
        log.warning("the %s mail of %s was refused for good: %s", kind, order.order_id, error.code)
        stored.mark_failed(order.order_id, kind)
        return False
    except Exception:
        log.warning("the %s mail of %s was not sent", kind, order.order_id)
        stored.release(order.order_id, kind)
        raise
    stored.mark_sent(order.order_id, kind)
    log.info("sent the %s mail of %s", kind, order.order_id)
    return True


def compose(order: Order, card: Card, kind: str, name: str) -> tuple[str, str, str]:
    """(subject, text, html) of one notice, in the card's words."""
    from chalicelib.pages import templates

    words = words_for(card.locale)["mail"]
    amount = views.format_money(order.amount, order.currency, card.locale)
    values = {"title": card.title, "name": name, "quantity": order.quantity, "amount": amount,
              "order_id": order.order_id, "carrier": order.carrier or "",
              "tracking_number": order.tracking_number or ""}
    lines = {
        RECEIPT: [words["receipt_intro"], words["receipt_line"]],
        SHIPPED: [words["shipped_intro"], words["tracking"]],
        REFUNDED: [words["refunded_intro"]],
    }[kind]
    link = views.order_page_url(order.order_id, order_token(secrets.get("ORDER_TOKEN_SECRET"), order.order_id))
    view = {
        "lang": card.locale, "subject": words[f"{kind}_subject"].format(**values),
        "greeting": words["greeting"].format(**values) if name else "",
        "lines": [line.format(**values) for line in lines],
        "link_words": words["order_link"], "link": link, "footer": words["footer"].format(**values),
    }
    env = templates()
    return (view["subject"], env.get_template("mail.txt").render(view),
            env.get_template("mail.html").render(view))
