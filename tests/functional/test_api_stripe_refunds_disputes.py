"""Stripe-side changes follow (issues 12 and 15): refunds made in Stripe's dashboard
(charge.refunded, full or partial) and disputes (charge.dispute.created) reach the order and the
seller; a refund made through the API and then announced by charge.refunded changes nothing twice.
Bodies are signed as Stripe signs them and verified by the real SDK."""
import json

import pytest

from chalicelib import audit, config, refunds
from chalicelib.domain import RefundPending
from chalicelib.store import orders
from fakes import charge_refunded_event, dispute_created_event, signed_webhook
from fixtures import ADDRESS, SHIPS, assert_error, card_view, create_card, hold, pay_order, post_json



@pytest.fixture
def subjects(outbox):
    return lambda: [m["subject"] for m in outbox()]


def deliver(client, event: dict) -> dict:
    body, headers = signed_webhook(event)
    response = client.http.post("/webhooks/stripe", headers=headers, body=body)
    assert response.status_code == 200, response.body
    return json.loads(response.body)


def paid_order(client, card, buyer="buyer-token-0001", quantity=1) -> dict:
    """A paid order with the buyer's address and email; order["intent"] is its PaymentIntent."""
    order = hold(client, card["id"], buyer=buyer, quantity=quantity)
    if card.get("shipping", {}).get("required"):
        response = client.http.put(f"/orders/{order['order_id']}/shipping?token={order['order_token']}",
                                   headers={"Content-Type": "application/json"}, body=json.dumps(ADDRESS))
        assert response.status_code == 200, response.body
    assert pay_order(client, order).status_code == 200
    order["intent"] = orders.get(order["order_id"]).payment_intent_id
    return order


def seller_sees(client, seller, card, order) -> dict:
    response = client.http.get(f"/api/cards/{card['id']}/orders", headers=seller.auth)
    return next(item for item in json.loads(response.body)["items"] if item["order_id"] == order["order_id"])


def refunds_counted(client, seller, card) -> int:
    response = client.http.get(f"/api/cards/{card['id']}/stats", headers=seller.auth)
    return json.loads(response.body)["total"]["refunds"]


# --- refunds made in Stripe's dashboard ---------------------------------------------------------------


def test_a_full_refund_in_stripes_dashboard_refunds_the_order_without_restocking(
        client, seller, fake_stripe, subjects):
    card = create_card(client, seller, stock=3, limit_per_buyer=1, shipping=SHIPS)
    order = paid_order(client, card)
    fake_stripe.refund_in_dashboard(order["intent"])
    # The charge carries no metadata of ours: the order is found through its PaymentIntent.
    event = charge_refunded_event(order["intent"], 2250, 2250)

    assert deliver(client, event)["outcome"] == "refunded_in_stripe"
    assert deliver(client, event)["outcome"] == "duplicate"

    seen = seller_sees(client, seller, card, order)
    assert seen["status"] == "refunded" and seen["status_reason"] == "refunded_in_stripe"
    assert seen["amount_refunded"] == 2250 and seen["refund_id"] == f"re_dash_{order['intent']}"
    # The goods may have shipped: the unit leaves the stock rather than go on sale again.
    assert card_view(client, card["id"])["stock"] == {"available": 2, "held": 0, "sold": 0}
    assert audit.run(card["id"]).clean
    assert subjects() == ["Refunded: Speckled mug"]
    assert refunds_counted(client, seller, card) == 1
    assert fake_stripe.calls_to("refund") == []  # nothing refunded twice
    hold(client, card["id"])  # within the limit again: the buyer may buy once more


def test_a_dashboard_refund_of_a_discounted_order_keeps_its_code_spent(client, seller, fake_stripe):
    """Its unit left the stock, so its discount is not on offer again: the audit agrees."""
    card = create_card(client, seller, stock=3)
    code = post_json(client, f"/api/cards/{card['id']}/codes", {"code": "MUG10", "percent_off": 10,
                                                               "max_redemptions": 2}, seller.auth)
    assert code.status_code == 201, code.body
    held = post_json(client, f"/cards/{card['id']}/checkout", {"quantity": 1, "buyer": "buyer-token-0009",
                                                               "code": "MUG10"}, {"Idempotency-Key": "tap-code-0009"})
    order = json.loads(held.body)
    assert pay_order(client, order).status_code == 200
    intent = orders.get(order["order_id"]).payment_intent_id
    fake_stripe.refund_in_dashboard(intent)

    assert deliver(client, charge_refunded_event(intent, 1620, 1620))["outcome"] == "refunded_in_stripe"
    codes = json.loads(client.http.get(f"/api/cards/{card['id']}/codes", headers=seller.auth).body)["items"]
    assert [c["redeemed"] for c in codes] == [1]
    assert audit.run(card["id"]).clean, audit.run(card["id"]).problems


