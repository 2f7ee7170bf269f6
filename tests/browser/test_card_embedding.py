"""How the card lives in a blogger's page: languages, several cards, strict CSPs, bad options, hostile titles."""
import re

from playwright.sync_api import expect

from cardpage import axe_violations, card_frame, frame_of, host, screenshot, snippet


def test_a_chinese_reader_sees_chinese_words_yuan_and_dates(page, live_stack, create_card):
    card = create_card(title="景德镇手工杯", price={"amount": 9900, "currency": "CNY"}, stock=8)

    host(page, live_stack, snippet(live_stack["api_url"], card["id"], card["title"], locale="zh-CN"))
    frame = card_frame(page)

    expect(frame.locator("[data-tc=buy]")).to_have_text("立即购买")
    expect(frame.locator("[data-tc=price]")).to_have_text("¥99.00")
    expect(frame.locator("[data-tc=stock]")).to_have_text("仅剩 8 件")
    frame.locator("[data-tc=buy]").click()
    expect(frame.locator("[data-tc=hold-left]")).to_have_text(re.compile(r"^\d+分 \d\d秒$"))
    expect(frame.locator("[data-tc=test-sheet]")).to_contain_text("测试模式")
    assert axe_violations(frame_of(page, card["id"])) == []
    screenshot(page, "zh-CN-held")


def test_the_browser_language_picks_the_words_when_the_snippet_does_not(browser, live_stack, create_card):
    from cardpage import open_page

    card = create_card(title="Cup", price={"amount": 500, "currency": "JPY"})
    page = open_page(browser, locale="zh-CN")

    host(page, live_stack, snippet(live_stack["api_url"], card["id"], card["title"]))

    expect(card_frame(page).locator("[data-tc=buy]")).to_have_text("立即购买")
    expect(card_frame(page).locator("[data-tc=price]")).to_have_text("JP¥500")  # no minor unit; CLDR tells it from the yuan
    assert page.console_errors == []
    page.context.close()


def test_two_cards_on_one_page_each_keep_their_own_state(page, live_stack, create_card):
    cup = create_card(title="Cup", stock=4)
    plate = create_card(title="Plate", stock=9, price={"amount": 2500, "currency": "USD"})

    host(page, live_stack, snippet(live_stack["api_url"], cup["id"], "Cup") + "<p>More words.</p>"
         + snippet(live_stack["api_url"], plate["id"], "Plate", theme="dark", accent="#1d3557"))
    first, second = card_frame(page, 0), card_frame(page, 1)

    expect(first.locator("h1")).to_have_text("Cup")
    expect(second.locator("h1")).to_have_text("Plate")
    expect(second.locator("[data-tc=price]")).to_have_text("$25.00")
    second.locator("[data-tc=buy]").click()
    expect(second.locator("[data-tc=test-sheet]")).to_be_visible()
    expect(first.locator("[data-tc=buy]")).to_be_visible()  # the other card is untouched
    # Each frame grows to its own content through its own resize messages.
    heights = page.eval_on_selector_all("[data-tapcard] iframe", "fs => fs.map(f => f.getBoundingClientRect().height)")
    assert heights[0] != heights[1]
    assert axe_violations(frame_of(page, plate["id"])) == []
    screenshot(page, "two-cards")


def test_the_card_works_in_a_page_with_a_strict_csp_of_its_own(page, live_stack, create_card):
    card = create_card(title="Strict cup")
    api = live_stack["api_url"]

    host(page, live_stack, snippet(api, card["id"], card["title"]),
         csp=f"default-src 'none'; script-src {api}/embed.js; frame-src {api}/cards/; style-src 'none'; img-src 'none'")

    frame = card_frame(page)
    expect(frame.locator("h1")).to_have_text("Strict cup")
    frame.locator("[data-tc=buy]").click()
    frame.locator("[data-tc=pay-success]").click()
    expect(frame.locator("[data-step=paid]")).to_be_visible(timeout=20_000)
    # The page fixture fails the test on any CSP violation, the host page's included.


def test_broken_options_fall_back_to_defaults_with_a_warning(page, live_stack, create_card):
    card = create_card(title="Plain cup")

    host(page, live_stack, snippet(live_stack["api_url"], card["id"], card["title"],
                                   theme="neon", accent="red;background:url(x)", locale="<script>"))

    frame = card_frame(page)
    expect(frame.locator("h1")).to_have_text("Plain cup")
    expect(frame.locator("html")).to_have_attribute("data-theme", "auto")
    expect(frame.locator("[data-tc=buy]")).to_have_text("Buy now")
    warned = " ".join(page.console_warnings)
    assert len(page.console_warnings) == 3
    assert "data-theme" in warned and "data-accent" in warned and "data-locale" in warned


def test_a_title_full_of_html_and_script_is_only_text(page, live_stack, create_card):
    title = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
    card = create_card(title=title, description="</p><b>bold?</b>")

    host(page, live_stack, snippet(live_stack["api_url"], card["id"], "a mug"))

    frame = card_frame(page)
    expect(frame.locator("h1")).to_have_text(title)
    expect(frame.locator("h1 img, h1 script")).to_have_count(0)
    screenshot(page, "hostile-title")
    # The page fixture fails the test if any alert() opened.


