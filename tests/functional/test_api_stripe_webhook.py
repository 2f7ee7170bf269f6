"""POST /webhooks/stripe: bodies signed exactly like Stripe signs them, verified by the real SDK."""
import json
import time
from urllib.parse import quote

import pytest
import stripe

from chalicelib import config, payment_events, payments
from fakes import BANK_DEBIT, CARD_3DS, WEBHOOK_SECRET, signed_webhook, stripe_event, stripe_signature
from fixtures import assert_error, card_view, pay_order, request_checkout


def deliver(client, event: dict, secret: str = WEBHOOK_SECRET, timestamp: int | None = None):
    body, headers = signed_webhook(event, secret, timestamp)
    return client.http.post("/webhooks/stripe", headers=headers, body=body)


def held(client, card, buyer="buyer-token-0001", method=CARD_3DS) -> dict:
    """A hold whose pay call Stripe answered without the money yet (3-D Secure by default, or a
    bank debit): its webhook is what settles it. order["intent"] is that call's PaymentIntent."""
    response = request_checkout(client, card.card_id, buyer=buyer, key=f"tap-key-{buyer}")
    assert response.status_code == 201, response.body
    order = json.loads(response.body)
    assert order["client_secret"] is None
    answer = json.loads(pay_order(client, order, {"payment_method": method}).body)
    assert answer["status"] in ("requires_action", "processing"), answer
    from chalicelib.store import orders

    order["intent"] = orders.get(order["order_id"]).payment_intent_id
    return order


def status(client, order) -> dict:
    response = client.http.get(f"/orders/{order['order_id']}?token={quote(order['order_token'])}")
    return json.loads(response.body)


def stock(client, card) -> tuple[int, int, int]:
    view = card_view(client, card.card_id)["stock"]
    return view["available"], view["held"], view["sold"]


def succeeded(order, event_id=None) -> dict:
    return stripe_event("payment_intent.succeeded", order["intent"], order["order_id"], event_id)


# --- what the fakes send is what Stripe sends ------------------------------------------------------


@pytest.mark.parametrize("kind", ["payment_intent.succeeded", "payment_intent.payment_failed",
                                  "payment_intent.canceled"])
def test_our_signed_test_events_are_accepted_by_the_stripe_sdk(kind):
    body, headers = signed_webhook(stripe_event(kind, "pi_123", "ord_abc", "evt_123"))

    event = stripe.StripeClient("sk_test_x").construct_event(body, headers["Stripe-Signature"], WEBHOOK_SECRET)

    assert event.id == "evt_123"
    assert event.type == kind
    assert event.data.object["id"] == "pi_123"
    assert event.data.object["metadata"]["order_id"] == "ord_abc"


def test_a_verified_event_becomes_a_typed_payment_event():
    body, headers = signed_webhook(stripe_event("payment_intent.succeeded", "pi_123", "ord_abc", "evt_123"))

    event = payments.parse_webhook(body.encode(), headers["Stripe-Signature"])

    assert (event.event_id, event.type, event.payment_intent_id, event.order_id) == (
        "evt_123", "payment_intent.succeeded", "pi_123", "ord_abc")
    assert (event.amount_received, event.currency) == (1800, "eur")


def test_the_typed_event_carries_what_the_intent_took():
    body, headers = signed_webhook(stripe_event("payment_intent.succeeded", "pi_123", "ord_abc",
                                                amount=1, currency="jpy"))

    event = payments.parse_webhook(body.encode(), headers["Stripe-Signature"])

    assert event.received == payments.Received("pi_123", 1, "jpy")


# --- refusals -------------------------------------------------------------------------------------


def test_a_body_signed_with_another_secret_is_400_invalid_signature(client, make_card, fake_stripe):
    card = make_card(stock=5)
    order = held(client, card)

    response = deliver(client, succeeded(order), secret="whsec_someone_else")

    assert_error(response, 400, "invalid_signature")
    assert status(client, order)["status"] == "held"


def test_a_body_changed_after_signing_is_400_invalid_signature(client, make_card, fake_stripe):
    card = make_card(stock=5)
    order = held(client, card)
    body, headers = signed_webhook(stripe_event("payment_intent.payment_failed", order["intent"], order["order_id"]))
    forged = body.replace("payment_intent.payment_failed", "payment_intent.succeeded")

    response = client.http.post("/webhooks/stripe", headers=headers, body=forged)

    assert_error(response, 400, "invalid_signature")
    assert stock(client, card) == (4, 1, 0)


def test_a_request_without_the_stripe_signature_header_is_400(client, aws):
    body, headers = signed_webhook(stripe_event("payment_intent.succeeded", "pi_1", "ord_1"))
    del headers["Stripe-Signature"]

    assert_error(client.http.post("/webhooks/stripe", headers=headers, body=body), 400, "invalid_signature")


