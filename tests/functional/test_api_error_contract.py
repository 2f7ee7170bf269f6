"""No answer is ever a 500, and every error has exactly the contract's shape, whatever clients send."""
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fixtures import assert_error, card_request, hold, pay_order, post_json, request_checkout

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**12), 10**12) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=6,
)
timestamps = st.datetimes().map(lambda d: d.isoformat()) | st.sampled_from(
    ["2030-01-01T00:00:00Z", "2030-01-01T00:00:00+05:30", "2030-01-01", "nope"])


def error_or_success(response, ok: int) -> None:
    assert response.status_code != 500, response.body
    if response.status_code != ok:
        body = json.loads(response.body)
        assert_error(response, response.status_code, body["error"]["code"])


@FUZZ
@given(field=st.sampled_from(["title", "description", "image_url", "price", "stock", "sale", "limit_per_buyer",
                              "hold_seconds", "share_text"]),
       value=json_values)
def test_any_value_in_any_card_field_is_a_201_or_a_400_naming_a_field(client, seller, field, value):
    response = post_json(client, "/api/cards", card_request(**{field: value}), seller.auth)

    error_or_success(response, 201)
    if response.status_code != 201:
        code = json.loads(response.body)["error"]["code"]
        # A share text with a stray brace is the one 400 with its own code.
        assert code == "invalid_request" or (field, code) == ("share_text", "invalid_template"), response.body
        error = assert_error(response, 400, code)
        assert error["field"]  # which one exactly is checked in tests/unit/test_domain_new_card.py


@FUZZ
@given(starts=timestamps, ends=timestamps)
def test_any_sale_window_is_a_201_or_a_400(client, seller, starts, ends):
    response = post_json(client, "/api/cards", card_request(sale={"starts_at": starts, "ends_at": ends}), seller.auth)

    error_or_success(response, 201)


@pytest.mark.parametrize("sale", [{"ends_at": "9999-12-31T23:59:59-14:00"},
                                  {"starts_at": "0001-01-01T00:00:00+14:00"}])
def test_a_sale_time_at_the_edge_of_the_calendar_is_refused(client, seller, sale):
    response = post_json(client, "/api/cards", card_request(sale=sale), seller.auth)

    assert_error(response, 400, "invalid_request", field="sale." + next(iter(sale)))


@FUZZ
@given(payload=json_values, key=st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=40))
def test_any_checkout_body_and_key_is_answered_in_the_contract(client, make_card, fake_stripe, payload, key):
    card = make_card(stock=3, limit_per_buyer=1)

    response = post_json(client, f"/cards/{card.card_id}/checkout", payload, {"Idempotency-Key": key} if key else {})

    error_or_success(response, 201)


@FUZZ
@given(quantity=json_values, buyer=json_values, ref=json_values)
def test_any_checkout_fields_are_answered_in_the_contract(client, make_card, fake_stripe, quantity, buyer, ref):
    card = make_card(stock=3, limit_per_buyer=2)

    response = request_checkout(client, card.card_id, quantity=quantity, buyer=buyer, ref=ref)

    error_or_success(response, 201)


@FUZZ
@given(payload=json_values, extra=st.dictionaries(
    st.sampled_from(["confirmation_token", "payment_method", "amount", "currency"]), json_values, max_size=3))
def test_any_pay_body_is_answered_in_the_contract(client, make_card, fake_stripe, payload, extra):
    card = make_card(stock=100)
    order = hold(client, card.card_id, buyer="buyer-token-0001")
    body = {**payload, **extra} if isinstance(payload, dict) else (extra or payload)

    response = pay_order(client, order, body)

    error_or_success(response, 200)


@pytest.mark.parametrize("method, path", [
    # The card's HTML pages answer an unknown card with a "not available" page (tested with the pages).
    ("GET", "/cards/card_nope"), ("GET", "/cards/card_nope/feed"), ("POST", "/cards/card_nope/checkout"), ("GET", "/orders/ord_nope?token=x"),
    ("POST", "/orders/ord_nope/pay?token=x"),
])
def test_unknown_ids_are_a_404_in_the_contract_shape(client, fake_stripe, method, path):
    headers = {"Content-Type": "application/json", "Idempotency-Key": "tap-key-0001"}
    body = json.dumps({"quantity": 1, "buyer": "buyer-token-0001", "payment_method": "pm_card_visa"})

    response = client.http.request(method, path, headers=headers, body=body if method == "POST" else b"")

    assert_error(response, 404, "not_found")


@pytest.mark.parametrize("method, path", [("DELETE", "/cards/card_1"), ("DELETE", "/api/cards"), ("GET", "/webhooks/stripe")])
def test_a_wrong_method_is_a_405_in_the_contract_shape(client, method, path):
    assert_error(client.http.request(method, path), 405, "method_not_allowed")


@pytest.mark.parametrize("path", ["/cards/card_1/checkout", "/api/cards", "/webhooks/stripe"])
def test_an_unsupported_content_type_is_a_415_in_the_contract_shape(client, path):
    response = client.http.post(path, headers={"Content-Type": "application/xml"}, body="<order/>")

    assert_error(response, 415, "unsupported_media_type")
