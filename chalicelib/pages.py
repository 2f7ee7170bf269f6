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

from chalicelib import checkout, config, views
from chalicelib.store import cards
from chalicelib.domain import NotFound
from chalicelib.views import minor_unit_exponent

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
    status: int = 200


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
if config.DEV_ROUTES:
    # Lets the browser tests drive the Stripe.js path (with a stand-in Stripe) on the dev stage.
    _OPTION_PATTERNS["sheet"] = re.compile(r"^(test|stripe)$")
DEFAULT_ACCENT = "#c4461f"  # white text on it passes WCAG AA (4.9:1)
SCHEMA_AVAILABILITY = {"live": "InStock", "upcoming": "PreOrder", "sold_out": "SoldOut", "ended": "Discontinued"}


@functools.lru_cache(maxsize=1)
def _env():
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    return Environment(loader=FileSystemLoader(WIDGETS), autoescape=select_autoescape(["html"]))


@functools.lru_cache(maxsize=1)
def embed_js() -> str:
    return (WIDGETS / "embed.js").read_text()


@functools.lru_cache(maxsize=1)
def _catalog() -> dict:
    return json.loads((WIDGETS / "messages.json").read_text())


def pick_locale(option: str | None, accept_language: str | None) -> tuple[str, str]:
    """(the reader's locale for numbers and dates, the catalog that has the card's words)."""
    wanted = option or _first_language(accept_language) or "en"
    catalog = "zh-CN" if wanted.lower().startswith("zh") else "en"
    return wanted, catalog


def _first_language(accept_language: str | None) -> str | None:
    ranked = []
    for part in (accept_language or "").split(","):
        tag, _, quality = part.strip().partition(";q=")
        try:
            ranked.append((float(quality or 1), tag.strip()))
        except ValueError:
            continue
    ranked = [(q, tag) for q, tag in ranked if q > 0 and _OPTION_PATTERNS["locale"].match(tag)]
    return max(ranked, key=lambda item: item[0])[1] if ranked else None


def format_money(amount: int, currency: str, locale: str) -> str:
    from babel.core import UnknownLocaleError
    from babel.numbers import format_currency

    value = amount / 10 ** minor_unit_exponent(currency)
    try:
        return format_currency(value, currency, locale=locale.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return format_currency(value, currency, locale="en")


def text_colour_on(accent: str) -> str:
    """White or near-black, whichever reads better on the seller's accent colour."""
    digits = accent.lstrip("#")
    if len(digits) in (3, 4):
        digits = "".join(c * 2 for c in digits[:3])
    channels = [int(digits[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return "#ffffff" if 1.05 / (luminance + 0.05) >= 4.5 else "#111111"


def _options(query: dict) -> dict:
    """Display options from data-* attributes, passed through the frame's URL; unsafe ones dropped."""
    options = {name: query[name] for name, pattern in _OPTION_PATTERNS.items()
               if isinstance(query.get(name), str) and pattern.match(query[name])}
    options.setdefault("theme", "auto")
    accent = options.get("accent", DEFAULT_ACCENT)
    options["accent"] = accent if accent.startswith("#") else "#" + accent
    options["accent_text"] = text_colour_on(options["accent"])
    return options


def widget(card_id: str, query: dict, accept_language: str | None = None) -> Page:
    options = _options(query)
    locale, catalog = pick_locale(options.get("locale"), accept_language)
    words = _catalog()[catalog]
    nonce = _nonce()
    try:
        card = cards.get_for_buyer(card_id)
    except NotFound:
        html = _env().get_template("not_available.html").render(words=words, lang=catalog, options=options, nonce=nonce)
        return Page(html, WIDGET_CSP.format(nonce=nonce), status=404)
    view = checkout.card_view(card)
    sheet = options.get("sheet", config.PAYMENT_SHEET)
    settings = {
        "card": view,
        "payment_sheet": sheet,
        "publishable_key": config.STRIPE_PUBLISHABLE_KEY,
        "ref": options.get("ref"),
        "locale": locale,
        "words": words,
        "parent_origin": options.get("o"),
        "minor_unit_exponent": minor_unit_exponent(card.currency),
        "accent": options["accent"],
    }
    html = _env().get_template("widget.html").render(
        card=view, options=options, words=words, lang=catalog, nonce=nonce, test_mode=sheet == "test",
        price=format_money(card.price_amount, card.currency, locale),
        settings_json=json.dumps(settings, ensure_ascii=False).replace("</", "<\\/"),
    )
    return Page(html, WIDGET_CSP.format(nonce=nonce))


def product_page(card_id: str, query: dict, accept_language: str | None = None) -> Page:
    locale, catalog = pick_locale(None, accept_language)
    words = _catalog()[catalog]
    nonce = _nonce()
    try:
        card = cards.get_for_buyer(card_id)
    except NotFound:
        html = _env().get_template("not_available.html").render(words=words, lang=catalog, options=_options({}), nonce=nonce)
        return Page(html, PRODUCT_CSP.format(nonce=nonce), status=404)
    view = checkout.card_view(card)
    ref = _options(query).get("ref")
    exponent = minor_unit_exponent(card.currency)
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
            "availability": "https://schema.org/" + SCHEMA_AVAILABILITY[view["sale"]["state"]],
            "url": view["url"],
        },
    }
    html = _env().get_template("product.html").render(
        card=view, ref=ref, api=config.PUBLIC_BASE_URL, price_value=product_ld["offers"]["price"],
        price=format_money(card.price_amount, card.currency, locale), words=words, lang=catalog,
        json_ld=json.dumps(product_ld).replace("</", "<\\/"), nonce=nonce,
    )
    return Page(html, PRODUCT_CSP.format(nonce=nonce))


def qr_svg(card_id: str, ref: str | None) -> str:
    """The WeChat share: a QR code of the buyer's referral link, as SVG."""
    import io

    import segno

    url = f"{config.PUBLIC_BASE_URL}/p/{card_id}"
    if ref and _OPTION_PATTERNS["ref"].match(ref):
        url += f"?ref={ref}"
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", scale=4, border=2, xmldecl=False)
    return out.getvalue().decode()


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
    view = views.order_json(order)
    locale, catalog = pick_locale(None, accept_language)
    lang = "zh" if catalog == "zh-CN" else "en"
    nonce = _nonce()
    html = _env().get_template("order.html").render(
        order=order, card=card, t=_ORDER_WORDS[lang], lang=catalog,
        amount=format_money(order.amount, order.currency, locale), ordered_at=views.iso(order.created_at),
        fulfilled_at=views.iso(order.fulfilled_at), share_url=view.get("share_url"), nonce=nonce,
    )
    return Page(html, ORDER_CSP.format(nonce=nonce))
