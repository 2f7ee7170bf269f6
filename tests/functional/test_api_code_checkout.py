"""Issue 17: checkout takes a discount `code`; the server prices the order (the better of the code and
the card's referral discount, never both, never below Stripe's minimum), counts the redemption in
the hold's transaction and gives it back when the hold ends or a refund puts the unit back on sale."""
import itertools
import json
import time

import pytest

from chalicelib import audit, payment_events
from chalicelib.social import referrals as social_referrals
from chalicelib.social import stream
from chalicelib.store import cards, orders
from fixtures import assert_error, create_card, pay_order, post_json, stream_event


def add_code(client, seller, card_id, **body):
    response = post_json(client, f"/api/cards/{card_id}/codes", body, seller.auth)
    assert response.status_code == 201, response.body
    return json.loads(response.body)


def redeemed(client, seller, card_id) -> dict:
    items = json.loads(client.http.get(f"/api/cards/{card_id}/codes", headers=seller.auth).body)["items"]
    return {item["code"]: item["redeemed"] for item in items}


KEYS = itertools.count(1)


def tap(client, card_id, buyer="buyer-token-0001", key=None, **body):
    """A new tap (a key of its own) unless key is given."""
    return post_json(client, f"/cards/{card_id}/checkout", {"quantity": body.pop("quantity", 1), "buyer": buyer, **body},
                     {"Idempotency-Key": key or f"tap-key-{next(KEYS):06d}"})


def held(response) -> dict:
    assert response.status_code == 201, response.body
    return json.loads(response.body)


def assert_clean(card_id):
    report = audit.run(card_id)
    assert report.clean, report.problems


# --- pricing ----------------------------------------------------------------------------------


def test_a_code_prices_the_order_and_the_order_shows_the_discount(client, seller, fake_stripe):
    card = create_card(client, seller)
    add_code(client, seller, card["id"], code="SPRING10", percent_off=10)

    order = held(tap(client, card["id"], code="spring10", quantity=2))

    assert (order["amount"], order["currency"]) == (3240, "EUR")
    assert order["discount"] == {"kind": "code", "code": "SPRING10", "amount": 360, "subtotal": 3600}
    status = json.loads(client.http.get(f"/orders/{order['order_id']}?token={order['order_token']}").body)
    assert status["discount"] == order["discount"] and status["amount"] == 3240
    assert redeemed(client, seller, card["id"]) == {"SPRING10": 1}
    assert held(tap(client, card["id"], buyer="buyer-token-0002"))["discount"] is None

    assert pay_order(client, order).status_code == 200
    (intent,) = fake_stripe.intents_of(order["order_id"])
    assert fake_stripe.intents[intent]["amount"] == 3240  # what Stripe charges is the discounted amount
    page = client.http.get(f"/o/{order['order_id']}?token={order['order_token']}").body.decode()
    assert "−€3.60 (SPRING10)" in page and "€32.40" in page
    exported = client.http.get(f"/api/cards/{card['id']}/orders?format=csv", headers=seller.auth).body.decode()
    assert exported.splitlines()[0].find(",code,discount_amount,") > 0 and ",SPRING10,360" in exported
    assert_clean(card["id"])


def test_an_amount_off_never_takes_the_order_below_stripes_minimum(client, seller):
    card = create_card(client, seller)
    add_code(client, seller, card["id"], code="ALMOSTFREE", amount_off=5000)
    cheap = create_card(client, seller, price={"amount": 30, "currency": "EUR"})
    add_code(client, seller, cheap["id"], code="HALF", percent_off=50)

    assert held(tap(client, card["id"], code="ALMOSTFREE"))["amount"] == 50  # EUR 0.50
    # Below the minimum already: no discount at all, and no redemption spent on nothing.
    order = held(tap(client, cheap["id"], code="HALF"))
    assert (order["amount"], order["discount"]) == (30, None)
    assert redeemed(client, seller, cheap["id"]) == {"HALF": 0}


