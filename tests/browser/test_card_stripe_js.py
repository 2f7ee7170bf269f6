"""The production payment path, Stripe.js in deferred mode, with a stand-in Stripe object (no network,
no real Stripe).

The card runs in Stripe mode (`sheet=stripe`, a dev-stage option): the tap makes a real hold on the
local stack and no PaymentIntent; the card turns the form into a ConfirmationToken and sends it to
`POST /orders/{id}/pay`. localstripe has no ConfirmationTokens, so the tests stand in for "Stripe
charges the token's card": they catch the card's pay call, check what it sent, and pass it on to the
real server with a dev test payment method instead of the token (or answer it as the contract says).
"""
import json
import re
import time
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect

from cardpage import axe_violations, screenshot

STAND_IN = (Path(__file__).parent / "stripe_stand_in.js").read_text()
PAY_CALL = re.compile(r"/orders/[^/?]+/pay\?token=")


class PayCalls:
    """The card's pay calls, recorded and answered in turn (the last answer repeats): a test payment
    method name passes the call on to the server with it; a (status, body, headers) tuple answers it."""

    def __init__(self, page, *answers):
        self.requests, self.answers = [], list(answers)
        page.route(PAY_CALL, self.answer)

    def answer(self, route):
        body = route.request.post_data_json
        self.requests.append({"url": route.request.url, "body": body})
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, str):
            charged = {**{k: v for k, v in body.items() if k != "confirmation_token"}, "payment_method": answer}
            return route.continue_(post_data=json.dumps(charged))
        status, payload, headers = answer
        route.fulfill(status=status, content_type="application/json", body=json.dumps(payload), headers=headers or {})

    @property
    def bodies(self):
        return [r["body"] for r in self.requests]


def contract_error(status, code, message, headers=None):
    return status, {"error": {"code": code, "message": message}}, headers


@pytest.fixture
def stripe_card(page, live_stack, create_card):
    """The card in Stripe mode, tapped: returns (card, checkout answer); the taps are in page.taps."""
    card = create_card(title="Stripe cup", stock=5)
    page.route("https://js.stripe.com/v3/", lambda route: route.fulfill(
        status=200, content_type="application/javascript", body=STAND_IN))
    page.taps = []
    page.on("request", lambda r: r.url.endswith("/checkout") and page.taps.append(r.url))
    page.goto(f"{live_stack['api_url']}/cards/{card['id']}/widget?sheet=stripe")
    with page.expect_response(lambda r: r.url.endswith("/checkout")) as checkout:
        page.locator("[data-tc=buy]").click()
    order = checkout.value.json()
    expect(page.locator("[data-tc=payment-element]")).to_have_text("[payment]")
    return card, order


def calls(page, name):
    return [c for c in page.evaluate("window.__stripe.calls") if c["call"] == name]


def stock(live_stack, card, expected):
    """The card's stock as buyers see it, once it is `expected` (the API caches levels a second)."""
    deadline = time.time() + 5
    while True:
        level = requests.get(f"{live_stack['api_url']}/cards/{card['id']}", headers={"Connection": "close"}, timeout=10).json()["stock"]
        if level == expected or time.time() > deadline:
            return level
        time.sleep(0.25)


def expect_paid(page, order):
    expect(page.locator("[data-step=paid]")).to_be_visible(timeout=20_000)
    expect(page.locator("[data-tc=order-ref]")).to_have_text(order["order_id"])
    expect(page.locator("[data-tc=order-link]")).to_have_attribute("href", re.compile(rf"/o/{order['order_id']}\?token="))
    expect(page.locator("[data-tc=share-url]")).to_have_value(re.compile(r"/p/card_\w+\?ref=\w+"))


