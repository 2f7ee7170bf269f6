"""How long each answer may be kept (Cache-Control), by browsers and by CloudFront (s-maxage;
infra/aws/edge.py caches by exactly these headers), and that nothing personal is ever on an answer
that may be kept. Also the two things the edge changes at the origin: the widget's view is told by
the page (POST /cards/{card_id}/views), and behind our CloudFront a client is the viewer's address."""
import json
import re
from urllib.parse import quote

import pytest

from chalicelib import counters
from fixtures import (assert_error, create_card, from_address, paid, post_json, request_checkout,
                      through_our_cloudfront, view)

LIVE = "public, max-age=1, s-maxage=1, stale-while-revalidate=2"
PAGE = "public, max-age=30, s-maxage=30"
WIDGET = "public, max-age=60, s-maxage=60, stale-while-revalidate=600"

# Every public GET of the app, as the test below fills in its ids, and what it may be kept for.
PUBLIC_GETS = {
    "/embed.js": "public, max-age=300",
    "/cards/{card_id}": LIVE,
    "/cards/{card_id}/feed": LIVE,
    "/cards/{card_id}/widget": WIDGET,
    "/cards/{card_id}/reviews": "public, max-age=5",
    "/assets/{name}": "public, max-age=300",
    "/p/{card_id}": PAGE,
    "/p/{card_id}/qr.svg": "public, max-age=86400",
    "/s/{shop_id}": PAGE,
    "/s/{shop_id}/frame": PAGE,
}
# The GETs that are someone's own, or the seller's, or say how the stack is: never kept.
NEVER_KEPT = ("/cards/{card_id}/widget?reservation={pass}", "/p/{card_id}?reservation={pass}",
              "/orders/{order_id}?token={token}", "/orders/{order_id}/requests?token={token}", "/unsubscribe?token=x",
              "/o/{order_id}?token={token}", "/cards/{card_id}/widget?preview=1", "/health", "/openapi.json", "/dashboard", "/cards/card_unknown", "/cards/card_unknown/widget",
              "/cards/{card_id}/groups/{group_id}")


@pytest.fixture
def sold(client, seller, fake_stripe):
    """A card with a paid order (its token, buyer token and order id known) in a shop."""
    card = create_card(client, seller, stock=3)
    order = paid(client, card["id"], buyer="buyer-token-secret-0001")
    response = post_json(client, "/api/shops", {"name": "Kiln", "card_ids": [card["id"]]}, seller.auth)
    assert response.status_code == 201, response.body
    return {"card_id": card["id"], "shop_id": json.loads(response.body)["id"], "order_id": order["order_id"],
            "token": quote(order["order_token"]), "raw_token": order["order_token"], "name": "order_review.js",
            "pass": "rsv_" + "a" * 20 + ".m" + "b" * 24,
            "group_id": "grp_unknown"}  # a group's count, polled live (tests/functional/test_api_groups.py: a real one)


def test_every_public_get_of_the_app_is_in_the_table(client):
    gets = {path for path, methods in client.http._app.routes.items()
            if "GET" in methods and not path.startswith(("/api/", "/dev/"))}
    never_kept = {"/orders/{order_id}", "/orders/{order_id}/requests", "/unsubscribe", "/o/{order_id}", "/health",
                  "/openapi.json", "/dashboard", "/cards/{card_id}/groups/{group_id}"}
    assert never_kept <= {route.split("?")[0] for route in NEVER_KEPT}
    assert gets == set(PUBLIC_GETS) | never_kept, "a new GET: say how long it may be kept, and test it here"


@pytest.mark.parametrize("route", PUBLIC_GETS)
def test_each_public_get_may_be_kept_as_designed_and_carries_nothing_personal(client, sold, route):
    response = client.http.get(route.format(**sold), headers={"Accept-Language": "en"})

    assert response.status_code == 200, response.body
    assert response.headers["Cache-Control"] == PUBLIC_GETS[route]
    assert "Set-Cookie" not in response.headers and "set-cookie" not in response.headers
    body = response.body.decode()
    for personal in (sold["raw_token"], sold["order_id"], "buyer-token-secret-0001"):
        assert personal not in body


@pytest.mark.parametrize("route", NEVER_KEPT)
def test_what_is_someones_own_or_the_sellers_is_never_kept(client, sold, route):
    response = client.http.get(route.format(**sold))

    assert response.headers["Cache-Control"] == "no-store", (route, response.status_code)


