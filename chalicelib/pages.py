"""HTML and JS that buyers load: the embed loader, the card widget and the hosted product page.

The files live in chalicelib/widgets/ because Chalice deploys only app.py and chalicelib/.
Jinja2 is imported on first render, so JSON routes do not pay for it at cold start.
"""
from __future__ import annotations

import functools
import json
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from chalicelib import checkout, config
from chalicelib.domain import minor_unit_exponent

WIDGETS = Path(__file__).parent / "widgets"

# Only this response's own inline code runs; Stripe.js and its frames are the only other code.
WIDGET_CSP = (
    "default-src 'none'; script-src 'nonce-{nonce}' https://js.stripe.com https://*.js.stripe.com; "
    "style-src 'nonce-{nonce}'; img-src https: http: data:; connect-src 'self' https://api.stripe.com; "
    "frame-src https://js.stripe.com https://*.js.stripe.com https://hooks.stripe.com; "
    "base-uri 'none'; form-action 'none'"
)
PRODUCT_CSP = ("default-src 'none'; style-src 'nonce-{nonce}'; img-src https: http: data:; frame-src 'self'; "
               "base-uri 'none'; form-action 'none'")


@dataclass(frozen=True)
class Page:
    html: str
    content_security_policy: str


def _nonce() -> str:
    return secrets.token_urlsafe(16)
# What each display option passed through the frame's URL may look like; anything else is dropped.
_OPTION_PATTERNS = {
    "locale": re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,2}$"),
    "theme": re.compile(r"^(light|dark|auto)$"),
    "accent": re.compile(r"^#?[0-9A-Fa-f]{3,8}$"),
    "ref": re.compile(r"^[A-Za-z0-9_\-]{1,32}$"),
    "o": re.compile(r"^https?://[A-Za-z0-9.\-]+(:[0-9]{1,5})?$"),
}


@functools.lru_cache(maxsize=1)
def _env():
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(loader=FileSystemLoader(WIDGETS), autoescape=select_autoescape(["html"]))
    env.filters["money"] = lambda price: format_plain_money(price["amount"], price["currency"])
    return env


@functools.lru_cache(maxsize=1)
def embed_js() -> str:
    return (WIDGETS / "embed.js").read_text()


def format_plain_money(amount: int, currency: str) -> str:
    """A locale-free fallback; the card reformats it with the reader's locale."""
    exponent = minor_unit_exponent(currency)
    return f"{amount / 10 ** exponent:,.{exponent}f} {currency}"


def _options(query: dict) -> dict:
    """Display options from data-* attributes, passed through the frame's URL; unsafe ones dropped."""
    options = {name: query[name] for name, pattern in _OPTION_PATTERNS.items()
               if isinstance(query.get(name), str) and pattern.match(query[name])}
    options.setdefault("theme", "auto")
    if "accent" in options and not options["accent"].startswith("#"):
        options["accent"] = "#" + options["accent"]
    return options


def widget(card_id: str, query: dict) -> Page:
    card = checkout.get_card(card_id)
    view = checkout.card_json(card)
    options = _options(query)
    settings = {
        "card": view,
        "payment_sheet": config.PAYMENT_SHEET,
        "publishable_key": config.STRIPE_PUBLISHABLE_KEY,
        "ref": options.get("ref"),
        "locale": options.get("locale"),
        "parent_origin": options.get("o"),
        "minor_unit_exponent": minor_unit_exponent(card.currency),
    }
    nonce = _nonce()
    html = _env().get_template("widget.html").render(
        card=view, options=options, settings_json=json.dumps(settings).replace("</", "<\\/"),
        test_mode=config.PAYMENT_SHEET == "test", nonce=nonce,
    )
    return Page(html, WIDGET_CSP.format(nonce=nonce))


def product_page(card_id: str, query: dict) -> Page:
    card = checkout.get_card(card_id)
    view = checkout.card_json(card)
    ref = _options(query).get("ref")
    exponent = minor_unit_exponent(card.currency)
    availability = "https://schema.org/InStock" if view["stock"]["available"] > 0 else "https://schema.org/SoldOut"
    product_ld = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": card.title,
        "description": card.description,
        "image": card.image_url,
        "url": view["url"],
        "offers": {
            "@type": "Offer",
            "price": f"{card.price_amount / 10 ** exponent:.{exponent}f}",
            "priceCurrency": card.currency,
            "availability": availability,
            "url": view["url"],
        },
    }
    nonce = _nonce()
    html = _env().get_template("product.html").render(
        card=view, ref=ref, api=config.PUBLIC_BASE_URL, price_value=product_ld["offers"]["price"],
        json_ld=json.dumps(product_ld).replace("</", "<\\/"), nonce=nonce,
    )
    return Page(html, PRODUCT_CSP.format(nonce=nonce))


def openapi() -> dict:
    document = json.loads((WIDGETS / "openapi.json").read_text())
    if not config.DEV_ROUTES:
        document["paths"] = {path: spec for path, spec in document["paths"].items() if not path.startswith("/dev/")}
    return document


# --- the buyer's order page (seller side, issue 7) ---------------------------------------------

ORDER_CSP = "default-src 'none'; style-src 'nonce-{nonce}'; img-src https: http: data:; base-uri 'none'; form-action 'none'"
_ORDER_WORDS = {
    "en": {"title": "Your order", "order": "Order", "quantity": "Quantity", "amount": "Amount",
           "ordered": "Ordered", "delivery": "Delivery", "shipped": "Shipped", "carrier": "Carrier",
           "tracking": "Tracking number", "preparing": "Paid. The seller is preparing your order.",
           "nothing": "Nothing to deliver for this order.", "share": "Your share link:",
           "statuses": {"held": "Waiting for payment", "paid": "Paid", "expired": "Expired",
                        "refunded": "Refunded", "canceled": "Canceled"}},
    "zh": {"title": "您的订单", "order": "订单号", "quantity": "数量", "amount": "金额", "ordered": "下单时间",
           "delivery": "配送", "shipped": "发货时间", "carrier": "承运商", "tracking": "运单号",
           "preparing": "已付款，卖家正在备货。", "nothing": "此订单无需配送。", "share": "您的分享链接：",
           "statuses": {"held": "等待付款", "paid": "已付款", "expired": "已过期", "refunded": "已退款",
                        "canceled": "已取消"}},
}


def order_page(order_id: str, token: str | None, accept_language: str | None) -> Page:
    order, card = checkout.order_for_buyer(order_id, token)
    view = checkout.order_json(order)
    lang = "zh" if (accept_language or "").strip().lower().startswith("zh") else "en"
    nonce = _nonce()
    html = _env().get_template("order.html").render(
        order=order, card=card, t=_ORDER_WORDS[lang], lang="zh-CN" if lang == "zh" else "en",
        amount=format_plain_money(order.amount, order.currency), ordered_at=checkout.iso(order.created_at),
        fulfilled_at=checkout.iso(order.fulfilled_at), share_url=view.get("share_url"), nonce=nonce,
    )
    return Page(html, ORDER_CSP.format(nonce=nonce))
