"""Dev-stage routes (the benchmark's settings), their absence in prod, the sweeper and the two event
handlers. (The TEST MODE payment sheet pays through the buyer's own pay route: test_api_pay_route.py.)"""
import ast
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chalicelib import checkout, config, payment_events
from chalicelib.social import shares
from chalicelib.store import orders, pay_calls
from chalicelib.store import stock as stock_levels
from fakes import CARD_3DS
from fixtures import assert_error, card_view, mark_paid, pay_order, request_checkout, stream_event

ROOT = Path(__file__).resolve().parents[2]


def held(client, card, buyer="buyer-token-0001", method: str | None = None) -> dict:
    """A hold; with a payment method, also its pay call (order["answer"] is what that said)."""
    response = request_checkout(client, card.card_id, buyer=buyer, key=f"tap-key-{buyer}")
    assert response.status_code == 201, response.body
    order = json.loads(response.body)
    if method:
        order["answer"] = json.loads(pay_order(client, order, {"payment_method": method}).body)
    order["intent"] = orders.get(order["order_id"]).payment_intent_id
    return order


def stock(client, card) -> tuple[int, int, int]:
    view = card_view(client, card.card_id)["stock"]
    return view["available"], view["held"], view["sold"]


def put_settings(client, payload):
    return client.http.put("/dev/settings", headers={"Content-Type": "application/json"},
                           body=payload if isinstance(payload, str) else json.dumps(payload))


def after_the_hold(card, extra: int = 1) -> int:
    return int(time.time()) + card.hold_seconds + extra


# --- PUT /dev/settings ------------------------------------------------------------------------------


@pytest.fixture
def restore_settings():
    before = config.STOCK_CACHE_SECONDS
    yield
    stock_levels.set_cache_seconds(before)
    checkout.STRIPE_AT_TAP = False


def test_the_benchmark_can_turn_the_stock_cache_off(client, aws, restore_settings):
    response = put_settings(client, {"stock_cache_seconds": 0})

    assert response.status_code == 200
    assert json.loads(response.body) == {"stock_cache_seconds": 0, "stripe_at_tap": False}
    assert config.STOCK_CACHE_SECONDS == 0


@pytest.mark.parametrize("value", [-1, 61, True, "1", None])
def test_a_bad_stock_cache_setting_is_400(client, aws, restore_settings, value):
    assert_error(put_settings(client, {"stock_cache_seconds": value}), 400, "invalid_request",
                 field="stock_cache_seconds")


@pytest.mark.parametrize("value", [1, "true", None])
def test_a_bad_stripe_at_tap_setting_is_400(client, aws, restore_settings, value):
    assert_error(put_settings(client, {"stripe_at_tap": value}), 400, "invalid_request", field="stripe_at_tap")
    assert checkout.STRIPE_AT_TAP is False


def test_an_unknown_setting_is_400_naming_it(client, aws, restore_settings):
    assert_error(put_settings(client, {"stripe_at_tap": True, "stock_cash": 1}), 400, "invalid_request",
                 field="stock_cash")
    assert checkout.STRIPE_AT_TAP is False


def test_a_settings_body_that_is_not_an_object_is_400(client, aws, restore_settings):
    assert_error(put_settings(client, "[0]"), 400, "invalid_request")


def test_the_benchmark_baseline_opens_a_payment_intent_at_the_tap_until_turned_off(
        client, make_card, fake_stripe, restore_settings):
    card = make_card(stock=5)

    response = put_settings(client, {"stripe_at_tap": True})

    assert json.loads(response.body)["stripe_at_tap"] is True
    baseline = held(client, card, buyer="buyer-token-0001")
    assert baseline["client_secret"] == f"{baseline['intent']}_secret_fake"
    assert fake_stripe.calls_to("create_payment_intent") == [(baseline["order_id"], card.card_id, 1800, "EUR")]

    assert json.loads(put_settings(client, {"stripe_at_tap": False}).body)["stripe_at_tap"] is False
    now = held(client, card, buyer="buyer-token-0002")
    assert now["client_secret"] is None and now["intent"] is None
    assert len(fake_stripe.calls_to("create_payment_intent")) == 1


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


def test_both_stages_pay_through_the_buyers_pay_route_and_only_dev_has_settings():
    dev, prod = routes_with("test"), routes_with("stripe")

    assert "/orders/{order_id}/pay" in dev and "/orders/{order_id}/pay" in prod
    assert "/dev/settings" in dev
    assert "/dev/orders/{order_id}/pay" not in dev  # the TEST MODE sheet uses the buyer's route


# --- the sweeper ---------------------------------------------------------------------------------------


def test_the_sweeper_expires_a_hold_that_never_reached_stripe_without_calling_stripe(client, make_card, fake_stripe):
    card = make_card(stock=5)
    order = held(client, card)

    expired = payment_events.expire_holds(at=after_the_hold(card))

    assert expired == 1
    assert orders.get(order["order_id"]).status == "expired"
    assert fake_stripe.calls == []
    assert stock(client, card) == (5, 0, 0)


def test_the_sweeper_expires_a_declined_hold_without_calling_stripe(client, make_card, fake_stripe):
    card = make_card(stock=5)
    order = held(client, card, method="pm_card_chargeDeclined")
    assert order["answer"]["status"] == "failed" and order["intent"]
    calls = len(fake_stripe.calls)

    assert payment_events.expire_holds(at=after_the_hold(card)) == 1

    assert len(fake_stripe.calls) == calls  # nothing a buyer could still finish: nothing to cancel
    assert stock(client, card) == (5, 0, 0)


