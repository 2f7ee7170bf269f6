"""Every state a reader can find the card in, each with a screenshot and an axe-core check."""
import re

import requests
from playwright.sync_api import expect

from cardpage import axe_violations, card_frame, frame_of, host, iso, screenshot, snippet

DURATION = re.compile(r"\d+m \d\ds")


def embed(page, live_stack, card, **data):
    host(page, live_stack, "<h1>A post</h1>" + snippet(live_stack["api_url"], card["id"], card["title"], **data))
    return card_frame(page)


def hold_one(live_stack, card_id: str, buyer: str) -> dict:
    response = requests.post(f"{live_stack['api_url']}/cards/{card_id}/checkout", timeout=10,
                             json={"quantity": 1, "buyer": buyer}, headers={"Idempotency-Key": f"key-{buyer}", "Connection": "close"})
    assert response.status_code == 201, response.text
    return response.json()


def test_upcoming_counts_down_takes_a_reservation_then_opens_without_a_reload(page, live_stack, create_card):
    card = create_card(title="Early bird cup", sale={"starts_at": iso(8)}, reservations={"mode": "required"})

    frame = embed(page, live_stack, card)

    expect(frame.locator("[data-tc=countdown]")).to_have_text(re.compile(r"^Starts in 0m 0\ds$"))
    expect(frame.locator("[data-tc=when]")).to_contain_text("Sale starts")
    expect(frame.locator("[data-tc=buy]")).to_be_hidden()
    expect(frame.locator("[data-tc=countdown]")).to_have_attribute("role", "timer")
    frame.locator("[data-tc=reserve]").click()
    expect(frame.locator("[data-tc=status]")).to_have_text(re.compile("^Reserved"))
    expect(frame.locator("[data-tc=proof]")).to_have_text("1 reserved")
    expect(frame.locator("[data-tc=reserve]")).to_be_disabled()
    assert axe_violations(frame_of(page, card["id"])) == []
    screenshot(page, "upcoming")

    expect(frame.locator("[data-tc=buy]")).to_be_visible(timeout=15_000)  # the clock opened the sale
    expect(frame.locator("[data-tc=countdown]")).to_have_text("")
    frame.locator("[data-tc=buy]").click()  # a reservers-only sale: the reservation token goes along
    expect(frame.locator("[data-tc=test-sheet]")).to_be_visible()


def test_a_reader_without_a_reservation_is_told_the_sale_is_for_reservers(page, live_stack, create_card):
    card = create_card(title="Members cup", reservations={"mode": "required"})

    frame = embed(page, live_stack, card)
    frame.locator("[data-tc=buy]").click()

    expect(frame.locator("[data-tc=status]")).to_have_text("Only readers who reserved can buy right now.")
    expect(frame.locator("[data-tc=buy]")).to_be_enabled()


def test_held_shows_the_payment_step_with_the_hold_counting_down(page, live_stack, create_card):
    card = create_card(title="Held cup", hold_seconds=120)
    frame = embed(page, live_stack, card)

    frame.locator("[data-tc=buy]").click()

    expect(frame.locator("[data-tc=test-sheet]")).to_be_visible()
    expect(frame.locator("[data-tc=hold-left]")).to_have_text(re.compile(r"^1m \d\ds$|^2m 00s$"))
    first = frame.locator("[data-tc=hold-left]").inner_text()
    expect(frame.locator("[data-tc=hold-left]")).not_to_have_text(first)  # it ticks
    assert axe_violations(frame_of(page, card["id"])) == []
    screenshot(page, "held")


def test_sold_out_says_units_may_come_back_while_holds_are_pending(page, live_stack, create_card):
    card = create_card(title="Last cup", stock=1)
    hold_one(live_stack, card["id"], "buyer-elsewhere-0001")

    frame = embed(page, live_stack, card)

    expect(frame.locator("[data-tc=status]")).to_have_text(re.compile("Units may come back"))
    expect(frame.locator("[data-tc=stock]")).to_have_text("0 left")
    expect(frame.locator("[data-tc=buy]")).to_be_hidden()
    assert axe_violations(frame_of(page, card["id"])) == []
    screenshot(page, "sold-out")


def test_ended_says_so_once_the_window_closes(page, live_stack, create_card):
    card = create_card(title="Short sale cup", sale={"ends_at": iso(4)})

    frame = embed(page, live_stack, card)
    expect(frame.locator("[data-tc=countdown]")).to_have_text(re.compile(r"^Ends in 0m 0\ds$"))

    expect(frame.locator("[data-tc=status]")).to_have_text("This sale has ended.", timeout=15_000)
    expect(frame.locator("[data-tc=buy]")).to_be_hidden()
    assert axe_violations(frame_of(page, card["id"])) == []
    screenshot(page, "ended")


def test_a_slow_payment_that_outlives_its_hold_takes_no_money_and_says_why(page, live_stack, create_card):
    card = create_card(title="Slow cup", stock=3, hold_seconds=10)
    frame = embed(page, live_stack, card)

    frame.locator("[data-tc=buy]").click()
    with page.expect_response(re.compile(r"/orders/\w+/pay\?token="), timeout=30_000) as paying:
        frame.locator("[data-tc=pay-slow]").click()
        expect(frame.locator("[data-tc=status]")).to_have_text(re.compile("after your hold runs out"))

    assert paying.value.status == 409 and paying.value.json()["error"]["code"] == "hold_expired"
    expect(frame.locator("[data-tc=status]")).to_have_text(
        "Your reservation ran out before the payment; nothing was charged. Tap buy to try again.")
    expect(frame.locator("[data-tc=buy]")).to_be_enabled()
    expect(frame.locator("[data-tc=stock]")).to_have_text("3 left")
    screenshot(page, "hold-expired")


def test_an_unknown_card_says_not_available_and_gives_the_link_back(page, live_stack):
    host(page, live_stack, snippet(live_stack["api_url"], "card_doesnotexist", "a gone mug"))

    expect(card_frame(page).locator("[data-tc=not-available]")).to_have_text("This product is not available.")
    link = page.locator("[data-tapcard] a")
    expect(link).to_be_visible()
    expect(link).to_have_attribute("href", f"{live_stack['api_url']}/p/card_doesnotexist")
    screenshot(page, "not-available")
