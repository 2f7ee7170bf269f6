"""The seller's rules without I/O: card edits, cursors, filters, the funnel's arithmetic, places."""
from collections import Counter
from datetime import date

import pytest

from chalicelib import counters
from chalicelib.domain import Card, Conflict, InvalidRequest, StockLevel
from chalicelib.seller_rules import card_edit_from_request, decode_cursor, encode_cursor, funnel, order_filter


def card(**overrides) -> Card:
    values = dict(card_id="card_1", seller_id="sel_1", title="Mug", description="", image_url="https://x.example/m.jpg",
                  price_amount=1800, currency="EUR", stock=10, shard_count=2, created_at=1_700_000_000)
    values.update(overrides)
    return Card(**values)


def test_stock_goes_up_and_down_but_not_below_what_is_sold_or_held():
    level = StockLevel(available=4, held=2, sold=4)

    assert card_edit_from_request({"stock": 15}, card(), level, True).stock_change == 5
    assert card_edit_from_request({"stock": 6}, card(), level, True).stock_change == -4
    with pytest.raises(Conflict) as refused:
        card_edit_from_request({"stock": 5}, card(), level, True)
    assert refused.value.field == "stock"


def test_a_card_may_shrink_below_its_shard_count():
    edit = card_edit_from_request({"stock": 1}, card(shard_count=4), StockLevel(10, 0, 0), False)

    assert edit.card.stock == 1 and edit.card.shard_count == 4


def test_price_is_free_until_the_first_order_and_the_same_price_is_no_change():
    same = {"price": {"amount": 1800, "currency": "EUR"}}

    assert card_edit_from_request({"price": {"amount": 900, "currency": "EUR"}}, card(), StockLevel(10, 0, 0), False).card.price_amount == 900
    assert card_edit_from_request(same, card(), StockLevel(10, 0, 0), True).card.price_amount == 1800
    with pytest.raises(Conflict):
        card_edit_from_request({"price": {"amount": 900, "currency": "EUR"}}, card(), StockLevel(10, 0, 0), True)


def test_a_sale_window_is_merged_with_what_the_card_has():
    edit = card_edit_from_request({"sale": {"ends_at": "2030-01-01T00:00:00Z"}}, card(starts_at=1_800_000_000),
                                  StockLevel(10, 0, 0), False)

    assert (edit.card.starts_at, edit.card.ends_at) == (1_800_000_000, 1_893_456_000)


@pytest.mark.parametrize("payload, field", [({"seller_id": "sel_2"}, "seller_id"), ({"shards": 4}, "shards"),
                                            ({"title": 5}, "title")])
def test_what_cannot_change_is_named(payload, field):
    with pytest.raises(InvalidRequest) as refused:
        card_edit_from_request(payload, card(), StockLevel(10, 0, 0), False)
    assert refused.value.field == field


def test_a_cursor_round_trips_and_only_opens_its_own_list():
    key = {"card_id": {"S": "card_1"}, "created_at": {"N": "5"}, "order_id": {"S": "ord_1"}}

    assert decode_cursor(encode_cursor(key), "card_id", "card_1") == key
    with pytest.raises(InvalidRequest):
        decode_cursor(encode_cursor(key), "card_id", "card_2")


def test_date_filters_cover_whole_utc_days():
    wanted = order_filter({"from": "2026-11-01", "to": "2026-11-01", "status": "paid"})

    assert (wanted.since, wanted.until, wanted.status) == (1_793_491_200, 1_793_491_200 + 86399, "paid")


def test_the_funnel_adds_days_and_rates_each_step():
    days = {"2026-11-01": Counter(views=100, taps=20, holds=10, paid=5, **{"geo:views:CN": 60, "geo:paid:CN": 4}),
            "2026-11-02": Counter(views=100, taps=0)}

    stats = funnel(days, date(2026, 11, 1), date(2026, 11, 3))

    assert stats["total"]["views"] == 200 and stats["total"]["paid"] == 5
    assert stats["total"]["conversion"]["views_to_taps"] == 0.1
    assert stats["days"][1]["conversion"]["taps_to_holds"] is None
    assert [d["day"] for d in stats["days"]] == ["2026-11-01", "2026-11-02", "2026-11-03"]
    assert stats["countries"] == {"CN": {"views": 60, "paid": 4}}


@pytest.mark.parametrize("viewer, language, place", [
    ({"cloudfront-viewer-country": "US", "cloudfront-viewer-country-region": "CA"}, None, "US-CA"),
    ({"cloudfront-viewer-country": "DE"}, "zh-CN", "DE"),
    ({}, "zh-CN,zh;q=0.9,en;q=0.8", "CN"),
    ({}, "zh-Hans-CN", "CN"),
    ({}, "en", None),
    ({}, None, None),
])
def test_where_a_request_comes_from(viewer, language, place):
    assert counters.place_of(viewer, language) == place
