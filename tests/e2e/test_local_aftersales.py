"""From paid to delivered on the real local stack (issue 15): a card that ships goods is bought
with an address; the seller's order list shows it and the captured mail the receipt; the seller
fulfils (the shipped mail), the buyer opens a return with a photo (uploaded straight to the stack's
S3, read back by the seller through a presigned GET), the seller approves and refunds (the refunded
mail). Each mail arrives once although the seller clicks twice and the stream poller and the
sweeper (every second here) keep running."""
import time

import requests

from test_local_stack import wait_until

CLOSE = {"Connection": "close"}
ADDRESS = {"name": "Grace Hopper", "line1": "3 rue du Port", "city": "Nantes", "postal_code": "44000",
           "country": "FR"}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_buy_ship_return_approve_refund_with_each_mail_once(live_stack):
    base, mail_url = live_stack["api_url"], live_stack["mail_url"]
    auth = {"Authorization": f"Bearer {live_stack['seller_api_key']}", **CLOSE}
    card = requests.post(f"{base}/api/cards", headers=auth, timeout=10, json={
        "title": "E2E Teapot", "description": "A teapot.", "image_url": "https://img.example/teapot.png",
        "price": {"amount": 3000, "currency": "EUR"}, "stock": 3, "return_days": 14,
        "shipping": {"required": True, "countries": ["FR"], "fee": {"amount": 500}}}).json()
    held = requests.post(f"{base}/cards/{card['id']}/checkout", timeout=10,
                         headers={"Idempotency-Key": "e2e-aftersales-1", **CLOSE},
                         json={"quantity": 1, "buyer": "buyer_e2e_as1", "shipping": ADDRESS, "email": "grace@example.com"})
    assert held.status_code == 201, held.text
    order = held.json()
    token = {"token": order["order_token"]}
    paid = requests.post(f"{base}/orders/{order['order_id']}/pay", params=token, headers=CLOSE, timeout=10,
                         json={"payment_method": "pm_card_visa"})
    assert paid.json()["status"] == "succeeded", paid.text

    listed = requests.get(f"{base}/api/cards/{card['id']}/orders", headers=auth, timeout=10).json()["items"]
    assert [(o["order_id"], o["shipping"]["city"], o["shipping"]["email"]) for o in listed] == [
        (order["order_id"], "Nantes", "grace@example.com")]

    def mails():
        """the order's mails in the stack's capture"""
        sent = requests.get(mail_url, params={"format": "json"}, headers=CLOSE, timeout=5).json()
        return [m["subject"] for m in sent if order["order_id"] in m["text"]]

    wait_until(lambda: "Your order: E2E Teapot" in mails())
    for number in ("6A1", "6A1"):  # a double click
        fulfilled = requests.post(f"{base}/api/orders/{order['order_id']}/fulfil", headers=auth, timeout=10,
                                  json={"carrier": "Colissimo", "tracking_number": number})
        assert fulfilled.status_code == 200, fulfilled.text

    opened = requests.post(f"{base}/orders/{order['order_id']}/requests", params=token, headers=CLOSE, timeout=10,
                           json={"type": "return", "message": "The lid does not fit."})
    assert opened.status_code == 201, opened.text
    request_id = opened.json()["request_id"]
    form = requests.post(f"{base}/orders/{order['order_id']}/requests/{request_id}/photos", params=token,
                         headers=CLOSE, timeout=10, json={"content_type": "image/png", "size": len(PNG)}).json()
    uploaded = requests.post(form["url"], data=form["fields"], files={"file": ("lid.png", PNG, "image/png")}, timeout=10)
    assert uploaded.status_code in (200, 204), uploaded.text

    seen = requests.get(f"{base}/api/requests?status=open", headers=auth, timeout=10).json()["items"]
    [request] = [r for r in seen if r["request_id"] == request_id]
    photo = requests.get(request["photos"][0]["url"], timeout=10)
    assert photo.status_code == 200 and photo.content == PNG

    approve = f"{base}/api/requests/{request_id}/approve"
    assert requests.post(approve, headers=auth, timeout=10, json={"instructions": "Post it back to us."}).status_code == 200
    assert requests.post(approve, headers=auth, timeout=10, json={"instructions": "Again"}).status_code == 409
    refund = f"{base}/api/requests/{request_id}/refund"
    refunded = requests.post(refund, headers=auth, timeout=10, json={"restock": True})
    assert refunded.status_code == 200 and refunded.json()["status"] == "refunded", refunded.text
    assert requests.post(refund, headers=auth, timeout=10, json={"restock": True}).status_code == 409
    assert requests.get(f"{base}/orders/{order['order_id']}", params=token, headers=CLOSE, timeout=10).json()["status"] == "refunded"

    expected = ["Your order: E2E Teapot", "Shipped: E2E Teapot", "We received your request: E2E Teapot",
                "Request approved: E2E Teapot", "Refunded: E2E Teapot"]
    wait_until(lambda: sorted(mails()) == sorted(expected))
    time.sleep(3)  # the poller and the sweeper (every second) run on: still one of each
    assert sorted(mails()) == sorted(expected)