def test_the_card_is_framed_only_when_it_nears_the_viewport(page, live_stack, create_card):
    card = create_card(title="Far cup")

    host(page, live_stack, '<div style="height:4000px">A long post.</div>' + snippet(live_stack["api_url"], card["id"], "Far cup"))

    page.wait_for_timeout(800)
    expect(page.locator("[data-tapcard] iframe")).to_have_count(0)
    page.mouse.wheel(0, 3600)
    expect(card_frame(page).locator("h1")).to_have_text("Far cup")


def test_a_keyboard_reader_can_buy_with_visible_focus(page, live_stack, create_card):
    card = create_card(title="Keyboard cup")
    page.goto(f"{live_stack['api_url']}/cards/{card['id']}/widget")
    # The button shows once the live card says the sale is on (card_live.js), not from the kept page.
    expect(page.locator("[data-tc=buy]")).to_be_visible()

    page.keyboard.press("Tab")
    focused = page.evaluate("""() => { const el = document.activeElement, style = getComputedStyle(el);
        return {tc: el.dataset.tc, outline: style.outlineStyle, width: style.outlineWidth}; }""")
    assert focused == {"tc": "buy", "outline": "solid", "width": "3px"}
    page.keyboard.press("Enter")
    expect(page.locator("[data-tc=test-sheet]")).to_be_visible()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the first test card: succeeds
    expect(page.locator("[data-step=paid]")).to_be_visible(timeout=20_000)


def test_high_demand_at_the_tap_is_retried_with_the_same_key_and_said_so(page, live_stack, create_card):
    card = create_card(title="Busy cup")
    seen = []

    def busy_twice(route):
        # The tap never waits on Stripe: a 503 there is the platform throttling (API Gateway, Lambda).
        seen.append(route.request.headers)
        if len(seen) <= 2:
            return route.fulfill(status=503, content_type="application/json", body='{"message": "Service Unavailable"}')
        return route.continue_()

    page.route("**/checkout", busy_twice)
    page.goto(f"{live_stack['api_url']}/cards/{card['id']}/widget")
    page.locator("[data-tc=buy]").click()

    expect(page.locator("[data-tc=status]")).to_have_text("High demand, retrying…")
    expect(page.locator("[data-tc=test-sheet]")).to_be_visible(timeout=15_000)
    assert len(seen) == 3
    assert len({headers["idempotency-key"] for headers in seen}) == 1
    assert [headers.get("tapcard-retry") for headers in seen] == [None, "1", "2"]


def test_payments_busy_keeps_the_unit_and_pays_when_stripe_has_room(page, live_stack, create_card):
    card = create_card(title="Queued cup", stock=2)
    taps, pays = [], []

    def busy_twice(route):
        # Stripe's shared budget is spent: the server keeps the hold and says when to ask again.
        pays.append(route.request.post_data_json)
        if len(pays) <= 2:
            return route.fulfill(status=503, content_type="application/json", headers={"Retry-After": "1"},
                                 body='{"error": {"code": "payments_busy", "message": "Payments are busy."}}')
        return route.continue_()

    page.on("request", lambda r: r.url.endswith("/checkout") and taps.append(r.url))
    page.route(re.compile(r"/orders/\w+/pay\?token="), busy_twice)
    page.goto(f"{live_stack['api_url']}/cards/{card['id']}/widget")
    page.locator("[data-tc=buy]").click()
    page.locator("[data-tc=pay-success]").click()

    expect(page.locator("[data-tc=status]")).to_have_text("Opening payment… your unit is kept.")
    expect(page.locator("[data-tc=hold-left]")).to_be_visible()
    expect(page.locator("[data-step=paid]")).to_be_visible(timeout=15_000)
    assert len(taps) == 1  # never tapped again: the hold was kept
    assert len(pays) == 3 and all(body == {"payment_method": "pm_card_visa", "amount": 1200, "currency": "EUR"} for body in pays)


def test_a_chinese_reader_is_told_in_chinese_that_payments_are_busy(page, live_stack, create_card):
    card = create_card(title="排队杯", price={"amount": 9900, "currency": "CNY"})
    page.route(re.compile(r"/orders/\w+/pay\?token="), lambda route: route.fulfill(
        status=503, content_type="application/json", headers={"Retry-After": "30"},
        body='{"error": {"code": "payments_busy", "message": "Payments are busy."}}'))

    page.goto(f"{live_stack['api_url']}/cards/{card['id']}/widget?locale=zh-CN")
    page.locator("[data-tc=buy]").click()
    page.locator("[data-tc=pay-success]").click()

    expect(page.locator("[data-tc=status]")).to_have_text("正在打开支付…已为你保留商品。")
    expect(page.locator("[data-tc=pay-success]")).to_be_disabled()
