"""The seller's dashboard: one page whose CSS and JS are inlined under the response's nonce, so it
runs under a CSP as strict as the card's (no other script, no inline handlers)."""
from __future__ import annotations

import functools

from chalicelib import pages

DASHBOARD_CSP = (
    "default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; img-src https: http: data:; "
    "connect-src 'self'; frame-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


@functools.lru_cache(maxsize=1)
def _assets() -> tuple[str, str]:
    return (pages.WIDGETS / "dashboard.css").read_text(), (pages.WIDGETS / "dashboard.js").read_text()


def page() -> pages.Page:
    css, js = _assets()
    nonce = pages._nonce()
    html = pages._env().get_template("dashboard.html").render(nonce=nonce, css=css, js=js)
    return pages.Page(html, DASHBOARD_CSP.format(nonce=nonce))
