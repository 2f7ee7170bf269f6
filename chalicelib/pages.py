"""HTML and JS that buyers load: the embed loader, the card widget and the hosted product page.

The files live in widgets/ at the repo root (chalicelib.words.WIDGETS); they reach Lambda through
the vendor/widgets link. Their words come from widgets/words/ (chalicelib/words.py).
Jinja2 and Babel are imported on first render, so JSON routes do not pay for them at cold start.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import json
import re
import secrets
from dataclasses import dataclass

from chalicelib import config, later, views
# The rules' own modules: a widget's cold start (see chalicelib.domain).
from chalicelib.domain.errors import InvalidRequest, NotFound
from chalicelib.domain.fields import CODE_PATTERN, REF_PATTERN, REMINDER_PASS_PATTERN
from chalicelib.domain.reviews import MAX_REVIEW_NAME, MAX_REVIEW_TEXT
from chalicelib.domain.shipping import NO_POSTCODE
from chalicelib.store import cards, reviews
from chalicelib.words import LOCALE_TAG, WIDGETS, pick_locale, words_for

# What only the product, shop and order pages use, imported on first use (chalicelib.later): a
# container answering a widget loads none of it.
checkout = later("chalicelib.checkout")
photos = later("chalicelib.photos")
shops = later("chalicelib.shops")
structured_data = later("chalicelib.structured_data")
referrals = later("chalicelib.social.referrals")
shipping = later("chalicelib.shipping")
aftersales_store = later("chalicelib.store.aftersales")
aftersales_rules = later("chalicelib.domain.aftersales")

# Only the page's own inline code runs, allowed by its SHA-256 ({script}, {style}: see hashed);
# Stripe.js and its frames are the only other code.
WIDGET_CSP = (
    "default-src 'none'; script-src {script} https://js.stripe.com https://*.js.stripe.com; "
    "style-src {style}; img-src https: http: data:; connect-src 'self' https://api.stripe.com; "
    "frame-src https://js.stripe.com https://*.js.stripe.com https://hooks.stripe.com; "
    "base-uri 'none'; form-action 'none'"
)
PRODUCT_CSP = ("default-src 'none'; style-src {style}; img-src https: http: data:; frame-src 'self'; "
               "base-uri 'none'; form-action 'none'")


@dataclass(frozen=True)
class Page:
    html: str
    content_security_policy: str
    status: int = 200


def new_nonce() -> str:
    """A fresh nonce for one response's Content-Security-Policy (pages never cached: the order's)."""
    return secrets.token_urlsafe(16)


# The inline code a page runs: <script> and <style> written without attributes. Data blocks
# (<script type="application/json" ...>) never run; what a seller or buyer typed is escaped.
_INLINE = re.compile(r"<(script|style)>(.*?)</\1>", re.S)


def hashed(html: str, policy: str, status: int = 200) -> Page:
    """The page with a policy that allows its own inline scripts and styles by their SHA-256: the
    same page always gets the same policy, so it can be cached (a nonce could not be: it must be
    new for each response)."""
    allowed = {"script": {}, "style": {}}
    for kind, text in _INLINE.findall(html):
        allowed[kind]["'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"] = None
    return Page(html, policy.format(**{kind: " ".join(hashes) or "'none'" for kind, hashes in allowed.items()}), status)


# Characters that could end a <script> element or open a comment in it ("</", "<!--"), or end
# a line in old JavaScript parsers, written as JSON escapes: the text reads the same once parsed.
_SCRIPT_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026",
                   0x2028: "\\u2028", 0x2029: "\\u2029"}


def script_json(value) -> str:
    """JSON to put inside a <script> element, whatever a seller or buyer typed."""
    return json.dumps(value, ensure_ascii=False).translate(_SCRIPT_ESCAPES)


def _not_available(words: dict, words_locale: str, options: dict, csp: str) -> Page:
    html = templates().get_template("not_available.html").render(words=words, lang=words_locale, options=options)
    return hashed(html, csp, status=404)


THEMES = ("light", "dark", "auto")
# What each display option passed through the frame's URL may look like; anything else is dropped
# (but a theme: see widget).
_OPTION_PATTERNS = {
    "locale": LOCALE_TAG,
    "theme": re.compile(r"^(light|dark|auto)\Z"),
    "accent": re.compile(r"^#?[0-9A-Fa-f]{3,8}\Z"),
    "ref": REF_PATTERN,
    "code": CODE_PATTERN,  # ?code= on the post or share link: pre-filled in the card
    "reservation": REMINDER_PASS_PATTERN,  # a reservation reminder's link: the card buys with it
    "group": re.compile(r"^grp_[a-z2-7]{1,60}\Z"),  # ?group= on a group's share link: the card invites to it
    "o": re.compile(r"^https?://[A-Za-z0-9.\-]+(:[0-9]{1,5})?\Z"),
}
if config.DEV_ROUTES:
    # Lets the browser tests drive the Stripe.js path (with a stand-in Stripe) on the dev stage.
    _OPTION_PATTERNS["sheet"] = re.compile(r"^(test|stripe)\Z")
DEFAULT_ACCENT = "#c4461f"  # white text on it passes WCAG AA (4.9:1)


# The templates compiled to Python modules: only in the Lambda package (infra/aws/bundle.py), so a
# new container does not compile each template on its first render (cold start).
COMPILED_TEMPLATES = WIDGETS / "compiled"


def template_environment(loader):
    """The one Jinja2 configuration (autoescaped HTML), for the app and for the package's compile step."""
    from jinja2 import Environment, select_autoescape

    return Environment(loader=loader, autoescape=select_autoescape(["html"]))


