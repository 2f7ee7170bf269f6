"""Issue 17, reviews: one per paid order, the card's rating without hidden reviews, newest first and
paged; the seller replies and hides (with a reason); the widget and the product page show them,
escaped."""
import itertools
import json
import re
import time
from urllib.parse import quote

import pytest

from chalicelib.store import sellers
from fixtures import Seller, assert_error, create_card, hold, paid, pay_order, post_json


def review(client, order, body, token=None):
    token = order["order_token"] if token is None else token
    return post_json(client, f"/orders/{order['order_id']}/review?token={quote(token)}", body)


def reviewed(client, card_id, buyer, rating, text="", name=None) -> dict:
    order = paid(client, card_id, buyer=buyer)
    body = {"rating": rating, "text": text, **({"name": name} if name else {})}
    response = review(client, order, body)
    assert response.status_code == 201, response.body
    return json.loads(response.body)


def public(client, card_id, cursor=None) -> dict:
    response = client.http.get(f"/cards/{card_id}/reviews" + (f"?cursor={cursor}" if cursor else ""))
    assert response.status_code == 200, response.body
    return json.loads(response.body)


def seller_post(client, seller, path, body):
    return post_json(client, path, body, seller.auth)


def test_a_paid_order_is_reviewed_once_and_the_card_shows_its_rating(client, seller, fake_stripe):
    card = create_card(client, seller, stock=10)
    order = paid(client, card["id"])

    response = review(client, order, {"rating": 5, "text": "  Lovely glaze. ", "name": "Ada"})

    assert response.status_code == 201, response.body
    body = json.loads(response.body)
    assert (body["rating"], body["text"], body["name"], body["reply"]) == (5, "Lovely glaze.", "Ada", None)
    assert_error(review(client, order, {"rating": 1}), 409, "already_reviewed")
    reviewed(client, card["id"], "buyer-token-0002", 4)
    page = public(client, card["id"])
    assert (page["average"], page["count"]) == (4.5, 2)
    assert page["histogram"] == {"1": 0, "2": 0, "3": 0, "4": 1, "5": 1}
    assert [item["rating"] for item in page["items"]] == [4, 5] or [item["rating"] for item in page["items"]] == [5, 4]
    assert json.loads(client.http.get(f"/cards/{card['id']}").body)["rating"] == {"average": 4.5, "count": 2}


def test_only_a_paid_order_with_its_token_may_be_reviewed(client, seller, fake_stripe):
    card = create_card(client, seller, stock=10)
    held = hold(client, card["id"], buyer="buyer-token-held")
    refunded = paid(client, card["id"], buyer="buyer-token-refund")
    post_json(client, f"/api/orders/{refunded['order_id']}/refund", {"restock": True}, seller.auth)
    order = paid(client, card["id"])

    assert_error(review(client, held, {"rating": 5}), 409, "not_reviewable")
    assert_error(review(client, refunded, {"rating": 5}), 409, "not_reviewable")
    assert_error(review(client, order, {"rating": 5}, token="wrong-token"), 404, "not_found")
    assert public(client, card["id"])["count"] == 0


@pytest.mark.parametrize("body, field", [
    ({}, "rating"), ({"rating": 0}, "rating"), ({"rating": 6}, "rating"), ({"rating": "5"}, "rating"),
    ({"rating": 4.5}, "rating"), ({"rating": True}, "rating"),
    ({"rating": 5, "text": "x" * 501}, "text"), ({"rating": 5, "text": 5}, "text"),
    ({"rating": 5, "name": "n" * 41}, "name"), ({"rating": 5, "stars": 5}, "stars"),
])
def test_a_bad_review_is_refused_naming_the_field(client, seller, fake_stripe, body, field):
    card = create_card(client, seller)
    order = paid(client, card["id"])

    assert_error(review(client, order, body), 400, "invalid_request", field)
    assert review(client, order, {"rating": 3}).status_code == 201  # the order may still be reviewed


def test_reviews_come_newest_first_ten_a_page(client, seller, fake_stripe, monkeypatch):
    from chalicelib import checkout

    card = create_card(client, seller, stock=20)
    clock = itertools.count(int(time.time()))  # every reading a second later: each review its own second
    monkeypatch.setattr(checkout, "now", lambda: next(clock))
    for n in range(12):
        order = paid(client, card["id"], buyer=f"buyer-token-{n:04d}")
        assert review(client, order, {"rating": 1 + n % 5, "text": f"review {n}"}).status_code == 201

    first = public(client, card["id"])
    second = public(client, card["id"], first["next_cursor"])

    assert [item["text"] for item in first["items"]] == [f"review {n}" for n in range(11, 1, -1)]
    assert [item["text"] for item in second["items"]] == ["review 1", "review 0"]
    assert second["next_cursor"] is None and first["count"] == 12
    assert_error(client.http.get(f"/cards/{card['id']}/reviews?cursor=not-ours"), 400, "invalid_request", "cursor")
    assert_error(client.http.get("/cards/card_nope/reviews"), 404, "not_found")


