"""The shop's rules on what a seller sends (ownership is checked by the use case)."""
import pytest

from chalicelib.domain import MAX_SHOP_CARDS, InvalidRequest, shop_fields_from_request


def test_a_new_shop_needs_a_name_and_cards_trimmed_and_in_order():
    fields = shop_fields_from_request({"name": " Kiln\t", "card_ids": ["card_b", "card_a"]}, partial=False)
    assert fields == {"name": "Kiln", "card_ids": ("card_b", "card_a")}


def test_a_patch_takes_either_field_but_not_none():
    assert shop_fields_from_request({"name": "Kiln"}, partial=True) == {"name": "Kiln"}
    assert shop_fields_from_request({"card_ids": ["card_a"]}, partial=True) == {"card_ids": ("card_a",)}
    with pytest.raises(InvalidRequest):
        shop_fields_from_request({}, partial=True)


@pytest.mark.parametrize("payload, field", [
    ({"name": "Kiln"}, "card_ids"),
    ({"name": " \n ", "card_ids": ["card_a"]}, "name"),
    ({"name": "k" * 81, "card_ids": ["card_a"]}, "name"),
    ({"name": 7, "card_ids": ["card_a"]}, "name"),
    ({"name": "Kiln", "card_ids": ["card_a", "card_a"]}, "card_ids"),
    ({"name": "Kiln", "card_ids": [f"card_{n}" for n in range(MAX_SHOP_CARDS + 1)]}, "card_ids"),
    ({"name": "Kiln", "card_ids": [None]}, "card_ids"),
])
def test_bad_fields_are_named(payload, field):
    with pytest.raises(InvalidRequest) as refused:
        shop_fields_from_request(payload, partial=False)
    assert refused.value.field == field


def test_a_name_of_80_characters_and_24_cards_are_taken():
    fields = shop_fields_from_request({"name": "k" * 80, "card_ids": [f"card_{n}" for n in range(24)]}, partial=False)
    assert len(fields["name"]) == 80 and len(fields["card_ids"]) == 24