def test_the_same_tap_again_is_the_same_order_and_another_code_under_its_key_is_refused(client, seller):
    card = create_card(client, seller)
    add_code(client, seller, card["id"], code="ONCE", percent_off=10, max_redemptions=1)
    add_code(client, seller, card["id"], code="OTHER", percent_off=20)

    first = held(tap(client, card["id"], key="tap-key-0001", code="once"))
    again = post_json(client, f"/cards/{card['id']}/checkout", {"quantity": 1, "buyer": "buyer-token-0001", "code": "ONCE"},
                      {"Idempotency-Key": "tap-key-0001", "Tapcard-Retry": "1"})

    assert held(again)["order_id"] == first["order_id"]  # the code is used up: by this very order
    assert_error(tap(client, card["id"], key="tap-key-0001", code="OTHER"), 409, "idempotency_mismatch")
    assert redeemed(client, seller, card["id"]) == {"ONCE": 1, "OTHER": 0}


# --- codes that do not work -------------------------------------------------------------------


def test_an_unknown_code_and_another_cards_code_read_exactly_alike(client, seller):
    card, other = create_card(client, seller), create_card(client, seller)
    add_code(client, seller, other["id"], code="OTHERS", percent_off=50)
    add_code(client, seller, card["id"], code="GONE", percent_off=50)
    client.http.delete(f"/api/cards/{card['id']}/codes/GONE", headers=seller.auth)
    add_code(client, seller, card["id"], code="LATER", percent_off=50, starts_at="2099-01-01T00:00:00Z")

    answers = [tap(client, card["id"], buyer=f"buyer-token-000{i}", code=code)
               for i, code in enumerate(("NOSUCH", "OTHERS", "GONE", "LATER", "x", "bad code!"))]

    bodies = {answer.body for answer in answers}
    assert len(bodies) == 1, bodies
    assert_error(answers[0], 409, "code_invalid")
    assert orders.of_card(card["id"])[0] == []  # nothing was held


def test_an_expired_code_and_a_used_up_code_say_so(client, seller, monkeypatch):
    card = create_card(client, seller)
    add_code(client, seller, card["id"], code="SOON", percent_off=10, ends_at="2099-01-01T00:00:00Z")
    add_code(client, seller, card["id"], code="FIRST2", percent_off=10, max_redemptions=2)
    add_code(client, seller, card["id"], code="ONEEACH", percent_off=10, per_buyer=1)

    held(tap(client, card["id"], buyer="buyer-token-0001", code="FIRST2"))
    held(tap(client, card["id"], buyer="buyer-token-0002", code="FIRST2"))
    assert_error(tap(client, card["id"], buyer="buyer-token-0003", code="FIRST2"), 409, "code_used_up")
    held(tap(client, card["id"], buyer="buyer-token-0004", code="ONEEACH", key="tap-key-0004a"))
    assert_error(tap(client, card["id"], buyer="buyer-token-0004", code="ONEEACH", key="tap-key-0004b"), 409, "code_used_up")
    held(tap(client, card["id"], buyer="buyer-token-0005", code="ONEEACH"))

    from chalicelib import checkout
    monkeypatch.setattr(checkout, "now", lambda: 4_070_908_800)  # 2099-01-01
    assert_error(tap(client, card["id"], buyer="buyer-token-0006", code="SOON"), 409, "code_expired")
    assert redeemed(client, seller, card["id"]) == {"SOON": 0, "FIRST2": 2, "ONEEACH": 2}


def test_a_code_that_is_not_text_is_a_bad_request(client, seller):
    card = create_card(client, seller)
    assert_error(tap(client, card["id"], code=123), 400, "invalid_request", "code")
    assert_error(tap(client, card["id"], code=None), 400, "invalid_request", "code")  # as documented: text or absent


# --- redemptions come back ------------------------------------------------------------------


def test_an_expired_hold_gives_its_redemption_back(client, seller):
    card = create_card(client, seller, hold_seconds=60)
    add_code(client, seller, card["id"], code="ONLY1", percent_off=10, max_redemptions=1, per_buyer=1)
    held(tap(client, card["id"], code="ONLY1"))
    assert_error(tap(client, card["id"], buyer="buyer-token-0002", code="ONLY1"), 409, "code_used_up")

    assert payment_events.expire_holds(int(time.time()) + 120) == 1

    assert redeemed(client, seller, card["id"]) == {"ONLY1": 0}
    assert_clean(card["id"])
    held(tap(client, card["id"], buyer="buyer-token-0002", code="ONLY1"))
    assert redeemed(client, seller, card["id"]) == {"ONLY1": 1}
    assert_clean(card["id"])