@functools.lru_cache(maxsize=1)
def templates():
    """The Jinja2 environment over widgets/ (precompiled in the package, the sources otherwise);
    Jinja2 is imported on first use."""
    from jinja2 import ChoiceLoader, FileSystemLoader, ModuleLoader

    sources = FileSystemLoader(WIDGETS)
    compiled = COMPILED_TEMPLATES.is_dir()
    return template_environment(ChoiceLoader([ModuleLoader(COMPILED_TEMPLATES), sources]) if compiled else sources)


@functools.lru_cache(maxsize=1)
def embed_js() -> str:
    return (WIDGETS / "embed.js").read_text()


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
    """The card a snippet frames: the same for every reader of the same URL and language, so the
    edge keeps it. Its live data (price, stock, sale state) the page fetches from GET
    /cards/{card_id} (card_live.js), and once on screen it tells POST /cards/{card_id}/views."""
    # embed.js sends only a theme it knows (it warns and sends none for another), so any other
    # theme is a hand-made URL: it is told, as openapi.json's enum says, rather than ignored.
    if "theme" in query and query["theme"] not in THEMES:
        raise InvalidRequest(f"'theme' must be one of {', '.join(THEMES)}.", "theme")
    options = _options(query)
    locale, words_locale = pick_locale(options.get("locale"), accept_language)
    words = words_for(words_locale)["card"]
    try:
        card = cards.get_for_buyer(card_id)
    except NotFound:
        return _not_available(words, words_locale, options, WIDGET_CSP)
    sheet = options.get("sheet", config.PAYMENT_SHEET)
    settings = {
        "card_id": card.card_id,
        "preview": "preview" in query,  # the seller's own preview is no view
        "payment_sheet": sheet,
        "publishable_key": config.STRIPE_PUBLISHABLE_KEY,
        "ref": options.get("ref"),
        "reservation": options.get("reservation"),
        "locale": locale,
        "words": words,
        "parent_origin": options.get("o"),
        "minor_unit_exponent": views.minor_unit_exponent(card.currency),
        "accent": options["accent"],
    }
    ship = None
    if card.shipping.required:  # the address form and its words weigh only on cards that ship goods
        ship = words_for(words_locale)["shipping"]
        settings["words"] = {**words, **ship}
        settings["no_postcode"] = sorted(NO_POSTCODE)
        settings["shipping_countries"] = list(card.shipping.countries)
    group = words_for(words_locale)["group"] if card.group else None  # its script and words: group cards only
    if group:
        settings.update(words={**settings["words"], **group}, group_id=options.get("group"))
    html = templates().get_template("widget.html").render(
        card=card, options=options, words=words, lang=words_locale, test_mode=sheet == "test",
        price=views.format_money(card.price_amount, card.currency, locale),
        settings_json=script_json(settings), ship=ship,
        fee=views.format_money(card.shipping.fee, card.currency, locale) if ship else None,
        countries=country_names(card.shipping.countries, locale) if ship else (), **_compare_at(card, locale),
        referral_discount=card.referral_discount_percent if options.get("ref") else None,
        **_reviews(card.card_id, words, 1), grp=group,
        group_price=views.format_money(card.group.price_amount, card.currency, locale) if group else None,
    )
    return hashed(html, WIDGET_CSP)


