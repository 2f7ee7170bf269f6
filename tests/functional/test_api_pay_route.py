"""POST /orders/{order_id}/pay?token=: the payment made in one call within the hold, once the hold
is known to be the buyer's and the payer within the card's limit. Refusals charge nothing and send
nothing to Stripe; a busy Stripe never costs the buyer their units."""
import json
import time

import pytest

from chalicelib import config, payment_events, payments, paying, views
from chalicelib.domain import PaymentInProgress
from chalicelib.social import shares, stream
from chalicelib.store import orders, pay_calls
from chalicelib.store.order_models import OrderModel
from fakes import BANK_DEBIT, CARD_3DS, CARD_DECLINED, CARD_OK, DECLINE_REASON, signed_webhook, stripe_event
from fixtures import assert_error, card_view, hold, pay_order, stream_event


def stock(client, card) -> tuple[int, int, int]:
    view = card_view(client, card.card_id)["stock"]
    return view["available"], view["held"], view["sold"]


def answer(response, status: int = 200) -> dict:
    assert response.status_code == status, response.body
    return json.loads(response.body)


def status_of(order: dict) -> str:
    return orders.get(order["order_id"]).status


def deliver(client, event: dict) -> str:
    body, headers = signed_webhook(event)
    response = client.http.post("/webhooks/stripe", headers=headers, body=body)
    assert response.status_code == 200, response.body
    return json.loads(response.body)["outcome"]


def order_item(order: dict) -> dict:
    """The stored order item as DynamoDB has it (what the orders stream would carry)."""
    return OrderModel.get(order["order_id"], consistent_read=True).serialize()


# --- what Stripe answers ---------------------------------------------------------------------------


def test_a_payment_that_succeeds_pays_the_order_at_once(client, make_card, fake_stripe):
    card = make_card(stock=5, price_amount=1800, currency="EUR")
    order = hold(client, card.card_id)

    paid = answer(pay_order(client, order, {"payment_method": CARD_OK}))

    assert paid["status"] == "succeeded"
    assert paid["client_secret"] is None
    assert paid["order"]["status"] == "paid"
    assert paid["order"]["share_url"].endswith("?ref=" + paid["order"]["referral_code"])
    assert "reason" not in paid
    assert stock(client, card) == (4, 0, 1)
    assert fake_stripe.calls_to("pay") == [(order["order_id"], CARD_OK, 1800, "EUR", 1)]
    stored = orders.get(order["order_id"])
    assert stored.payment_intent_id == fake_stripe.charged()[0]
    assert stored.paying_until is None


def test_the_webhook_of_a_payment_already_settled_changes_nothing_and_shares_nothing_more(
        client, make_card, fake_stripe):
    card = make_card(stock=5)
    order = hold(client, card.card_id)
    answer(pay_order(client, order))
    stream.handle_batch(stream_event("orders_stream_paid.json", [orders.get(order["order_id"])]))
    assert len(shares.feed(card.card_id)) == 1
    intent = orders.get(order["order_id"]).payment_intent_id
    before = order_item(order)

    outcome = deliver(client, stripe_event("payment_intent.succeeded", intent, order["order_id"],
                                           payment_method=CARD_OK))

    assert outcome == "ignored_paid"
    assert order_item(order) == before  # no write: the orders stream carries nothing new
    assert stock(client, card) == (4, 0, 1)
    assert fake_stripe.calls_to("refund") == []
    stream.handle_batch(stream_event("orders_stream_paid.json", [orders.get(order["order_id"])]))  # redelivered
    assert len(shares.feed(card.card_id)) == 1


def test_a_payment_that_needs_the_buyer_answers_its_client_secret_and_the_webhook_settles_it(
        client, make_card, fake_stripe):
    card = make_card(stock=5)
    order = hold(client, card.card_id)

    pending = answer(pay_order(client, order, {"payment_method": CARD_3DS}))

    intent = orders.get(order["order_id"]).payment_intent_id
    assert pending["status"] == "requires_action"
    assert pending["client_secret"] == f"{intent}_secret_fake"
    assert pending["order"]["status"] == "held"
    assert stock(client, card) == (4, 1, 0)

    fake_stripe.complete(intent)  # the buyer passes 3-D Secure in Stripe.js
    assert deliver(client, stripe_event("payment_intent.succeeded", intent, order["order_id"])) == "paid"

    assert status_of(order) == "paid"
    assert stock(client, card) == (4, 0, 1)