def test_the_form_is_set_up_in_deferred_mode_from_the_held_orders_amount(page, stripe_card):
    card, order = stripe_card

    assert order["status"] == "held" and order["client_secret"] is None  # the tap opened no PaymentIntent
    assert calls(page, "elements") == [{"call": "elements", "mode": "payment", "amount": 1200, "currency": "eur",
                                        "clientSecret": None}]
    assert [c["type"] for c in calls(page, "create")] == ["expressCheckout", "payment"]
    assert {(c["type"], c["into"]) for c in calls(page, "mount")} == {
        ("expressCheckout", "express-checkout"), ("payment", "payment-element")}
    expect(page.locator("[data-tc=express-checkout]")).to_be_visible()  # the stand-in offers a wallet
    expect(page.locator("[data-tc=hold-left]")).to_have_text(re.compile(r"^\d+m \d\ds$"))
    assert axe_violations(page.main_frame) == []
    screenshot(page, "stripe-payment-step")


def test_pay_sends_the_confirmation_token_with_the_orders_amount_and_lands_in_paid(page, live_stack, stripe_card):
    card, order = stripe_card
    paying = PayCalls(page, "pm_card_visa")

    page.locator("[data-tc=pay-stripe]").click()

    expect_paid(page, order)
    assert [c["call"] for c in page.evaluate("window.__stripe.calls")][-2:] == ["submit", "createConfirmationToken"]
    [token] = calls(page, "createConfirmationToken")
    assert token["withElements"] and token["returnUrl"] == card["url"]
    [call] = paying.requests
    assert call["url"].endswith(f"/orders/{order['order_id']}/pay?token={order['order_token']}")
    assert call["body"] == {"confirmation_token": token["id"], "amount": 1200, "currency": "EUR"}
    assert page.taps == [page.taps[0]]  # one tap
    expected = {"available": 4, "sold": 1, "held": 0}
    assert stock(live_stack, card, expected) == expected


def test_a_decline_keeps_the_unit_held_and_another_card_pays(page, live_stack, stripe_card):
    card, order = stripe_card
    paying = PayCalls(page, "pm_card_chargeCustomerFail", "pm_card_visa")

    page.locator("[data-tc=pay-stripe]").click()

    expect(page.locator("[data-tc=status]")).to_have_text("Your card was declined.", timeout=20_000)
    expect(page.locator("[data-step=pay]")).to_be_visible()
    expect(page.locator("[data-tc=pay-stripe]")).to_be_enabled()
    expect(page.locator("[data-tc=hold-left]")).not_to_have_text("0m 00s")
    expected = {"available": 4, "sold": 0, "held": 1}
    assert stock(live_stack, card, expected) == expected
    screenshot(page, "stripe-declined")

    page.locator("[data-tc=pay-stripe]").click()  # another card, a new ConfirmationToken

    expect_paid(page, order)
    first, second = paying.bodies
    assert first["confirmation_token"] != second["confirmation_token"]
    assert len(page.taps) == 1


def test_busy_payments_keep_the_unit_and_the_pay_call_is_retried_without_a_new_tap(page, live_stack, stripe_card):
    card, order = stripe_card
    busy = contract_error(503, "payments_busy", "Payments are busy: your unit is kept.", {"Retry-After": "1"})
    paying = PayCalls(page, busy, busy, "pm_card_visa")

    page.locator("[data-tc=pay-stripe]").click()

    expect(page.locator("[data-tc=status]")).to_have_text("Opening payment… your unit is kept.")
    expect(page.locator("[data-step=pay]")).to_be_visible()
    expect(page.locator("[data-tc=pay-stripe]")).to_be_disabled()
    expect_paid(page, order)
    assert len(paying.requests) == 3
    assert len({json.dumps(b, sort_keys=True) for b in paying.bodies}) == 1  # the same token, asked again
    assert len(calls(page, "createConfirmationToken")) == 1
    assert len(page.taps) == 1


def test_a_hold_that_ended_says_nothing_was_charged_and_offers_buy_again(page, stripe_card):
    PayCalls(page, contract_error(409, "hold_expired", "The hold on this order has ended; nothing was charged."))

    page.locator("[data-tc=pay-stripe]").click()

    expect(page.locator("[data-tc=status]")).to_have_text(
        "Your reservation ran out before the payment; nothing was charged. Tap buy to try again.")
    expect(page.locator("[data-tc=buy]")).to_be_enabled()
    expect(page.locator("[data-step=pay]")).to_be_hidden()
    page.wait_for_timeout(1500)  # the card's once-a-second refresh keeps the message
    expect(page.locator("[data-tc=status]")).to_contain_text("nothing was charged")