def country_names(codes, locale: str) -> list[tuple[str, str]]:
    """(code, name in the reader's language) of each country, sorted by name (Babel's names)."""
    from babel.core import Locale, UnknownLocaleError

    try:
        names = Locale.parse(locale.replace("-", "_")).territories
    except (UnknownLocaleError, ValueError):
        names = Locale("en").territories
    return sorted(((code, names.get(code, code)) for code in codes), key=lambda pair: pair[1])


def _reviews(card_id: str, words: dict, count: int) -> dict:
    """The rating ("★ 4.7 (213)", and the words a screen reader says instead) and the newest reviews."""
    stats = reviews.stats(card_id)
    if not stats.count:
        return {"rating": None, "newest_reviews": []}
    average = f"{stats.average:.1f}"
    return {"rating": {"average": average, "count": stats.count,
                       "label": words["rated"].replace("{average}", average).replace("{count}", str(stats.count))},
            "newest_reviews": reviews.newest(card_id, count)}


def _frame_src(card_id: str, options: dict) -> str:
    """The card's frame on the product page, with the link's referral and discount code."""
    from urllib.parse import urlencode

    passed = {name: options[name] for name in ("ref", "code", "reservation", "group") if options.get(name)}
    return f"{config.PUBLIC_BASE_URL}/cards/{card_id}/widget" + (f"?{urlencode(passed)}" if passed else "")


def _compare_at(card, locale: str) -> dict:
    """The struck-through price and the saving, in the reader's locale (none without compare_at)."""
    if card.compare_at_amount is None:
        return {"compare_at": None, "saving": None}
    return {"compare_at": views.format_money(card.compare_at_amount, card.currency, locale),
            "saving": views.format_money(card.compare_at_amount - card.price_amount, card.currency, locale)}


def product_page(card_id: str, query: dict, accept_language: str | None = None) -> Page:
    """The hosted page (works without JavaScript), kept at the edge: the card it frames counts the
    view and the referral visit (POST /cards/{card_id}/views)."""
    locale, words_locale = pick_locale(None, accept_language)
    words = words_for(words_locale)["card"]
    try:
        card = cards.get_for_buyer(card_id)
    except NotFound:
        return _not_available(words, words_locale, _options({}), PRODUCT_CSP)
    view = checkout.card_view(card)
    options = _options(query)
    product_ld = structured_data.product_ld(card, view)
    html = templates().get_template("product.html").render(
        card=view, frame_src=_frame_src(card.card_id, options), **_compare_at(card, locale),
        **_reviews(card.card_id, words, 5),
        price_value=product_ld["offers"]["price"],
        price=views.format_money(card.price_amount, card.currency, locale), words=words, lang=words_locale,
        json_ld=script_json(product_ld),
    )
    return hashed(html, PRODUCT_CSP)


# --- the blogger's shop (issue 17) --------------------------------------------------------------

SHOP_CSP = ("default-src 'none'; script-src {script}; style-src {style}; img-src https: http: data:; "
            "frame-src 'self'; base-uri 'none'; form-action 'none'")