@pytest.mark.parametrize("restock, left", [(True, 0), (False, 1)])
def test_a_refund_gives_the_redemption_back_only_when_the_unit_goes_back_on_sale(client, seller, fake_stripe, restock, left):
    card = create_card(client, seller)
    add_code(client, seller, card["id"], code="TENOFF", amount_off=1000, max_redemptions=5)
    order = held(tap(client, card["id"], code="TENOFF"))
    assert pay_order(client, order).status_code == 200

    response = post_json(client, f"/api/orders/{order['order_id']}/refund", {"restock": restock}, seller.auth)

    assert response.status_code == 200, response.body
    assert json.loads(response.body)["discount"]["amount"] == 1000
    assert redeemed(client, seller, card["id"]) == {"TENOFF": left}
    assert_clean(card["id"])


# --- the referral discount --------------------------------------------------------------------


def paid_order(client, card_id, buyer, **body) -> dict:
    order = held(tap(client, card_id, buyer=buyer, **body))
    assert pay_order(client, order).status_code == 200
    return json.loads(client.http.get(f"/orders/{order['order_id']}?token={order['order_token']}").body)


def test_a_reader_through_a_friends_link_gets_the_referral_discount_or_the_better_code(client, seller, fake_stripe):
    card = create_card(client, seller, stock=20, referral_discount_percent=15, rebate_percent=10)
    add_code(client, seller, card["id"], code="TEN", percent_off=10)
    add_code(client, seller, card["id"], code="TWENTY", percent_off=20)
    ada = paid_order(client, card["id"], "buyer-token-ada1")
    assert json.loads(client.http.get(f"/cards/{card['id']}").body)["referral_discount_percent"] == 15

    referred = held(tap(client, card["id"], buyer="buyer-token-bea1", ref=ada["referral_code"]))
    with_worse_code = held(tap(client, card["id"], buyer="buyer-token-cyd1", ref=ada["referral_code"], code="TEN"))
    with_better_code = held(tap(client, card["id"], buyer="buyer-token-dee1", ref=ada["referral_code"], code="TWENTY"))
    own_link = held(tap(client, card["id"], buyer="buyer-token-ada1", key="tap-ada-again", ref=ada["referral_code"]))
    unknown_link = held(tap(client, card["id"], buyer="buyer-token-eve1", ref="nosuchcode"))

    assert referred["discount"] == {"kind": "referral", "code": None, "amount": 270, "subtotal": 1800}
    assert (with_worse_code["discount"]["kind"], with_worse_code["amount"]) == ("referral", 1530)
    assert (with_better_code["discount"], with_better_code["amount"]) == (
        {"kind": "code", "code": "TWENTY", "amount": 360, "subtotal": 1800}, 1440)
    assert own_link["discount"] is None and unknown_link["discount"] is None
    assert redeemed(client, seller, card["id"]) == {"TEN": 0, "TWENTY": 1}  # only the code that won counts
    widget = client.http.get(f"/cards/{card['id']}/widget?ref={ada['referral_code']}").body.decode()
    assert "Your friend&#39;s link: 15% off" in widget or "Your friend's link: 15% off" in widget

    # The rebate is a share of what the referred buyer paid, after the discount.
    assert pay_order(client, referred).status_code == 200
    stored = orders.get(referred["order_id"])
    assert stream.handle_batch(stream_event("orders_stream_paid.json", [stored])) == {"batchItemFailures": []}
    report = social_referrals.report(cards.get(card["id"]), at=time.time() + 100 * 86400)
    assert (report["referred_revenue"], report["rebate_total"]) == (1530, 153)
    assert_clean(card["id"])


def test_the_referral_discount_is_a_social_setting(client, seller):
    card = create_card(client, seller)
    path = f"/api/cards/{card['id']}/social"
    response = client.http.patch(path, headers={**seller.auth, "Content-Type": "application/json"},
                                 body=json.dumps({"referral_discount_percent": 91}))
    assert_error(response, 400, "invalid_request", "referral_discount_percent")
    response = client.http.patch(path, headers={**seller.auth, "Content-Type": "application/json"},
                                 body=json.dumps({"referral_discount_percent": 5}))
    assert json.loads(response.body)["referral_discount_percent"] == 5
