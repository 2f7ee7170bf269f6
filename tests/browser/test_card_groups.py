"""Group buying in Chromium (issue 16): a reader starts a group from the post ("Start a group"),
authorises the group price and waits ("Waiting for 1 more") with a share link that carries the
group; a friend opens that link in another browser context, is invited ("Join this group: 1 of
2, closes in 29:59"), joins and authorises; the group completes and both cards say so, paid.
English, and the buttons in Chinese; axe-core clean."""
import re

from playwright.sync_api import expect

from cardpage import axe_violations, card_frame, frame_of, host, open_page, screenshot, snippet


def test_start_a_group_a_friend_joins_from_the_link_and_it_completes(page, browser, live_stack, create_card):
    card = create_card(title="Group cup", price={"amount": 1800, "currency": "EUR"},
                       group={"size": 2, "price": {"amount": 1200}, "window_minutes": 30})
    host(page, live_stack, "<h1>A post</h1>" + snippet(live_stack["api_url"], card["id"], card["title"], locale="en"))
    frame = card_frame(page)

    expect(frame.locator("[data-tc=buy]")).to_have_text("Buy alone €18.00")
    expect(frame.locator("[data-tc=group-start]")).to_have_text("Start a group €12.00")
    expect(frame.locator("[data-tc=group-explain]")).to_have_text(
        "Group price: 2 people at €12.00 each within 30 min, or nobody pays.")
    assert axe_violations(frame_of(page, card["id"])) == []
    frame.locator("[data-tc=group-start]").click()
    frame.locator("[data-tc=pay-success]").click()

    expect(frame.locator("[data-tc=group-wait]")).to_have_text("Waiting for 1 more", timeout=15_000)
    expect(frame.locator("[data-tc=status]")).to_contain_text("authorised, not taken")
    link = frame.locator("[data-tc=group-share]").input_value()
    assert re.search(r"/p/card_\w+\?group=grp_\w+&ref=\w+$", link), link
    screenshot(page, "group-waiting")

    friend = open_page(browser)
    try:
        friend.goto(link)
        invited = friend.frame_locator("iframe")
        expect(invited.locator("[data-tc=group-invite]")).to_have_text(
            re.compile(r"^Join this group: 1 of 2, closes in (29|30):\d\d$"))
        expect(invited.locator("[data-tc=group-start]")).to_have_text("Join the group €12.00")
        invited.locator("[data-tc=group-start]").click()
        invited.locator("[data-tc=pay-success]").click()

        # The last member authorised: the stream captures both payments.
        expect(invited.locator("[data-tc=status]")).to_have_text("Group complete", timeout=20_000)
        expect(invited.locator("[data-step=paid]")).to_be_visible()
        screenshot(friend, "group-complete-friend")
        assert friend.console_errors == []
    finally:
        friend.context.close()

    expect(frame.locator("[data-tc=status]")).to_have_text("Group complete", timeout=20_000)
    expect(frame.locator("[data-tc=share-url]")).to_have_value(re.compile(r"\?group=grp_\w+&ref=\w+$"))
    assert axe_violations(frame_of(page, card["id"])) == []


def test_a_group_only_card_in_chinese_offers_the_group_price_alone(page, live_stack, create_card):
    card = create_card(title="Group cup zh", price={"amount": 1800, "currency": "EUR"},
                       group={"size": 3, "price": {"amount": 1200}, "window_minutes": 10, "only": True})
    host(page, live_stack, "<h1>A post</h1>" + snippet(live_stack["api_url"], card["id"], card["title"], locale="zh-CN"))
    frame = card_frame(page)

    expect(frame.locator("[data-tc=buy]")).to_have_text("发起拼团 €12.00")
    expect(frame.locator("[data-tc=group-start]")).to_be_hidden()
    expect(frame.locator("[data-tc=group-explain]")).to_have_text("团购价：3人各付€12.00，10分钟内成团，否则无人付款。")
    assert axe_violations(frame_of(page, card["id"])) == []
    frame.locator("[data-tc=buy]").click()
    frame.locator("[data-tc=pay-success]").click()
    expect(frame.locator("[data-tc=group-wait]")).to_have_text("还差2人", timeout=15_000)