def shop_page(shop_id: str, query: dict, accept_language: str | None = None, compact: bool = False) -> Page:
    """The shop's hosted page (GET /s/{shop_id}) or, compact, the grid embed.js frames
    (GET /s/{shop_id}/frame): its name and each card shown to readers, framed as the card; a
    friendly 404 for an unknown shop."""
    from urllib.parse import urlencode

    options = _options(query)
    locale, words_locale = pick_locale(options.get("locale"), accept_language)
    render = functools.partial(templates().get_template("shop.html").render, t=words_for(words_locale)["shop"],
                               lang=words_locale, compact=compact,
                               parent_origin=script_json(options.get("o") if compact else None))
    try:
        shop, shown = shops.for_readers(shop_id)
    except NotFound:
        return hashed(render(shop=None), SHOP_CSP, status=404)
    passed = {"o": config.PUBLIC_BASE_URL, **{k: options[k] for k in ("locale", "theme", "ref", "code") if options.get(k)}}
    if options.get("accent") != DEFAULT_ACCENT:
        passed["accent"] = options["accent"]
    items = [{"id": card.card_id, "title": card.title, "url": view["url"],
              "price": views.format_money(card.price_amount, card.currency, locale),
              "src": f"{config.PUBLIC_BASE_URL}/cards/{card.card_id}/widget?{urlencode(passed)}"} for card, view in shown]
    item_list = {
        "@context": "https://schema.org", "@type": "ItemList", "name": shop.name, "url": views.shop_url(shop.shop_id),
        "numberOfItems": len(items),
        "itemListElement": [{"@type": "ListItem", "position": n, "url": item["url"], "name": item["title"]}
                            for n, item in enumerate(items, 1)],
    }
    return hashed(render(shop=shop, items=items, url=views.shop_url(shop.shop_id), json_ld=script_json(item_list)),
                  SHOP_CSP)


def qr_svg(card_id: str, ref: str | None) -> str:
    """The WeChat share: a QR code of the buyer's referral link, as SVG."""
    import io

    import segno

    url = views.product_url(card_id, ref if ref and REF_PATTERN.match(ref) else None)
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", scale=4, border=2, xmldecl=False)
    return out.getvalue().decode()


def openapi() -> dict:
    document = json.loads((WIDGETS / "openapi.json").read_text())
    if not config.DEV_ROUTES:
        document["paths"] = {path: spec for path, spec in document["paths"].items() if not path.startswith("/dev/")}
    return document


# --- the buyer's order page (seller side, issue 7) ---------------------------------------------

# Its scripts (order_requests.js and order_review.js, under the nonce) post JSON to this origin and
# photos to the photos bucket's origin ({uploads}); forms are never submitted as forms.
ORDER_CSP = ("default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; img-src https: http: data:; "
             "connect-src 'self' {uploads}; base-uri 'none'; form-action 'none'")


def _earnings(order, locale: str) -> dict | None:
    """What the buyer's share link earned, amounts formatted; only for a paid order."""
    if order.status != "paid":
        return None
    earned = referrals.earnings(order)
    return {"referred_orders": earned["referred_orders"],
            **{key: views.format_money(earned[key], earned["currency"], locale) for key in ("rebate", "rebate_pending")}}


def _review_form(order, card, token: str) -> dict:
    from urllib.parse import urlencode

    from chalicelib import reviewing

    return {"review_state": reviewing.form_state(order, card), "review_max_text": MAX_REVIEW_TEXT,
            "review_max_name": MAX_REVIEW_NAME,
            "review_action": f"/orders/{order.order_id}/review?{urlencode({'token': token})}"}


# Scripts a page loads from GET /assets/{name} (under its nonce), each a file of widgets/.
ASSETS = ("order_review.js", "order_requests.js")


@functools.lru_cache(maxsize=None)
def asset(name: str) -> str:
    if name not in ASSETS:
        raise NotFound("No script has this name.")
    return (WIDGETS / name).read_text()


def order_page(order_id: str, token: str | None, accept_language: str | None) -> Page:
    order, card = checkout.order_for_buyer(order_id, token)
    view = views.order_json(order)
    locale, words_locale = pick_locale(None, accept_language)
    nonce = new_nonce()
    html = templates().get_template("order.html").render(
        order=order, card=card, t=words_for(words_locale)["order_page"], lang=words_locale,
        amount=views.format_money(order.amount, order.currency, locale), ordered_at=views.iso(order.created_at),
        discount=views.format_money(order.discount_amount, order.currency, locale) if order.discount_amount else None,
        fulfilled_at=views.iso(order.fulfilled_at), share_url=view.get("share_url"), nonce=nonce,
        address=shipping.address_of(order),  # behind the order's token only, like the page itself
        earnings=_earnings(order, locale), **_review_form(order, card, token),
        requests=aftersales_store.of_order(order.order_id),  # after-sales: order_requests.html
        photo_types=", ".join(aftersales_rules.PHOTO_TYPES), max_photos=aftersales_rules.MAX_PHOTOS,
        max_photo_bytes=aftersales_rules.MAX_PHOTO_BYTES,
    )
    return Page(html, ORDER_CSP.format(nonce=nonce, uploads=photos.upload_origin()))

