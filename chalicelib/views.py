"""How tapcard writes things down for people and clients: money, times, public URLs, CSV cells.
One of each, so the widget, the share text, the pages and the exports always agree. No I/O.
"""
from __future__ import annotations

import io
from datetime import datetime, timezone
from html import escape
from typing import TYPE_CHECKING, Iterable
from urllib.parse import urlencode

from chalicelib import config, later
# The rules' own modules: a widget's cold start (see chalicelib.domain).
from chalicelib.domain.cards import sale_state
from chalicelib.domain.groups import FAILED, OPEN, group_setting_json
from chalicelib.domain.reviews import ReviewStats
from chalicelib.domain.shipping import shipping_json

if TYPE_CHECKING:
    from chalicelib.domain import Card, Code, Group, Order, Review, Shop, StockLevel

orders = later("chalicelib.domain.orders")  # only order_json's
social_rules = later("chalicelib.social.rules")  # only the card JSON's

# Stripe's zero- and three-decimal currencies; every other currency has two decimals in minor units.
# Stripe's table, not Babel's (ISK, HUF, TWD... differ): amounts are stored as Stripe charges them.
_EXPONENTS = {**dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX",
                               "VND", "VUV", "XAF", "XOF", "XPF"), 0),
              **dict.fromkeys(("BHD", "JOD", "KWD", "OMR", "TND"), 3)}
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def minor_unit_exponent(currency: str) -> int:
    return _EXPONENTS.get(currency.upper(), 2)


def minor_unit_exceptions() -> dict[str, int]:
    """The currencies whose minor unit is not a hundredth, for the pages' scripts."""
    return dict(_EXPONENTS)


def major_units(amount: int, currency: str) -> str:
    """An amount in minor units as a plain decimal ("12.50", "500"), for machines (JSON-LD)."""
    exponent = minor_unit_exponent(currency)
    return f"{amount / 10 ** exponent:.{exponent}f}"


