"""A reader on the demo blog (its own origin) buys through the embedded card in Chromium."""
import re

import requests
from playwright.sync_api import expect

from cardpage import axe_violations, card_frame, frame_of, open_page, screenshot


def test_reader_buys_in_the_post_and_gets_a_share_link(page, live_stack):
    page.goto(live_stack["blog_url"])
    card = card_frame(page)
    expect(card.locator("h1")).to_have_text("Tapcard Demo Mug")
    expect(card.locator("[data-tc=price]")).to_have_text("€18.00")
    assert axe_violations(frame_of(page, live_stack["demo_card_id"])) == []
    screenshot(page, "live")
    left_before = int(card.locator("[data-tc=stock]").inner_text().split()[0])

    card.locator("[data-tc=buy]").click()
    expect(card.locator("[data-tc=test-sheet]")).to_contain_text("TEST MODE")
    with page.expect_request(re.compile(r"/orders/\w+/pay\?token=")) as paying:
        card.locator("[data-tc=pay-success]").click()
    assert paying.value.post_data_json == {"payment_method": "pm_card_visa", "amount": 1800, "currency": "EUR"}

    expect(card.locator("[data-step=paid]")).to_be_visible(timeout=20_000)
    expect(card.locator("[data-step=paid]")).to_contain_text("Paid")
    share_url = card.locator("[data-tc=share-url]").input_value()
    assert share_url.startswith(live_stack["api_url"] + "/p/" + live_stack["demo_card_id"] + "?ref=")
    # At once, not at the next 4-6 s poll: the buyer's own unit is gone.
    expect(card.locator("[data-tc=stock]")).to_have_text(f"{left_before - 1} left", timeout=2_000)
    # The automatic share reaches the card's own feed.
    expect(card.locator("[data-tc=feed]")).to_contain_text(share_url, timeout=15_000)
    expect(card.locator("[data-tc=copy]")).to_have_text("Copy link")
    expect(card.locator("[data-tc=order-link]")).to_have_attribute("href", re.compile(r"/o/ord_\w+\?token="))
    expect(card.locator("[data-net=weibo]")).to_have_attribute("href", re.compile(r"^https://service\.weibo\.com/share/"))
    frame = frame_of(page, live_stack["demo_card_id"])
    frame.wait_for_function("document.querySelector('[data-tc=qr]').naturalWidth > 0")  # the WeChat QR code
    assert axe_violations(frame) == []
    screenshot(page, "paid")


def test_a_declined_test_card_keeps_the_unit_held_and_another_card_pays(page, live_stack):
    page.goto(live_stack["blog_url"])
    card = card_frame(page)
    card.locator("[data-tc=buy]").click()
    with page.expect_request(re.compile(r"/orders/\w+/pay\?token=")) as paying:
        card.locator("[data-tc=pay-decline]").click()
    assert paying.value.post_data_json == {"payment_method": "pm_card_chargeCustomerFail", "amount": 1800, "currency": "EUR"}

    expect(card.locator("[data-tc=status]")).to_have_text("Your card was declined.", timeout=20_000)
    expect(card.locator("[data-tc=test-sheet]")).to_be_visible()  # still held: the pay step stays
    page.wait_for_timeout(1500)  # the card's once-a-second refresh must not wipe the message
    expect(card.locator("[data-tc=status]")).to_have_text("Your card was declined.")
    expect(card.locator("[data-tc=hold-left]")).not_to_have_text("0m 00s")
    screenshot(page, "declined")

    card.locator("[data-tc=pay-success]").click()
    expect(card.locator("[data-step=paid]")).to_be_visible(timeout=20_000)


def test_the_snippet_link_works_without_javascript(browser, live_stack):
    page = open_page(browser, java_script_enabled=False)
    page.goto(live_stack["blog_url"])
    link = page.locator(f"[data-tapcard='{live_stack['demo_card_id']}'] a")
    expect(link).to_have_attribute("href", f"{live_stack['api_url']}/p/{live_stack['demo_card_id']}")
    html = requests.get(link.get_attribute("href"), headers={"Connection": "close"}, timeout=10).text
    assert 'property="og:title" content="Tapcard Demo Mug"' in html
    assert '"@type": "Product"' in html
    page.context.close()
