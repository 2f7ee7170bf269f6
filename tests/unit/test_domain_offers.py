"""The rules of offers without I/O: the one function that prices an order, codes, compare-at prices,
which orders hold a redemption, and who may review."""
import pytest

from chalicelib.domain import (
    CODE, REFERRAL, AlreadyReviewed, Code, CodeExpired, CodeInvalid, CodeUsedUp, Discount, InvalidRequest,
    NotReviewable, best_discount, check_code_usable, check_reviewable, compare_at_from, holds_redemption,
    minimum_charge, new_code_from_request, normalise_code, price_order,
)

NOW = 1_900_000_000


@pytest.mark.parametrize("unit, quantity, currency, discount, parts", [
    (1800, 2, "EUR", None, (3600, 0, 3600)),
    (1800, 1, "EUR", Discount(CODE, percent_off=10), (1800, 180, 1620)),
    (999, 1, "EUR", Discount(CODE, percent_off=15), (999, 149, 850)),        # the saving rounds down
    (1800, 3, "EUR", Discount(CODE, amount_off=500), (5400, 500, 4900)),     # off the order, not per unit
    (1800, 1, "EUR", Discount(CODE, amount_off=5000), (1800, 1750, 50)),     # Stripe's minimum
    (1800, 1, "EUR", Discount(CODE, percent_off=100), (1800, 1750, 50)),
    (1800, 1, "GBP", Discount(CODE, percent_off=100), (1800, 1770, 30)),
    (500, 1, "JPY", Discount(CODE, percent_off=100), (500, 450, 50)),
    (30, 1, "EUR", Discount(CODE, percent_off=50), (30, 0, 30)),             # already below the minimum
    (1800, 1, "XYZ", Discount(CODE, percent_off=100), (1800, 1750, 50)),     # a currency not listed
])
def test_price_order(unit, quantity, currency, discount, parts):
    assert price_order(unit, quantity, currency, discount).parts == parts


def test_the_better_offer_wins_and_a_tie_goes_to_the_first():
    ten, fifteen = Discount(CODE, percent_off=10, code="TEN"), Discount(REFERRAL, percent_off=15)
    assert best_discount(1800, 1, "EUR", ten, fifteen) is fifteen
    assert best_discount(1800, 1, "EUR", Discount(CODE, amount_off=270), fifteen).kind == CODE
    assert best_discount(1800, 1, "EUR", None, None) is None
    assert best_discount(30, 1, "EUR", ten) is None  # saves nothing: no redemption spent
    assert minimum_charge("usd") == 50


def test_compare_at():
    assert compare_at_from(None, 1800) is None
    assert compare_at_from({"amount": 1801}, 1800) == 1801
    for bad in ({"amount": 1800}, {"amount": True}, [], {"amount": 100_000_000}):
        with pytest.raises(InvalidRequest):
            compare_at_from(bad, 1800)


def test_codes_are_compared_in_upper_case_and_checked_for_use():
    assert normalise_code(" spring-10_a ") == "SPRING-10_A"
    assert normalise_code("no") is None and normalise_code("été10") is None and normalise_code(None) is None
    code = new_code_from_request({"code": "vip", "percent_off": 20, "max_redemptions": 1,
                                  "ends_at": "2031-01-01T00:00:00Z"}, "card_1", NOW - 10)
    assert (code.code, code.percent_off, code.max_redemptions) == ("VIP", 20, 1)
    assert check_code_usable(code, NOW) is code
    with pytest.raises(CodeInvalid):
        check_code_usable(None, NOW)
    with pytest.raises(CodeInvalid):
        check_code_usable(Code("card_1", "X", percent_off=5, starts_at=NOW + 1), NOW)
    with pytest.raises(CodeInvalid):
        check_code_usable(Code("card_1", "X", percent_off=5, deleted=True), NOW)
    with pytest.raises(CodeExpired):
        check_code_usable(Code("card_1", "X", percent_off=5, ends_at=NOW), NOW)
    with pytest.raises(CodeUsedUp):
        check_code_usable(Code("card_1", "X", percent_off=5, max_redemptions=3, redeemed=3), NOW)


@pytest.mark.parametrize("status, reason, holds", [
    ("held", None, True), ("paid", None, True), ("expired", "hold_expired", False), ("canceled", None, False),
    ("refunded", "refunded_by_seller", False), ("refunded", "refunded_by_seller_not_restocked", True),
    ("refunded", "sold_out_after_hold", False),
])
def test_which_orders_hold_a_redemption(status, reason, holds):
    assert holds_redemption(status, CODE, "VIP", reason) is holds
    assert holds_redemption(status, REFERRAL, None, reason) is False


def test_who_may_review():
    check_reviewable("paid", fulfilled=False, ships=False, reviewed=False)
    check_reviewable("paid", fulfilled=True, ships=True, reviewed=False)
    with pytest.raises(NotReviewable):
        check_reviewable("paid", fulfilled=False, ships=True, reviewed=False)
    with pytest.raises(NotReviewable):
        check_reviewable("refunded", fulfilled=True, ships=False, reviewed=False)
    with pytest.raises(AlreadyReviewed):
        check_reviewable("paid", fulfilled=True, ships=False, reviewed=True)
