"""Issue 17, the funnel: code redemptions, revenue before and after discounts, and the card's review
count and average in GET /api/cards/{card_id}/stats."""
import json

from fixtures import assert_error, create_card, pay_order, post_json
from test_api_code_checkout import add_code, held, tap
from test_api_reviews import review


def stats(client, seller, card_id) -> dict:
    response = client.http.get(f"/api/cards/{card_id}/stats", headers=seller.auth)
    assert response.status_code == 200, response.body
    return json.loads(response.body)


def paid_tap(client, card_id, buyer, **body) -> dict:
    order = held(tap(client, card_id, buyer=buyer, **body))
    assert pay_order(client, order).status_code == 200
    return order


def test_the_funnel_counts_code_redemptions_revenue_before_and_after_discounts_and_reviews(client, seller,
                                                                                        fake_stripe):
    card = create_card(client, seller, stock=10)  # €18.00
    add_code(client, seller, card["id"], code="TENOFF", percent_off=10)
    with_code = paid_tap(client, card["id"], "buyer-token-0001", code="tenoff")
    without = paid_tap(client, card["id"], "buyer-token-0002")
    held(tap(client, card["id"], buyer="buyer-token-0003", code="TENOFF"))  # held, not paid: not counted
    assert review(client, with_code, {"rating": 5, "text": "Lovely"}).status_code == 201
    assert review(client, without, {"rating": 2}).status_code == 201
    before_hiding = stats(client, seller, card["id"])
    post_json(client, f"/api/cards/{card['id']}/reviews/{without['order_id']}/hide", {"reason": "off topic"},
              seller.auth)

    total = stats(client, seller, card["id"])["total"]

    assert (total["paid"], total["code_redemptions"]) == (2, 1)
    assert (total["revenue"], total["discounts"], total["revenue_before_discounts"]) == (1620 + 1800, 180, 3600)
    assert before_hiding["reviews"] == {"average": 3.5, "count": 2}
    assert stats(client, seller, card["id"])["reviews"] == {"average": 5.0, "count": 1}
    assert before_hiding["days"][-1]["revenue_before_discounts"] == 3600


def test_a_card_without_sales_or_reviews_has_zeros_and_no_average(client, seller):
    card = create_card(client, seller)

    body = stats(client, seller, card["id"])

    assert (body["total"]["code_redemptions"], body["total"]["revenue_before_discounts"]) == (0, 0)
    assert body["reviews"] == {"average": None, "count": 0}


def test_another_sellers_card_has_no_stats_for_you(client, seller, aws):
    from chalicelib import backoffice

    other = backoffice.sign_up({"name": "Bo", "email": "bo@example.com"})
    card = create_card(client, seller)

    assert_error(client.http.get(f"/api/cards/{card['id']}/stats",
                                 headers={"Authorization": f"Bearer {other['api_key']}"}), 404, "not_found")