def test_the_seller_replies_and_hides_with_a_reason_and_hidden_reviews_leave_the_rating(client, seller, fake_stripe):
    card = create_card(client, seller, stock=10)
    good = reviewed(client, card["id"], "buyer-token-0001", 5, "Great")
    spam = reviewed(client, card["id"], "buyer-token-0002", 1, "Buy followers at ...")
    base = f"/api/cards/{card['id']}/reviews"

    replied = seller_post(client, seller, f"{base}/{good['order_id']}/reply", {"text": "Thank you!"})
    assert json.loads(replied.body)["reply"]["text"] == "Thank you!"
    assert_error(seller_post(client, seller, f"{base}/{spam['order_id']}/hide", {}), 400, "invalid_request", "reason")
    hidden = seller_post(client, seller, f"{base}/{spam['order_id']}/hide", {"reason": "spam"})
    assert json.loads(hidden.body)["hidden"]["reason"] == "spam"
    assert_error(seller_post(client, seller, f"{base}/{spam['order_id']}/hide", {"reason": "spam"}), 409, "conflict")

    page = public(client, card["id"])
    assert (page["average"], page["count"], page["histogram"]["1"]) == (5.0, 1, 0)
    assert [(item["text"], item["reply"]["text"]) for item in page["items"]] == [("Great", "Thank you!")]
    assert "hidden" not in page["items"][0]
    mine = json.loads(client.http.get(base, headers=seller.auth).body)
    assert {item["text"]: item["hidden"] for item in mine["items"]}["Buy followers at ..."]["reason"] == "spam"

    other = Seller(*sellers.create_seller("Bo", "bo@example.com"))
    assert_error(seller_post(client, other, f"{base}/{good['order_id']}/hide", {"reason": "x"}), 404, "not_found")
    assert_error(client.http.get(base, headers=other.auth), 404, "not_found")
    assert_error(seller_post(client, seller, f"{base}/ord_nope/reply", {"text": "x"}), 404, "not_found")
    assert_error(seller_post(client, seller, f"{base}/{good['order_id']}/reply", {"text": "x", "tone": "warm"}),
                 400, "invalid_request", "tone")


def test_a_fulfilled_order_is_reviewable_where_the_card_ships_and_not_before(client, seller, fake_stripe):
    card = create_card(client, seller, stock=10, shipping={"required": True, "countries": ["FR"]})
    order = hold(client, card["id"])
    address = {"name": "Ada", "line1": "7 rue Haute", "city": "Lyon", "postal_code": "69001", "country": "FR",
               "email": "ada@example.com"}
    put = client.http.put(f"/orders/{order['order_id']}/shipping?token={order['order_token']}",
                          body=json.dumps(address), headers={"Content-Type": "application/json"})
    assert put.status_code == 200, put.body
    assert json.loads(pay_order(client, order).body)["status"] == "succeeded"

    assert_error(review(client, order, {"rating": 5}), 409, "not_reviewable")
    post_json(client, f"/api/orders/{order['order_id']}/fulfil", {"carrier": "DHL", "tracking_number": "1"}, seller.auth)
    assert review(client, order, {"rating": 5}).status_code == 201


def test_the_widget_and_the_product_page_show_the_rating_and_reviews_escaped(client, seller, fake_stripe, monkeypatch):
    from chalicelib import checkout

    clock = itertools.count(int(time.time()))  # the second review is the newer one
    monkeypatch.setattr(checkout, "now", lambda: next(clock))
    card = create_card(client, seller, stock=10)
    reviewed(client, card["id"], "buyer-token-0001", 4, "</script><script>alert(1)</script> ok", name="<b>Eve</b>")
    reviewed(client, card["id"], "buyer-token-0002", 5, "Lovely & sturdy")

    widget = client.http.get(f"/cards/{card['id']}/widget?locale=en").body.decode()
    chinese = client.http.get(f"/cards/{card['id']}/widget?locale=zh-CN").body.decode()
    page = client.http.get(f"/p/{card['id']}").body.decode()

    assert "★ 4.5 (2)" in widget and "Rated 4.5 out of 5 from 2 reviews" in widget
    assert "Lovely &amp; sturdy" in widget  # the newest review
    assert "评分 4.5/5，共 2 条评价" in chinese
    assert "<script>alert(1)" not in page and "&lt;b&gt;Eve&lt;/b&gt;" in page
    ld = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S).group(1))
    assert ld["aggregateRating"] == {"@type": "AggregateRating", "ratingValue": 4.5, "reviewCount": 2,
                                     "bestRating": 5, "worstRating": 1}
    assert {r["reviewBody"] for r in ld["review"]} == {"</script><script>alert(1)</script> ok", "Lovely & sturdy"}
    assert {r["author"]["name"] for r in ld["review"]} == {"<b>Eve</b>", "Anonymous"}
