"""Issue 17: the blogger's shop: /api/shops, the hosted page GET /s/{shop_id} and the frame
embed.js makes of a data-tapcard-shop element."""
import json
import re
import time

import pytest

from chalicelib import pages
from fixtures import Seller, assert_documented, assert_error


def call(client, method, path, seller=None, payload=None):
    headers = {"Content-Type": "application/json", **(seller.auth if seller else {})}
    return client.http.request(method, path, headers=headers,
                               body=json.dumps(payload).encode() if payload is not None else b"")


@pytest.fixture
def other_seller(aws) -> Seller:
    from chalicelib.store import sellers

    return Seller(*sellers.create_seller("Bo's Prints", "bo@example.com"))


def new_shop(client, seller, name, card_ids) -> dict:
    response = call(client, "POST", "/api/shops", seller, {"name": name, "card_ids": card_ids})
    assert response.status_code == 201, response.body
    assert_documented(pages.openapi(), "/api/shops", "POST", response)
    return json.loads(response.body)


def test_a_shop_is_made_listed_renamed_and_reordered(client, seller, make_card):
    cup, plate = make_card(title="Cup"), make_card(title="Plate")

    shop = new_shop(client, seller, "  Ada's kiln  ", [cup.card_id, plate.card_id])

    assert shop["name"] == "Ada's kiln" and shop["card_ids"] == [cup.card_id, plate.card_id]
    assert re.fullmatch(r"shop_[a-f0-9]{12}", shop["id"])
    assert shop["url"] == f"http://tapcard.test/s/{shop['id']}"
    assert shop["snippet"] == (f'<div data-tapcard-shop="{shop["id"]}"><a href="http://tapcard.test/s/{shop["id"]}">'
                               f"Ada&#x27;s kiln on tapcard</a></div>\n"
                               '<script async src="http://tapcard.test/embed.js"></script>')
    changed = call(client, "PATCH", f"/api/shops/{shop['id']}", seller, {"card_ids": [plate.card_id, cup.card_id]})
    assert changed.status_code == 200
    assert_documented(pages.openapi(), "/api/shops/{shop_id}", "PATCH", changed)
    renamed = json.loads(call(client, "PATCH", f"/api/shops/{shop['id']}", seller, {"name": "Kiln"}).body)
    assert (renamed["name"], renamed["card_ids"]) == ("Kiln", [plate.card_id, cup.card_id])
    listed = call(client, "GET", "/api/shops", seller)
    assert_documented(pages.openapi(), "/api/shops", "GET", listed)
    assert json.loads(listed.body)["items"] == [renamed]


@pytest.mark.parametrize("payload, field", [
    ({"card_ids": ["card_abc"]}, "name"),
    ({"name": "", "card_ids": ["card_abc"]}, "name"),
    ({"name": "x" * 81, "card_ids": ["card_abc"]}, "name"),
    ({"name": "Shop", "card_ids": []}, "card_ids"),
    ({"name": "Shop", "card_ids": "card_abc"}, "card_ids"),
    ({"name": "Shop", "card_ids": [f"card_{n:03d}" for n in range(25)]}, "card_ids"),
    ({"name": "Shop", "card_ids": ["<script>"]}, "card_ids"),
    ({"name": "Shop", "card_ids": ["card_unknown1"]}, "card_ids"),
    ({"name": "Shop", "card_ids": ["card_abc"], "theme": "dark"}, "theme"),
])
def test_bad_shops_are_refused_naming_the_field(client, seller, payload, field):
    assert_error(call(client, "POST", "/api/shops", seller, payload), 400, "invalid_request", field)


