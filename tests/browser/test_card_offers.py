"""Issue 17 in Chromium: the special price struck through with its saving, a discount code from the
post's URL filled in and priced by the server, a code that does not work said in the reader's
words; English and Chinese, axe-core clean."""
import requests
from playwright.sync_api import expect

from cardpage import axe_violations, card_frame, frame_of, host, screenshot, snippet


def add_code(live_stack, card_id: str, **body) -> None:
    response = requests.post(f"{live_stack['api_url']}/api/cards/{card_id}/codes", json=body, timeout=10,
                             headers={"Authorization": f"Bearer {live_stack['seller_api_key']}", "Connection": "close"})
    assert response.status_code == 201, response.text


def reviewed(live_stack, card_id: str, buyer: str, rating: int, text: str) -> None:
    """A reader's order, paid with a test card, then reviewed."""
    api, close = live_stack["api_url"], {"Connection": "close"}
    order = requests.post(f"{api}/cards/{card_id}/checkout", json={"quantity": 1, "buyer": buyer}, timeout=10,
                          headers={"Idempotency-Key": f"key-{buyer}", **close}).json()
    token = order["order_token"]
    paid = requests.post(f"{api}/orders/{order['order_id']}/pay?token={token}", json={"payment_method": "pm_card_visa"},
                         timeout=30, headers=close)
    assert paid.json()["status"] == "succeeded", paid.text
    response = requests.post(f"{api}/orders/{order['order_id']}/review?token={token}", timeout=10, headers=close,
                             json={"rating": rating, "text": text, "name": "Ada"})
    assert response.status_code == 201, response.text


def test_a_special_price_and_a_code_from_the_post_url_in_english(page, live_stack, create_card):
    card = create_card(title="Sale cup", compare_at={"amount": 1500})
    add_code(live_stack, card["id"], code="SPRING10", percent_off=10)
    reviewed(live_stack, card["id"], "buyer-review-0001", 5, "Lovely <glaze> & sturdy")

    host(page, live_stack, "<h1>A post</h1>" + snippet(live_stack["api_url"], card["id"], card["title"], locale="en"))
    page.goto(page.url + "?code=spring10")  # the blogger's link carries the code
    frame = card_frame(page)

    expect(frame.locator("[data-tc=was]")).to_have_text("Regular price: €15.00")
    expect(frame.locator("[data-tc=was]")).to_have_css("text-decoration-line", "line-through")
    expect(frame.locator("[data-tc=saving]")).to_have_text("Save €3.00")
    expect(frame.locator("[data-tc=code]")).to_have_value("spring10")
    expect(frame.locator("[data-tc=code]")).to_be_visible()  # the code box opened by itself
    expect(frame.locator("[data-tc=rating]")).to_have_text("★ 5.0 (1)Rated 5.0 out of 5 from 1 reviews")
    expect(frame.locator("[data-tc=newest-review]")).to_have_text("Lovely <glaze> & sturdy— Ada")
    assert axe_violations(frame_of(page, card["id"])) == []
    screenshot(page, "special-price")

    frame.locator("[data-tc=buy]").click()

    expect(frame.locator("[data-tc=discount]")).to_have_text("Code SPRING10: €1.20 off. You pay €10.80.")
    expect(frame.locator("[data-tc=test-sheet]")).to_be_visible()
    assert axe_violations(frame_of(page, card["id"])) == []
    screenshot(page, "code-applied")


def test_a_code_typed_by_hand_that_does_not_work_is_said_in_chinese(page, live_stack, create_card):
    card = create_card(title="Sale cup zh", compare_at={"amount": 1500})

    host(page, live_stack, "<h1>A post</h1>" + snippet(live_stack["api_url"], card["id"], card["title"], locale="zh-CN"))
    frame = card_frame(page)

    expect(frame.locator("[data-tc=was]")).to_contain_text("原价：")
    expect(frame.locator("[data-tc=saving]")).to_contain_text("立省")
    expect(frame.locator("[data-tc=code]")).to_be_hidden()
    frame.locator("[data-tc=code-box] summary").click()
    frame.locator("[data-tc=code]").fill("NOSUCHCODE")
    frame.locator("[data-tc=buy]").click()

    expect(frame.locator("[data-tc=status]")).to_have_text("此优惠码不适用于该商品。")
    expect(frame.locator("[data-tc=buy]")).to_be_enabled()
    assert axe_violations(frame_of(page, card["id"])) == []
    screenshot(page, "code-invalid-zh")
