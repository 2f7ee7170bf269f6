"""Seller side beyond creating cards: sign-up, keys, cards, orders, fulfilment, refunds, the
buyer's order page, the funnel. Orders are paid through the buyer's pay call, as in production."""
import csv
import io
import json
from urllib.parse import quote

import pytest

from chalicelib import audit, config, counters
from chalicelib.store import counters as stored_counters
from chalicelib.store import orders
from fakes import CARD_OK
from fixtures import (Seller, assert_error, card_view, create_card, from_address, hold, paid, post_json,
                      request_checkout, through_our_cloudfront, view)

PAYER = CARD_OK  # the test payment method `paid` pays with


def get(client, path, seller):
    return client.http.get(path, headers=seller.auth)


def patch(client, path, seller, payload):
    return client.http.patch(path, headers={**seller.auth, "Content-Type": "application/json"},
                             body=json.dumps(payload))


def body(response, status=200) -> dict:
    assert response.status_code == status, response.body
    return json.loads(response.body)


@pytest.fixture
def other_seller(aws) -> Seller:
    from chalicelib.store import sellers

    return Seller(*sellers.create_seller("Bo's Prints", "bo@example.com"))


# --- sign-up and keys ----------------------------------------------------------------------------


def test_open_sign_up_gives_a_seller_and_a_key_that_works(client, aws):
    created = body(post_json(client, "/api/sellers", {"name": "Cy", "email": "cy@example.com"}), 201)

    assert created["seller_id"].startswith("sel_") and created["api_key"].startswith("tc_")
    mine = Seller(created["seller_id"], created["api_key"])
    assert body(get(client, "/api/cards", mine)) == {"items": [], "next_cursor": None}


def test_where_sign_up_is_closed_it_says_so(client, aws, monkeypatch):
    monkeypatch.setattr(config, "OPEN_SIGNUP", False)

    response = post_json(client, "/api/sellers", {"name": "Cy", "email": "cy@example.com"})

    assert_error(response, 403, "signup_closed")


@pytest.mark.parametrize("payload, field", [({"email": "cy@example.com"}, "name"), ({"name": "Cy"}, "email"),
                                            ({"name": "Cy", "email": "not-an-email"}, "email"),
                                            ({"name": 5, "email": "cy@example.com"}, "name")])
def test_sign_up_names_the_bad_field(client, aws, payload, field):
    assert_error(post_json(client, "/api/sellers", payload), 400, "invalid_request", field)


def test_keys_are_listed_by_prefix_rotated_and_revoked(client, seller):
    new = body(post_json(client, "/api/keys", {}, seller.auth), 201)
    keys = body(get(client, "/api/keys", seller))["items"]

    assert {key["prefix"] for key in keys} == {seller.api_key[:10], new["prefix"]}
    assert all(set(key) == {"prefix", "created_at", "revoked"} for key in keys)
    assert seller.api_key not in json.dumps(keys)

    rotated = Seller(seller.seller_id, new["api_key"])
    assert body(client.http.delete(f"/api/keys/{seller.api_key[:10]}", headers=rotated.auth))["revoked"] is True
    assert_error(get(client, "/api/cards", seller), 401, "unauthorized")
    assert body(get(client, "/api/cards", rotated))["items"] == []


def test_the_last_working_key_cannot_be_revoked(client, seller):
    assert_error(client.http.delete(f"/api/keys/{seller.api_key[:10]}", headers=seller.auth), 409, "conflict", "prefix")


def test_another_sellers_key_prefix_is_not_found(client, seller, other_seller):
    post_json(client, "/api/keys", {}, other_seller.auth)

    assert_error(client.http.delete(f"/api/keys/{other_seller.api_key[:10]}", headers=seller.auth), 404, "not_found")


# --- every seller route: who may call it ---------------------------------------------------------

SELLER_ROUTES = [
    ("GET", "/api/keys"), ("POST", "/api/keys"), ("DELETE", "/api/keys/tc_abcdefg"),
    ("GET", "/api/cards"), ("GET", "/api/cards/{card}"), ("PATCH", "/api/cards/{card}"),
    ("POST", "/api/cards/{card}/publish"), ("POST", "/api/cards/{card}/unpublish"),
    ("POST", "/api/cards/{card}/archive"), ("GET", "/api/cards/{card}/orders"),
    ("GET", "/api/cards/{card}/stats"), ("POST", "/api/orders/{order}/fulfil"),
    ("POST", "/api/orders/{order}/refund"), ("POST", "/api/cards"), ("PUT", "/api/channels/webhook"),
]


def call(client, method, path, headers):
    return client.http.request(method, path, headers={"Content-Type": "application/json", **headers}, body=b"{}")