def format_money(amount: int, currency: str, locale: str = "en") -> str:
    """An amount in minor units, for a reader of locale: "$12.50", "¥99.00", "JP¥500"."""
    from babel.core import UnknownLocaleError
    from babel.numbers import format_currency

    value = amount / 10 ** minor_unit_exponent(currency)
    try:
        return format_currency(value, currency, locale=locale.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return format_currency(value, currency, locale="en")


def iso(epoch: float | None) -> str | None:
    """UTC, to the second, with "Z": 2026-12-01T10:00:00Z."""
    if epoch is None:
        return None
    return datetime.fromtimestamp(int(epoch), timezone.utc).isoformat().replace("+00:00", "Z")


# --- public URLs ------------------------------------------------------------------------------


def product_url(card_id: str, ref: str | None = None) -> str:
    """The hosted product page; with ref, the referral link a buyer shares."""
    url = f"{config.PUBLIC_BASE_URL}/p/{card_id}"
    return f"{url}?{urlencode({'ref': ref})}" if ref else url


def group_url(card_id: str, group_id: str, ref: str | None = None) -> str:
    """The product page opened on a group ("Join Ada's group"), with the sharer's referral code."""
    query = {"group": group_id, **({"ref": ref} if ref else {})}
    return f"{config.PUBLIC_BASE_URL}/p/{card_id}?{urlencode(query)}"


def order_page_url(order_id: str, token: str) -> str:
    return f"{config.PUBLIC_BASE_URL}/o/{order_id}?{urlencode({'token': token})}"


def reminder_url(card_id: str, reservation_pass: str) -> str:
    """The product page with the reservation a reminder's link carries (pages passes it to the card)."""
    return f"{config.PUBLIC_BASE_URL}/p/{card_id}?{urlencode({'reservation': reservation_pass})}"


def unsubscribe_url(token: str) -> str:
    return f"{config.PUBLIC_BASE_URL}/unsubscribe?{urlencode({'token': token})}"


def embed_js_url() -> str:
    return f"{config.PUBLIC_BASE_URL}/embed.js"


def _snippet(attribute: str, id_: str, url: str, text: str) -> str:
    """The two lines a blogger pastes: what embed.js frames, and a link that works without JavaScript."""
    return (f'<div {attribute}="{id_}"><a href="{url}">{escape(text)} on tapcard</a></div>\n'
            f'<script async src="{embed_js_url()}"></script>')


def dashboard_url(section: str = "aftersales") -> str:
    return f"{config.PUBLIC_BASE_URL}/dashboard#{section}"


def snippet(card: Card) -> str:
    return _snippet("data-tapcard", card.card_id, product_url(card.card_id), f"Buy {card.title}")


def shop_url(shop_id: str) -> str:
    return f"{config.PUBLIC_BASE_URL}/s/{shop_id}"


def shop_snippet(shop: Shop) -> str:
    return _snippet("data-tapcard-shop", shop.shop_id, shop_url(shop.shop_id), shop.name)


def shop_json(shop: Shop) -> dict:
    return {"id": shop.shop_id, "name": shop.name, "card_ids": list(shop.card_ids),
            "snippet": shop_snippet(shop), "url": shop_url(shop.shop_id), "created_at": iso(shop.created_at)}


# --- JSON shapes --------------------------------------------------------------------------------


def card_json(card: Card, level: StockLevel, social: dict[str, int], at: int, rating: ReviewStats | None = None) -> dict:
    """The card as GET /cards/{card_id} shows it; social: the card's shares and reservations;
    rating: its reviews' totals."""
    return {
        "id": card.card_id,
        "title": card.title,
        "description": card.description,
        "image_url": card.image_url,
        "price": {"amount": card.price_amount, "currency": card.currency},
        "compare_at": None if card.compare_at_amount is None else {
            "amount": card.compare_at_amount, "currency": card.currency,
            "saving": card.compare_at_amount - card.price_amount},
        "referral_discount_percent": card.referral_discount_percent,
        "stock": {"available": level.available, "sold": level.sold, "held": level.held},
        "sale": {"starts_at": iso(card.starts_at), "ends_at": iso(card.ends_at),
                 "state": sale_state(card, at, level.available)},
        "limit_per_buyer": card.limit_per_buyer,
        "shipping": shipping_json(card.shipping, card.currency),
        "group": group_setting_json(card.group, card.currency),
        "return_days": card.return_days,
        "hold_seconds": card.hold_seconds,
        "url": product_url(card.card_id),
        "locale": card.locale,
        "bought": level.sold,
        "shares": social["shares"],
        "reservations": social["reservations"],
        "reservation": {"mode": card.reservation_mode or "none",
                        "reservers_only_until": iso(social_rules.reservers_only_until(card))},
        "rating": rating_json(rating or ReviewStats()),
    }


def rating_json(stats: ReviewStats, histogram: bool = False) -> dict:
    """{average (one decimal, null without reviews), count} of the reviews shown; histogram: {"1".."5": n}."""
    body = {"average": stats.average, "count": stats.count}
    if histogram:
        body["histogram"] = {str(stars): stats.histogram.get(stars, 0) for stars in range(1, 6)}
    return body


def review_json(review: Review, seller: bool = False) -> dict:
    body = {"order_id": review.order_id, "rating": review.rating, "text": review.text, "name": review.name,
            "created_at": iso(review.created_at),
            "reply": None if review.reply is None else {"text": review.reply, "replied_at": iso(review.replied_at)}}
    if seller:
        body["hidden"] = None if review.hidden_at is None else {"at": iso(review.hidden_at), "reason": review.hidden_reason}
    return body


def order_json(order: Order) -> dict:
    body = {
        "order_id": order.order_id,
        "card_id": order.card_id,
        "status": order.status,
        "quantity": order.quantity,
        "amount": order.amount,
        "currency": order.currency,
        "expires_at": iso(order.expires_at),
    }
    body["discount"] = None if not order.discount_kind else {
        "kind": order.discount_kind, "code": order.code, "amount": order.discount_amount,
        "subtotal": order.amount + order.discount_amount}
    if order.status_reason:
        body["status_reason"] = order.status_reason
    if order.status == orders.PAID and order.referral_code:
        body["referral_code"] = order.referral_code
        body["share_url"] = product_url(order.card_id, order.referral_code)
    if order.group_id:  # group buying: its group, whether its payment waits for it, the link that invites
        body["group_id"], body["authorised"] = order.group_id, order.authorised_at is not None
        if order.authorised_at:
            body["share_url"] = group_url(order.card_id, order.group_id, orders.referral_code_for(order.order_id))
    body["fulfilment"] = None if order.fulfilled_at is None else {
        "carrier": order.carrier, "tracking_number": order.tracking_number, "fulfilled_at": iso(order.fulfilled_at),
    }
    return body


def group_json(group: Group, at: int) -> dict:
    """A group as anyone sees it: no buyer data but the name its starter chose to share. An open
    group whose window closed can no longer complete: it reads failed before the sweeper runs."""
    state = FAILED if group.state == OPEN and group.closes_at <= at else group.state
    return {"group_id": group.group_id, "card_id": group.card_id, "size": group.size, "members": group.members,
            "authorised": group.authorised, "closes_at": iso(group.closes_at), "state": state,
            "price": {"amount": group.price_amount, "currency": group.currency}, "starter_name": group.starter_name}


def code_json(code: Code) -> dict:
    """A discount code as its seller sees it."""
    return {
        "code": code.code, "percent_off": code.percent_off, "amount_off": code.amount_off,
        "max_redemptions": code.max_redemptions, "per_buyer": code.per_buyer, "redeemed": code.redeemed,
        "starts_at": iso(code.starts_at), "ends_at": iso(code.ends_at), "created_at": iso(code.created_at),
    }


# --- CSV --------------------------------------------------------------------------------------


def csv_cell(value) -> str:
    """A value as a CSV cell a spreadsheet shows as text, never runs as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def csv_text(header: Iterable[str], rows: Iterable[Iterable]) -> str:
    import csv  # the exports' alone: not on a widget's cold start

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([csv_cell(value) for value in row])
    return out.getvalue()