def test_the_sweeper_cancels_a_payment_waiting_on_the_buyer_then_expires_the_hold(client, make_card, fake_stripe):
    card = make_card(stock=5)
    order = held(client, card, method=CARD_3DS)
    assert order["answer"]["status"] == "requires_action"

    assert payment_events.expire_holds(at=after_the_hold(card)) == 1

    assert fake_stripe.calls_to("cancel_payment_intent") == [(order["intent"],)]
    assert fake_stripe.intents[order["intent"]]["status"] == "canceled"
    assert fake_stripe.complete(order["intent"]) is False  # 3-D Secure finished now charges nothing
    assert orders.get(order["order_id"]).status == "expired"
    assert stock(client, card) == (5, 0, 0)


def test_the_sweeper_leaves_a_hold_whose_pay_call_is_with_stripe(client, make_card, fake_stripe):
    card = make_card(stock=5)
    order = held(client, card)
    at = after_the_hold(card)
    pay_calls.start_payment(orders.get(order["order_id"]), int(time.time()), at + 30)  # a pay call, still going

    assert payment_events.expire_holds(at=at) == 0

    assert orders.get(order["order_id"]).status == "held"
    assert stock(client, card) == (4, 1, 0)
    assert fake_stripe.calls == []
    assert payment_events.expire_holds(at=at + 30) == 1  # that call died: its claim ran out


def test_the_sweeper_leaves_holds_that_still_have_time(client, make_card, fake_stripe):
    card = make_card(stock=5, hold_seconds=600)
    held(client, card, method=CARD_3DS)

    assert payment_events.expire_holds(at=int(time.time()) + 300) == 0
    assert stock(client, card) == (4, 1, 0)
    assert fake_stripe.calls_to("cancel_payment_intent") == []


def test_the_sweeper_leaves_an_order_whose_money_is_already_in_flight(client, make_card, fake_stripe):
    card = make_card(stock=5)
    order = held(client, card, method=CARD_3DS)
    fake_stripe.complete(order["intent"], "processing")  # 3-D Secure done: Stripe refuses to cancel

    assert payment_events.expire_holds(at=after_the_hold(card)) == 0

    assert orders.get(order["order_id"]).status == "held"
    assert stock(client, card) == (4, 1, 0)


def test_the_sweeper_expires_the_hold_even_when_stripe_is_down(client, make_card, fake_stripe):
    card = make_card(stock=5)
    order = held(client, card, method=CARD_3DS)
    fake_stripe.unavailable.add("cancel_payment_intent")

    assert payment_events.expire_holds(at=after_the_hold(card)) == 1

    assert orders.get(order["order_id"]).status == "expired"
    assert stock(client, card) == (5, 0, 0)


def test_when_buyers_are_paying_the_sweeper_cancels_on_its_next_run_instead(client, make_card, fake_stripe):
    """A cancel is the budget's lowest priority: refused while buyers are paying (PaymentsBusy),
    it waits for the sweeper's next run (payments.cancel_payment_intent says so). Expiring the
    hold with its intent still open would let a late 3-D Secure take money for goods gone."""
    card = make_card(stock=5)
    order = held(client, card, method=CARD_3DS)
    fake_stripe.busy.add("cancel_payment_intent")

    assert payment_events.expire_holds(at=after_the_hold(card)) == 0
    assert orders.get(order["order_id"]).status == "held"
    assert fake_stripe.intents[order["intent"]]["status"] == "requires_action"

    fake_stripe.busy.clear()
    assert payment_events.expire_holds(at=after_the_hold(card, 60)) == 1
    assert fake_stripe.intents[order["intent"]]["status"] == "canceled"
    assert stock(client, card) == (5, 0, 0)


def test_the_scheduled_sweep_runs_as_a_lambda(client, make_card, fake_stripe, monkeypatch):
    card = make_card(stock=5)
    order = held(client, card)
    monkeypatch.setattr(payment_events, "now", lambda: int(time.time()) + card.hold_seconds + 60)

    result = client.lambda_.invoke("sweep_expired_holds", client.events.generate_cw_event(
        source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]))

    assert result.payload == {"expired": 1, "refunds_finished": 0, "shares_retried": 0, "mails_retried": 0,
                              "reminders_sent": 0, "sales_opened": 0, "personal_data_forgotten": 0,
                              "groups_closed": 0}
    assert orders.get(order["order_id"]).status == "expired"


# --- the orders stream handler, as Lambda invokes it ------------------------------------------------------


def test_the_stream_lambda_posts_the_share_of_a_paid_order(client, make_card, fake_stripe):
    card = make_card(stock=5)
    order = held(client, card)
    mark_paid(order["order_id"])

    result = client.lambda_.invoke("on_order_change",
                                   stream_event("orders_stream_paid.json", [orders.get(order["order_id"])]))

    assert result.payload == {"batchItemFailures": []}
    assert len(shares.feed(card.card_id)) == 1
    items = json.loads(client.http.get(f"/cards/{card.card_id}/feed").body)["items"]
    assert items[0]["link"].endswith("?ref=" + orders.get(order["order_id"]).referral_code)