def test_a_payment_still_processing_keeps_the_hold_until_its_webhook(client, make_card, fake_stripe):
    card = make_card(stock=5)
    order = hold(client, card.card_id)

    pending = answer(pay_order(client, order, {"payment_method": BANK_DEBIT}))

    assert (pending["status"], pending["client_secret"], pending["order"]["status"]) == ("processing", None, "held")
    intent = orders.get(order["order_id"]).payment_intent_id
    fake_stripe.complete(intent)
    assert deliver(client, stripe_event("payment_intent.succeeded", intent, order["order_id"])) == "paid"


def test_a_decline_keeps_the_hold_and_another_card_then_pays(client, make_card, fake_stripe):
    card = make_card(stock=5)
    order = hold(client, card.card_id)

    declined = answer(pay_order(client, order, {"payment_method": CARD_DECLINED}))

    assert declined["status"] == "failed"
    assert declined["reason"] == DECLINE_REASON
    assert declined["client_secret"] is None
    assert declined["order"]["status"] == "held"
    assert stock(client, card) == (4, 1, 0)
    assert fake_stripe.charged() == []

    paid = answer(pay_order(client, order, {"payment_method": CARD_OK}))

    assert paid["status"] == "succeeded" and paid["order"]["status"] == "paid"
    assert [args[4] for args in fake_stripe.calls_to("pay")] == [1, 2]  # a new attempt: a new idempotency key
    assert len(fake_stripe.charged()) == 1
    assert stock(client, card) == (4, 0, 1)


def test_a_second_succeeded_payment_for_a_paid_order_is_refunded_and_the_order_stays_paid(
        client, make_card, fake_stripe):
    """3-D Secure left open, another card paid, then 3-D Secure was finished too."""
    card = make_card(stock=5)
    order = hold(client, card.card_id)
    answer(pay_order(client, order, {"payment_method": CARD_3DS}))
    first = orders.get(order["order_id"]).payment_intent_id
    answer(pay_order(client, order, {"payment_method": CARD_OK}))
    second = orders.get(order["order_id"]).payment_intent_id
    assert fake_stripe.complete(first)

    event = stripe_event("payment_intent.succeeded", first, order["order_id"])
    assert deliver(client, event) == "refunded_duplicate"
    assert deliver(client, event) == "duplicate"

    assert fake_stripe.calls_to("refund") == [(first, order["order_id"])]
    assert set(fake_stripe.charged()) == {first, second}
    stored = orders.get(order["order_id"])
    assert (stored.status, stored.payment_intent_id) == ("paid", second)
    assert stock(client, card) == (4, 0, 1)


# --- a rush: a hold lasts until its buyer starts paying ------------------------------------------------


def test_in_a_rush_a_hold_gives_its_buyer_rush_hold_seconds_to_start_paying_then_the_cards_full_time(
        client, make_card, fake_stripe, monkeypatch):
    monkeypatch.setattr(config, "RUSH_HOLD_SECONDS", 120)
    card = make_card(stock=2, hold_seconds=600)
    calm = hold(client, card.card_id, buyer="buyer-token-0001")  # 1 held, 1 left: a rush from now on
    rushed = hold(client, card.card_id, buyer="buyer-token-0002")
    created = orders.get(rushed["order_id"]).created_at

    assert orders.get(calm["order_id"]).expires_at - orders.get(calm["order_id"]).created_at == 600
    assert orders.get(rushed["order_id"]).expires_at == created + 120
    fake_stripe.busy.add("pay")  # the buyer starts paying, and waits in Stripe's queue

    busy = assert_error(pay_order(client, rushed), 503, "payments_busy")

    assert orders.get(rushed["order_id"]).expires_at == created + 600
    assert busy["expires_at"] == views.iso(created + 600)  # the card's countdown follows
    assert payment_events.expire_holds(at=created + 121) == 0  # not taken back while its buyer pays
    fake_stripe.busy.clear()
    assert answer(pay_order(client, rushed))["status"] == "succeeded"


