"""Chromium (Debian's, never downloaded) driving the card as readers see it. Helpers: cardpage.py."""
import pytest
import requests
from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    from cardpage import open_page

    page = open_page(browser)
    yield page
    assert page.console_errors == []
    page.context.close()


@pytest.fixture
def context(browser):
    """A browser context for the dashboard tests (tall viewport); its tapcard console errors are collected."""
    context = browser.new_context(viewport={"width": 1000, "height": 1200})
    context.console_errors = []
    # Other tiers' cards (images on hosts that do not resolve here) may show in the list: only
    # tapcard's own errors and CSP violations count.
    context.on("console", lambda m: m.type == "error" and ("[tapcard]" in m.text or "Content Security Policy" in m.text)
               and context.console_errors.append(m.text))
    yield context
    context.close()


@pytest.fixture
def create_card(live_stack):
    """A card made through the seller API, as a blogger would."""
    def create(**fields) -> dict:
        body = {"title": "Glazed espresso cup", "description": "Stoneware, 90 ml.",
                "image_url": f"{live_stack['blog_url']}/mug.svg", "price": {"amount": 1200, "currency": "EUR"},
                "stock": 20, **fields}
        response = requests.post(f"{live_stack['api_url']}/api/cards", json=body, timeout=10,
                                 headers={"Authorization": f"Bearer {live_stack['seller_api_key']}", "Connection": "close"})
        assert response.status_code == 201, response.text
        return response.json()
    return create


