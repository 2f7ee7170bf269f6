"""Refunds and disputes on the real local stack: localstripe (infra/local/stripe_server.py) sends
charge.refunded for every refund and charge.dispute.created for a dispute, signed, to the API."""
import time

import requests

from test_local_stack import wait_until

CLOSE = {"Connection": "close"}
ADDRESS = {"name": "Ada Lovelace", "line1": "7 impasse Secrète", "city": "Lyon", "postal_code": "69001",
           "country": "FR"}


def paid_order(live_stack, card_id, buyer):
    base = live_stack["api_url"]
    held = requests.post(f"{base}/cards/{card_id}/checkout", timeout=30, headers={"Idempotency-Key": f"e2e-{buyer}", **CLOSE},
                         json={"quantity": 1, "buyer": buyer, "shipping": ADDRESS, "email": f"{buyer}@example.com"})
    assert held.status_code == 201, held.text
    order = held.json()
    paid = requests.post(f"{base}/orders/{order['order_id']}/pay", params={"token": order["order_token"]},
                         headers=CLOSE, timeout=30, json={"payment_method": "pm_card_visa"})
    assert paid.status_code == 200 and paid.json()["status"] == "succeeded", paid.text
    return order


def intent_of(live_stack, order_id):
    """The order's PaymentIntent, as the seller finds the payment in Stripe's dashboard."""
    found = requests.get(f"{live_stack['stripe_api_base']}/v1/payment_intents", params={"limit": 100}, timeout=30,
                         headers={"Authorization": "Bearer sk_test_local", **CLOSE}).json()["data"]
    return next(pi["id"] for pi in found if pi["metadata"].get("order_id") == order_id)


def test_refunds_and_disputes_made_at_stripe_reach_the_order_once(live_stack):
    base, auth = live_stack["api_url"], {"Authorization": f"Bearer {live_stack['seller_api_key']}", **CLOSE}
    card = requests.post(f"{base}/api/cards", headers=auth, timeout=30, json={
        "title": "E2E refunds", "description": "A mug.", "image_url": "https://img.example/mug.png",
        "price": {"amount": 1800, "currency": "EUR"}, "stock": 5,
        "shipping": {"required": True, "countries": ["FR"], "fee": {"amount": 450}}}).json()
    ours, dashboard, disputed = (paid_order(live_stack, card["id"], f"buyer_e2e_refund{n}") for n in range(3))

    def seen(order):
        items = requests.get(f"{base}/api/cards/{card['id']}/orders", headers=auth, timeout=30).json()["items"]
        return next(item for item in items if item["order_id"] == order["order_id"])

    def refunded_mails(order):
        sent = requests.get(live_stack["mail_url"], params={"format": "json"}, headers=CLOSE, timeout=30).json()
        return [m for m in sent if m["subject"].startswith("Refunded") and f"/o/{order['order_id']}?" in m["text"]]

    # Our refund, then Stripe's charge.refunded about it: refunded once, one mail.
    answer = requests.post(f"{base}/api/orders/{ours['order_id']}/refund", headers=auth, json={"restock": True}, timeout=30)
    assert answer.status_code == 200 and answer.json()["status"] == "refunded", answer.text
    # A refund in Stripe's dashboard (the secret key, outside tapcard): the order follows.
    made = requests.post(f"{live_stack['stripe_api_base']}/v1/refunds", timeout=30,
                         headers={"Authorization": "Bearer sk_test_local", **CLOSE},
                         data={"payment_intent": intent_of(live_stack, dashboard["order_id"])})
    assert made.status_code == 200, made.text
    # A buyer's bank disputes the third payment.
    requests.post(f"{live_stack['stripe_api_base']}/_config/disputes", timeout=30, headers=CLOSE,
                  json={"payment_intent": intent_of(live_stack, disputed["order_id"]), "reason": "fraudulent"})

    def dashboard_refund_applied():
        """the webhook moved the order refunded in Stripe's dashboard"""
        return seen(dashboard)["status"] == "refunded"

    def dispute_shown():
        """the webhook marked the disputed order"""
        return seen(disputed)["dispute"]

    wait_until(dashboard_refund_applied, timeout=60)
    assert seen(dashboard)["status_reason"] == "refunded_in_stripe" and seen(dashboard)["amount_refunded"] == 2250
    assert wait_until(dispute_shown, timeout=60)["reason"] == "fraudulent" and seen(disputed)["status"] == "paid"
    wait_until(lambda: refunded_mails(dashboard), timeout=60)
    time.sleep(2)  # charge.refunded of our own refund has long arrived
    assert len(refunded_mails(ours)) == 1 and len(refunded_mails(dashboard)) == 1
    assert seen(ours) == answer.json()
    stock = requests.get(f"{base}/cards/{card['id']}", headers=CLOSE, timeout=30).json()["stock"]
    # Of 5: ours is back on sale, the dashboard's left the stock, the disputed one is still sold.
    assert (stock["available"], stock["sold"]) == (3, 1)