def test_an_abandoned_rush_hold_comes_back_on_sale_after_rush_hold_seconds(client, make_card, fake_stripe, monkeypatch):
    monkeypatch.setattr(config, "RUSH_HOLD_SECONDS", 120)
    card = make_card(stock=2, hold_seconds=600)
    hold(client, card.card_id, buyer="buyer-token-0001")
    abandoned = hold(client, card.card_id, buyer="buyer-token-0002")

    assert payment_events.expire_holds(at=orders.get(abandoned["order_id"]).created_at + 121) == 1
    assert status_of(abandoned) == "expired"


# --- refusals: nothing is sent to Stripe ---------------------------------------------------------------


@pytest.mark.parametrize("token", ["", "wrong-token", "a" * 32, None])
def test_a_wrong_or_missing_token_is_404_and_nothing_is_sent(client, make_card, fake_stripe, token):
    card = make_card(stock=5)
    order = hold(client, card.card_id)
    path = f"/orders/{order['order_id']}/pay" + ("" if token is None else f"?token={token}")

    response = client.http.post(path, headers={"Content-Type": "application/json"},
                                body=json.dumps({"payment_method": CARD_OK}))

    assert_error(response, 404, "not_found")
    assert fake_stripe.calls == []
    assert status_of(order) == "held"


def test_an_unknown_order_is_404(client, fake_stripe):
    assert_error(pay_order(client, {"order_id": "ord_nope", "order_token": "a" * 32}), 404, "not_found")
    assert fake_stripe.calls == []


def test_a_hold_about_to_run_out_is_409_hold_expired_and_nothing_is_sent(client, make_card, fake_stripe):
    card = make_card(stock=5, hold_seconds=paying.MARGIN_SECONDS)  # less left than a payment may need

    order = hold(client, card.card_id)

    assert_error(pay_order(client, order), 409, "hold_expired")
    assert fake_stripe.calls == []
    assert orders.get(order["order_id"]).payment_attempt == 0


def test_an_expired_hold_is_409_hold_expired_and_nothing_is_sent(client, make_card, fake_stripe):
    card = make_card(stock=5)
    order = hold(client, card.card_id)
    payment_events.expire_holds(at=int(time.time()) + card.hold_seconds + 1)

    assert_error(pay_order(client, order), 409, "hold_expired")
    assert fake_stripe.calls == []
    assert stock(client, card) == (5, 0, 0)


def test_a_paid_order_is_409_already_paid_and_nothing_more_is_charged(client, make_card, fake_stripe):
    card = make_card(stock=5)
    order = hold(client, card.card_id)
    answer(pay_order(client, order))

    assert_error(pay_order(client, order), 409, "already_paid")
    assert_error(pay_order(client, order, {"payment_method": CARD_DECLINED}), 409, "already_paid")
    assert len(fake_stripe.calls_to("pay")) == 1
    assert stock(client, card) == (4, 0, 1)


def test_a_double_submit_while_a_pay_call_is_with_stripe_is_409_payment_in_progress(client, make_card, fake_stripe):
    card = make_card(stock=5)
    order = hold(client, card.card_id)
    now = int(time.time())
    pay_calls.start_payment(orders.get(order["order_id"]), now, now + 50)  # the first submit, still waiting on Stripe

    assert_error(pay_order(client, order), 409, "payment_in_progress")
    assert fake_stripe.calls == []
    assert status_of(order) == "held"
    pay_calls.end_payment(order["order_id"])  # the first submit came back (declined, say)
    assert answer(pay_order(client, order))["status"] == "succeeded"


