"""What the browser tests do to a card and the dashboard: blog pages of their own origin, snippets,
axe-core, screenshots, signing in."""
import datetime
import html
import re
import uuid
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"


def open_page(browser, **context_options):
    """A page that remembers the card's console errors, CSP violations and warnings."""
    context = browser.new_context(viewport={"width": 900, "height": 1100}, **context_options)
    page = context.new_page()
    page.console_errors, page.console_warnings = [], []
    page.on("console", lambda m: m.type == "error" and ("[tapcard]" in m.text or "Content Security Policy" in m.text)
            and page.console_errors.append(m.text))
    page.on("console", lambda m: m.type == "warning" and m.text.startswith("[tapcard]")
            and page.console_warnings.append(m.text))
    page.on("dialog", lambda dialog: pytest.fail(f"a dialog opened: {dialog.message}"))
    return page


def snippet(api_url: str, card_id: str, title: str = "the mug", **data) -> str:
    """The two lines a blogger pastes, with optional data-* options."""
    options = "".join(f' data-{name}="{html.escape(value)}"' for name, value in data.items())
    return (f'<div data-tapcard="{card_id}"{options}><a href="{api_url}/p/{card_id}">Buy {html.escape(title)} on tapcard</a></div>\n'
            f'<script async src="{api_url}/embed.js"></script>')


def host(page, live_stack, body: str, csp: str | None = None) -> None:
    """Open a blog post the test writes, served by the demo blog (another origin than the API's).

    A real loopback server, not a Playwright route: Chromium stops a fulfilled page from reaching the
    loopback API (Private Network Access), as it would a public site.
    """
    url = live_stack["blog_url"].rstrip("/") + "/drafts/" + uuid.uuid4().hex
    document = f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>A post</title></head><body><main>{body}</main></body></html>'
    requests.put(url, data=document.encode(), headers={"Draft-CSP": csp or "", "Connection": "close"}, timeout=10).raise_for_status()
    page.goto(url)


def iso(seconds_from_now: float) -> str:
    moment = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds_from_now)
    return moment.isoformat(timespec="seconds")


def card_frame(page, nth: int = 0):
    return page.frame_locator("iframe[title^='Buy on tapcard']").nth(nth)


def frame_of(page, card_id: str):
    """The Frame (for evaluate) that shows this card."""
    pattern = re.compile(rf"/cards/{re.escape(card_id)}/widget")
    frame = next((f for f in page.frames if pattern.search(f.url)), None)
    assert frame is not None, f"no frame shows {card_id}"
    return frame


def axe_violations(frame) -> list[str]:
    """WCAG 2 A/AA violations axe-core finds in the frame (colour contrast included)."""
    frame.evaluate(AXE.read_text())
    found = frame.evaluate("""() => axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21aa"]}})
        .then(r => r.violations.map(v => v.id + ": " + v.nodes.map(n => n.target.join(" ")).join(", ")))""")
    return found


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"card-{name}.png"), full_page=True)


def signed_in_dashboard(context, live_stack):
    """The dashboard in a new page, signed in with the demo seller's API key."""
    dashboard = context.new_page()
    dashboard.goto(live_stack["api_url"] + "/dashboard")
    dashboard.fill("#apikey", live_stack["seller_api_key"])
    dashboard.click("#signin-form button[type=submit]")
    expect(dashboard.locator("#app")).to_be_visible()
    return dashboard
