"""Buyer side: POST /cards/{card_id}/checkout and GET /orders/{order_id}."""
import json
import re
import time
from datetime import datetime
from urllib.parse import quote

import pytest

from chalicelib import config
from chalicelib.domain import order_id_for, order_token
from fixtures import assert_error, card_view, mark_paid, post_json, request_checkout


def stock(client, card) -> tuple[int, int]:
    view = card_view(client, card.card_id)["stock"]
    return view["available"], view["held"]


def order_view(client, order_id: str, token: str):
    return client.http.get(f"/orders/{order_id}?token={quote(token)}")


# --- POST /cards/{card_id}/checkout: success ----------------------------------------------------


def test_a_checkout_holds_the_units_and_answers_what_the_widget_needs(client, make_card, fake_stripe):
    card = make_card(stock=5, price_amount=1800, currency="EUR", hold_seconds=600)

    response = request_checkout(client, card.card_id, quantity=2, buyer="buyer-token-0001", key="tap-key-0001")

    assert response.status_code == 201
    order = json.loads(response.body)
    assert order["order_id"] == order_id_for(card.card_id, "buyer-token-0001", "tap-key-0001")
    assert order["status"] == "held"
    assert order["amount"] == 3600
    assert order["currency"] == "EUR"
    assert order["quantity"] == 2
    assert order["card_id"] == card.card_id
    assert "client_secret" in order and order["client_secret"] is None  # the pay call opens the payment
    assert re.fullmatch(r"[a-z2-7]{32}", order["order_token"])
    expires = datetime.fromisoformat(order["expires_at"].replace("Z", "+00:00")).timestamp()
    assert abs(expires - (time.time() + 600)) < 5
    assert stock(client, card) == (3, 2)
    assert fake_stripe.calls == []  # a hold never waits on Stripe


def test_the_same_idempotency_key_returns_the_same_order_and_takes_no_more_stock(client, make_card, fake_stripe):
    card = make_card(stock=5)

    first = json.loads(request_checkout(client, card.card_id, key="tap-key-0001").body)
    again = request_checkout(client, card.card_id, key="tap-key-0001")

    assert again.status_code == 201
    assert json.loads(again.body) == first
    assert stock(client, card) == (4, 1)
    assert fake_stripe.calls == []


def test_a_new_tap_is_a_new_order(client, make_card, fake_stripe):
    card = make_card(stock=5)

    first = json.loads(request_checkout(client, card.card_id, key="tap-key-0001").body)
    second = json.loads(request_checkout(client, card.card_id, key="tap-key-0002").body)

    assert first["order_id"] != second["order_id"]
    assert stock(client, card) == (3, 2)


def test_retrying_the_tap_that_got_the_last_unit_returns_that_order(client, make_card, fake_stripe):
    card = make_card(stock=1)
    first = json.loads(request_checkout(client, card.card_id, key="tap-key-0001").body)

    again = request_checkout(client, card.card_id, key="tap-key-0001", retry=1)

    assert again.status_code == 201
    assert json.loads(again.body) == first


def test_a_first_tap_on_a_card_known_sold_out_is_refused_without_a_database_request(
        client, make_card, fake_stripe, monkeypatch):
    card = make_card(stock=1)
    request_checkout(client, card.card_id, key="tap-key-0001")
    request_checkout(client, card.card_id, buyer="buyer-token-0002", key="tap-key-0002")  # learns: sold out
    requests = []
    import botocore.client
    make_api_call = botocore.client.BaseClient._make_api_call
    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call",
                        lambda client_, op, params: requests.append(op) or make_api_call(client_, op, params))

    response = request_checkout(client, card.card_id, buyer="buyer-token-0003", key="tap-key-0003")

    assert_error(response, 409, "sold_out")
    assert requests == []


def test_the_same_key_with_a_different_request_is_409_idempotency_mismatch(client, make_card, fake_stripe):
    card = make_card(stock=5)
    request_checkout(client, card.card_id, quantity=1, key="tap-key-0001")

    response = request_checkout(client, card.card_id, quantity=2, key="tap-key-0001")

    assert_error(response, 409, "idempotency_mismatch")
    assert stock(client, card) == (4, 1)


# --- POST /cards/{card_id}/checkout: refusals ------------------------------------------------------


def test_buying_what_is_not_there_is_409_sold_out(client, make_card, fake_stripe):
    card = make_card(stock=2)
    request_checkout(client, card.card_id, quantity=2, buyer="buyer-token-0001")

    response = request_checkout(client, card.card_id, buyer="buyer-token-0002")

    assert_error(response, 409, "sold_out")
    assert stock(client, card) == (0, 2)