def test_an_error_is_never_kept(client, sold):
    for response in (client.http.get("/cards/card_unknown"), client.http.get(f"/orders/{sold['order_id']}?token=nope"),
                     client.http.get(f"/cards/{sold['card_id']}/widget?theme=neon")):
        assert response.status_code >= 400 and response.headers["Cache-Control"] == "no-store"


def test_a_page_in_the_readers_language_says_it_varies_by_it(client, sold):
    for route in ("/cards/{card_id}/widget", "/p/{card_id}", "/s/{shop_id}"):
        assert client.http.get(route.format(**sold)).headers["Vary"] == "Accept-Language"


def test_the_widget_page_is_the_same_before_and_after_a_sale_its_live_data_is_not(client, seller, fake_stripe):
    card = create_card(client, seller, stock=3)
    before = client.http.get(f"/cards/{card['id']}/widget").body
    live_before = json.loads(client.http.get(f"/cards/{card['id']}").body)

    paid(client, card["id"])

    assert client.http.get(f"/cards/{card['id']}/widget").body == before  # a kept copy is never wrong
    assert json.loads(client.http.get(f"/cards/{card['id']}").body)["stock"]["available"] \
        == live_before["stock"]["available"] - 1


def test_the_sellers_preview_is_no_view(client, seller):
    card = create_card(client, seller)
    page = client.http.get(f"/cards/{card['id']}/widget?preview=1").body.decode()
    settings = json.loads(re.search(r'<script id="tc-settings" type="application/json">(.*?)</script>', page, re.S)[1])

    assert settings["preview"] is True  # card_live.js then tells no view
    reader = client.http.get(f"/cards/{card['id']}/widget").body.decode()
    assert '"preview": false' in reader


# --- POST /cards/{card_id}/views ---------------------------------------------------------------


def test_a_view_with_a_referral_code_counts_a_view_and_a_visit(client, seller):
    card = create_card(client, seller)

    view(client, card["id"], ref="friend01")
    counters.flush()

    total = json.loads(client.http.get(f"/api/cards/{card['id']}/stats", headers=seller.auth).body)["total"]
    assert (total["views"], total["referral_visits"]) == (1, 1)


@pytest.mark.parametrize("payload, field", [({"ref": "not a code!"}, "ref"), ({"ref": 7}, "ref"), ("[1]", None),
                                            ("{not json", None)])
def test_a_bad_view_is_refused_naming_the_field(client, seller, payload, field):
    card = create_card(client, seller)
    assert_error(post_json(client, f"/cards/{card['id']}/views", payload), 400, "invalid_request", field)


def test_a_view_of_an_unknown_card_is_not_found(client):
    assert_error(post_json(client, "/cards/card_unknown/views", {}), 404, "not_found")


# --- the client behind our CloudFront ----------------------------------------------------------


def test_behind_our_cloudfront_each_viewer_address_is_its_own_client(client, seller, monkeypatch):
    """All requests reach API Gateway from CloudFront's addresses: the viewer is CloudFront-Viewer-Address."""
    through_our_cloudfront(client, monkeypatch)
    from_address(client, "130.176.0.1")  # one CloudFront edge for everyone
    card = create_card(client, seller, stock=50, limit_per_buyer=1)
    for n in range(3):
        view(client, card["id"], {"CloudFront-Viewer-Address": f"198.51.100.{n}:4{n}123"})
    view(client, card["id"], {"CloudFront-Viewer-Address": "198.51.100.0:51000"})  # the first reader, another port
    view(client, card["id"], {"CloudFront-Viewer-Address": "2001:db8:1:2::7:443"})
    counters.flush()

    total = json.loads(client.http.get(f"/api/cards/{card['id']}/stats", headers=seller.auth).body)["total"]
    assert total["views"] == 4


def test_a_viewer_address_written_by_the_caller_is_not_believed(client, seller, fake_stripe, monkeypatch):
    """Without our origin secret a CloudFront-Viewer-Address is the caller's own words: the tap's
    client is its TCP peer, whose open holds are capped."""
    card = create_card(client, seller, stock=50, limit_per_buyer=1)
    answers = [request_checkout(client, card["id"], buyer=f"buyer-token-{n:04d}", key=f"tap-key-{n:04d}")
               for n in range(5)]
    forged = [post_json(client, f"/cards/{card['id']}/checkout", {"quantity": 1, "buyer": f"buyer-token-9{n:03d}"},
                        {"Idempotency-Key": f"tap-forged-{n}", "CloudFront-Viewer-Address": f"203.0.113.{n}:1"})
              for n in range(3)]

    assert [a.status_code for a in answers].count(201) == 3  # the cap: 3 units a client on a card with a limit of 1
    assert {a.status_code for a in forged} == {429}
