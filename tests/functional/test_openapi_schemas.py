"""Real responses look like GET /openapi.json says: each documented JSON response schema is checked
against what the route answers (Draft 2020-12, the document's own $refs)."""
import json

import pytest

from fixtures import assert_documented, create_card, hold, paid, post_json, request_checkout


@pytest.fixture
def document(client):
    return json.loads(client.http.get("/openapi.json").body)


def test_buyer_and_seller_responses_match_their_schemas(client, document, seller, fake_stripe):
    auth = seller.auth
    card = create_card(client, seller, stock=2)
    cid = card["id"]
    order = paid(client, cid)
    oid = order["order_id"]
    held = hold(client, cid, buyer="buyer-token-0002")
    checks = [
        ("/cards/{card_id}", "GET", client.http.get(f"/cards/{cid}")),
        ("/cards/{card_id}/checkout", "POST", request_checkout(client, cid, buyer="buyer-token-0003", key="tap-key-0003")),
        ("/orders/{order_id}", "GET", client.http.get(f"/orders/{held['order_id']}?token={held['order_token']}")),
        ("/orders/{order_id}", "GET", client.http.get(f"/orders/{oid}?token=wrong-token")),
        ("/api/sellers", "POST", post_json(client, "/api/sellers", {"name": "Cy", "email": "cy@example.com"})),
        ("/api/keys", "POST", post_json(client, "/api/keys", {}, auth)),
        ("/api/keys", "GET", client.http.get("/api/keys", headers=auth)),
        ("/api/cards", "GET", client.http.get("/api/cards?limit=1", headers=auth)),
        ("/api/cards", "POST", post_json(client, "/api/cards", {"title": ""}, auth)),
        ("/api/cards/{card_id}", "GET", client.http.get(f"/api/cards/{cid}", headers=auth)),
        ("/api/cards/{card_id}", "PATCH", client.http.patch(f"/api/cards/{cid}", headers={**auth, "Content-Type": "application/json"},
                                                             body=json.dumps({"stock": 4, "sale": {"ends_at": "2099-01-01T00:00:00Z"}}))),
        ("/api/cards/{card_id}/unpublish", "POST", post_json(client, f"/api/cards/{cid}/unpublish", {}, auth)),
        ("/api/cards/{card_id}/publish", "POST", post_json(client, f"/api/cards/{cid}/publish", {}, auth)),
        ("/api/cards/{card_id}/orders", "GET", client.http.get(f"/api/cards/{cid}/orders", headers=auth)),
        ("/api/cards/{card_id}/stats", "GET", client.http.get(f"/api/cards/{cid}/stats", headers=auth)),
        ("/api/orders/{order_id}/fulfil", "POST", post_json(client, f"/api/orders/{oid}/fulfil", {"carrier": "DHL", "tracking_number": "1"}, auth)),
        ("/api/orders/{order_id}/refund", "POST", post_json(client, f"/api/orders/{oid}/refund", {"restock": True}, auth)),
        ("/api/orders/{order_id}/refund", "POST", post_json(client, f"/api/orders/{oid}/refund", {"restock": True}, auth)),
        ("/api/cards/{card_id}/archive", "POST", post_json(client, f"/api/cards/{cid}/archive", {}, auth)),
        ("/api/keys/{prefix}", "DELETE", client.http.delete(f"/api/keys/{seller.api_key[:10]}", headers=auth)),
        ("/api/cards", "GET", client.http.get("/api/cards", headers={"Authorization": "Bearer nope"})),
    ]
    assert {status for _, _, status in [(r, m, resp.status_code) for r, m, resp in checks]} >= {200, 201, 400, 401, 404, 409}
    for route, method, response in checks:
        assert_documented(document, route, method, response)