def test_asking_for_more_than_is_left_is_409_sold_out(client, make_card, fake_stripe):
    card = make_card(stock=2)

    assert_error(request_checkout(client, card.card_id, quantity=3), 409, "sold_out")
    assert stock(client, card) == (2, 0)
    assert fake_stripe.calls == []


def test_buying_before_the_sale_starts_is_409_not_started(client, make_card, fake_stripe):
    card = make_card(stock=5, starts_at=int(time.time()) + 3600)

    assert_error(request_checkout(client, card.card_id), 409, "not_started")
    assert stock(client, card) == (5, 0)


def test_buying_after_the_sale_ended_is_409_ended(client, make_card, fake_stripe):
    now = int(time.time())
    card = make_card(stock=5, starts_at=now - 7200, ends_at=now - 1)

    assert_error(request_checkout(client, card.card_id), 409, "ended")
    assert stock(client, card) == (5, 0)


def test_buying_past_the_per_buyer_limit_is_429_limit_reached(client, make_card, fake_stripe):
    card = make_card(stock=5, limit_per_buyer=1)
    assert request_checkout(client, card.card_id, key="tap-key-0001").status_code == 201

    response = request_checkout(client, card.card_id, key="tap-key-0002")

    assert_error(response, 429, "limit_reached")
    assert stock(client, card) == (4, 1)


def test_asking_for_more_than_the_limit_at_once_is_429_limit_reached(client, make_card, fake_stripe):
    card = make_card(stock=5, limit_per_buyer=2)

    assert_error(request_checkout(client, card.card_id, quantity=3), 429, "limit_reached")
    assert stock(client, card) == (5, 0)


def test_without_an_idempotency_key_the_checkout_is_400(client, make_card, fake_stripe):
    card = make_card(stock=5)

    assert_error(request_checkout(client, card.card_id, key=None), 400, "invalid_request", field="Idempotency-Key")
    assert stock(client, card) == (5, 0)


@pytest.mark.parametrize("quantity", [0, -1, 101, 1.5, "1", True, None], ids=repr)
def test_a_bad_quantity_is_400(client, make_card, fake_stripe, quantity):
    card = make_card(stock=5)

    assert_error(request_checkout(client, card.card_id, quantity=quantity), 400, "invalid_request", field="quantity")
    assert stock(client, card) == (5, 0)


@pytest.mark.parametrize("buyer", ["short", 12345678, "has spaces in it"], ids=repr)
def test_a_bad_buyer_token_is_400(client, make_card, fake_stripe, buyer):
    card = make_card(stock=5)

    assert_error(request_checkout(client, card.card_id, buyer=buyer), 400, "invalid_request", field="buyer")


@pytest.mark.parametrize("ref", ["<script>", "unknown0ref"])
def test_a_forged_or_unknown_referral_code_is_ignored(client, make_card, fake_stripe, ref):
    card = make_card(stock=5)

    response = request_checkout(client, card.card_id, ref=ref)

    assert response.status_code == 201, response.body


@pytest.mark.parametrize("body", ['{"quantity": 1,', "[1]", "null"])
def test_a_malformed_or_non_object_body_is_400(client, make_card, fake_stripe, body):
    card = make_card(stock=5)

    response = post_json(client, f"/cards/{card.card_id}/checkout", body, {"Idempotency-Key": "tap-key-0001"})

    assert_error(response, 400, "invalid_request")
    assert stock(client, card) == (5, 0)


def test_checking_out_an_unknown_card_is_404(client, fake_stripe):
    assert_error(request_checkout(client, "card_doesnotexist"), 404, "not_found")


# --- Stripe down: the tap does not notice ----------------------------------------------------------


def test_when_stripe_is_down_a_tap_still_holds(client, make_card, fake_stripe):
    card = make_card(stock=5)
    fake_stripe.unavailable |= {"pay", "create_payment_intent", "payer_identities_of"}
    fake_stripe.busy.add("cancel_payment_intent")

    response = request_checkout(client, card.card_id, key="tap-key-0001")

    assert response.status_code == 201, response.body
    assert json.loads(response.body)["status"] == "held"
    assert stock(client, card) == (4, 1)
    assert fake_stripe.calls == []


# --- the benchmark's baseline (STRIPE_AT_TAP, dev only): the tap opens the PaymentIntent ----------------


