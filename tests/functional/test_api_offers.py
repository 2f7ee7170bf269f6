"""Issue 17, what makes a reader buy: the special price (compare_at) on the card, its widget and its
product page, and the seller's discount codes (POST/GET/DELETE /api/cards/{card_id}/codes)."""
import json
import re

import pytest

from chalicelib.store import sellers
from fixtures import Seller, assert_error, card_request, create_card, post_json


def patch(client, path, body, auth):
    return client.http.patch(path, headers={**auth, "Content-Type": "application/json"}, body=json.dumps(body))


def json_ld(page: str) -> dict:
    return json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S).group(1))


# --- the special price ----------------------------------------------------------------------


def test_a_card_with_a_compare_at_price_carries_it_and_the_saving(client, seller):
    card = create_card(client, seller, compare_at={"amount": 2500})

    assert card["compare_at"] == {"amount": 2500, "currency": "EUR", "saving": 700}
    assert json.loads(client.http.get(f"/cards/{card['id']}").body)["compare_at"]["amount"] == 2500
    assert create_card(client, seller)["compare_at"] is None


@pytest.mark.parametrize("compare_at, field", [
    ({"amount": 1800}, "compare_at.amount"),      # equal to the price
    ({"amount": 1000}, "compare_at.amount"),      # below it
    ({"amount": "2500"}, "compare_at.amount"),
    ({"amount": 2.5}, "compare_at.amount"),
    ({}, "compare_at.amount"),
    (2500, "compare_at"),
    ({"amount": 2500, "currency": "EUR"}, "compare_at.currency"),  # the card's currency only
])
def test_a_compare_at_price_not_above_the_price_is_refused_naming_the_field(client, seller, compare_at, field):
    response = post_json(client, "/api/cards", card_request(compare_at=compare_at), seller.auth)

    assert_error(response, 400, "invalid_request", field)


def test_the_compare_at_price_can_be_set_changed_and_removed_and_is_checked_against_a_new_price(client, seller):
    card = create_card(client, seller)
    path = f"/api/cards/{card['id']}"

    assert json.loads(patch(client, path, {"compare_at": {"amount": 3000}}, seller.auth).body)["compare_at"]["amount"] == 3000
    assert_error(patch(client, path, {"price": {"amount": 3500, "currency": "EUR"}}, seller.auth),
                 400, "invalid_request", "compare_at.amount")
    assert json.loads(patch(client, path, {"compare_at": None}, seller.auth).body)["compare_at"] is None


def test_the_widget_strikes_the_old_price_through_with_words_for_screen_readers(client, seller):
    card = create_card(client, seller, compare_at={"amount": 2500})

    english = client.http.get(f"/cards/{card['id']}/widget?locale=en").body.decode()
    chinese = client.http.get(f"/cards/{card['id']}/widget?locale=zh-CN").body.decode()

    assert re.search(r'<s class="was" data-tc="was"><span class="sr">Regular price:</span> €25.00</s>', english)
    assert "Save €7.00" in english
    assert '<span class="sr">原价：</span>' in chinese and "立省" in chinese
    assert 'data-tc="was"' not in client.http.get(f"/cards/{create_card(client, seller)['id']}/widget").body.decode()


def test_the_product_page_offer_has_the_price_the_struck_price_and_the_sale_end(client, seller):
    card = create_card(client, seller, compare_at={"amount": 2500}, sale={"ends_at": "2099-03-01T12:00:00Z"})

    page = client.http.get(f"/p/{card['id']}").body.decode()
    offer = json_ld(page)["offers"]

    assert offer["price"] == "18.00" and offer["priceCurrency"] == "EUR"
    assert offer["priceValidUntil"] == "2099-03-01"
    assert offer["priceSpecification"][1] == {"@type": "UnitPriceSpecification",
                                              "priceType": "https://schema.org/StrikethroughPrice",
                                              "price": "25.00", "priceCurrency": "EUR"}
    assert "<s>" in page  # the page without JavaScript strikes it through too
    plain = json_ld(client.http.get(f"/p/{create_card(client, seller)['id']}").body.decode())["offers"]
    assert "priceValidUntil" not in plain and "priceSpecification" not in plain


def test_a_code_on_the_link_reaches_the_card_frame_and_fills_the_code_field(client, seller):
    card = create_card(client, seller)

    page = client.http.get(f"/p/{card['id']}?ref=friend01&code=spring10").body.decode()
    widget = client.http.get(f"/cards/{card['id']}/widget?code=spring10").body.decode()
    junk = client.http.get(f"/cards/{card['id']}/widget?code=%22%3E%3Cscript%3E").body.decode()

    assert f"/cards/{card['id']}/widget?ref=friend01&amp;code=spring10" in page
    assert 'value="spring10"' in widget and "<details" in widget and " open>" in widget
    assert '"><script>' not in junk and 'value=""' in junk


def test_the_loader_passes_the_code_and_ref_of_the_post_url_to_each_card(client):
    loader = client.http.get("/embed.js").body.decode()
    assert "(ref|code)=" in loader


# --- the seller's codes ---------------------------------------------------------------------


def codes_path(card_id):
    return f"/api/cards/{card_id}/codes"


