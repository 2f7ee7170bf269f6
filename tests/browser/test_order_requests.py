"""The order page's after-sales form (issue 15), in Chromium on the local stack: the buyer opens a
return with a photo (uploaded straight to the stack's S3 under the page's CSP) and sees the thread;
in Chinese, a photo of the wrong type is refused in their words before anything is sent. Both axe
clean; no CSP violation (the page fixture fails on any)."""
import requests
from playwright.sync_api import expect

from cardpage import ARTIFACTS, axe_violations, open_page

SHIPPING = {"required": True, "countries": ["FR"], "fee": {"amount": 450}}
ADDRESS = {"name": "Ada Lovelace", "line1": "12 rue des Potiers", "city": "Lyon", "postal_code": "69001",
           "country": "FR"}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
CLOSE = {"Connection": "close"}


def shipped_order(live_stack, create_card, buyer: str) -> dict:
    base, auth = live_stack["api_url"], {"Authorization": f"Bearer {live_stack['seller_api_key']}", **CLOSE}
    card = create_card(title="Shipped cup", shipping=SHIPPING)
    order = requests.post(f"{base}/cards/{card['id']}/checkout", timeout=30, headers={"Idempotency-Key": buyer, **CLOSE},
                          json={"quantity": 1, "buyer": buyer, "shipping": ADDRESS, "email": "ada@example.com"}).json()
    paid = requests.post(f"{base}/orders/{order['order_id']}/pay", params={"token": order["order_token"]},
                         json={"payment_method": "pm_card_visa"}, headers=CLOSE, timeout=30)
    assert paid.json()["status"] == "succeeded", paid.text
    assert requests.post(f"{base}/api/orders/{order['order_id']}/fulfil", headers=auth, timeout=30,
                         json={"carrier": "Colissimo", "tracking_number": "6A1"}).status_code == 200
    return order


def seller_request(live_stack, order_id: str) -> dict:
    items = requests.get(f"{live_stack['api_url']}/api/requests", timeout=30,
                         headers={"Authorization": f"Bearer {live_stack['seller_api_key']}", **CLOSE}).json()["items"]
    return next(item for item in items if item["order_id"] == order_id)


def test_an_english_buyer_opens_a_return_with_a_photo(page, live_stack, create_card):
    order = shipped_order(live_stack, create_card, "buyer_browser_rq_en")
    page.goto(order["order_url"])
    form = page.locator("#request-form")
    expect(form).to_be_visible()
    assert axe_violations(page.main_frame) == []

    form.get_by_label("What do you need?").select_option("return")
    form.get_by_label("Tell the seller what happened").fill("The handle came off.")
    form.get_by_label("Photos (optional)").set_input_files({"name": "handle.png", "mimeType": "image/png", "buffer": PNG})
    form.get_by_role("button", name="Send request").click()

    thread = page.locator("#aftersales article.request")
    expect(thread).to_contain_text("The handle came off.", timeout=15_000)
    expect(thread).to_contain_text("Return the goods · Open")
    expect(thread).to_contain_text("Photos sent: 1")
    expect(page.locator("#request-form")).to_have_count(0)  # one unsettled request at a time
    assert axe_violations(page.main_frame) == []
    page.screenshot(path=str(ARTIFACTS / "order-request-en.png"), full_page=True)
    photo = seller_request(live_stack, order["order_id"])["photos"][0]
    assert requests.get(photo["url"], timeout=30).content == PNG


def test_a_chinese_buyer_is_told_in_chinese_that_a_gif_is_not_a_photo_type(browser, live_stack, create_card):
    order = shipped_order(live_stack, create_card, "buyer_browser_rq_zh")
    page = open_page(browser, locale="zh-CN")
    try:
        page.goto(order["order_url"])
        form = page.locator("#request-form")
        expect(page.locator("#aftersales h2")).to_have_text("退换货与售后")
        form.get_by_label("您需要什么帮助？").select_option("damaged")
        form.get_by_label("告诉卖家发生了什么").fill("杯子裂了。")
        form.get_by_label("照片（可选）").set_input_files({"name": "crack.gif", "mimeType": "image/gif", "buffer": b"GIF89a"})
        form.get_by_role("button", name="提交申请").click()
        expect(page.locator("#request-status")).to_have_text("照片须为 JPEG、PNG 或 WebP 格式。")
        assert requests.get(order["order_url"].replace("/o/", "/orders/").replace("?", "/requests?"),
                            timeout=30, headers=CLOSE).json()["items"] == []  # nothing sent
        assert axe_violations(page.main_frame) == []

        form.get_by_label("照片（可选）").set_input_files([])
        form.get_by_role("button", name="提交申请").click()
        expect(page.locator("#aftersales article.request")).to_contain_text("杯子裂了。", timeout=15_000)
        expect(page.locator("#aftersales article.request")).to_contain_text("收到时已损坏 · 处理中")
        assert axe_violations(page.main_frame) == []
        page.screenshot(path=str(ARTIFACTS / "order-request-zh-CN.png"), full_page=True)
        assert page.console_errors == []
    finally:
        page.context.close()