@pytest.fixture
def stripe_at_tap(monkeypatch):
    from chalicelib import checkout

    monkeypatch.setattr(checkout, "STRIPE_AT_TAP", True)


def test_in_the_baseline_the_tap_opens_a_payment_intent(client, make_card, fake_stripe, stripe_at_tap):
    card = make_card(stock=5, price_amount=1800, currency="EUR")

    order = json.loads(request_checkout(client, card.card_id, quantity=2, key="tap-key-0001").body)
    again = json.loads(request_checkout(client, card.card_id, quantity=2, key="tap-key-0001").body)

    assert re.fullmatch(r"pi_\w+_secret_fake", order["client_secret"])
    assert again == order
    assert fake_stripe.calls_to("create_payment_intent") == [(order["order_id"], card.card_id, 3600, "EUR")]


def test_in_the_baseline_when_stripe_is_down_the_checkout_is_503_and_the_stock_goes_back(
        client, make_card, fake_stripe, stripe_at_tap):
    card = make_card(stock=5)
    fake_stripe.unavailable.add("create_payment_intent")

    response = request_checkout(client, card.card_id, key="tap-key-0001")

    assert_error(response, 503, "payments_unavailable")
    assert stock(client, card) == (5, 0)
    order_id = order_id_for(card.card_id, "buyer-token-0001", "tap-key-0001")
    status = json.loads(order_view(client, order_id, order_token(config.ORDER_TOKEN_SECRET, order_id)).body)
    assert status["status"] == "canceled"
    assert status["status_reason"] == "payments_unavailable"


def test_in_the_baseline_when_stripe_is_down_another_buyer_can_still_get_the_last_unit_later(
        client, make_card, fake_stripe, stripe_at_tap):
    card = make_card(stock=1)
    fake_stripe.unavailable.add("create_payment_intent")
    request_checkout(client, card.card_id, buyer="buyer-token-0001", key="tap-key-0001")
    fake_stripe.unavailable.clear()

    response = request_checkout(client, card.card_id, buyer="buyer-token-0002", key="tap-key-0002")

    assert response.status_code == 201
    assert stock(client, card) == (0, 1)


# --- GET /orders/{order_id}?token= ------------------------------------------------------------------


def test_the_buyer_reads_their_order_with_its_token(client, make_card, fake_stripe):
    card = make_card(stock=5)
    order = json.loads(request_checkout(client, card.card_id).body)

    response = order_view(client, order["order_id"], order["order_token"])

    assert response.status_code == 200
    view = json.loads(response.body)
    assert view["status"] == "held"
    assert view["order_id"] == order["order_id"]
    assert view["amount"] == order["amount"]
    assert view["expires_at"] == order["expires_at"]
    assert "referral_code" not in view


def test_a_paid_order_shows_the_buyers_own_share_link(client, make_card, fake_stripe):
    card = make_card(stock=5)
    order = json.loads(request_checkout(client, card.card_id).body)
    mark_paid(order["order_id"])

    view = json.loads(order_view(client, order["order_id"], order["order_token"]).body)

    assert view["status"] == "paid"
    assert re.fullmatch(r"[a-z2-7]{10}", view["referral_code"])
    assert view["share_url"] == f"http://tapcard.test/p/{card.card_id}?ref={view['referral_code']}"


def test_a_referral_is_kept_on_the_order(client, make_card, fake_stripe):
    from chalicelib.store import orders

    card = make_card(stock=5)
    order = json.loads(request_checkout(client, card.card_id, ref="friendcode1").body)

    assert orders.get(order["order_id"]).ref == "friendcode1"


@pytest.mark.parametrize("token", ["", "wrong-token", "a" * 32])
def test_a_wrong_or_missing_token_answers_like_a_missing_order(client, make_card, fake_stripe, token):
    card = make_card(stock=5)
    order = json.loads(request_checkout(client, card.card_id).body)

    assert_error(order_view(client, order["order_id"], token), 404, "not_found")
    assert_error(client.http.get(f"/orders/{order['order_id']}"), 404, "not_found")


def test_an_unknown_order_is_404(client):
    assert_error(order_view(client, "ord_doesnotexist", "a" * 32), 404, "not_found")


def test_a_token_with_non_ascii_characters_is_404_not_500(client, make_card, fake_stripe):
    card = make_card(stock=5)
    order = json.loads(request_checkout(client, card.card_id).body)

    assert_error(order_view(client, order["order_id"], "é" * 32), 404, "not_found")