def test_a_seller_adds_lists_and_removes_codes_of_their_card(client, seller):
    card = create_card(client, seller)

    response = post_json(client, codes_path(card["id"]), {
        "code": "spring10", "percent_off": 10, "max_redemptions": 50, "per_buyer": 1,
        "starts_at": "2026-01-01T00:00:00Z", "ends_at": "2099-01-01T00:00:00+08:00"}, seller.auth)
    assert response.status_code == 201, response.body
    code = json.loads(response.body)
    assert code["code"] == "SPRING10" and code["percent_off"] == 10 and code["amount_off"] is None
    assert code["redeemed"] == 0 and code["ends_at"] == "2098-12-31T16:00:00Z"
    post_json(client, codes_path(card["id"]), {"code": "FIVE_OFF", "amount_off": 500}, seller.auth)

    listed = json.loads(client.http.get(codes_path(card["id"]), headers=seller.auth).body)["items"]
    assert sorted(item["code"] for item in listed) == ["FIVE_OFF", "SPRING10"]  # oldest first, then by name

    assert client.http.delete(f"{codes_path(card['id'])}/Spring10", headers=seller.auth).status_code == 204
    assert [item["code"] for item in json.loads(client.http.get(codes_path(card["id"]), headers=seller.auth).body)["items"]] == ["FIVE_OFF"]
    assert_error(client.http.delete(f"{codes_path(card['id'])}/SPRING10", headers=seller.auth), 404, "not_found")
    # A removed code's name stays taken: its holds may still give redemptions back.
    assert_error(post_json(client, codes_path(card["id"]), {"code": "SPRING10", "percent_off": 5}, seller.auth),
                 409, "code_exists", "code")


def test_a_code_name_is_unique_per_card_whatever_its_case(client, seller):
    card = create_card(client, seller)
    assert post_json(client, codes_path(card["id"]), {"code": "VIP", "percent_off": 20}, seller.auth).status_code == 201

    assert_error(post_json(client, codes_path(card["id"]), {"code": "vip", "amount_off": 100}, seller.auth),
                 409, "code_exists", "code")
    other = create_card(client, seller)
    assert post_json(client, codes_path(other["id"]), {"code": "VIP", "percent_off": 20}, seller.auth).status_code == 201


@pytest.mark.parametrize("body, field", [
    ({"percent_off": 10}, "code"),
    ({"code": "ab", "percent_off": 10}, "code"),
    ({"code": "has space", "percent_off": 10}, "code"),
    ({"code": "x" * 33, "percent_off": 10}, "code"),
    ({"code": "ÉTÉ10", "percent_off": 10}, "code"),
    ({"code": 12345, "percent_off": 10}, "code"),
    ({"code": "SALE"}, "percent_off"),
    ({"code": "SALE", "percent_off": 10, "amount_off": 100}, "percent_off"),
    ({"code": "SALE", "percent_off": 0}, "percent_off"),
    ({"code": "SALE", "percent_off": 101}, "percent_off"),
    ({"code": "SALE", "percent_off": 12.5}, "percent_off"),
    ({"code": "SALE", "amount_off": 0}, "amount_off"),
    ({"code": "SALE", "amount_off": True}, "amount_off"),
    ({"code": "SALE", "percent_off": 10, "max_redemptions": 0}, "max_redemptions"),
    ({"code": "SALE", "percent_off": 10, "per_buyer": -1}, "per_buyer"),
    ({"code": "SALE", "percent_off": 10, "starts_at": "tomorrow"}, "starts_at"),
    ({"code": "SALE", "percent_off": 10, "ends_at": "2020-01-01T00:00:00Z"}, "ends_at"),
    ({"code": "SALE", "percent_off": 10, "starts_at": "2099-01-02T00:00:00Z", "ends_at": "2099-01-01T00:00:00Z"}, "ends_at"),
    ({"code": "SALE", "percent_off": 10, "uses": 3}, "uses"),
])
def test_a_bad_code_is_refused_naming_the_field(client, seller, body, field):
    card = create_card(client, seller)

    assert_error(post_json(client, codes_path(card["id"]), body, seller.auth), 400, "invalid_request", field)
    assert json.loads(client.http.get(codes_path(card["id"]), headers=seller.auth).body)["items"] == []


def test_codes_are_the_card_owners_alone(client, seller):
    card = create_card(client, seller)
    post_json(client, codes_path(card["id"]), {"code": "MINE", "percent_off": 10}, seller.auth)
    other = Seller(*sellers.create_seller("Bo", "bo@example.com"))

    assert_error(post_json(client, codes_path(card["id"]), {"code": "THEIRS", "percent_off": 10}, other.auth), 404, "not_found")
    assert_error(client.http.get(codes_path(card["id"]), headers=other.auth), 404, "not_found")
    assert_error(client.http.delete(f"{codes_path(card['id'])}/MINE", headers=other.auth), 404, "not_found")
    assert_error(client.http.get(codes_path(card["id"])), 401, "unauthorized")
    assert_error(post_json(client, codes_path("card_nope"), {"code": "X1X", "percent_off": 10}, seller.auth), 404, "not_found")
    assert_error(client.http.delete(f"{codes_path(card['id'])}/no%20such", headers=seller.auth), 404, "not_found")
    assert [item["code"] for item in json.loads(client.http.get(codes_path(card["id"]), headers=seller.auth).body)["items"]] == ["MINE"]
