"""A seller's card request: what is accepted, and that every refusal names the field at fault."""
from datetime import datetime, timezone

import pytest

from chalicelib.domain import (
    DEFAULT_HOLD_SECONDS,
    DEFAULT_SHARE_TEXT,
    MAX_SHARDS,
    InvalidRequest,
    new_card_from_request,
)

NOW = int(datetime(2030, 1, 1, tzinfo=timezone.utc).timestamp())


def valid_payload(**overrides) -> dict:
    payload = {
        "title": "Speckled mug",
        "description": "Hand-thrown stoneware, 350 ml.",
        "image_url": "https://img.example.com/mug.jpg",
        "price": {"amount": 1800, "currency": "eur"},
        "stock": 40,
        "sale": {"starts_at": "2030-01-02T12:00:00+01:00", "ends_at": "2030-01-03T12:00:00Z"},
        "limit_per_buyer": 2,
        "hold_seconds": 300,
        "share_text": "{buyer} got {title}! {link}",
    }
    payload.update(overrides)
    return payload


def make(payload):
    return new_card_from_request(payload, "card_abc", "sel_1", NOW)


def refusal(payload) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as caught:
        make(payload)
    return caught.value


def without(payload: dict, name: str) -> dict:
    return {k: v for k, v in payload.items() if k != name}


# --- what is accepted ---------------------------------------------------------------------


def test_a_full_request_becomes_a_card_with_its_values():
    card = make(valid_payload())

    assert card.card_id == "card_abc"
    assert card.seller_id == "sel_1"
    assert card.title == "Speckled mug"
    assert card.price_amount == 1800
    assert card.currency == "EUR"  # normalised to upper case
    assert card.stock == 40
    assert card.limit_per_buyer == 2
    assert card.hold_seconds == 300
    assert card.share_text == "{buyer} got {title}! {link}"
    assert card.created_at == NOW


def test_times_with_an_offset_become_utc_epoch_seconds():
    card = make(valid_payload())

    assert card.starts_at == int(datetime(2030, 1, 2, 11, 0, tzinfo=timezone.utc).timestamp())
    assert card.ends_at == int(datetime(2030, 1, 3, 12, 0, tzinfo=timezone.utc).timestamp())


def test_optional_fields_get_their_defaults():
    payload = valid_payload()
    for name in ("description", "sale", "limit_per_buyer", "hold_seconds", "share_text"):
        payload.pop(name)

    card = make(payload)

    assert card.description == ""
    assert card.starts_at is None and card.ends_at is None
    assert card.limit_per_buyer is None
    assert card.hold_seconds == DEFAULT_HOLD_SECONDS
    assert card.share_text == DEFAULT_SHARE_TEXT


def test_title_and_text_are_trimmed():
    card = make(valid_payload(title="  Speckled mug \n", description="  nice  "))

    assert card.title == "Speckled mug"
    assert card.description == "nice"


@pytest.mark.parametrize("stock, shards", [(1, 1), (500, 1), (501, 2), (5000, 10), (1_000_000, MAX_SHARDS)])
def test_big_stock_is_split_into_shards_of_at_most_500_units_up_to_the_cap(stock, shards):
    assert make(valid_payload(stock=stock)).shard_count == shards


def test_a_seller_may_choose_the_shard_count_up_to_the_stock():
    assert make(valid_payload(stock=40, shards=4)).shard_count == 4
    assert make(valid_payload(stock=3, shards=3)).shard_count == 3


@pytest.mark.parametrize("shards", [0, MAX_SHARDS + 1, True, "4", 2.5], ids=repr)
def test_a_bad_shard_count_is_refused(shards):
    assert refusal(valid_payload(stock=40, shards=shards)).field == "shards"


def test_whole_numbers_written_with_a_zero_fraction_are_taken():
    # JSON has one number type: 226.0 is 226 (openapi.json's "integer" takes it too, issue 13).
    card = make(valid_payload(stock=226.0, shards=2.0, price={"amount": 1800.0, "currency": "EUR"}))

    assert (card.stock, card.shard_count, card.price_amount) == (226, 2, 1800)
    assert all(isinstance(n, int) for n in (card.stock, card.shard_count, card.price_amount))


def test_a_description_that_is_not_text_is_refused():
    for description in ({}, [], 0, False):
        assert refusal(valid_payload(description=description)).field == "description"
    assert make(valid_payload(description=None)).description == ""


def test_more_shards_than_units_is_refused():
    assert refusal(valid_payload(stock=3, shards=4)).field == "shards"


def test_a_sale_may_have_only_an_end():
    card = make(valid_payload(sale={"ends_at": "2030-01-05T00:00:00+00:00"}))

    assert card.starts_at is None
    assert card.ends_at == int(datetime(2030, 1, 5, tzinfo=timezone.utc).timestamp())


@pytest.mark.parametrize("name", ["sale", "limit_per_buyer", "share_text"])
def test_an_optional_field_sent_as_null_is_treated_as_absent(name):
    card = make(valid_payload(**{name: None}))

    assert card is not None


@pytest.mark.parametrize("name", ["hold_seconds", "description"])
def test_hold_seconds_or_description_sent_as_null_is_treated_as_absent(name):
    card = make(valid_payload(**{name: None}))

    assert card.hold_seconds == (DEFAULT_HOLD_SECONDS if name == "hold_seconds" else 300)


# --- what is refused, and the field each refusal names -------------------------------------


