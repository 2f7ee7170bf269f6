"""A buyer's body field sent as null where openapi.json types it without null is refused with 400
naming the field, as any other wrong type is (the pay call's amount and currency: 409 amount_mismatch). The fields are read from openapi.json, so a field
added there is checked here too (the schema fuzz finds these one at a time, at random)."""
import json
from urllib.parse import quote

import pytest

from chalicelib.words import WIDGETS
from fixtures import ADDRESS, GROUP, SHIPS, assert_error, create_card, hold, paid, post_json

DOCUMENT = json.loads((WIDGETS / "openapi.json").read_text())


def resolved(schema: dict) -> dict:
    while "$ref" in schema:
        schema = DOCUMENT["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def never_null(path: str, method: str) -> list[str]:
    """The body's properties typed without null ("type": "string", not ["string", "null"]; an
    untyped one, like checkout's ref, takes anything)."""
    body = resolved(DOCUMENT["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"])
    return sorted(name for name, schema in body["properties"].items()
                  if "type" in resolved(schema) and "null" not in json.dumps(resolved(schema)["type"]))


def tap(address: bool) -> dict:
    """A tap's body, with the buyer's address and email for a card that ships goods."""
    body = {"quantity": 1, "buyer": "buyer-token-0001"}
    if address:
        body.update(shipping={k: v for k, v in ADDRESS.items() if k != "email"}, email=ADDRESS["email"])
    return body


def checkout(client, seller):
    card = create_card(client, seller, shipping=SHIPS)
    return f"/cards/{card['id']}/checkout", tap(address=True), {"Idempotency-Key": "tap-null-01"}


def digital_checkout(client, seller):
    card = create_card(client, seller)
    return f"/cards/{card['id']}/checkout", tap(address=False), {"Idempotency-Key": "tap-null-01"}


def group_start(client, seller):
    card = create_card(client, seller, group=GROUP, shipping=SHIPS)
    return f"/cards/{card['id']}/groups", tap(address=True), {"Idempotency-Key": "start-null-01"}


def pay(client, seller):
    order = hold(client, create_card(client, seller)["id"])
    return (f"/orders/{order['order_id']}/pay?token={quote(order['order_token'])}",
            {"payment_method": "pm_card_visa", "amount": order["amount"], "currency": order["currency"]}, {})


def review(client, seller):
    order = paid(client, create_card(client, seller)["id"])
    return f"/orders/{order['order_id']}/review?token={quote(order['order_token'])}", {"rating": 5, "text": "Lovely."}, {}


def shipping(client, seller):
    order = hold(client, create_card(client, seller, shipping=SHIPS)["id"])
    return f"/orders/{order['order_id']}/shipping?token={quote(order['order_token'])}", dict(ADDRESS), {}


BODIES = {("/cards/{card_id}/checkout", "post"): checkout, ("/cards/{card_id}/groups", "post"): group_start,
          ("/orders/{order_id}/pay", "post"): pay, ("/orders/{order_id}/review", "post"): review,
          ("/orders/{order_id}/shipping", "put"): shipping}
# The pay call's amount and currency are what the payment form shows: any other value, of any type,
# is the form's mismatch with the order (409 amount_mismatch, tests/functional/test_api_pay_route.py).
MISMATCH = {("/orders/{order_id}/pay", "amount"), ("/orders/{order_id}/pay", "currency")}
CASES = [(route, method, field) for (route, method) in BODIES for field in never_null(route, method)]


def test_every_buyer_body_has_fields_typed_without_null():
    assert {route for route, _, _ in CASES} == {route for route, _ in BODIES}


@pytest.mark.parametrize("field", never_null("/cards/{card_id}/checkout", "post"))
def test_a_digital_cards_checkout_refuses_null_as_a_wrong_type_too(client, seller, field):
    """Before "this card ships nothing": a null is a wrong type whatever the card sells."""
    path, body, headers = digital_checkout(client, seller)
    body[field] = None

    assert_error(post_json(client, path, body, headers), 400, "invalid_request", field)


@pytest.mark.parametrize("route, method, field", CASES, ids=[f"{m} {r} {f}" for r, m, f in CASES])
def test_a_field_typed_without_null_refuses_null_naming_it(client, seller, fake_stripe, route, method, field):
    path, body, headers = BODIES[(route, method)](client, seller)
    body[field] = None
    if method == "put":
        response = client.http.put(path, headers={"Content-Type": "application/json", **headers}, body=json.dumps(body))
    else:
        response = post_json(client, path, body, headers)

    if (route, field) in MISMATCH:
        assert_error(response, 409, "amount_mismatch")
    else:
        assert_error(response, 400, "invalid_request", field)
