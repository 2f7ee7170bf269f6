"""What the body of a pay call (POST /orders/{order_id}/pay) must look like: a ConfirmationToken
from Stripe.js, or on the dev stage a test payment method; an amount or currency the payment form
showed that is not the order's is refused before anything is charged; and what a payment that
succeeded must have taken to pay the order."""
import pytest

from chalicelib.domain import (
    AmountMismatch, InvalidRequest, Order, PayRequest, pay_request_from, pays_for,
)

ORDER = Order(order_id="ord_1", card_id="card_1", buyer="buyer-token-0001", quantity=2, amount=3600,
              currency="EUR", status="held", created_at=1_900_000_000, expires_at=1_900_000_600)


def parse(payload, dev: bool = False) -> PayRequest:
    return pay_request_from(payload, ORDER, test_methods_allowed=dev)


def refusal(payload, dev: bool = False) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as caught:
        parse(payload, dev)
    return caught.value


def test_a_confirmation_token_is_taken_on_every_stage():
    for dev in (False, True):
        assert parse({"confirmation_token": "ctoken_1Qabc_DEF"}, dev) == PayRequest(confirmation_token="ctoken_1Qabc_DEF")


def test_a_test_payment_method_is_taken_on_the_dev_stage_only():
    assert parse({"payment_method": "pm_card_visa"}, dev=True) == PayRequest(payment_method="pm_card_visa")

    error = refusal({"payment_method": "pm_card_visa"}, dev=False)

    assert error.field == "payment_method"
    assert "confirmation_token" in error.message


@pytest.mark.parametrize("payload", [{}, {"confirmation_token": None}, {"amount": 3600},
                                     {"confirmation_token": "ctoken_1", "payment_method": "pm_card_visa"}], ids=repr)
def test_exactly_one_way_to_pay_is_sent(payload):
    assert refusal(payload, dev=True).field == "confirmation_token"


@pytest.mark.parametrize("token", ["", "tok_visa", "ctoken_", "ctoken_has space", "ctoken_" + "a" * 201, 12, ["ctoken_1"],
                                   True, "ctoken_1\n"], ids=repr)
def test_a_confirmation_token_must_look_like_one(token):
    assert refusal({"confirmation_token": token}).field == "confirmation_token"


@pytest.mark.parametrize("method", ["", "card_123", "pm_", "pm_a;b", 7, {"id": "pm_card_visa"}, "pm_card_visa\n"], ids=repr)
def test_a_test_payment_method_must_look_like_one(method):
    assert refusal({"payment_method": method}, dev=True).field == "payment_method"


@pytest.mark.parametrize("payload", [[], None, "ctoken_1", 3600], ids=repr)
def test_a_body_that_is_not_an_object_is_refused(payload):
    assert refusal(payload).field is None


@pytest.mark.parametrize("fields", [{"amount": 1800}, {"amount": 3600.5}, {"amount": "3600"}, {"amount": True},
                                    {"amount": None}, {"currency": "USD"}, {"currency": None}, {"currency": 978},
                                    {"amount": 360000, "currency": "EUR"}], ids=repr)
def test_an_amount_or_currency_other_than_the_orders_is_a_mismatch(fields):
    with pytest.raises(AmountMismatch) as caught:
        parse({"confirmation_token": "ctoken_1", **fields})

    assert caught.value.code == "amount_mismatch"
    assert "3600 EUR" in caught.value.message


@pytest.mark.parametrize("fields", [{}, {"amount": 3600}, {"currency": "eur"}, {"amount": 3600, "currency": "EUR"}],
                         ids=repr)
def test_the_orders_own_amount_and_currency_or_none_at_all_are_accepted(fields):
    assert parse({"confirmation_token": "ctoken_1", **fields}).confirmation_token == "ctoken_1"


def test_the_body_is_checked_before_the_amount():
    assert refusal({"confirmation_token": "nope", "amount": 1}).field == "confirmation_token"


# --- what a payment that succeeded took ------------------------------------------------------------


def test_money_received_pays_the_order_only_at_its_exact_amount_and_currency():
    """Stripe reports amount_received in minor units, as the order counts, and its currency in
    lower case where the order keeps ISO 4217's upper case."""
    assert pays_for(ORDER, 3600, "eur")
    assert pays_for(ORDER, 3600, "EUR")


@pytest.mark.parametrize("amount, currency", [(1, "jpy"), (3600, "usd"), (3599, "eur"), (3601, "eur"),
                                              (0, "eur"), (36, "eur"), (3600, "")])
def test_another_amount_or_currency_does_not_pay_the_order(amount, currency):
    assert not pays_for(ORDER, amount, currency)
