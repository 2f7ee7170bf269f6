"""The seller's dashboard: one page whose CSS and JS (dashboard_charts.js, then dashboard.js) are
inlined under the response's nonce (dashboard_shipping.js and the panels' dashboard_*.js between them), so it runs under a CSP as strict as the card's (no other
script, no inline handlers). Its words, every locale's "dashboard" section of widgets/words/, are
inlined as JSON (#tc-words) for the script to read, and so are the currencies whose minor unit is
not a hundredth (#tc-currencies), so prices are shown and entered as Stripe counts them."""
from __future__ import annotations

import functools

from chalicelib import pages, views
from chalicelib.words import DEFAULT_LOCALE, LOCALES, WIDGETS, words_for

DASHBOARD_CSP = (
    "default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; img-src https: http: data:; "
    "connect-src 'self'; frame-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


# In this order: dashboard.js uses what each of the others defines.
DASHBOARD_SCRIPTS = ("dashboard_charts.js", "dashboard_shipping.js", "dashboard_compare_at.js", "dashboard_group.js", "dashboard_codes.js",
                     "dashboard_reviews.js", "dashboard_shops.js", "dashboard.js", "dashboard_aftersales.js")


@functools.lru_cache(maxsize=1)
def _assets() -> tuple[str, str, str, str]:
    words = {locale: words_for(locale)["dashboard"] for locale in LOCALES}
    words_json = pages.script_json(words)
    js = "\n".join((WIDGETS / name).read_text() for name in DASHBOARD_SCRIPTS)
    return (WIDGETS / "dashboard.css").read_text(), js, words_json, pages.script_json(views.minor_unit_exceptions())


def page() -> pages.Page:
    css, js, words_json, currencies_json = _assets()
    nonce = pages.new_nonce()
    # The page is written in the default locale; the script switches it to the reader's language.
    # The language button offers the next locale.
    html = pages.templates().get_template("dashboard.html").render(
        nonce=nonce, css=css, js=js, words=words_for(DEFAULT_LOCALE)["dashboard"],
        switch_to=words_for(LOCALES[1])["dashboard"]["language_name"], words_json=words_json,
        currencies_json=currencies_json)
    return pages.Page(html, DASHBOARD_CSP.format(nonce=nonce))
