"""Issue 17: a blog post with the shop snippet shows the shop's grid, and a card in it sells in place."""
import html
import re

import pytest
import requests
from playwright.sync_api import expect

from cardpage import axe_violations, host, screenshot


def create_shop(live_stack, name, card_ids) -> dict:
    response = requests.post(f"{live_stack['api_url']}/api/shops", json={"name": name, "card_ids": card_ids}, timeout=10,
                             headers={"Authorization": f"Bearer {live_stack['seller_api_key']}", "Connection": "close"})
    assert response.status_code == 201, response.text
    return response.json()


def shop_snippet(api_url: str, shop: dict, **data) -> str:
    options = "".join(f' data-{name}="{html.escape(value)}"' for name, value in data.items())
    return (f'<div data-tapcard-shop="{shop["id"]}"{options}><a href="{shop["url"]}">{html.escape(shop["name"])}</a></div>\n'
            f'<script async src="{api_url}/embed.js"></script>')


def frame_matching(page, pattern: str):
    found = re.compile(pattern)
    for _ in range(100):
        frame = next((f for f in page.frames if found.search(f.url)), None)
        if frame is not None:
            return frame
        page.wait_for_timeout(100)
    raise AssertionError(f"no frame matches {pattern}")


@pytest.mark.parametrize("locale, buy", [("en", "Buy now"), ("zh-CN", "立即购买")])
def test_a_shop_in_a_post_shows_its_grid_and_a_card_in_it_sells(page, live_stack, create_card, locale, buy):
    cup = create_card(title="Speckled cup", price={"amount": 1200, "currency": "EUR"}, stock=5)
    plate = create_card(title="Blue plate", price={"amount": 2400, "currency": "EUR"}, stock=5)
    shop = create_shop(live_stack, "Ada's kiln", [cup["id"], plate["id"]])

    host(page, live_stack, "<h1>My new glazes</h1>" + shop_snippet(live_stack["api_url"], shop, locale=locale))

    grid = page.frame_locator("[data-tapcard-shop] iframe")
    expect(grid.locator("h1")).to_have_text("Ada's kiln")
    cards = grid.locator("li iframe")
    expect(cards).to_have_count(2)
    first, second = grid.frame_locator("li iframe").nth(0), grid.frame_locator("li iframe").nth(1)
    expect(first.locator("h1")).to_have_text("Speckled cup")
    expect(second.locator("h1")).to_have_text("Blue plate")
    expect(second.locator("[data-tc=buy]")).to_have_text(buy)
    # The grid's frame grew to its content through its resize message.
    page.wait_for_function("() => document.querySelector('[data-tapcard-shop] iframe').getBoundingClientRect().height > 300")

    assert axe_violations(frame_matching(page, rf"/s/{shop['id']}/frame")) == []
    assert axe_violations(frame_matching(page, rf"/cards/{plate['id']}/widget")) == []

    second.locator("[data-tc=buy]").click()
    expect(second.locator("[data-tc=test-sheet]")).to_be_visible()
    second.locator("[data-tc=pay-success]").click()
    expect(second.locator("[data-step=paid]")).to_be_visible(timeout=20_000)
    expect(first.locator("[data-tc=buy]")).to_be_visible()  # the other card is untouched
    screenshot(page, f"shop-{locale}")
