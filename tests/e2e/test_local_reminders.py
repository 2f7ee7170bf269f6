"""Reservation reminders on the real local stack (issue 15): a reader reserves with an email before
a sale that opens in a few minutes; the stack's sweeper mails the reminder once, and the captured
mail (mail_url) shows it with the link that carries the reservation and the unsubscribe link."""
import time
from datetime import datetime, timedelta, timezone

import requests

from test_local_stack import wait_until

CLOSE = {"Connection": "close"}


def test_a_reservers_reminder_arrives_once_at_mail_url(live_stack):
    base, auth = live_stack["api_url"], {"Authorization": f"Bearer {live_stack['seller_api_key']}", **CLOSE}
    starts = (datetime.now(timezone.utc) + timedelta(minutes=4)).replace(microsecond=0)
    card = requests.post(f"{base}/api/cards", headers=auth, timeout=10, json={
        "title": "E2E <Lamp>", "description": "A lamp.", "image_url": "https://img.example/lamp.png",
        "price": {"amount": 2500, "currency": "EUR"}, "stock": 5,
        "sale": {"starts_at": starts.isoformat().replace("+00:00", "Z")},
        "reservations": {"mode": "required", "reminder_minutes": 10}})
    assert card.status_code == 201, card.text
    card_id = card.json()["id"]
    reserved = requests.post(f"{base}/cards/{card_id}/reservations", headers=CLOSE, timeout=10,
                             json={"buyer": "buyer_e2e_remind1", "email": "ada@example.com"})
    assert reserved.status_code == 201, reserved.text
    reservation_id = reserved.json()["reservation_id"]

    def reminders():
        """the sweeper sends the reminder to the captured mail"""
        sent = requests.get(live_stack["mail_url"], params={"format": "json"}, headers=CLOSE, timeout=5).json()
        return [m for m in sent if f"reservation={reservation_id}.m" in m["text"]]

    [reminder] = wait_until(reminders)
    assert reminder["to"] == "ada@example.com"
    assert reminder["subject"] == "In 4 min: E2E <Lamp> goes on sale"
    assert "E2E &lt;Lamp&gt;" in reminder["html"]
    unsubscribe = reminder["headers"]["List-Unsubscribe"].strip("<>")
    assert unsubscribe.startswith(f"{base}/unsubscribe?token=")
    page = requests.get(live_stack["mail_url"], headers=CLOSE, timeout=5)
    assert "In 4 min: E2E &lt;Lamp&gt; goes on sale" in page.text
    confirm = requests.get(unsubscribe, headers=CLOSE, timeout=5)
    assert confirm.status_code == 200 and 'method="post"' in confirm.text
    time.sleep(3)  # the sweeper runs every second: still one reminder
    assert len(reminders()) == 1
