"""A card that ships goods (issue 15): the reader gives a shipping address in the card, in their
language, and pays; the TEST MODE sheet's plain form, and Stripe's Address Element (stand-in)."""
import re

import requests
from playwright.sync_api import expect

from cardpage import axe_violations, card_frame, frame_of, host, screenshot, snippet
from test_card_stripe_js import STAND_IN, PayCalls, calls

SHIPPING = {"required": True, "countries": ["FR", "DE", "HK"], "fee": {"amount": 450}}


def seller_orders(live_stack, card_id: str) -> list[dict]:
    response = requests.get(f"{live_stack['api_url']}/api/cards/{card_id}/orders", timeout=10,
                            headers={"Authorization": f"Bearer {live_stack['seller_api_key']}", "Connection": "close"})
    return response.json()["items"]


def embed(page, live_stack, card, **data):
    host(page, live_stack, "<h1>A post</h1>" + snippet(live_stack["api_url"], card["id"], card["title"], **data))
    return card_frame(page)


def test_an_english_reader_gives_the_address_then_pays(page, live_stack, create_card):
    card = create_card(title="Shipped cup", shipping=SHIPPING)
    frame = embed(page, live_stack, card, locale="en")
    expect(frame.locator("[data-tc=ship-fee]")).to_have_text("Shipping: €4.50 per order")

    frame.locator("[data-tc=buy]").click()
    form = frame.locator("[data-tc=address]")
    expect(form).to_be_visible()
    expect(form.get_by_label("Full name")).to_have_attribute("autocomplete", "shipping name")
    expect(form.get_by_label("Postal code")).to_have_attribute("required", "")
    frame.locator("[data-tc=pay-success]").click()  # nothing filled in yet

    expect(frame.locator("[data-tc=status]")).to_have_text("Please check your shipping address.")
    expect(form.get_by_label("Full name")).to_have_attribute("aria-invalid", "true")
    expect(frame.locator("#tc-e-name")).to_have_text("Please fill this in.")
    expect(frame.locator("[data-step=pay]")).to_be_visible()
    assert axe_violations(frame_of(page, card["id"])) == []
    screenshot(page, "shipping-errors-en")

    form.get_by_label("Full name").fill("Ada Lovelace")
    form.get_by_label("Address", exact=True).fill("12 rue des Potiers")
    form.get_by_label("City").fill("Lyon")
    form.get_by_label("Postal code").fill("69001")
    form.get_by_label("Country").select_option("FR")
    form.get_by_label("Email (for your receipt)").fill("not-an-email")
    frame.locator("[data-tc=pay-success]").click()
    expect(frame.locator("#tc-e-email")).to_have_text("Please check this.")
    expect(frame.locator("#tc-e-name")).to_have_text("")
    form.get_by_label("Email (for your receipt)").fill("ada@example.com")
    frame.locator("[data-tc=pay-success]").click()

    expect(frame.locator("[data-step=paid]")).to_be_visible(timeout=20_000)
    [order] = seller_orders(live_stack, card["id"])
    assert order["status"] == "paid" and order["amount"] == 1200 + 450
    assert order["shipping"] == {"name": "Ada Lovelace", "line1": "12 rue des Potiers", "city": "Lyon",
                                 "postal_code": "69001", "country": "FR", "email": "ada@example.com"}
    assert axe_violations(frame_of(page, card["id"])) == []


def test_a_chinese_reader_ships_to_hong_kong_without_a_postcode(page, live_stack, create_card):
    card = create_card(title="寄送杯", shipping=SHIPPING)
    frame = embed(page, live_stack, card, locale="zh-CN")

    frame.locator("[data-tc=buy]").click()
    form = frame.locator("[data-tc=address]")
    expect(form.locator("h2")).to_have_text("收货地址")
    form.get_by_label("国家或地区").select_option("HK")
    expect(form.get_by_label("邮政编码")).not_to_have_attribute("required", "")
    frame.locator("[data-tc=pay-success]").click()
    expect(frame.locator("[data-tc=status]")).to_have_text("请检查你的收货地址。")
    expect(frame.locator("#tc-e-name")).to_have_text("请填写此项。")
    assert axe_violations(frame_of(page, card["id"])) == []
    screenshot(page, "shipping-errors-zh")

    form.get_by_label("收件人姓名").fill("陳大文")
    form.get_by_label("详细地址").fill("九龍彌敦道 1 號")
    form.get_by_label("城市").fill("香港")
    form.get_by_label("电子邮箱（用于接收收据）").fill("tai@example.hk")
    frame.locator("[data-tc=pay-success]").click()

    expect(frame.locator("[data-step=paid]")).to_be_visible(timeout=20_000)
    expect(frame.locator("[data-step=paid]")).to_contain_text("付款成功")
    [order] = seller_orders(live_stack, card["id"])
    assert order["shipping"] == {"name": "陳大文", "line1": "九龍彌敦道 1 號", "city": "香港", "country": "HK",
                                 "email": "tai@example.hk"}
    assert axe_violations(frame_of(page, card["id"])) == []
    screenshot(page, "shipping-paid-zh")


def test_with_stripe_js_the_address_element_is_sent_before_the_pay_call(page, live_stack, create_card):
    card = create_card(title="Stripe shipped cup", shipping=SHIPPING)
    page.route("https://js.stripe.com/v3/", lambda route: route.fulfill(
        status=200, content_type="application/javascript", body=STAND_IN))
    sent = []
    page.on("request", lambda r: re.search(r"/orders/[^/]+/(shipping|pay)\?", r.url) and sent.append(
        (r.method, r.url.split("?")[0].rsplit("/", 1)[1])))
    page.goto(f"{live_stack['api_url']}/cards/{card['id']}/widget?sheet=stripe")
    page.locator("[data-tc=buy]").click()
    expect(page.locator("[data-tc=address-element]")).to_have_text("[address]")
    [address] = [c for c in calls(page, "create") if c["type"] == "address"]
    assert address["options"]["mode"] == "shipping"
    assert address["options"]["allowedCountries"] == ["FR", "DE", "HK"]
    [elements] = calls(page, "elements")
    assert elements["amount"] == 1200 + 450
    paying = PayCalls(page, "pm_card_visa")

    page.locator("[data-tc=pay-stripe]").click()  # the Address Element is not complete yet
    expect(page.locator("[data-tc=status]")).to_have_text("Please check your shipping address.")
    assert paying.requests == []

    page.evaluate("""window.__stripe.address = {name: "Ada Lovelace", phone: "+33 4 72 00 00 00",
        address: {line1: "12 rue des Potiers", line2: null, city: "Lyon", state: "", postal_code: "69001", country: "FR"}}""")
    page.get_by_label("Email (for your receipt)").fill("ada@example.com")
    page.locator("[data-tc=pay-stripe]").click()

    expect(page.locator("[data-step=paid]")).to_be_visible(timeout=20_000)
    assert sent == [("PUT", "shipping"), ("POST", "pay")]
    assert paying.bodies[0]["amount"] == 1650
    [order] = seller_orders(live_stack, card["id"])
    assert order["shipping"] == {"name": "Ada Lovelace", "line1": "12 rue des Potiers", "city": "Lyon",
                                 "postal_code": "69001", "country": "FR", "phone": "+33 4 72 00 00 00",
                                 "email": "ada@example.com"}
    assert axe_violations(page.main_frame) == []