def test_a_payer_who_bought_the_limit_already_is_429_limit_reached_before_any_charge(client, make_card, fake_stripe):
    """The limit counts the card and email that pay, so a fresh buyer token does not get around it;
    it is checked from the payment method's preview, before the payment is made."""
    card = make_card(stock=5, limit_per_buyer=1)
    fake_stripe.payers = {CARD_OK: ("card:fp_same", "email:ada@example.com"),
                          "pm_card_mastercard": ("card:fp_other", "email:ada@example.com"),
                          "pm_card_amex": ("card:fp_amex", "email:bo@example.com")}
    first = hold(client, card.card_id, buyer="buyer-token-0001")
    answer(pay_order(client, first, {"payment_method": CARD_OK}))
    second = hold(client, card.card_id, buyer="buyer-token-0002")

    for method in (CARD_OK, "pm_card_mastercard"):  # the same card; another card with the same email
        assert_error(pay_order(client, second, {"payment_method": method}), 429, "limit_reached")

    assert len(fake_stripe.calls_to("pay")) == 1  # only the first order's
    assert fake_stripe.calls_to("payer_identities_of")[1:] == [(CARD_OK,), ("pm_card_mastercard",)]
    assert len(fake_stripe.charged()) == 1
    assert status_of(second) == "held"  # still theirs: someone else may pay for it
    assert stock(client, card) == (3, 1, 1)
    assert answer(pay_order(client, second, {"payment_method": "pm_card_amex"}))["status"] == "succeeded"


def test_one_card_paying_two_orders_at_once_is_charged_for_one_and_the_other_refused_before_charging(
        client, make_card, fake_stripe, monkeypatch):
    """The payer's identity is checked against the orders it is paying for right now, not only
    against what it bought: the second payment by the same card waits its turn (409, nothing
    charged), then gets 429 limit_reached, instead of being charged and refunded."""
    card = make_card(stock=5, limit_per_buyer=1)
    fake_stripe.payers = {CARD_OK: ("card:fp_same", "email:ada@example.com")}
    first = hold(client, card.card_id, buyer="buyer-token-0001")
    second = hold(client, card.card_id, buyer="buyer-token-0002")
    charge = fake_stripe.pay
    refused = []

    def pay_while_the_second_order_pays_too(order_id, *args):
        if not refused:  # the first payment is with Stripe: the same card submits the second order
            with pytest.raises(PaymentInProgress) as busy:
                paying.pay(orders.get(second["order_id"]), {"payment_method": CARD_OK, "amount": 1800,
                                                            "currency": "EUR"})
            refused.append(str(busy.value))
        return charge(order_id, *args)

    monkeypatch.setattr(payments, "pay", pay_while_the_second_order_pays_too)
    assert answer(pay_order(client, first, {"payment_method": CARD_OK}))["status"] == "succeeded"

    assert refused and "nothing was charged" in refused[0]
    assert_error(pay_order(client, second, {"payment_method": CARD_OK}), 429, "limit_reached")
    assert len(fake_stripe.charged()) == 1 and fake_stripe.refunded() == set()
    assert status_of(second) == "held"


def test_a_payer_claim_left_by_a_crashed_pay_call_lapses(client, make_card, fake_stripe):
    card = make_card(stock=5, limit_per_buyer=1)
    fake_stripe.payers = {CARD_OK: ("card:fp_same",)}
    order = hold(client, card.card_id, buyer="buyer-token-0001")
    crashed = hold(client, card.card_id, buyer="buyer-token-0002")
    now = int(time.time())
    pay_calls.claim_payers(orders.get(crashed["order_id"]), ("card:fp_same",), now - 60, now - 1)

    assert answer(pay_order(client, order, {"payment_method": CARD_OK}))["status"] == "succeeded"


def test_without_a_limit_the_payer_is_not_looked_up(client, make_card, fake_stripe):
    card = make_card(stock=5)
    answer(pay_order(client, hold(client, card.card_id)))

    assert fake_stripe.calls_to("payer_identities_of") == []


@pytest.mark.parametrize("fields", [{"amount": 1700}, {"amount": 18}, {"currency": "USD"},
                                    {"amount": "1800"}, {"amount": True}, {"currency": 978},
                                    {"amount": 1800, "currency": "GBP"}], ids=repr)
def test_an_amount_or_currency_other_than_the_orders_is_409_amount_mismatch(client, make_card, fake_stripe, fields):
    card = make_card(stock=5, price_amount=1800, currency="EUR")
    order = hold(client, card.card_id)

    assert_error(pay_order(client, order, {"payment_method": CARD_OK, **fields}), 409, "amount_mismatch")
    assert fake_stripe.calls == []
    assert status_of(order) == "held"