@pytest.fixture
def someones_order(client, seller, fake_stripe):
    card = create_card(client, seller)
    return card["id"], paid(client, card["id"])["order_id"]


@pytest.mark.parametrize("method, path", SELLER_ROUTES, ids=lambda v: v)
@pytest.mark.parametrize("auth", ["missing", "wrong", "revoked"])
def test_every_seller_route_refuses_a_missing_wrong_or_revoked_key(client, seller, someones_order, method, path, auth):
    card_id, order_id = someones_order
    revoked = Seller(seller.seller_id, json.loads(post_json(client, "/api/keys", {}, seller.auth).body)["api_key"])
    client.http.delete(f"/api/keys/{revoked.api_key[:10]}", headers=seller.auth)
    headers = {"missing": {}, "wrong": {"Authorization": "Bearer tc_wrong"}, "revoked": revoked.auth}[auth]

    response = call(client, method, path.format(card=card_id, order=order_id), headers)

    assert_error(response, 401, "unauthorized")


@pytest.mark.parametrize("method, path", [r for r in SELLER_ROUTES if "{" in r[1]], ids=lambda v: v)
def test_another_sellers_card_or_order_answers_like_one_that_does_not_exist(
        client, other_seller, someones_order, method, path):
    card_id, order_id = someones_order

    theirs = call(client, method, path.format(card=card_id, order=order_id), other_seller.auth)
    missing = call(client, method, path.format(card="card_000000000000", order="ord_none"), other_seller.auth)

    assert_error(theirs, 404, "not_found")
    assert json.loads(theirs.body) == json.loads(missing.body)


# --- cards ---------------------------------------------------------------------------------------


def test_cards_are_listed_newest_first_page_by_page(client, seller, other_seller):
    ids = [create_card(client, seller, title=f"Mug {n}")["id"] for n in range(5)]
    create_card(client, other_seller)

    first = body(get(client, "/api/cards?limit=2", seller))
    second = body(get(client, f"/api/cards?limit=2&cursor={first['next_cursor']}", seller))
    third = body(get(client, f"/api/cards?limit=2&cursor={second['next_cursor']}", seller))

    listed = [card["id"] for page in (first, second, third) for card in page["items"]]
    assert sorted(listed) == sorted(ids) and len(listed) == 5
    assert third["next_cursor"] is None
    assert {card["status"] for card in first["items"]} == {"published"}
    assert "snippet" in first["items"][0]


@pytest.mark.parametrize("query, field", [("limit=0", "limit"), ("limit=abc", "limit"), ("cursor=%%%", "cursor"),
                                          ("cursor=eyJ4IjoxfQ", "cursor")])
def test_bad_list_parameters_are_a_400(client, seller, query, field):
    assert_error(get(client, f"/api/cards?{query}", seller), 400, "invalid_request", field)


def test_a_cursor_of_another_seller_is_refused(client, seller, other_seller):
    for n in range(2):
        create_card(client, other_seller, title=f"Print {n}")
    cursor = body(get(client, "/api/cards?limit=1", other_seller))["next_cursor"]

    assert_error(get(client, f"/api/cards?cursor={cursor}", seller), 400, "invalid_request", "cursor")


def test_raising_stock_puts_the_new_units_on_sale(client, seller, fake_stripe):
    card = create_card(client, seller, stock=3)
    paid(client, card["id"])

    edited = body(patch(client, f"/api/cards/{card['id']}", seller, {"stock": 10, "title": "Big mug"}))

    assert edited["title"] == "Big mug"
    assert card_view(client, card["id"])["stock"] == {"available": 9, "held": 0, "sold": 1}
    assert audit.run(card["id"]).clean


def test_stock_never_goes_below_what_is_sold_or_held(client, seller, fake_stripe):
    card = create_card(client, seller, stock=5)
    paid(client, card["id"], quantity=2)
    hold(client, card["id"], buyer="buyer-token-0002")

    assert_error(patch(client, f"/api/cards/{card['id']}", seller, {"stock": 2}), 409, "conflict", "stock")
    assert body(patch(client, f"/api/cards/{card['id']}", seller, {"stock": 3}))["stock"]["available"] == 0
    assert audit.run(card["id"]).clean


def test_price_and_limit_are_locked_once_there_are_orders(client, seller, fake_stripe):
    card = create_card(client, seller, limit_per_buyer=2)
    assert body(patch(client, f"/api/cards/{card['id']}", seller, {"price": {"amount": 2000, "currency": "EUR"}}))
    hold(client, card["id"])

    for change, field in (({"price": {"amount": 900, "currency": "EUR"}}, "price"), ({"limit_per_buyer": 5}, "limit_per_buyer")):
        assert_error(patch(client, f"/api/cards/{card['id']}", seller, change), 409, "conflict", field)
    assert card_view(client, card["id"])["price"] == {"amount": 2000, "currency": "EUR"}