def test_a_replayed_old_delivery_is_400(client, aws):
    an_hour_ago = int(time.time()) - 3600

    response = deliver(client, stripe_event("payment_intent.succeeded", "pi_1", "ord_1"), timestamp=an_hour_ago)

    assert_error(response, 400, "invalid_signature")


def test_a_garbage_signature_header_is_400(client, aws):
    body = json.dumps(stripe_event("payment_intent.succeeded", "pi_1", "ord_1"))

    response = client.http.post("/webhooks/stripe", body=body,
                                headers={"Content-Type": "application/json", "Stripe-Signature": "nonsense"})

    assert_error(response, 400, "invalid_signature")


def test_without_a_configured_secret_every_delivery_is_refused(client, aws, monkeypatch):
    monkeypatch.setattr(config, "STRIPE_WEBHOOK_SECRET", "")
    body = json.dumps(stripe_event("payment_intent.succeeded", "pi_1", "ord_1"))

    response = client.http.post("/webhooks/stripe", body=body, headers={
        "Content-Type": "application/json", "Stripe-Signature": stripe_signature(body, secret="")})

    assert_error(response, 400, "invalid_signature")


def test_event_types_tapcard_does_not_handle_are_acknowledged_and_ignored(client, aws):
    response = deliver(client, stripe_event("charge.refund.updated", "pi_1", "ord_1"))

    assert response.status_code == 200
    assert json.loads(response.body) == {"received": True, "outcome": "ignored"}


# --- what verified events do ------------------------------------------------------------------------


def test_a_successful_payment_marks_the_order_paid(client, make_card, fake_stripe):
    card = make_card(stock=5)
    order = held(client, card)
    fake_stripe.complete(order["intent"])

    response = deliver(client, succeeded(order))

    assert response.status_code == 200
    assert json.loads(response.body) == {"received": True, "outcome": "paid"}
    assert status(client, order)["status"] == "paid"
    assert stock(client, card) == (4, 0, 1)


def test_the_same_event_delivered_twice_changes_nothing_the_second_time(client, make_card, fake_stripe):
    card = make_card(stock=5)
    order = held(client, card)
    event = succeeded(order, "evt_once")
    deliver(client, event)

    again = deliver(client, event)

    assert again.status_code == 200
    assert json.loads(again.body)["outcome"] == "duplicate"
    assert status(client, order)["status"] == "paid"
    assert stock(client, card) == (4, 0, 1)


def test_a_failed_payment_keeps_the_hold(client, make_card, fake_stripe):
    """3-D Secure failed: the buyer may pay with another card while the hold lasts."""
    card = make_card(stock=5)
    order = held(client, card)

    response = deliver(client, stripe_event("payment_intent.payment_failed", order["intent"], order["order_id"]))

    assert json.loads(response.body)["outcome"] == "ignored_held"
    assert status(client, order)["status"] == "held"
    assert stock(client, card) == (4, 1, 0)
    assert fake_stripe.calls_to("cancel_payment_intent") == []


def test_a_canceled_payment_releases_the_stock(client, make_card, fake_stripe):
    card = make_card(stock=5)
    order = held(client, card)

    response = deliver(client, stripe_event("payment_intent.canceled", order["intent"], order["order_id"]))

    assert json.loads(response.body)["outcome"] == "canceled"
    assert status(client, order)["status"] == "canceled"
    assert stock(client, card) == (5, 0, 0)


def test_a_payment_after_the_hold_expired_takes_stock_again_if_some_is_left(client, make_card, fake_stripe):
    card = make_card(stock=5)
    order = held(client, card, method=BANK_DEBIT)
    payment_events.expire_holds(at=int(time.time()) + card.hold_seconds + 1)
    assert status(client, order)["status"] == "expired"

    response = deliver(client, succeeded(order))

    assert json.loads(response.body)["outcome"] == "paid_late"
    assert status(client, order)["status"] == "paid"
    assert stock(client, card) == (4, 0, 1)
    assert fake_stripe.calls_to("refund") == []


def test_a_payment_after_the_hold_expired_is_refunded_if_the_stock_is_gone(client, make_card, fake_stripe):
    card = make_card(stock=1)
    late = held(client, card, "buyer-token-0001", method=BANK_DEBIT)
    payment_events.expire_holds(at=int(time.time()) + card.hold_seconds + 1)
    other = held(client, card, "buyer-token-0002")
    assert json.loads(deliver(client, succeeded(other)).body)["outcome"] == "paid"

    response = deliver(client, succeeded(late))

    assert json.loads(response.body)["outcome"] == "refunded"
    assert status(client, late)["status"] == "refunded"
    assert fake_stripe.calls_to("refund") == [(late["intent"], late["order_id"])]
    assert stock(client, card) == (0, 0, 1)


# --- a payment that is not the order's price ------------------------------------------------------


