"""The automatic share on the card's own feed: posted once per paid order, newest first."""
import time

import pytest

from chalicelib.social import shares
from chalicelib.store import orders
from chalicelib.domain import NotFound
from fixtures import mark_paid, shares_of


def paid_order(card, buy, buyer="buyer-token-0001"):
    order = buy(card, buyer=buyer)
    mark_paid(order["order_id"])
    return orders.get(order["order_id"])


def test_a_paid_order_is_shared_on_the_cards_feed(make_card, buy):
    card = make_card(stock=5, title="Speckled mug", price_amount=1800, currency="EUR")
    order = paid_order(card, buy)

    shares.post_order_shares(order)

    link = f"http://tapcard.test/p/{card.card_id}?ref={order.referral_code}"
    assert shares.feed(card.card_id) == [{
        "text": f"Someone just got Speckled mug for €18.00. 4 left: {link}",
        "link": link,
        "posted_at": pytest.approx(int(time.time()), abs=5),
        "kind": "order.shared",
    }]


def test_a_share_is_posted_once_even_when_asked_twice(make_card, buy):
    card = make_card(stock=5)
    order = paid_order(card, buy)

    shares.post_order_shares(order)
    shares.post_order_shares(order)

    assert len(shares.feed(card.card_id)) == 1


def test_the_sellers_template_is_used(make_card, buy):
    card = make_card(stock=5, share_text="Just {left} {title} left, grab one")
    order = paid_order(card, buy)

    shares.post_order_shares(order)

    text = shares.feed(card.card_id)[0]["text"]
    assert text.startswith("Just 4 Speckled mug left, grab one ")
    assert text.endswith(f"?ref={order.referral_code}")


def test_a_zero_decimal_price_is_shown_without_decimals(make_card, buy):
    card = make_card(stock=5, price_amount=1800, currency="JPY")

    shares.post_order_shares(paid_order(card, buy))

    assert "for ¥1,800." in shares.feed(card.card_id)[0]["text"]


def test_the_feed_is_newest_first(make_card, buy):
    card = make_card(stock=5)
    first = paid_order(card, buy, "buyer-token-0001")
    second = paid_order(card, buy, "buyer-token-0002")

    shares.post_order_shares(first)
    time.sleep(0.01)
    shares.post_order_shares(second)

    links = [item["link"] for item in shares.feed(card.card_id)]
    assert links == [shares.share_link(second), shares.share_link(first)]


def test_without_a_seller_webhook_only_the_feed_is_posted(make_card, buy):
    card = make_card(stock=5)
    order = paid_order(card, buy)

    shares.post_order_shares(order)

    assert set(shares_of(order.order_id)) == {"feed"}


def test_the_feed_of_an_unknown_card_is_not_found(aws):
    with pytest.raises(NotFound):
        shares.feed("card_doesnotexist")
