"""Dev-stage routes (the TEST MODE payment sheet), their absence in prod, and the two event handlers."""
import ast
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chalicelib import config, payment_events
from chalicelib.social import shares
from chalicelib.store import orders
from chalicelib.store import stock as stock_levels
from fixtures import assert_error, card_view, pay, post_json, request_checkout, stream_event

ROOT = Path(__file__).resolve().parents[2]


def held(client, card, buyer="buyer-token-0001") -> dict:
    response = request_checkout(client, card.card_id, buyer=buyer, key=f"tap-key-{buyer}")
    assert response.status_code == 201, response.body
    order = json.loads(response.body)
    order["intent"] = orders.get(order["order_id"]).payment_intent_id
    return order


def stock(client, card) -> tuple[int, int, int]:
    view = card_view(client, card.card_id)["stock"]
    return view["available"], view["held"], view["sold"]


def dev_pay(client, order_id: str, payload):
    return post_json(client, f"/dev/orders/{order_id}/pay", payload)


# --- POST /dev/orders/{order_id}/pay --------------------------------------------------------------


@pytest.mark.parametrize("outcome", ["success", "decline"])
def test_the_test_payment_sheet_pays_through_stripe_test_mode(client, make_card, fake_stripe, outcome):
    card = make_card(stock=5)
    order = held(client, card)

    response = dev_pay(client, order["order_id"], {"token": order["order_token"], "card": outcome})

    assert response.status_code == 200
    assert json.loads(response.body)["order_id"] == order["order_id"]
    assert fake_stripe.calls_to("pay_with_test_card") == [(order["intent"], outcome)]


def test_the_test_sheet_needs_a_known_test_card(client, make_card, fake_stripe):
    card = make_card(stock=5)
    order = held(client, card)

    response = dev_pay(client, order["order_id"], {"token": order["order_token"], "card": "4242424242424242"})

    assert_error(response, 400, "invalid_request", field="card")
    assert fake_stripe.calls_to("pay_with_test_card") == []


def test_the_test_sheet_needs_the_order_token(client, make_card, fake_stripe):
    card = make_card(stock=5)
    order = held(client, card)

    assert_error(dev_pay(client, order["order_id"], {"token": "x" * 32, "card": "success"}), 404, "not_found")
    assert_error(dev_pay(client, order["order_id"], {"card": "success"}), 404, "not_found")
    assert fake_stripe.calls_to("pay_with_test_card") == []


def test_the_test_sheet_does_not_pay_an_order_twice(client, make_card, fake_stripe):
    card = make_card(stock=5)
    order = held(client, card)
    pay(order["order_id"])

    response = dev_pay(client, order["order_id"], {"token": order["order_token"], "card": "success"})

    assert_error(response, 400, "invalid_request", field="order_id")
    assert fake_stripe.calls_to("pay_with_test_card") == []


@pytest.mark.parametrize("body", ["[]", '{"token": 12345, "card": "success"}'])
def test_a_malformed_dev_payment_is_a_400_or_404_never_a_500(client, make_card, fake_stripe, body):
    card = make_card(stock=5)
    order = held(client, card)

    response = dev_pay(client, order["order_id"], body)

    assert response.status_code in (400, 404)
    assert_error(response, response.status_code, "invalid_request" if response.status_code == 400 else "not_found")


# --- PUT /dev/settings ------------------------------------------------------------------------------


@pytest.fixture
def restore_stock_cache():
    before = config.STOCK_CACHE_SECONDS
    yield
    stock_levels.set_cache_seconds(before)


def test_the_benchmark_can_turn_the_stock_cache_off(client, aws, restore_stock_cache):
    response = client.http.put("/dev/settings", headers={"Content-Type": "application/json"},
                               body=json.dumps({"stock_cache_seconds": 0}))

    assert response.status_code == 200
    assert json.loads(response.body) == {"stock_cache_seconds": 0}
    assert config.STOCK_CACHE_SECONDS == 0


@pytest.mark.parametrize("value", [-1, 61, True, "1", None])
def test_a_bad_stock_cache_setting_is_400(client, aws, restore_stock_cache, value):
    response = client.http.put("/dev/settings", headers={"Content-Type": "application/json"},
                               body=json.dumps({"stock_cache_seconds": value}))

    assert_error(response, 400, "invalid_request", field="stock_cache_seconds")


