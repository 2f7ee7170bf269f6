"""Issue 17: what a buyer's share link earned, on their order (JSON) and their order page."""
import json

from chalicelib import config
from chalicelib.social import stream
from chalicelib.store import orders
from fakes import CARD_OK
from fixtures import hold, pay_order, stream_event


def call(client, method, path, seller=None, payload=None, headers=None):
    headers = {"Content-Type": "application/json", **(seller.auth if seller else {}), **(headers or {})}
    return client.http.request(method, path, headers=headers,
                               body=json.dumps(payload).encode() if payload is not None else b"")


def paid(client, card_id, buyer, method=CARD_OK, ref=None) -> dict:
    order = hold(client, card_id, buyer=buyer, ref=ref)
    assert json.loads(pay_order(client, order, {"payment_method": method}).body)["status"] == "succeeded"
    stream.handle_batch(stream_event("orders_stream_paid.json", [orders.get(order["order_id"])]))
    return {**order, "referral_code": orders.get(order["order_id"]).referral_code}


def referrer_with_two_referred(client, seller, make_card, fake_stripe) -> dict:
    card = make_card(price_amount=1000, stock=10)
    call(client, "PATCH", f"/api/cards/{card.card_id}/social", seller, {"rebate_percent": 10})
    fake_stripe.payers = {CARD_OK: ("card:fp_ada", "email:ada@example.com"),
                          "pm_card_bea": ("card:fp_bea", "email:bea@example.com"),
                          "pm_card_cy": ("card:fp_cy", "email:cy@example.com")}
    ada = paid(client, card.card_id, "buyer-token-ada1")
    paid(client, card.card_id, "buyer-token-bea1", "pm_card_bea", ref=ada["referral_code"])
    paid(client, card.card_id, "buyer-token-cy01", "pm_card_cy", ref=ada["referral_code"])
    return ada


def test_a_paid_order_says_what_its_share_link_earned(client, seller, make_card, fake_stripe):
    ada = referrer_with_two_referred(client, seller, make_card, fake_stripe)

    status = json.loads(client.http.get(f"/orders/{ada['order_id']}?token={ada['order_token']}").body)

    assert status["earnings"] == {"referred_orders": 2, "rebate": 0, "rebate_pending": 200, "currency": "EUR"}


def test_rebates_past_the_refund_window_are_earned(client, seller, make_card, fake_stripe, monkeypatch):
    ada = referrer_with_two_referred(client, seller, make_card, fake_stripe)
    monkeypatch.setattr(config, "REFUND_WINDOW_DAYS", 0)

    status = json.loads(client.http.get(f"/orders/{ada['order_id']}?token={ada['order_token']}").body)

    assert status["earnings"] == {"referred_orders": 2, "rebate": 200, "rebate_pending": 0, "currency": "EUR"}


def test_an_unpaid_order_has_no_earnings(client, make_card):
    order = hold(client, make_card().card_id)

    status = json.loads(client.http.get(f"/orders/{order['order_id']}?token={order['order_token']}").body)

    assert "earnings" not in status


def test_the_order_page_shows_the_earnings_in_english_and_chinese(client, seller, make_card, fake_stripe):
    ada = referrer_with_two_referred(client, seller, make_card, fake_stripe)
    path = f"/o/{ada['order_id']}?token={ada['order_token']}"

    english = client.http.get(path, headers={"Accept-Language": "en"}).body.decode()
    chinese = client.http.get(path, headers={"Accept-Language": "zh-CN"}).body.decode()

    assert "What your share link earned" in english and "Rebate pending" in english
    assert "<dd data-referred-orders>2</dd>" in english
    assert "€2.00" in english and "€0.00" in english
    assert "您的分享链接收益" in chinese and "待定返利" in chinese and "€2.00" in chinese


def test_an_unpaid_order_page_shows_no_earnings(client, make_card):
    order = hold(client, make_card().card_id)

    page = client.http.get(f"/o/{order['order_id']}?token={order['order_token']}").body.decode()

    assert 'id="earnings"' not in page