def test_a_partial_refund_keeps_the_order_paid_and_says_how_much(client, seller, fake_stripe, subjects):
    card = create_card(client, seller, stock=3, shipping=SHIPS)
    order = paid_order(client, card)

    assert deliver(client, charge_refunded_event(order["intent"], 2250, 500))["outcome"] == "partially_refunded"
    seen = seller_sees(client, seller, card, order)
    assert seen["status"] == "paid" and seen["amount_refunded"] == 500
    assert card_view(client, card["id"])["stock"]["sold"] == 1 and subjects() == []

    fake_stripe.refund_in_dashboard(order["intent"])
    assert deliver(client, charge_refunded_event(order["intent"], 2250, 2250))["outcome"] == "refunded_in_stripe"
    assert seller_sees(client, seller, card, order)["amount_refunded"] == 2250
    assert subjects() == ["Refunded: Speckled mug"] and audit.run(card["id"]).clean


def test_a_refund_of_another_payment_of_the_order_leaves_it_paid(client, seller, fake_stripe):
    """The refund of a second PaymentIntent that paid an order already paid (ours, automatic)."""
    card = create_card(client, seller)
    order = paid_order(client, card)

    outcome = deliver(client, charge_refunded_event("pi_another_payment", 2250, 2250, order_id=order["order_id"]))

    assert outcome["outcome"] == "ignored_paid"
    assert seller_sees(client, seller, card, order)["status"] == "paid"


# --- our refund, then Stripe's charge.refunded -------------------------------------------------------


def test_a_refund_through_the_api_then_charge_refunded_changes_nothing_twice(client, seller, fake_stripe, subjects):
    card = create_card(client, seller, stock=3, shipping=SHIPS)
    order = paid_order(client, card)
    refunded = post_json(client, f"/api/orders/{order['order_id']}/refund", {"restock": True}, seller.auth)
    assert refunded.status_code == 200

    assert deliver(client, charge_refunded_event(order["intent"], 2250, 2250))["outcome"] == "ignored_refunded"

    seen = seller_sees(client, seller, card, order)
    assert seen == json.loads(refunded.body)
    assert seen["status_reason"] == "refunded_by_seller" and seen["refund_pending"] is False
    assert card_view(client, card["id"])["stock"] == {"available": 3, "held": 0, "sold": 0}
    assert subjects() == ["Refunded: Speckled mug"] and refunds_counted(client, seller, card) == 1


def test_when_our_write_fails_after_stripe_refunded_the_webhook_finishes_it_as_the_seller_asked(
        client, seller, fake_stripe, subjects, monkeypatch):
    card = create_card(client, seller, stock=3, shipping=SHIPS)
    order = paid_order(client, card)
    refund_paid = orders.refund_paid

    def denied(*args, **kwargs):
        monkeypatch.setattr(orders, "refund_paid", refund_paid)
        raise RuntimeError("AccessDeniedException: dynamodb:UpdateItem")  # as IAM answered it on AWS

    monkeypatch.setattr(orders, "refund_paid", denied)
    first = post_json(client, f"/api/orders/{order['order_id']}/refund", {"restock": False}, seller.auth)
    assert_error(first, 503, "refund_pending")
    assert first.headers["Retry-After"]
    assert seller_sees(client, seller, card, order)["refund_pending"] is True

    assert deliver(client, charge_refunded_event(order["intent"], 2250, 2250))["outcome"] == "refunded"
    again = post_json(client, f"/api/orders/{order['order_id']}/refund", {"restock": False}, seller.auth)

    assert again.status_code == 200 and json.loads(again.body)["status"] == "refunded"
    assert json.loads(again.body)["status_reason"] == "refunded_by_seller_not_restocked"  # as asked
    assert card_view(client, card["id"])["stock"] == {"available": 2, "held": 0, "sold": 0}
    assert len(fake_stripe.calls_to("refund")) == 1
    assert subjects() == ["Refunded: Speckled mug"] and refunds_counted(client, seller, card) == 1
    assert audit.run(card["id"]).clean