def test_a_body_that_is_not_an_object_is_refused():
    error = refusal(["title", "Mug"])

    assert error.code == "invalid_request"
    assert "JSON object" in error.message


BAD_FIELDS = [
    # (what is wrong, field the error must name, overrides)
    ("title missing", "title", {"title": None}),
    ("title empty", "title", {"title": "   "}),
    ("title too long", "title", {"title": "x" * 121}),
    ("title not text", "title", {"title": 42}),
    ("description too long", "description", {"description": "x" * 2001}),
    ("description not text", "description", {"description": ["a"]}),
    ("image_url missing", "image_url", {"image_url": None}),
    ("image_url not http", "image_url", {"image_url": "ftp://img.example.com/mug.jpg"}),
    ("image_url javascript", "image_url", {"image_url": "javascript:alert(1)"}),
    ("price missing", "price", {"price": None}),
    ("price a number", "price", {"price": 1800}),
    ("amount zero", "price.amount", {"price": {"amount": 0, "currency": "EUR"}}),
    ("amount negative", "price.amount", {"price": {"amount": -5, "currency": "EUR"}}),
    ("amount float", "price.amount", {"price": {"amount": 18.5, "currency": "EUR"}}),
    ("amount string", "price.amount", {"price": {"amount": "1800", "currency": "EUR"}}),
    ("amount bool", "price.amount", {"price": {"amount": True, "currency": "EUR"}}),
    ("amount too big", "price.amount", {"price": {"amount": 100_000_000, "currency": "EUR"}}),
    ("currency four letters", "price.currency", {"price": {"amount": 1800, "currency": "EURO"}}),
    ("currency a symbol", "price.currency", {"price": {"amount": 1800, "currency": "€"}}),
    ("currency a number", "price.currency", {"price": {"amount": 1800, "currency": 978}}),
    ("stock missing", "stock", {"stock": None}),
    ("stock zero", "stock", {"stock": 0}),
    ("stock negative", "stock", {"stock": -1}),
    ("stock float", "stock", {"stock": 1.5}),
    ("stock string", "stock", {"stock": "40"}),
    ("stock bool", "stock", {"stock": True}),
    ("stock too big", "stock", {"stock": 1_000_001}),
    ("sale not an object", "sale", {"sale": "tomorrow"}),
    ("starts_at without offset", "sale.starts_at", {"sale": {"starts_at": "2030-01-02T12:00:00"}}),
    ("starts_at a date only", "sale.starts_at", {"sale": {"starts_at": "2030-01-02"}}),
    ("starts_at garbage", "sale.starts_at", {"sale": {"starts_at": "next tuesday"}}),
    ("starts_at epoch number", "sale.starts_at", {"sale": {"starts_at": 1893456000}}),
    ("ends_at without offset", "sale.ends_at", {"sale": {"ends_at": "2030-01-03T12:00:00"}}),
    ("ends before starts", "sale.ends_at",
     {"sale": {"starts_at": "2030-01-03T12:00:00Z", "ends_at": "2030-01-02T12:00:00Z"}}),
    ("ends when it starts", "sale.ends_at",
     {"sale": {"starts_at": "2030-01-03T12:00:00Z", "ends_at": "2030-01-03T13:00:00+01:00"}}),
    ("ends in the past", "sale.ends_at", {"sale": {"ends_at": "2029-12-31T23:59:59Z"}}),
    ("limit zero", "limit_per_buyer", {"limit_per_buyer": 0}),
    ("limit too big", "limit_per_buyer", {"limit_per_buyer": 101}),
    ("limit bool", "limit_per_buyer", {"limit_per_buyer": True}),
    ("limit string", "limit_per_buyer", {"limit_per_buyer": "2"}),
    ("hold too short", "hold_seconds", {"hold_seconds": 9}),
    ("hold too long", "hold_seconds", {"hold_seconds": 3601}),
    ("hold bool", "hold_seconds", {"hold_seconds": False}),
    ("share_text empty", "share_text", {"share_text": ""}),
    ("share_text too long", "share_text", {"share_text": "x" * 281}),
    ("share_text not text", "share_text", {"share_text": 7}),
]


@pytest.mark.parametrize("problem, field, overrides", BAD_FIELDS, ids=[case[0] for case in BAD_FIELDS])
def test_a_bad_field_is_refused_naming_that_field(problem, field, overrides):
    error = refusal(valid_payload(**overrides))

    assert error.code == "invalid_request"
    assert error.field == field
    assert field.split(".")[-1] in error.message


def test_a_missing_top_level_field_is_named():
    assert refusal(without(valid_payload(), "title")).field == "title"
    assert refusal(without(valid_payload(), "stock")).field == "stock"
    assert refusal(without(valid_payload(), "image_url")).field == "image_url"
    assert refusal(without(valid_payload(), "price")).field == "price"


@pytest.mark.parametrize("missing", ["amount", "currency"])
def test_a_missing_price_part_is_named_with_its_full_path(missing):
    price = {"amount": 1800, "currency": "EUR"}
    del price[missing]

    assert refusal(valid_payload(price=price)).field == f"price.{missing}"


def test_bool_is_not_accepted_where_a_whole_number_is_expected():
    # In Python True == 1; in JSON `true` is not a number.
    assert refusal(valid_payload(stock=True)).field == "stock"
    assert make(valid_payload(stock=1)).stock == 1
