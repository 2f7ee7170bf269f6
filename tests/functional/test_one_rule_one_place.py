"""Rules that were once written twice and drifted apart: each now has one place, and these are the
bugs the drift made (issue 11)."""
import json
import re

import pytest

from chalicelib.social import stream
from chalicelib.store import orders
from fixtures import assert_error, create_card, paid, post_json, stream_event


def test_the_share_text_names_the_price_the_widget_shows_for_isk(client, seller, fake_stripe):
    # Stripe counts ISK in hundredths, Babel says it has no minor unit: the share once said ISK10,000
    # while the widget said ISK100.
    card = create_card(client, seller, title="Lopapeysa", price={"amount": 10000, "currency": "ISK"})
    order = paid(client, card["id"])
    stream.handle_batch(stream_event("orders_stream_paid.json", [orders.get(order["order_id"])]))

    widget = client.http.get(f"/cards/{card['id']}/widget?locale=en").body.decode()
    shared = json.loads(client.http.get(f"/cards/{card['id']}/feed").body)["items"][0]["text"]

    assert "ISK100" in widget
    assert "for ISK100." in shared


@pytest.mark.parametrize("action", ["unpublish", "archive"])
def test_a_hidden_card_serves_no_feed_and_takes_no_reservation(client, seller, action):
    card = create_card(client, seller)
    post_json(client, f"/api/cards/{card['id']}/{action}", {}, seller.auth)

    assert_error(client.http.get(f"/cards/{card['id']}/feed"), 404, "not_found")
    assert_error(post_json(client, f"/cards/{card['id']}/reservations", {"buyer": "buyer-token-0001"}),
                 404, "not_found")


def test_a_referral_visit_to_a_hidden_card_is_not_counted(client, seller, fake_stripe):
    card = create_card(client, seller)
    code = orders.get(paid(client, card["id"])["order_id"]).referral_code
    post_json(client, f"/api/cards/{card['id']}/unpublish", {}, seller.auth)

    client.http.get(f"/p/{card['id']}?ref={code}")
    report = json.loads(client.http.get(f"/api/cards/{card['id']}/referrals", headers=seller.auth).body)

    assert report["referral_visits"] == 0


def test_every_share_link_and_page_url_is_built_the_same_way(client, seller, fake_stripe):
    card = create_card(client, seller)
    order = paid(client, card["id"])
    status = json.loads(client.http.get(f"/orders/{order['order_id']}?token={order['order_token']}").body)

    assert card["url"] == f"http://tapcard.test/p/{card['id']}"
    assert status["share_url"] == f"{card['url']}?ref={status['referral_code']}"
    assert re.fullmatch(rf"http://tapcard\.test/o/{order['order_id']}\?token=[a-z0-9]+", status["order_url"])
    assert f'href="{card["url"]}"' in card["snippet"]


def test_an_orders_amount_is_computed_in_one_place():
    # Issue 15: the shipping fee joins the price; every check of what Stripe took, every refund and
    # rebate reads the order's amount, made only by domain.offers.price_order (discount and fee).
    from pathlib import Path

    package = Path(__file__).resolve().parents[2] / "chalicelib"
    computing = {str(path.relative_to(package)) for path in package.rglob("*.py")
                 if re.search(r"price_amount\s*\*|\*\s*\w*\.?price_amount|\bfee\s*\+|\+\s*\w*\.?fee\b", path.read_text())}
    assert computing == {"domain/offers.py"}
