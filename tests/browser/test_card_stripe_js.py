"""The production payment path, Stripe.js, with a stand-in Stripe object (no network, no real Stripe).

The card runs in Stripe mode (`sheet=stripe`, a dev-stage option); checkout still creates a real hold
and a localstripe PaymentIntent, and "Stripe charging the card" is the dev pay route's webhook.
"""
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect

from cardpage import axe_violations, screenshot

STAND_IN = (Path(__file__).parent / "stripe_stand_in.js").read_text()


@pytest.fixture
def stripe_card(page, live_stack, create_card):
    """The card in Stripe mode, tapped: returns (page, checkout response)."""
    card = create_card(title="Stripe cup", stock=5)
    page.route("https://js.stripe.com/v3/", lambda route: route.fulfill(
        status=200, content_type="application/javascript", body=STAND_IN))
    page.goto(f"{live_stack['api_url']}/cards/{card['id']}/widget?sheet=stripe")
    with page.expect_response(lambda r: r.url.endswith("/checkout")) as checkout:
        page.locator("[data-tc=buy]").click()
    order = checkout.value.json()
    expect(page.locator("[data-tc=payment-element]")).to_have_text("[payment]")
    return card, order


def calls(page, name):
    return [c for c in page.evaluate("window.__stripe.calls") if c["call"] == name]


def stripe_charges(live_stack, order):
    """What Stripe does after a successful confirm: the payment succeeds and its webhook arrives."""
    response = requests.post(f"{live_stack['api_url']}/dev/orders/{order['order_id']}/pay", timeout=20,
                             json={"token": order["order_token"], "card": "success"}, headers={"Connection": "close"})
    assert response.status_code == 200, response.text


def test_elements_are_mounted_with_the_holds_client_secret(page, stripe_card):
    card, order = stripe_card

    assert calls(page, "elements") == [{"call": "elements", "clientSecret": order["client_secret"]}]
    assert [c["type"] for c in calls(page, "create")] == ["expressCheckout", "payment"]
    assert {(c["type"], c["into"]) for c in calls(page, "mount")} == {
        ("expressCheckout", "express-checkout"), ("payment", "payment-element")}
    expect(page.locator("[data-tc=express-checkout]")).to_be_visible()  # the stand-in offers a wallet
    assert axe_violations(page.main_frame) == []
    screenshot(page, "stripe-payment-step")


def test_succeeded_lands_in_paid(page, live_stack, stripe_card):
    card, order = stripe_card

    page.locator("[data-tc=pay-stripe]").click()
    expect(page.locator("[data-tc=status]")).to_have_text("Confirming the payment…")
    [confirm] = calls(page, "confirmPayment")
    assert confirm["withElements"] and confirm["redirect"] == "if_required"
    assert confirm["returnUrl"] == card["url"]
    stripe_charges(live_stack, order)

    expect(page.locator("[data-step=paid]")).to_be_visible(timeout=20_000)
    expect(page.locator("[data-tc=order-ref]")).to_have_text(order["order_id"])


def test_declined_stays_on_the_payment_step_to_try_another_card(page, stripe_card):
    page.evaluate("window.__stripe.outcome = 'declined'")

    page.locator("[data-tc=pay-stripe]").click()

    expect(page.locator("[data-tc=status]")).to_have_text("Your card was declined.")
    expect(page.locator("[data-step=pay]")).to_be_visible()
    expect(page.locator("[data-tc=pay-stripe]")).to_be_enabled()
    screenshot(page, "stripe-declined")


def test_requires_action_hands_over_to_the_bank_then_lands_in_paid(page, live_stack, stripe_card):
    card, order = stripe_card
    page.evaluate("window.__stripe.outcome = 'requires_action'")

    page.locator("[data-tc=pay-stripe]").click()

    expect(page.locator("[data-tc=status]")).to_have_text("Confirming the payment…")
    assert calls(page, "handleNextAction") == [{"call": "handleNextAction", "clientSecret": order["client_secret"]}]
    stripe_charges(live_stack, order)
    expect(page.locator("[data-step=paid]")).to_be_visible(timeout=20_000)


def test_a_network_error_keeps_the_hold_and_lets_the_reader_retry(page, stripe_card):
    page.evaluate("window.__stripe.outcome = 'network_error'")

    page.locator("[data-tc=pay-stripe]").click()

    expect(page.locator("[data-tc=status]")).to_have_text("Could not reach the shop. Please try again.")
    expect(page.locator("[data-step=pay]")).to_be_visible()
    expect(page.locator("[data-tc=pay-stripe]")).to_be_enabled()
    expect(page.locator("[data-tc=hold-left]")).not_to_have_text("0m 00s")


def test_a_wallet_confirm_goes_through_the_same_confirm_and_reports_a_decline_to_the_wallet(page, stripe_card):
    page.evaluate("window.__stripe.outcome = 'declined'")

    page.evaluate("""window.__stripe.express.fire("confirm", {expressPaymentType: "google_pay",
        paymentFailed: function (payload) { window.__stripe.walletFailed = payload; }})""")

    expect(page.locator("[data-tc=status]")).to_have_text("Your card was declined.")
    assert calls(page, "confirmPayment")[0]["withElements"]
    assert page.evaluate("window.__stripe.walletFailed") == {"reason": "fail"}
