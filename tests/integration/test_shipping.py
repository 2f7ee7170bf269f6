"""Shipping on moto: the fee is in the amount Stripe is asked for and the amount the webhook's
check accepts, and the address is sealed in the orders table (issue 15)."""
import json
import time
import uuid
from types import SimpleNamespace

import boto3
import pytest

from chalicelib import checkout, config, payment_events, payments
from chalicelib.social import referrals, stream
from chalicelib.domain import Card, Shipping, price_order, shipping_fee
from chalicelib.payments import PAYMENT_SUCCEEDED, PaymentEvent
from chalicelib.store import cards, orders
from fakes import CARD_3DS
from fixtures import mark_paid, stream_event

ADDRESS = {"name": "Ada Lovelace", "line1": "7 impasse Secrète", "city": "Lyon", "postal_code": "69001",
           "country": "FR", "phone": "+33 4 72 00 00 00", "email": "ada@example.com"}


@pytest.fixture
def shipped_card(aws, seller) -> Card:
    card = Card(card_id="card_" + uuid.uuid4().hex[:12], seller_id=seller.seller_id, title="Speckled mug",
                description="", image_url="https://img.example.com/mug.jpg", price_amount=1800, currency="EUR",
                stock=5, created_at=int(time.time()), shipping=Shipping(True, ("FR", "DE"), 450))
    cards.create(card)
    return card


def test_the_card_keeps_its_shipping(shipped_card):
    assert cards.get_fresh(shipped_card.card_id).shipping == Shipping(True, ("FR", "DE"), 450)


def test_one_function_makes_the_total():
    assert price_order(1800, 3, "EUR", fee=shipping_fee(Shipping(True, ("FR",), 450))).amount == 5850
    assert price_order(1800, 3, "EUR", fee=shipping_fee(Shipping())).amount == 5400


def test_stripe_is_asked_for_price_times_quantity_plus_fee(shipped_card, monkeypatch):
    asked = []

    def create(params, options):
        asked.append(params)
        return SimpleNamespace(id="pi_1", status="succeeded", client_secret="pi_1_secret",
                               to_dict=lambda: {"id": "pi_1", "amount_received": params["amount"],
                                                "currency": params["currency"]})

    client = SimpleNamespace(v1=SimpleNamespace(payment_intents=SimpleNamespace(create=create)))
    monkeypatch.setattr(payments, "get_client", lambda: client)
    order = checkout.checkout(shipped_card.card_id, {"quantity": 2, "buyer": "buyer-token-0001", "shipping": {
        k: v for k, v in ADDRESS.items() if k != "email"}, "email": ADDRESS["email"]}, "tap-key-000001")

    answer = checkout.pay(order["order_id"], order["order_token"], {"payment_method": "pm_card_visa"})

    assert [params["amount"] for params in asked] == [2 * 1800 + 450]
    assert answer["status"] == "succeeded"
    assert orders.get(order["order_id"]).status == "paid"  # the pay call's own amount check took it


def test_the_webhook_accepts_the_total_and_refunds_the_price_without_the_fee(shipped_card, buy, pay, fake_stripe):
    order = buy(shipped_card, quantity=2)
    checkout.set_shipping_address(order["order_id"], order["order_token"], ADDRESS)
    assert pay(order, CARD_3DS)["status"] == "requires_action"
    intent = orders.get(order["order_id"]).payment_intent_id
    assert fake_stripe.intents[intent]["amount"] == 4050

    without_fee = PaymentEvent("evt_1", PAYMENT_SUCCEEDED, intent, order["order_id"], None, 3600, "eur")
    assert payment_events.apply_payment_event(without_fee) == payment_events.AMOUNT_MISMATCH
    fake_stripe.complete(intent)
    with_fee = PaymentEvent("evt_2", PAYMENT_SUCCEEDED, intent, order["order_id"], None, 4050, "eur")
    assert payment_events.apply_payment_event(with_fee) == "paid"


def test_the_address_is_not_plain_text_in_dynamodb(shipped_card, buy, fake_stripe):
    order = buy(shipped_card)
    checkout.set_shipping_address(order["order_id"], order["order_token"], ADDRESS)

    table = boto3.resource("dynamodb", region_name=config.AWS_REGION).Table(f"{config.TABLE_PREFIX}orders")
    item = table.get_item(Key={"order_id": order["order_id"]})["Item"]
    raw = json.dumps(item, default=str, ensure_ascii=False)

    for value in ADDRESS.values():
        if len(value) > 4:  # a two-letter code may turn up inside any base64 token
            assert value not in raw
    assert item["shipping_address"].startswith("gAAAA")  # a Fernet token
    assert checkout.order_status(order["order_id"], order["order_token"])["shipping"] == ADDRESS


def test_a_referral_rebate_counts_the_same_total(shipped_card, buy):
    cards.update_social_settings(shipped_card.card_id, {"rebate_percent": 10})
    paid = []
    for buyer, ref in (("buyer-token-ada1", None), ("buyer-token-bea1", "first")):
        order = buy(shipped_card, buyer=buyer, quantity=2, ref=paid[0].referral_code if ref else None)
        mark_paid(order["order_id"])
        paid.append(orders.get(order["order_id"]))
        stream.handle_batch(stream_event("orders_stream_paid.json", [paid[-1]]))

    report = referrals.report(cards.get(shipped_card.card_id), at=time.time() + 60 * 24 * 3600)

    assert (report["referred_revenue"], report["rebate_total"]) == (4050, 405)