@pytest.mark.parametrize("change, field", [({"title": ""}, "title"), ({"stock": "5"}, "stock"), ({"shards": 3}, "shards"),
                                           ({"sale": {"ends_at": "2001-01-01T00:00:00Z"}}, "sale.ends_at"),
                                           ({"image_url": "javascript:alert(1)"}, "image_url")])
def test_a_bad_edit_is_a_400_naming_the_field(client, seller, change, field):
    card = create_card(client, seller)

    assert_error(patch(client, f"/api/cards/{card['id']}", seller, change), 400, "invalid_request", field)


def test_an_unpublished_card_is_gone_for_buyers_until_published_again(client, seller, fake_stripe):
    card = create_card(client, seller)

    assert body(post_json(client, f"/api/cards/{card['id']}/unpublish", {}, seller.auth))["status"] == "unpublished"
    assert_error(client.http.get(f"/cards/{card['id']}"), 404, "not_found")
    for page in (f"/cards/{card['id']}/widget", f"/p/{card['id']}"):
        response = client.http.get(page)
        assert response.status_code == 404 and "This product is not available." in response.body.decode()
    assert_error(request_checkout(client, card["id"]), 404, "not_found")
    assert body(get(client, f"/api/cards/{card['id']}", seller))["status"] == "unpublished"

    post_json(client, f"/api/cards/{card['id']}/publish", {}, seller.auth)
    assert card_view(client, card["id"])["sale"]["state"] == "live"


def test_an_archived_card_stays_archived(client, seller):
    card = create_card(client, seller)
    post_json(client, f"/api/cards/{card['id']}/archive", {}, seller.auth)

    assert_error(post_json(client, f"/api/cards/{card['id']}/publish", {}, seller.auth), 409, "conflict")
    assert_error(patch(client, f"/api/cards/{card['id']}", seller, {"title": "x"}), 409, "conflict")
    assert_error(client.http.get(f"/cards/{card['id']}"), 404, "not_found")


# --- orders --------------------------------------------------------------------------------------


def test_orders_are_listed_with_filters_and_pages(client, seller, fake_stripe):
    card = create_card(client, seller, stock=10)
    paid_ids = {paid(client, card["id"], buyer=f"buyer-token-000{n}")["order_id"] for n in range(3)}
    held_id = hold(client, card["id"], buyer="buyer-token-0009")["order_id"]
    path = f"/api/cards/{card['id']}/orders"

    everything = body(get(client, path, seller))["items"]
    only_paid = body(get(client, path + "?status=paid", seller))["items"]
    first = body(get(client, path + "?status=paid&limit=2", seller))
    rest = body(get(client, path + f"?status=paid&limit=2&cursor={first['next_cursor']}", seller))
    tomorrow = body(get(client, path + "?from=2999-01-01", seller))["items"]

    assert {o["order_id"] for o in everything} == paid_ids | {held_id}
    assert {o["order_id"] for o in only_paid} == paid_ids
    assert {o["order_id"] for o in first["items"] + rest["items"]} == paid_ids
    assert tomorrow == []
    assert {"created_at", "country", "fulfilment", "status"} <= set(everything[0])


@pytest.mark.parametrize("query, field", [("status=lost", "status"), ("from=yesterday", "from"),
                                          ("from=2026-02-30", "from"), ("from=2026-05-02&to=2026-05-01", "to")])
def test_bad_order_filters_are_a_400(client, seller, query, field):
    card = create_card(client, seller)

    assert_error(get(client, f"/api/cards/{card['id']}/orders?{query}", seller), 400, "invalid_request", field)


def test_orders_export_as_csv_without_formula_injection(client, seller, fake_stripe):
    card = create_card(client, seller)
    order = paid(client, card["id"])
    post_json(client, f"/api/orders/{order['order_id']}/fulfil", {"carrier": "=HYPERLINK(1)", "tracking_number": "1Z9"},
              seller.auth)

    response = get(client, f"/api/cards/{card['id']}/orders?format=csv", seller)

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.body.decode())))
    assert [row["order_id"] for row in rows] == [order["order_id"]]
    assert rows[0]["status"] == "paid" and rows[0]["amount"] == "1800" and rows[0]["tracking_number"] == "1Z9"
    assert rows[0]["carrier"] == "'=HYPERLINK(1)"


