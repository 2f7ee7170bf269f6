"""A code's redemption moves with its order in the same transaction: taken by the hold, given back
by every release of a hold (expired, canceled, refunded unpaid, singly or batched), taken again by
a payment that arrives after its hold ended, or refused (and refunded) when none is left."""
import time

import pytest

from chalicelib import audit
from chalicelib.domain import CANCELED, CODE, EXPIRED, HELD, REFUNDED, CodeUsedUp, Order, new_code_from_request, order_id_for
from chalicelib.store import cards, codes, expiry, orders

_keys = iter(range(1, 1_000_000))


def with_code(card, code, buyer="buyer-token-0001") -> Order:
    now = int(time.time())
    return Order(order_id=order_id_for(card.card_id, buyer, f"key-{next(_keys):08d}"), card_id=card.card_id,
                 seller_id=card.seller_id, buyer=buyer, quantity=1, amount=card.price_amount - 100,
                 discount_amount=100, code=code.code, discount_kind=CODE, currency=card.currency, status=HELD,
                 created_at=now, expires_at=now + card.hold_seconds)


def new_code(card, **terms):
    code = new_code_from_request({"code": "SAVE1", "amount_off": 100, **terms}, card.card_id, int(time.time()))
    codes.create(code)
    return code


def redeemed(card) -> int:
    return codes.get(card.card_id, "SAVE1", consistent=True).redeemed


@pytest.fixture
def card(make_card):
    return make_card(stock=5)


def assert_clean(card):
    report = audit.run(card.card_id)
    assert report.clean, report.problems


@pytest.mark.parametrize("to_status", [EXPIRED, CANCELED, REFUNDED])
def test_each_release_of_a_hold_gives_its_redemption_back(card, to_status):
    code = new_code(card, max_redemptions=1, per_buyer=1)
    order = orders.hold(card, with_code(card, code), code=code)
    assert redeemed(card) == 1
    with pytest.raises(CodeUsedUp):
        orders.hold(card, with_code(card, code, buyer="buyer-token-0002"), code=code)

    orders.release(order, to_status, "test", refund_id="re_1" if to_status == REFUNDED else None)

    assert redeemed(card) == 0
    assert codes.buyer_counts(card.card_id) == {("SAVE1", "buyer-token-0001"): 0}
    assert_clean(card)


def test_a_batched_release_sums_the_redemptions_of_one_code(card):
    code = new_code(card)
    held = [orders.hold(card, with_code(card, code, buyer=f"buyer-token-000{n}"), code=code) for n in range(3)]
    held.append(orders.hold(card, with_code(card, code, buyer="buyer-token-0000"), code=code))  # a buyer twice
    assert redeemed(card) == 4

    (batch,) = expiry.batches(held)
    assert len(expiry.expire(batch)) == 4

    assert redeemed(card) == 0 and set(codes.buyer_counts(card.card_id).values()) == {0}
    assert_clean(card)


def test_a_late_payment_takes_its_redemption_again(card):
    code = new_code(card, max_redemptions=1)
    order = orders.hold(card, with_code(card, code), code=code)
    orders.release(order, EXPIRED, "hold_expired")

    assert orders.retake_for_late_payment(order, cards.get(card.card_id), "pi_late", "ref1234567", "evt_late") is None

    assert redeemed(card) == 1
    assert_clean(card)


def test_a_late_payment_whose_code_was_used_meanwhile_is_refused(card):
    code = new_code(card, max_redemptions=1)
    late = orders.hold(card, with_code(card, code), code=code)
    orders.release(late, EXPIRED, "hold_expired")
    orders.hold(card, with_code(card, code, buyer="buyer-token-0002"), code=code)

    why = orders.retake_for_late_payment(late, cards.get(card.card_id), "pi_late", "ref1234567", "evt_late")

    assert why == "code_used_up_after_hold"
    assert orders.get(late.order_id).status == EXPIRED and redeemed(card) == 1
    assert_clean(card)


def test_the_audit_sees_a_count_that_does_not_match_the_orders(card):
    code = new_code(card)
    orders.hold(card, with_code(card, code), code=code)
    from chalicelib.store.offer_models import CodeModel
    CodeModel(card.card_id, "c#SAVE1").update(actions=[CodeModel.redeemed.add(1)])

    assert audit.run(card.card_id).problems == ["code SAVE1: redeemed 2, orders holding it 1"]
