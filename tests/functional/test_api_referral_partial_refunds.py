"""Issues 12 and 17: rebates are computed on what was actually paid. A partial refund made in
Stripe's dashboard (charge.refunded, cumulative amount_refunded) lowers the referrer's credit, once,
whatever order Stripe's events arrive in; a full refund takes it back."""
import csv
import io
import json

from chalicelib.social import stream
from chalicelib.store import orders
from fakes import CARD_OK, charge_refunded_event, signed_webhook
from fixtures import hold, pay_order, stream_event


def call(client, method, path, seller=None, payload=None):
    headers = {"Content-Type": "application/json", **(seller.auth if seller else {})}
    return client.http.request(method, path, headers=headers,
                               body=json.dumps(payload).encode() if payload is not None else b"")


def deliver(client, event: dict) -> str:
    body, headers = signed_webhook(event)
    response = client.http.post("/webhooks/stripe", headers=headers, body=body)
    assert response.status_code == 200, response.body
    return json.loads(response.body)["outcome"]


def paid(client, card_id, buyer, method=CARD_OK, ref=None) -> dict:
    order = hold(client, card_id, buyer=buyer, ref=ref)
    assert json.loads(pay_order(client, order, {"payment_method": method}).body)["status"] == "succeeded"
    stream.handle_batch(stream_event("orders_stream_paid.json", [orders.get(order["order_id"])]))
    stored = orders.get(order["order_id"])
    return {**order, "referral_code": stored.referral_code, "intent": stored.payment_intent_id}


def rebates(client, seller, card_id, ada) -> tuple:
    """(the report's referred revenue and pending rebate, the CSV's, the referrer's order page's)."""
    report = json.loads(call(client, "GET", f"/api/cards/{card_id}/referrals", seller).body)
    rows = list(csv.DictReader(io.StringIO(
        call(client, "GET", f"/api/cards/{card_id}/referrals?format=csv", seller).body.decode())))
    earnings = json.loads(client.http.get(f"/orders/{ada['order_id']}?token={ada['order_token']}").body)["earnings"]
    return ((report["referred_revenue"], report["rebate_pending_total"]),
            [(int(row["referred_revenue"]), int(row["rebate_pending"])) for row in rows],
            (earnings["referred_orders"], earnings["rebate_pending"]))


def test_a_partial_refund_in_stripe_lowers_the_rebate_to_what_was_paid(
        client, seller, make_card, fake_stripe):
    card = make_card(price_amount=5000, stock=10)
    call(client, "PATCH", f"/api/cards/{card.card_id}/social", seller, {"rebate_percent": 10})
    fake_stripe.payers = {CARD_OK: ("card:fp_ada", "email:ada@example.com"),
                          "pm_card_bea": ("card:fp_bea", "email:bea@example.com")}
    ada = paid(client, card.card_id, "buyer-token-ada1")
    bea = paid(client, card.card_id, "buyer-token-bea1", "pm_card_bea", ref=ada["referral_code"])
    assert rebates(client, seller, card.card_id, ada) == ((5000, 500), [(5000, 500)], (1, 500))

    first = charge_refunded_event(bea["intent"], 5000, 2000)
    assert deliver(client, first) == "partially_refunded"
    assert rebates(client, seller, card.card_id, ada) == ((3000, 300), [(3000, 300)], (1, 300))
    assert deliver(client, first) == "duplicate"
    assert rebates(client, seller, card.card_id, ada) == ((3000, 300), [(3000, 300)], (1, 300))

    # A second partial refund: Stripe's amount_refunded is the charge's total so far.
    assert deliver(client, charge_refunded_event(bea["intent"], 5000, 3000)) == "partially_refunded"
    assert rebates(client, seller, card.card_id, ada) == ((2000, 200), [(2000, 200)], (1, 200))

    # The first refund's event again, arriving late under another id: nothing goes back up.
    late = charge_refunded_event(bea["intent"], 5000, 2000)
    assert deliver(client, late) == "ignored_older_refund"
    assert rebates(client, seller, card.card_id, ada) == ((2000, 200), [(2000, 200)], (1, 200))
    assert orders.get(bea["order_id"]).amount_refunded == 3000
    assert orders.get(bea["order_id"]).status == "paid"

    fake_stripe.refund_in_dashboard(bea["intent"])
    assert deliver(client, charge_refunded_event(bea["intent"], 5000, 5000)) == "refunded_in_stripe"
    assert rebates(client, seller, card.card_id, ada) == ((0, 0), [], (0, 0))