def test_orders_in_a_format_there_is_none_of_are_refused(client, seller):
    # ?format=CSV used to answer JSON without a word; openapi.json lists json and csv (issue 13).
    card = create_card(client, seller)

    for fmt in ("CSV", "xml", ""):
        assert_error(get(client, f"/api/cards/{card['id']}/orders?format={fmt}", seller), 400, "invalid_request", "format")
    assert get(client, f"/api/cards/{card['id']}/orders?format=json", seller).status_code == 200


def test_a_fulfilled_order_shows_its_tracking_to_the_buyer(client, seller, fake_stripe):
    card = create_card(client, seller)
    order = paid(client, card["id"])

    fulfilled = body(post_json(client, f"/api/orders/{order['order_id']}/fulfil",
                               {"carrier": "DHL", "tracking_number": "JD0146"}, seller.auth))
    status = body(client.http.get(f"/orders/{order['order_id']}?token={quote(order['order_token'])}"))
    page = client.http.get(order["order_url"].removeprefix("http://tapcard.test"))

    assert fulfilled["fulfilment"]["carrier"] == "DHL"
    assert status["fulfilment"] == {**fulfilled["fulfilment"]}
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "JD0146" in page.body.decode() and 'data-status="paid"' in page.body.decode()
    # Its only scripts are our own, under the response's nonce.
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'nonce-" in csp and "unsafe" not in csp and "form-action 'none'" in csp


def test_the_order_page_speaks_chinese_and_needs_the_token(client, seller, fake_stripe):
    card = create_card(client, seller)
    order = paid(client, card["id"])

    page = client.http.get(f"/o/{order['order_id']}?token={order['order_token']}", headers={"Accept-Language": "zh-CN"})
    wrong = client.http.get(f"/o/{order['order_id']}?token=not-the-token")

    assert "已付款" in page.body.decode()
    assert_error(wrong, 404, "not_found")


def test_only_a_paid_order_can_be_fulfilled_and_fields_are_named(client, seller, fake_stripe):
    card = create_card(client, seller)
    held_order = hold(client, card["id"])
    order = paid(client, card["id"], buyer="buyer-token-0002")

    assert_error(post_json(client, f"/api/orders/{held_order['order_id']}/fulfil",
                           {"carrier": "DHL", "tracking_number": "1"}, seller.auth), 409, "conflict")
    assert_error(post_json(client, f"/api/orders/{order['order_id']}/fulfil", {"carrier": "DHL"}, seller.auth),
                 400, "invalid_request", "tracking_number")


def test_a_refund_with_restock_puts_the_unit_back_and_the_buyer_may_buy_again(client, seller, fake_stripe):
    fake_stripe.payers[PAYER] = ("card:fp_1", "email:ada@example.com")
    card = create_card(client, seller, stock=2, limit_per_buyer=1)
    order = paid(client, card["id"])

    refunded = body(post_json(client, f"/api/orders/{order['order_id']}/refund", {"restock": True}, seller.auth))

    assert refunded["status"] == "refunded" and refunded["refund_id"]
    assert fake_stripe.calls_to("refund") == [(orders.get(order["order_id"]).payment_intent_id, order["order_id"])]
    assert fake_stripe.refunded() == set(fake_stripe.charged()[:1])
    assert card_view(client, card["id"])["stock"] == {"available": 2, "held": 0, "sold": 0}
    again = paid(client, card["id"], buyer="buyer-token-0001", quantity=1, ref="again")  # same buyer, same card
    assert again["status"] == "held"
    assert audit.run(card["id"]).clean


def test_a_refund_without_restock_takes_the_unit_out_of_stock(client, seller, fake_stripe):
    card = create_card(client, seller, stock=3)
    order = paid(client, card["id"])

    post_json(client, f"/api/orders/{order['order_id']}/refund", {"restock": False}, seller.auth)

    assert card_view(client, card["id"])["stock"] == {"available": 2, "held": 0, "sold": 0}
    report = audit.run(card["id"])
    assert report.clean and report.stock == 2


def test_an_order_is_refunded_once_and_asking_again_answers_the_refund(client, seller, fake_stripe):
    card = create_card(client, seller)
    order = paid(client, card["id"])
    first = post_json(client, f"/api/orders/{order['order_id']}/refund", {}, seller.auth)

    again = post_json(client, f"/api/orders/{order['order_id']}/refund", {}, seller.auth)  # a retry, a second click
    assert again.status_code == 200 and again.json_body == first.json_body
    assert again.json_body["status"] == "refunded" and again.json_body["amount_refunded"] == order["amount"]
    assert_error(post_json(client, f"/api/orders/{order['order_id']}/refund", {"restock": "yes"}, seller.auth),
                 400, "invalid_request", "restock")
    assert len(fake_stripe.calls_to("refund")) == 1