def test_requires_action_hands_over_to_the_bank_then_lands_in_paid(page, live_stack, stripe_card):
    card, order = stripe_card
    held = dict(order, client_secret=None)
    PayCalls(page, (200, {"status": "requires_action", "client_secret": "pi_bank_secret_abc", "order": held}, None))

    page.locator("[data-tc=pay-stripe]").click()

    expect(page.locator("[data-tc=status]")).to_have_text("Confirming the payment…")
    assert calls(page, "handleNextAction") == [{"call": "handleNextAction", "clientSecret": "pi_bank_secret_abc"}]
    # The bank said yes: Stripe charges and its webhook settles the order; here, the dev test method.
    paid = requests.post(f"{live_stack['api_url']}/orders/{order['order_id']}/pay", params={"token": order["order_token"]},
                         json={"payment_method": "pm_card_visa"}, headers={"Connection": "close"}, timeout=20)
    assert paid.status_code == 200 and paid.json()["status"] == "succeeded", paid.text
    expect_paid(page, order)


def test_a_bank_that_says_no_lets_the_reader_pay_again(page, stripe_card):
    card, order = stripe_card
    PayCalls(page, (200, {"status": "requires_action", "client_secret": "pi_bank_secret_abc", "order": order}, None))
    page.evaluate("window.__stripe.actionError = 'We are unable to authenticate your payment method.'")

    page.locator("[data-tc=pay-stripe]").click()

    expect(page.locator("[data-tc=status]")).to_have_text("We are unable to authenticate your payment method.")
    expect(page.locator("[data-tc=pay-stripe]")).to_be_enabled()


def test_an_incomplete_form_says_so_and_sends_nothing(page, stripe_card):
    paying = PayCalls(page, "pm_card_visa")
    page.evaluate("window.__stripe.submitError = 'Your card number is incomplete.'")

    page.locator("[data-tc=pay-stripe]").click()

    expect(page.locator("[data-tc=status]")).to_have_text("Your card number is incomplete.")
    expect(page.locator("[data-tc=pay-stripe]")).to_be_enabled()
    assert calls(page, "createConfirmationToken") == [] and paying.requests == []


def test_a_network_error_keeps_the_hold_and_lets_the_reader_retry(page, stripe_card):
    page.route(PAY_CALL, lambda route: route.abort())

    page.locator("[data-tc=pay-stripe]").click()

    expect(page.locator("[data-tc=status]")).to_have_text("Could not reach the shop. Please try again.")
    expect(page.locator("[data-step=pay]")).to_be_visible()
    expect(page.locator("[data-tc=pay-stripe]")).to_be_enabled()
    expect(page.locator("[data-tc=hold-left]")).not_to_have_text("0m 00s")


def test_a_wallet_confirm_pays_through_the_same_call_and_reports_a_decline_to_the_wallet(page, live_stack, stripe_card):
    card, order = stripe_card
    paying = PayCalls(page, "pm_card_chargeCustomerFail")

    page.evaluate("""window.__stripe.express.fire("confirm", {expressPaymentType: "google_pay",
        paymentFailed: function (payload) { window.__stripe.walletFailed = payload; }})""")

    expect(page.locator("[data-tc=status]")).to_have_text("Your card was declined.", timeout=20_000)
    [token] = calls(page, "createConfirmationToken")
    assert token["withElements"]
    assert paying.bodies == [{"confirmation_token": token["id"], "amount": 1200, "currency": "EUR"}]
    assert page.evaluate("window.__stripe.walletFailed") == {"reason": "fail"}
    expected = {"available": 4, "sold": 0, "held": 1}
    assert stock(live_stack, card, expected) == expected