def test_a_refund_stripe_could_not_take_is_finished_by_the_sweeper(client, seller, fake_stripe, subjects):
    card = create_card(client, seller, stock=3, shipping=SHIPS)
    order = paid_order(client, card)
    fake_stripe.busy.add("refund")

    assert_error(post_json(client, f"/api/orders/{order['order_id']}/refund", {}, seller.auth), 503, "refund_pending")
    fake_stripe.busy.clear()
    assert refunds.finish_due() == 0  # not yet due: the seller's own retry usually comes first
    assert refunds.finish_due(refunds.now() + config.REFUND_SWEEP_SECONDS) == 1

    assert seller_sees(client, seller, card, order)["status"] == "refunded"
    assert card_view(client, card["id"])["stock"] == {"available": 3, "held": 0, "sold": 0}
    assert subjects() == ["Refunded: Speckled mug"]


def test_a_refund_pending_is_a_documented_answer(client, seller, fake_stripe):
    document = json.loads(client.http.get("/openapi.json").body)
    refund = document["paths"]["/api/orders/{order_id}/refund"]["post"]
    assert "503" in refund["responses"] and "refund_pending" in refund["responses"]["503"]["description"]
    for field in ("amount_refunded", "refund_pending", "dispute"):
        assert field in document["components"]["schemas"]["Order"]["properties"]
    assert RefundPending.code == "refund_pending"


# --- disputes -----------------------------------------------------------------------------------------


def test_a_dispute_marks_the_order_and_tells_the_sellers_webhook_once(client, seller, fake_stripe, webhook_receiver):
    card = create_card(client, seller, stock=3)
    hook = client.http.put("/api/channels/webhook", headers={**seller.auth, "Content-Type": "application/json"},
                           body=json.dumps({"url": webhook_receiver.url}))
    assert hook.status_code == 200, hook.body
    order = paid_order(client, card)
    event = dispute_created_event(order["intent"], 1800, reason="product_not_received")

    assert deliver(client, event)["outcome"] == "disputed"
    assert deliver(client, event)["outcome"] == "duplicate"

    seen = seller_sees(client, seller, card, order)
    assert seen["status"] == "paid" and seen["dispute"]["reason"] == "product_not_received"
    disputes = [json.loads(r.body) for r in webhook_receiver.requests if json.loads(r.body)["type"] == "order.disputed"]
    assert len(disputes) == 1
    assert disputes[0]["data"] == {"order_id": order["order_id"], "card_id": card["id"], "amount": 1800,
                                   "currency": "EUR", "reason": "product_not_received", "status": "paid",
                                   "disputed_at": seen["dispute"]["disputed_at"], "type": "order.disputed"}
    assert webhook_receiver.requests[-1].headers["webhook-signature"].startswith("v1,")
    feed = client.http.get(f"/cards/{card['id']}/feed")
    assert feed.status_code == 200 and b"order.disputed" not in feed.body  # private: never in the feed


def test_a_dispute_without_a_seller_webhook_still_marks_the_order(client, seller, fake_stripe):
    card = create_card(client, seller, stock=3)
    order = paid_order(client, card)

    assert deliver(client, dispute_created_event(order["intent"], 1800))["outcome"] == "disputed"
    assert seller_sees(client, seller, card, order)["dispute"]["reason"] == "fraudulent"


def test_a_dispute_about_a_payment_that_is_not_ours_is_acknowledged(client, aws, fake_stripe):
    assert deliver(client, dispute_created_event("pi_not_ours", 999))["outcome"] == "not_ours"


def test_a_refund_stripe_refuses_for_good_is_409_with_its_reason_and_nothing_under_way(
        client, seller, fake_stripe, monkeypatch):
    """Stripe cannot refund a disputed charge: the seller hears why, and nothing is left for the sweeper."""
    from chalicelib import payments
    from chalicelib.domain import Conflict

    card = create_card(client, seller, stock=3)
    order = paid_order(client, card)

    def refused(*args, **kwargs):
        raise Conflict("Stripe refused this refund: This charge is disputed.", "order_id")

    monkeypatch.setattr(payments, "refund", refused)
    answer = post_json(client, f"/api/orders/{order['order_id']}/refund", {}, seller.auth)

    assert_error(answer, 409, "conflict", "order_id")
    assert "disputed" in json.loads(answer.body)["error"]["message"]
    seen = seller_sees(client, seller, card, order)
    assert seen["status"] == "paid" and seen["refund_pending"] is False
    assert refunds.finish_due(refunds.now() + 10 * config.REFUND_SWEEP_SECONDS) == 0
