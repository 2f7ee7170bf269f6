"""Order ids (the same tap names the same order) and order tokens (the buyer's proof of ownership)."""
import re

import pytest

from chalicelib.domain import order_id_for, order_token, referral_code_for, token_matches

SECRET = "unit-test-order-secret"


def test_the_same_tap_always_names_the_same_order():
    first = order_id_for("card_1", "buyer-token-0001", "tap_key_0001")
    again = order_id_for("card_1", "buyer-token-0001", "tap_key_0001")

    assert first == again
    assert re.fullmatch(r"ord_[a-z2-7]{24}", first)


@pytest.mark.parametrize("card, buyer, key", [
    ("card_2", "buyer-token-0001", "tap_key_0001"),
    ("card_1", "buyer-token-0002", "tap_key_0001"),
    ("card_1", "buyer-token-0001", "tap_key_0002"),
])
def test_a_different_card_buyer_or_key_names_a_different_order(card, buyer, key):
    assert order_id_for(card, buyer, key) != order_id_for("card_1", "buyer-token-0001", "tap_key_0001")


def test_parts_cannot_be_shifted_between_fields_to_collide():
    assert order_id_for("card_1", "ab", "c") != order_id_for("card_1", "a", "bc")


def test_the_order_token_opens_only_its_own_order():
    token = order_token(SECRET, "ord_aaa")

    assert re.fullmatch(r"[a-z2-7]{32}", token)
    assert token_matches(SECRET, "ord_aaa", token)
    assert not token_matches(SECRET, "ord_bbb", token)
    assert not token_matches("another-stage-secret", "ord_aaa", token)


@pytest.mark.parametrize("token", [None, "", "x" * 32])
def test_a_missing_or_wrong_token_does_not_match(token):
    assert not token_matches(SECRET, "ord_aaa", token)


def test_a_token_differs_per_order_and_per_secret():
    assert order_token(SECRET, "ord_aaa") != order_token(SECRET, "ord_bbb")
    assert order_token(SECRET, "ord_aaa") != order_token("other", "ord_aaa")


@pytest.mark.parametrize("token", ["é" * 32, 12345, ["x"]], ids=["non-ascii", "int", "list"])
def test_a_token_of_another_kind_does_not_match(token):
    assert token_matches(SECRET, "ord_aaa", token) is False


def test_referral_codes_are_short_stable_and_per_order():
    code = referral_code_for("ord_aaa")

    assert code == referral_code_for("ord_aaa")
    assert code != referral_code_for("ord_bbb")
    assert re.fullmatch(r"[a-z2-7]{10}", code)
