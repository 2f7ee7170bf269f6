"""Seller side: POST /api/cards, PUT /api/channels/webhook, GET /openapi.json."""
import json
import re

import pytest

from fixtures import assert_error, card_request, card_view, post_json


def create(client, seller, payload, headers=None):
    return post_json(client, "/api/cards", payload, {**seller.auth, **(headers or {})})


# --- POST /api/cards ---------------------------------------------------------------------------


def test_a_seller_creates_a_card_and_gets_its_snippet(client, seller):
    response = create(client, seller, card_request(
        stock=40, limit_per_buyer=2, hold_seconds=300,
        sale={"starts_at": "2030-05-01T12:00:00+02:00", "ends_at": "2030-05-02T12:00:00Z"}))

    assert response.status_code == 201
    card = json.loads(response.body)
    assert re.fullmatch(r"card_[0-9a-f]{12}", card["id"])
    assert card["title"] == "Speckled mug"
    assert card["price"] == {"amount": 1800, "currency": "EUR"}
    assert card["stock"]["available"] == 40 and card["stock"]["sold"] == 0
    assert card["sale"] == {"starts_at": "2030-05-01T10:00:00Z", "ends_at": "2030-05-02T12:00:00Z",
                            "state": "upcoming"}
    assert card["limit_per_buyer"] == 2
    assert f'data-tapcard="{card["id"]}"' in card["snippet"]
    assert '<script async src="http://tapcard.test/embed.js"></script>' in card["snippet"]
    assert f'href="http://tapcard.test/p/{card["id"]}"' in card["snippet"]


def test_the_new_card_is_public_right_away(client, seller):
    created = json.loads(create(client, seller, card_request()).body)

    card = card_view(client, created["id"])

    assert card == {k: v for k, v in created.items() if k != "snippet"}
    assert card["sale"]["state"] == "live"


def test_the_snippet_escapes_the_title(client, seller):
    created = json.loads(create(client, seller, card_request(title='Mug "<b>big</b>"')).body)

    assert "<b>" not in created["snippet"]
    assert "Mug &quot;&lt;b&gt;big&lt;/b&gt;&quot;" in created["snippet"]


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Bearer tc_not-a-real-key"},
    {"Authorization": "Basic dXNlcjpwYXNz"},
    {"Authorization": "Bearer "},
], ids=["missing", "unknown key", "wrong scheme", "empty key"])
def test_without_a_valid_api_key_the_seller_is_unauthorized(client, aws, headers):
    response = post_json(client, "/api/cards", card_request(), headers)

    assert_error(response, 401, "unauthorized")


def test_a_key_that_is_almost_right_is_unauthorized(client, seller):
    response = post_json(client, "/api/cards", card_request(), {"Authorization": seller.auth["Authorization"] + "x"})

    assert_error(response, 401, "unauthorized")


@pytest.mark.parametrize("overrides, field", [
    ({"title": ""}, "title"),
    ({"stock": "5"}, "stock"),
    ({"stock": True}, "stock"),
    ({"stock": 0}, "stock"),
    ({"image_url": "data:image/png;base64,AAAA"}, "image_url"),
    ({"price": {"amount": 18.5, "currency": "EUR"}}, "price.amount"),
    ({"price": {"amount": 1800, "currency": "EURO"}}, "price.currency"),
    ({"sale": {"starts_at": "2030-05-01T12:00:00"}}, "sale.starts_at"),
    ({"sale": {"starts_at": "2030-05-02T12:00:00Z", "ends_at": "2030-05-01T12:00:00Z"}}, "sale.ends_at"),
    ({"limit_per_buyer": 0}, "limit_per_buyer"),
    ({"hold_seconds": 5}, "hold_seconds"),
    ({"share_text": "x" * 281}, "share_text"),
], ids=lambda value: value if isinstance(value, str) else None)
def test_a_bad_field_is_a_400_naming_the_field(client, seller, overrides, field):
    response = create(client, seller, card_request(**overrides))

    assert_error(response, 400, "invalid_request", field=field)


def test_a_missing_field_is_named(client, seller):
    payload = card_request()
    del payload["image_url"]

    assert_error(create(client, seller, payload), 400, "invalid_request", field="image_url")


@pytest.mark.parametrize("body", ['{"title": "Mug",', "not json", '"\\ud800"'.encode() + b"\xff"])
def test_malformed_json_is_a_400(client, seller, body):
    assert_error(create(client, seller, body), 400, "invalid_request")


@pytest.mark.parametrize("body", ["[]", "null", "42", '"a card"'])
def test_a_body_that_is_not_an_object_is_a_400(client, seller, body):
    assert_error(create(client, seller, body), 400, "invalid_request")


def test_a_body_that_is_not_json_at_all_is_refused_in_the_contract_shape(client, seller):
    response = client.http.post("/api/cards", headers={**seller.auth, "Content-Type": "text/csv"}, body="a,b")

    assert_error(response, 415, "unsupported_media_type")


def test_nothing_is_created_by_a_refused_request(client, seller):
    create(client, seller, card_request(stock=0))

    from chalicelib.store.models import CardModel
    assert list(CardModel.scan()) == []


# --- PUT /api/channels/webhook -------------------------------------------------------------------


def test_a_seller_sets_a_share_webhook_and_gets_its_signing_secret(client, seller):
    response = client.http.put("/api/channels/webhook", headers={**seller.auth, "Content-Type": "application/json"},
                               body=json.dumps({"url": "https://shop.example.com/hooks/tapcard"}))

    assert response.status_code == 200
    body = json.loads(response.body)
    assert body["url"] == "https://shop.example.com/hooks/tapcard"
    assert re.fullmatch(r"whsec_[A-Za-z0-9+/=]{32}", body["secret"])


@pytest.mark.parametrize("payload, field", [({}, "url"), ({"url": 5}, "url"), ({"url": "ftp://x.example"}, "url")])
def test_a_bad_webhook_url_is_a_400(client, seller, payload, field):
    response = client.http.put("/api/channels/webhook", headers={**seller.auth, "Content-Type": "application/json"},
                               body=json.dumps(payload))

    assert_error(response, 400, "invalid_request", field=field)


def test_setting_a_webhook_needs_an_api_key(client, aws):
    response = client.http.put("/api/channels/webhook", headers={"Content-Type": "application/json"},
                               body=json.dumps({"url": "https://shop.example.com/hooks/tapcard"}))

    assert_error(response, 401, "unauthorized")


@pytest.mark.parametrize("body", ["[]", "null"])
def test_a_webhook_body_that_is_not_an_object_is_a_400(client, seller, body):
    response = client.http.put("/api/channels/webhook", headers={**seller.auth, "Content-Type": "application/json"},
                               body=body)

    assert_error(response, 400, "invalid_request")


# --- GET /openapi.json ---------------------------------------------------------------------------


def test_the_seller_api_is_documented(client):
    response = client.http.get("/openapi.json")

    assert response.status_code == 200
    document = json.loads(response.body)
    assert "openapi" in document
    assert "/api/cards" in document["paths"]