# --- the funnel ----------------------------------------------------------------------------------


def test_the_funnel_counts_each_step_with_conversion_and_places(client, seller, fake_stripe, monkeypatch):
    through_our_cloudfront(client, monkeypatch)
    card = create_card(client, seller, stock=2)
    for n, language in enumerate(("zh-CN,zh;q=0.9", "en-US", "de-DE")):
        from_address(client, f"203.0.113.{n}")  # three readers
        view(client, card["id"], {"Accept-Language": language})
    from_address(client, "203.0.113.9")
    view(client, card["id"], ref="friend01")
    paid(client, card["id"], ref="friend01", headers={"CloudFront-Viewer-Country": "CN",
                                                      "CloudFront-Viewer-Country-Region": "31"})
    hold(client, card["id"], buyer="buyer-token-0002")
    request_checkout(client, card["id"], buyer="buyer-token-0003", key="tap-key-sold-out")  # sold out: still a tap

    stats = body(get(client, f"/api/cards/{card['id']}/stats", seller))

    total = stats["total"]
    assert (total["views"], total["taps"], total["holds"], total["paid"]) == (4, 3, 2, 1)
    assert (total["units"], total["revenue"], total["referral_visits"], total["referred_orders"]) == (1, 1800, 1, 1)
    assert total["conversion"]["views_to_taps"] == 0.75 and total["conversion"]["holds_to_paid"] == 0.5
    assert stats["countries"]["CN"] == {"views": 1, "paid": 1}
    assert stats["regions"] == {"CN-31": {"views": 0, "paid": 1}}
    assert stats["days"][-1]["taps"] == 3 and len(stats["days"]) == 30


def test_a_caller_cannot_put_itself_on_the_map_with_cloudfront_headers(client, seller, monkeypatch):
    card = create_card(client, seller)
    forged = {"CloudFront-Viewer-Country": "KP", "CloudFront-Viewer-Country-Region": "01", "Accept-Language": "de-DE"}
    from_address(client, "203.0.113.1")
    view(client, card["id"], forged)  # a stage without a CloudFront believes no viewer header
    through_our_cloudfront(client, monkeypatch)
    for n, origin in enumerate(("", "not-the-secret")):  # around our CloudFront: refused, nothing counted
        from_address(client, f"203.0.113.{n + 2}")
        assert_error(post_json(client, f"/cards/{card['id']}/views", {}, {**forged, "X-Tapcard-Origin-Verify": origin}),
                     403, "forbidden")
    counters.flush()

    stats = json.loads(get(client, f"/api/cards/{card['id']}/stats", seller).body)

    assert "KP" not in stats["countries"] and stats["regions"] == {}
    assert stats["total"]["views"] == 1
    assert stats["countries"]["DE"]["views"] == 1  # the browser's own language is all that is left


def test_a_view_counts_once_per_reader_a_minute(client, seller, monkeypatch):
    import time

    card = create_card(client, seller)
    for _ in range(5):
        view(client, card["id"])  # one reader reloading
    from_address(client, "198.51.100.20")
    view(client, card["id"])  # another reader
    later = time.time() + config.VIEW_DEDUP_SECONDS
    monkeypatch.setattr(counters.time, "time", lambda: later)
    view(client, card["id"])  # the second reader a minute on
    counters.flush()

    total = json.loads(get(client, f"/api/cards/{card['id']}/stats", seller).body)["total"]

    assert total["views"] == 3


def test_a_sold_out_tap_is_counted_without_a_write(client, seller, fake_stripe, monkeypatch):
    card = create_card(client, seller, stock=1)
    hold(client, card["id"])
    counters.flush()
    writes = []
    monkeypatch.setattr(stored_counters, "add", lambda *args: writes.append(args))
    monkeypatch.setattr(config, "COUNTER_FLUSH_SECONDS", 3600)

    for n in range(20):
        request_checkout(client, card["id"], buyer=f"buyer-token-1{n:03d}", key=f"tap-key-1{n:03d}")

    assert writes == []
    counters.flush()
    assert len(writes) == 1 and writes[0][2]["taps"] == 20


@pytest.mark.parametrize("query, field", [("from=2026-13-01", "from"), ("from=2026-01-01&to=2026-12-31", "from"),
                                          ("from=2026-05-02&to=2026-05-01", "to")])
def test_bad_stats_ranges_are_a_400(client, seller, query, field):
    card = create_card(client, seller)

    assert_error(get(client, f"/api/cards/{card['id']}/stats?{query}", seller), 400, "invalid_request", field)
