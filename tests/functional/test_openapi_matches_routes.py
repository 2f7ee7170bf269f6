"""GET /openapi.json documents exactly the routes the app serves, and its error shape is real."""
import json

from fixtures import request_checkout


def documented(client):
    document = json.loads(client.http.get("/openapi.json").body)
    return {(path, method.upper()) for path, spec in document["paths"].items() for method in spec}


def test_every_route_is_documented_and_every_documented_route_exists(client):
    from app import app

    served = {(path, method) for path, entries in app.routes.items() for method in entries}
    assert documented(client) == served


def test_a_documented_error_looks_like_the_schema_says(client, make_card, fake_stripe):
    document = json.loads(client.http.get("/openapi.json").body)
    error_schema = document["components"]["schemas"]["Error"]
    card = make_card(stock=1)
    request_checkout(client, card.card_id, key="tap-key-0001")

    body = json.loads(request_checkout(client, card.card_id, buyer="buyer-token-0002", key="tap-key-0002").body)

    assert set(body) == set(error_schema["required"])
    assert set(error_schema["properties"]["error"]["required"]) <= set(body["error"])
