"""Notices by email on the real local stack: a card that ships goods, bought with an address,
paid; the stream poller sends the receipt once, and the stack's captured mail (mail_url) shows it."""
import time

import requests

from test_local_stack import wait_until

CLOSE = {"Connection": "close"}
ADDRESS = {"name": "Ada Lovelace", "line1": "7 impasse Secrète", "city": "Lyon", "postal_code": "69001",
           "country": "FR"}


def test_a_paid_order_with_an_address_gets_its_receipt_once_at_mail_url(live_stack):
    base, auth = live_stack["api_url"], {"Authorization": f"Bearer {live_stack['seller_api_key']}", **CLOSE}
    card = requests.post(f"{base}/api/cards", headers=auth, timeout=10, json={
        "title": "E2E <Mug>", "description": "A mug.", "image_url": "https://img.example/mug.png",
        "price": {"amount": 1800, "currency": "EUR"}, "stock": 5,
        "shipping": {"required": True, "countries": ["FR"], "fee": {"amount": 450}}})
    assert card.status_code == 201, card.text
    card_id = card.json()["id"]
    held = requests.post(f"{base}/cards/{card_id}/checkout", timeout=10,
                         headers={"Idempotency-Key": "e2e-mail-0001", **CLOSE},
                         json={"quantity": 1, "buyer": "buyer_e2e_mail1", "shipping": ADDRESS,
                               "email": "ada@example.com"})
    assert held.status_code == 201, held.text
    order = held.json()
    paid = requests.post(f"{base}/orders/{order['order_id']}/pay", params={"token": order["order_token"]},
                         headers=CLOSE, timeout=10, json={"payment_method": "pm_card_visa"})
    assert paid.status_code == 200 and paid.json()["status"] == "succeeded", paid.text

    def receipts():
        """the stream poller sends the receipt to the captured mail"""
        sent = requests.get(live_stack["mail_url"], params={"format": "json"}, headers=CLOSE, timeout=5).json()
        return [m for m in sent if f"/o/{order['order_id']}?token=" in m["text"]]

    [receipt] = wait_until(receipts)
    assert receipt["to"] == "ada@example.com"
    assert receipt["subject"] == "Your order: E2E <Mug>"
    assert "E2E &lt;Mug&gt;" in receipt["html"] and "€22.50" in receipt["text"]
    assert set(receipt) == {"to", "subject", "text", "html", "sent_at"}
    page = requests.get(live_stack["mail_url"], headers=CLOSE, timeout=5)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    assert "Your order: E2E &lt;Mug&gt;" in page.text
    time.sleep(2)  # the poller keeps polling: still one receipt
    assert len(receipts()) == 1