def test_the_orders_own_amount_and_currency_are_accepted(client, make_card, fake_stripe):
    card = make_card(stock=5, price_amount=1800, currency="EUR")
    order = hold(client, card.card_id, quantity=2)

    paid = answer(pay_order(client, order, {"payment_method": CARD_OK, "amount": 3600, "currency": "eur"}))

    assert paid["status"] == "succeeded"


def test_outside_the_dev_stage_a_test_payment_method_is_refused(client, make_card, fake_stripe, monkeypatch):
    monkeypatch.setattr(config, "DEV_ROUTES", False)
    card = make_card(stock=5, limit_per_buyer=2)
    order = hold(client, card.card_id)

    assert_error(pay_order(client, order, {"payment_method": CARD_OK}), 400, "invalid_request", field="payment_method")
    assert fake_stripe.calls == []

    paid = answer(pay_order(client, order, {"confirmation_token": "ctoken_1Qexample"}))
    assert paid["status"] == "succeeded"
    assert fake_stripe.calls_to("payer_identities_of") == [("ctoken_1Qexample",)]
    assert fake_stripe.calls_to("pay")[0][1] == "ctoken_1Qexample"


@pytest.mark.parametrize("body, field", [
    ({}, "confirmation_token"),
    ({"confirmation_token": "ctoken_1", "payment_method": CARD_OK}, "confirmation_token"),
    ({"confirmation_token": "tok_visa"}, "confirmation_token"),
    ({"confirmation_token": 12}, "confirmation_token"),
    ({"confirmation_token": ""}, "confirmation_token"),
    ({"payment_method": "card_123"}, "payment_method"),
    ({"payment_method": ["pm_card_visa"]}, "payment_method"),
    ({"payment_method": "pm_" + "x" * 300}, "payment_method"),
    ("[]", None), ("null", None), ('"pm_card_visa"', None), ('{"payment_method":', None),
], ids=repr)
def test_a_malformed_body_is_400_naming_the_field_and_nothing_is_sent(client, make_card, fake_stripe, body, field):
    card = make_card(stock=5)
    order = hold(client, card.card_id)

    assert_error(pay_order(client, order, body), 400, "invalid_request", field=field)
    assert fake_stripe.calls == []
    assert status_of(order) == "held"


# --- Stripe busy or down: the units stay held ----------------------------------------------------------


def test_when_stripe_is_busy_the_pay_call_is_503_with_retry_after_and_the_units_stay_held(
        client, make_card, fake_stripe):
    card = make_card(stock=5)
    order = hold(client, card.card_id)
    fake_stripe.busy.add("pay")

    response = pay_order(client, order)

    assert_error(response, 503, "payments_busy")
    assert response.headers["Retry-After"] == str(fake_stripe.retry_after)
    assert status_of(order) == "held"
    assert stock(client, card) == (4, 1, 0)
    assert orders.get(order["order_id"]).paying_until is None  # the retry is not refused as in progress
    assert fake_stripe.charged() == []

    fake_stripe.busy.clear()
    assert answer(pay_order(client, order))["status"] == "succeeded"
    assert stock(client, card) == (4, 0, 1)


def test_when_the_payer_lookup_is_busy_the_pay_call_is_503_and_nothing_is_charged(client, make_card, fake_stripe):
    card = make_card(stock=5, limit_per_buyer=1)
    order = hold(client, card.card_id)
    fake_stripe.busy.add("payer_identities_of")

    response = pay_order(client, order)

    assert_error(response, 503, "payments_busy")
    assert int(response.headers["Retry-After"]) >= 1
    assert fake_stripe.calls_to("pay") == []
    assert status_of(order) == "held"


def test_when_stripe_is_down_the_pay_call_is_503_and_the_units_stay_held(client, make_card, fake_stripe):
    card = make_card(stock=5)
    order = hold(client, card.card_id)
    fake_stripe.unavailable.add("pay")

    response = pay_order(client, order)

    assert_error(response, 503, "payments_unavailable")
    assert "Retry-After" not in response.headers
    assert status_of(order) == "held"
    assert stock(client, card) == (4, 1, 0)
    assert orders.get(order["order_id"]).paying_until is None