@pytest.mark.parametrize("amount, currency", [(1, "jpy"), (1800, "usd"), (1799, "eur"), (18000, "eur")])
def test_a_payment_of_another_amount_or_currency_is_refunded_and_the_hold_kept(
        client, make_card, fake_stripe, amount, currency):
    """A signed `payment_intent.succeeded` for a 1,800 EUR order that took 1 JPY pays nothing: the
    money goes back, the order says why and keeps its unit for a payment of the right amount."""
    card = make_card(stock=5, price_amount=1800, currency="EUR")
    order = held(client, card)

    response = deliver(client, stripe_event("payment_intent.succeeded", order["intent"], order["order_id"],
                                            "evt_short", amount=amount, currency=currency))

    assert json.loads(response.body) == {"received": True, "outcome": "refunded_amount_mismatch"}
    assert fake_stripe.calls_to("refund") == [(order["intent"], order["order_id"])]
    assert (status(client, order)["status"], status(client, order)["status_reason"]) == ("held", "amount_mismatch")
    assert stock(client, card) == (4, 1, 0)
    assert json.loads(deliver(client, stripe_event(
        "payment_intent.succeeded", order["intent"], order["order_id"], "evt_short", amount=amount,
        currency=currency)).body)["outcome"] == "duplicate"

    paid = json.loads(pay_order(client, order, {"payment_method": "pm_card_visa"}).body)

    assert paid["status"] == "succeeded"
    assert paid["order"]["status"] == "paid" and "status_reason" not in paid["order"]
    assert stock(client, card) == (4, 0, 1)


def test_the_currency_stripe_writes_in_lower_case_pays_the_order(client, make_card, fake_stripe):
    card = make_card(stock=5, price_amount=120000, currency="JPY")
    order = held(client, card)
    fake_stripe.complete(order["intent"])

    response = deliver(client, stripe_event("payment_intent.succeeded", order["intent"], order["order_id"],
                                            amount=120000, currency="jpy"))

    assert json.loads(response.body)["outcome"] == "paid"
    assert fake_stripe.calls_to("refund") == []


def test_a_late_payment_of_another_amount_takes_no_stock_and_is_refunded(client, make_card, fake_stripe):
    card = make_card(stock=5)
    order = held(client, card, method=BANK_DEBIT)
    payment_events.expire_holds(at=int(time.time()) + card.hold_seconds + 1)

    response = deliver(client, stripe_event("payment_intent.succeeded", order["intent"], order["order_id"],
                                            amount=1, currency="jpy"))

    assert json.loads(response.body)["outcome"] == "refunded_amount_mismatch"
    assert (status(client, order)["status"], status(client, order)["status_reason"]) == ("expired", "amount_mismatch")
    assert fake_stripe.calls_to("refund") == [(order["intent"], order["order_id"])]
    assert stock(client, card) == (5, 0, 0)


def test_another_payment_for_a_paid_order_is_refunded_whatever_its_amount(client, make_card, fake_stripe):
    card = make_card(stock=5)
    order = held(client, card)
    fake_stripe.complete(order["intent"])
    assert json.loads(deliver(client, succeeded(order)).body)["outcome"] == "paid"

    response = deliver(client, stripe_event("payment_intent.succeeded", "pi_someone_elses", order["order_id"],
                                            amount=1, currency="jpy"))

    assert json.loads(response.body)["outcome"] == "refunded_duplicate"
    assert status(client, order)["status"] == "paid" and "status_reason" not in status(client, order)
    assert fake_stripe.calls_to("refund") == [("pi_someone_elses", order["order_id"])]
    assert stock(client, card) == (4, 0, 1)


def test_an_event_about_an_order_tapcard_does_not_have_is_acknowledged(client, aws):
    response = deliver(client, stripe_event("payment_intent.succeeded", "pi_elsewhere", "ord_elsewhere"))

    assert response.status_code == 200
    assert json.loads(response.body)["outcome"] == "not_ours"


def test_a_webhook_whose_refund_finds_stripe_busy_is_503_and_refunds_on_redelivery(client, make_card, fake_stripe):
    """Stripe delivers again what was not answered 2xx: the refund of a second payment waits for it."""
    card = make_card(stock=5)
    order = held(client, card)  # 3-D Secure left open...
    assert json.loads(pay_order(client, order, {"payment_method": "pm_card_visa"}).body)["status"] == "succeeded"
    fake_stripe.complete(order["intent"])  # ...and finished after another card paid
    event = succeeded(order, "evt_second_payment")
    fake_stripe.busy.add("refund")

    busy = deliver(client, event)

    assert_error(busy, 503, "payments_busy")
    assert busy.headers["Retry-After"]
    assert fake_stripe.refunded() == set()

    fake_stripe.busy.clear()
    again = deliver(client, event)

    assert json.loads(again.body)["outcome"] == "refunded_duplicate"
    assert fake_stripe.refunded() == {order["intent"]}
    assert status(client, order)["status"] == "paid"