def test_a_settings_body_that_is_not_an_object_is_400(client, aws, restore_stock_cache):
    response = client.http.put("/dev/settings", headers={"Content-Type": "application/json"}, body="[0]")

    assert_error(response, 400, "invalid_request")


# --- the prod stage ----------------------------------------------------------------------------------


def routes_with(payment_sheet: str) -> list[str]:
    env = {**os.environ, "PAYMENT_SHEET": payment_sheet}
    result = subprocess.run([sys.executable, "-c", "import app; print([p for p in app.app.routes])"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True)
    return ast.literal_eval(result.stdout.strip().splitlines()[-1])


def test_the_prod_stage_has_no_dev_routes():
    routes = routes_with("stripe")

    assert "/cards/{card_id}/checkout" in routes
    assert [path for path in routes if path.startswith("/dev")] == []


def test_the_dev_stage_has_the_test_payment_route():
    assert "/dev/orders/{order_id}/pay" in routes_with("test")


# --- the sweeper ---------------------------------------------------------------------------------------


def test_the_sweeper_expires_an_unpaid_hold_cancels_its_intent_and_puts_the_stock_back(client, make_card, fake_stripe):
    card = make_card(stock=5)
    order = held(client, card)

    expired = payment_events.expire_holds(at=int(time.time()) + card.hold_seconds + 1)

    assert expired == 1
    assert orders.get(order["order_id"]).status == "expired"
    assert fake_stripe.calls_to("cancel_payment_intent") == [(order["intent"],)]
    assert stock(client, card) == (5, 0, 0)


def test_the_sweeper_leaves_holds_that_still_have_time(client, make_card, fake_stripe):
    card = make_card(stock=5, hold_seconds=600)
    held(client, card)

    assert payment_events.expire_holds(at=int(time.time()) + 300) == 0
    assert stock(client, card) == (4, 1, 0)
    assert fake_stripe.calls_to("cancel_payment_intent") == []


def test_the_sweeper_leaves_an_order_whose_money_is_already_in_flight(client, make_card, fake_stripe):
    card = make_card(stock=5)
    order = held(client, card)
    fake_stripe.cancel_status = "processing"  # Stripe refuses to cancel: the payment is underway

    assert payment_events.expire_holds(at=int(time.time()) + card.hold_seconds + 1) == 0

    assert orders.get(order["order_id"]).status == "held"
    assert stock(client, card) == (4, 1, 0)


def test_the_sweeper_expires_the_hold_even_when_stripe_is_down(client, make_card, fake_stripe):
    card = make_card(stock=5)
    order = held(client, card)
    fake_stripe.unavailable.add("cancel_payment_intent")

    assert payment_events.expire_holds(at=int(time.time()) + card.hold_seconds + 1) == 1

    assert orders.get(order["order_id"]).status == "expired"
    assert stock(client, card) == (5, 0, 0)


def test_the_scheduled_sweep_runs_as_a_lambda(client, make_card, fake_stripe, monkeypatch):
    card = make_card(stock=5)
    order = held(client, card)
    monkeypatch.setattr(payment_events, "now", lambda: int(time.time()) + card.hold_seconds + 60)

    result = client.lambda_.invoke("sweep_expired_holds", client.events.generate_cw_event(
        source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]))

    assert result.payload == {"expired": 1, "shares_retried": 0, "sales_opened": 0}
    assert orders.get(order["order_id"]).status == "expired"


# --- the orders stream handler, as Lambda invokes it ------------------------------------------------------


def test_the_stream_lambda_posts_the_share_of_a_paid_order(client, make_card, fake_stripe):
    card = make_card(stock=5)
    order = held(client, card)
    pay(order["order_id"])

    result = client.lambda_.invoke("on_order_change",
                                   stream_event("orders_stream_paid.json", [orders.get(order["order_id"])]))

    assert result.payload == {"batchItemFailures": []}
    assert len(shares.feed(card.card_id)) == 1
    items = json.loads(client.http.get(f"/cards/{card.card_id}/feed").body)["items"]
    assert items[0]["link"].endswith("?ref=" + orders.get(order["order_id"]).referral_code)
