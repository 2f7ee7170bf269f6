"""Issue 15 in Chromium: a reader reserves in the card and leaves an email; the stack's sweeper
mails one reminder before the sale, whose link carries the reservation to the product page's card.
English and Chinese, axe-core clean with the email box open."""
import re

import pytest
import requests
from playwright.sync_api import expect

from cardpage import axe_violations, card_frame, frame_of, host, iso, screenshot, snippet

WORDS = {"en": ("Email me before it starts", "^Reserved"), "zh-CN": ("开售前邮件提醒我", "^预约成功")}


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_a_reader_reserves_with_an_email_and_gets_one_reminder(page, live_stack, create_card, locale):
    email = f"reader-{locale.lower()}@example.com"
    card = create_card(title=f"Reminder cup {locale}", sale={"starts_at": iso(4 * 60)},
                       reservations={"mode": "required", "reminder_minutes": 10})
    host(page, live_stack, "<h1>A post</h1>" + snippet(live_stack["api_url"], card["id"], card["title"], locale=locale))
    frame = card_frame(page)
    summary, reserved = WORDS[locale]

    box = frame.locator("[data-tc=remind-box]")
    expect(box.locator("summary")).to_have_text(summary)
    box.locator("summary").click()
    frame.locator("[data-tc=remind-email]").fill(email)
    assert axe_violations(frame_of(page, card["id"])) == []
    frame.locator("[data-tc=reserve]").click()
    expect(frame.locator("[data-tc=status]")).to_have_text(re.compile(reserved))
    expect(box).to_be_hidden()
    screenshot(page, f"reserved-with-email-{locale}")

    def reminders():
        sent = requests.get(live_stack["mail_url"], params={"format": "json"}, timeout=5,
                            headers={"Connection": "close"}).json()
        return [m for m in sent if m["to"] == email]

    for _ in range(80):
        if reminders():
            break
        page.wait_for_timeout(250)
    [reminder] = reminders()
    link = re.search(rf"{re.escape(live_stack['api_url'])}/p/{card['id']}\?reservation=[\w.]+", reminder["text"]).group(0)
    page.goto(link)
    expect(page.frame_locator("iframe").first.locator("[data-tc=reserve]")).to_be_disabled()  # it carries the reservation
    page.wait_for_timeout(1500)
    assert len(reminders()) == 1
