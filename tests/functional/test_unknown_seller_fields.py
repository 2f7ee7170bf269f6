"""A seller's body may carry only the fields openapi.json documents for its route: a misspelt or
unsupported one is 400 naming it (issue 13), where it used to be dropped with a 201, so the seller
believed a setting took effect."""
import json

import pytest

from fixtures import assert_error, card_request, create_card, post_json


@pytest.mark.parametrize("body, field", [
    ({"limit_per_buyers": 1}, "limit_per_buyers"),               # misspelt
    ({"compare_at": {"amount": 2500, "currency": "EUR"}}, "compare_at.currency"),  # the card's currency only
    ({"price": {"amount": 1800, "currency": "EUR", "tax": 20}}, "price.tax"),
    ({"sale": {"starts_at": "2026-12-24T10:00:00+00:00", "end_at": "2026-12-25T10:00:00+00:00"}}, "sale.end_at"),
])
def test_a_new_card_with_a_field_the_route_does_not_take_is_refused_and_not_created(client, seller, body, field):
    response = post_json(client, "/api/cards", {**card_request(), **body}, seller.auth)

    assert_error(response, 400, "invalid_request", field)
    assert field in json.loads(response.body)["error"]["message"]
    assert json.loads(client.http.get("/api/cards", headers=seller.auth).body)["items"] == []


def test_an_edit_with_an_unknown_field_changes_nothing(client, seller):
    card = create_card(client, seller)
    response = client.http.patch(f"/api/cards/{card['id']}", headers={**seller.auth, "Content-Type": "application/json"},
                                 body=json.dumps({"title": "New title", "stok": 9}))

    assert_error(response, 400, "invalid_request", "stok")
    assert json.loads(client.http.get(f"/api/cards/{card['id']}", headers=seller.auth).body)["title"] == card["title"]


def test_every_documented_field_is_still_taken(client, seller):
    body = {**card_request(), "description": "Stoneware.", "limit_per_buyer": 2, "hold_seconds": 300,
            "shards": 2, "share_text": "{buyer} got {title}", "locale": "zh-CN", "shares_enabled": False,
            "rebate_percent": 5, "compare_at": {"amount": 2500}, "referral_discount_percent": 10}
    response = post_json(client, "/api/cards", body, seller.auth)
    assert response.status_code == 201, response.body


def test_the_other_seller_bodies_refuse_unknown_fields_too(client, seller):
    card = create_card(client, seller)
    assert_error(post_json(client, f"/api/cards/{card['id']}/channels",
                           {"type": "webhook", "url": "https://hooks.example/x", "secrett": "x"}, seller.auth),
                 400, "invalid_request", "secrett")
    assert_error(client.http.patch(f"/api/cards/{card['id']}/social",
                                   headers={**seller.auth, "Content-Type": "application/json"},
                                   body=json.dumps({"shares_enabld": False})), 400, "invalid_request", "shares_enabld")
