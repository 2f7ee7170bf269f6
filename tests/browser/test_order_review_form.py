"""Issue 17 in Chromium: the buyer reviews from the order page. The page's CSP lets only its nonced
review script run, which posts the form as JSON; the review then shows on the card. English and
Chinese, axe-core clean, no CSP violation."""
import pytest
import requests
from playwright.sync_api import expect

from cardpage import ARTIFACTS, axe_violations, card_frame, frame_of, host, open_page, snippet

CLOSE = {"Connection": "close"}


def paid_order(live_stack, card_id: str, buyer: str) -> dict:
    api = live_stack["api_url"]
    order = requests.post(f"{api}/cards/{card_id}/checkout", json={"quantity": 1, "buyer": buyer}, timeout=10,
                          headers={"Idempotency-Key": f"key-{buyer}", **CLOSE}).json()
    paid = requests.post(f"{api}/orders/{order['order_id']}/pay?token={order['order_token']}", timeout=30,
                         headers=CLOSE, json={"payment_method": "pm_card_visa"})
    assert paid.json()["status"] == "succeeded", paid.text
    return order


@pytest.fixture
def order_page(browser):
    pages = []

    def open_order(live_stack, order, locale):
        page = open_page(browser, locale=locale)
        pages.append(page)
        page.goto(f"{live_stack['api_url']}/o/{order['order_id']}?token={order['order_token']}")
        return page
    yield open_order
    for page in pages:
        assert page.console_errors == []
        page.context.close()


def test_a_buyer_reviews_from_the_order_page_and_the_card_shows_it(order_page, page, live_stack, create_card):
    card = create_card(title="Review cup")
    order = paid_order(live_stack, card["id"], "buyer-form-0001")
    buyer = order_page(live_stack, order, "en-US")

    form = buyer.locator("#review-form")
    expect(form.locator("button[type=submit]")).to_have_text("Post review")
    assert axe_violations(buyer.main_frame) == []
    form.locator("label[for=rating-4]").click()
    form.locator("textarea[name=text]").fill("Sturdy <and> pretty")
    form.locator("input[name=name]").fill("Ada")
    form.locator("button[type=submit]").click()

    expect(buyer.locator("#review-status")).to_have_text("Thank you! Your review is posted.")
    expect(form).to_be_hidden()
    assert axe_violations(buyer.main_frame) == []
    ARTIFACTS.mkdir(exist_ok=True)
    buyer.screenshot(path=str(ARTIFACTS / "order-review-en.png"), full_page=True)
    reviews = requests.get(f"{live_stack['api_url']}/cards/{card['id']}/reviews", headers=CLOSE, timeout=10).json()
    assert [(r["rating"], r["text"], r["name"]) for r in reviews["items"]] == [(4, "Sturdy <and> pretty", "Ada")]
    # The reader of the post sees it on the card.
    host(page, live_stack, snippet(live_stack["api_url"], card["id"], card["title"], locale="en"))
    expect(card_frame(page).locator("[data-tc=rating]")).to_contain_text("★ 4.0 (1)")


def test_the_form_in_chinese_asks_for_a_rating_first(order_page, live_stack, create_card):
    card = create_card(title="评价杯")
    order = paid_order(live_stack, card["id"], "buyer-form-0002")
    buyer = order_page(live_stack, order, "zh-CN")

    form = buyer.locator("#review-form")
    expect(form.locator("legend")).to_have_text("您的评分")
    form.locator("button[type=submit]").click()
    expect(buyer.locator("#review-status")).to_have_text("请选择 1 到 5 的评分。")
    assert axe_violations(buyer.main_frame) == []
    form.locator("label[for=rating-5]").click()
    form.locator("button[type=submit]").click()
    expect(buyer.locator("#review-status")).to_have_text("谢谢！您的评价已发表。")

    again = order_page(live_stack, order, "zh-CN")
    expect(again.locator("[data-reviewed]")).to_have_text("您已评价此订单，谢谢！")
    buyer.screenshot(path=str(ARTIFACTS / "order-review-zh.png"), full_page=True)


def test_the_card_shows_its_review_line_in_chinese(page, live_stack, create_card):
    card = create_card(title="评价杯二")
    order = paid_order(live_stack, card["id"], "buyer-form-0003")
    requests.post(f"{live_stack['api_url']}/orders/{order['order_id']}/review?token={order['order_token']}",
                  json={"rating": 5, "text": "很好用"}, headers=CLOSE, timeout=10).raise_for_status()

    host(page, live_stack, snippet(live_stack["api_url"], card["id"], card["title"], locale="zh-CN"))
    frame = card_frame(page)

    expect(frame.locator("[data-tc=rating]")).to_contain_text("★ 5.0 (1)")
    expect(frame.locator("[data-tc=newest-review]")).to_contain_text("很好用")
    assert axe_violations(frame_of(page, card["id"])) == []