def test_only_the_sellers_own_cards_go_in_a_shop(client, seller, other_seller, make_card):
    mine, theirs = make_card(), make_card(seller_id=other_seller.seller_id)

    refused = call(client, "POST", "/api/shops", seller, {"name": "Shop", "card_ids": [mine.card_id, theirs.card_id]})
    error = assert_error(refused, 400, "invalid_request", "card_ids")
    assert theirs.card_id in error["message"]
    shop = new_shop(client, seller, "Shop", [mine.card_id])
    assert_error(call(client, "PATCH", f"/api/shops/{shop['id']}", seller, {"card_ids": [mine.card_id, mine.card_id]}),
                 400, "invalid_request", "card_ids")
    assert_error(call(client, "PATCH", f"/api/shops/{shop['id']}", seller, {}), 400, "invalid_request")
    # Another seller's shop answers like one that does not exist.
    assert_error(call(client, "PATCH", f"/api/shops/{shop['id']}", other_seller, {"name": "Mine now"}), 404, "not_found")
    assert_error(call(client, "PATCH", "/api/shops/shop_000000000000", seller, {"name": "x"}), 404, "not_found")
    assert json.loads(call(client, "GET", "/api/shops", other_seller).body)["items"] == []
    assert call(client, "GET", "/api/shops").status_code == 401


def test_the_shop_page_shows_its_cards_framed_in_order_with_item_list_json_ld(client, seller, make_card):
    cup = make_card(title='Cup </script><script>alert(1)</script>')
    plate = make_card(title="Plate", price_amount=2500)
    hidden, ended = make_card(title="Hidden"), make_card(title="Gone", starts_at=int(time.time()) - 7200,
                                                         ends_at=int(time.time()) - 3600)
    shop = new_shop(client, seller, "Ada's <kiln>", [plate.card_id, hidden.card_id, cup.card_id, ended.card_id])
    call(client, "POST", f"/api/cards/{hidden.card_id}/unpublish", seller)

    response = client.http.get(f"/s/{shop['id']}?ref=abc")
    page = response.body.decode()

    assert response.status_code == 200
    assert "<h1>Ada&#39;s &lt;kiln&gt;</h1>" in page
    frames = re.findall(r'<li data-card="(card_\w+)"><iframe [^>]*src="([^"]+)"', page)
    assert [card_id for card_id, _ in frames] == [plate.card_id, cup.card_id]
    assert frames[0][1].startswith(f"http://tapcard.test/cards/{plate.card_id}/widget?o=http%3A%2F%2Ftapcard.test")
    assert "ref=abc" in frames[0][1]
    ld = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S).group(1))
    assert ld["@type"] == "ItemList" and ld["name"] == "Ada's <kiln>" and ld["numberOfItems"] == 2
    assert [(i["position"], i["url"]) for i in ld["itemListElement"]] == [
        (1, f"http://tapcard.test/p/{plate.card_id}"), (2, f"http://tapcard.test/p/{cup.card_id}")]
    assert "<script>alert(1)" not in page and "</script><script>" not in page
    csp = response.headers["Content-Security-Policy"]
    assert "frame-src 'self'" in csp and "script-src 'sha256-" in csp and "unsafe" not in csp


def test_the_shop_frame_is_compact_and_answers_to_the_embedding_page(client, seller, make_card):
    cup = make_card(title="Cup")
    shop = new_shop(client, seller, "Kiln", [cup.card_id])

    page = client.http.get(f"/s/{shop['id']}/frame?o=https%3A%2F%2Fblog.example&locale=zh-CN&theme=dark").body.decode()

    assert 'var o = "https://blog.example";' in page
    assert '<html lang="zh-CN">' in page and "在 tapcard 购买 Cup" in page
    assert "locale=zh-CN" in page and "theme=dark" in page


def test_an_unknown_shop_is_a_friendly_404_page(client):
    for path in ("/s/shop_000000000000", "/s/not-a-shop", "/s/shop_000000000000/frame"):
        response = client.http.get(path, headers={"Accept-Language": "zh-CN"})
        assert response.status_code == 404
        assert response.headers["Content-Type"].startswith("text/html")
        assert "找不到这家小店" in response.body.decode()
    assert "This shop is not here." in client.http.get("/s/shop_000000000000").body.decode()
