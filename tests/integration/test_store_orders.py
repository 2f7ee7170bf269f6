"""Holds, payments and releases: every change of stock is one conditional DynamoDB transaction."""
import time

import pytest

from chalicelib.store import cards, expiry, orders, pay_calls, stock
from chalicelib.domain import CANCELED, EXPIRED, HELD, PAID, LimitReached, Order, SoldOut, order_id_for
from chalicelib.store.orders import EventAlreadyApplied, OrderExists, StaleOrder

_keys = iter(range(1, 1_000_000))


def new_order(card, quantity: int = 1, buyer: str = "buyer-token-0001", hold_seconds: int | None = None) -> Order:
    now = int(time.time())
    return Order(
        order_id=order_id_for(card.card_id, buyer, f"key-{next(_keys):08d}"), card_id=card.card_id,
        seller_id=card.seller_id, buyer=buyer, quantity=quantity, amount=card.price_amount * quantity,
        currency=card.currency, status=HELD, created_at=now,
        expires_at=now + (card.hold_seconds if hold_seconds is None else hold_seconds),
    )


def level(card) -> tuple[int, int, int]:
    now = stock.level(cards.get(card.card_id))
    return now.available, now.held, now.sold


def status(order) -> str:
    return orders.get(order.order_id).status


# --- hold ---------------------------------------------------------------------------------


def test_a_hold_takes_the_units_off_sale_and_stores_a_held_order(make_card):
    card = make_card(stock=5)
    order = new_order(card, quantity=2)

    orders.hold(card, order)

    assert level(card) == (3, 2, 0)
    stored = orders.get(order.order_id)
    assert stored.status == HELD
    assert stored.quantity == 2
    assert sum(stored.stock_take.values()) == 2


def test_a_hold_for_more_than_is_left_is_sold_out_and_leaves_stock_unchanged(make_card):
    card = make_card(stock=3)
    orders.hold(card, new_order(card, quantity=2))
    too_many = new_order(card, quantity=2, buyer="buyer-token-0002")

    with pytest.raises(SoldOut):
        orders.hold(card, too_many)

    assert level(card) == (1, 2, 0)
    assert orders.get(too_many.order_id) is None


def test_stock_never_oversells(make_card):
    card = make_card(stock=7, shard_count=3)
    outcomes = []
    for n in range(10):
        try:
            orders.hold(card, new_order(card, buyer=f"buyer-token-{n:04d}"))
            outcomes.append("held")
        except SoldOut:
            outcomes.append("sold_out")

    assert outcomes.count("held") == 7
    assert outcomes[7:] == ["sold_out"] * 3
    assert level(card) == (0, 7, 0)


def test_a_hold_no_single_shard_can_fill_takes_from_several(make_card):
    card = make_card(stock=6, shard_count=3)  # 2 units per shard

    order = orders.hold(card, new_order(card, quantity=5))

    assert sum(order.stock_take.values()) == 5
    assert len(order.stock_take) == 3
    assert level(card) == (1, 5, 0)


def test_the_same_order_id_cannot_hold_twice(make_card):
    card = make_card(stock=5)
    order = new_order(card)
    orders.hold(card, order)

    with pytest.raises(OrderExists):
        orders.hold(card, order)

    assert level(card) == (4, 1, 0)


# --- the per-buyer limit, in the same transaction ---------------------------------------------


def test_the_per_buyer_limit_counts_across_orders(make_card):
    card = make_card(stock=10, limit_per_buyer=2)
    orders.hold(card, new_order(card))
    orders.hold(card, new_order(card))

    with pytest.raises(LimitReached) as caught:
        orders.hold(card, new_order(card))

    assert caught.value.code == "limit_reached"
    assert level(card) == (8, 2, 0)  # the refused hold took nothing


def test_the_limit_is_per_buyer(make_card):
    card = make_card(stock=10, limit_per_buyer=1)
    orders.hold(card, new_order(card, buyer="buyer-token-0001"))

    orders.hold(card, new_order(card, buyer="buyer-token-0002"))

    assert level(card) == (8, 2, 0)


def test_a_released_hold_gives_the_buyer_their_limit_back(make_card):
    card = make_card(stock=10, limit_per_buyer=2)
    first = orders.hold(card, new_order(card, quantity=2))
    with pytest.raises(LimitReached):
        orders.hold(card, new_order(card))

    orders.release(first, CANCELED, "payment_failed")

    orders.hold(card, new_order(card, quantity=2))
    assert level(card) == (8, 2, 0)


# --- held -> paid ---------------------------------------------------------------------------


def test_paying_turns_held_units_into_sold_ones(make_card):
    card = make_card(stock=5)
    order = orders.hold(card, new_order(card, quantity=2))

    orders.mark_paid(order, "pi_1", "refcode123", "evt_1")

    assert level(card) == (3, 0, 2)
    stored = orders.get(order.order_id)
    assert stored.status == PAID
    assert stored.referral_code == "refcode123"
    assert stored.payment_intent_id == "pi_1"


def test_the_same_payment_event_applied_twice_is_refused_and_changes_nothing(make_card):
    card = make_card(stock=5)
    order = orders.hold(card, new_order(card))
    orders.mark_paid(order, "pi_1", "refcode123", "evt_1")

    with pytest.raises(EventAlreadyApplied):
        orders.mark_paid(order, "pi_1", "refcode123", "evt_1")

    assert level(card) == (4, 0, 1)
    assert orders.event_seen("evt_1")


def test_paying_an_order_that_is_no_longer_held_is_stale(make_card):
    card = make_card(stock=5)
    order = orders.hold(card, new_order(card))
    orders.mark_paid(order, "pi_1", "refcode123", "evt_1")

    with pytest.raises(StaleOrder):
        orders.mark_paid(order, "pi_2", "refcode123", "evt_2")

    assert level(card) == (4, 0, 1)
    assert not orders.event_seen("evt_2")


# --- a pay call's claim on the order ---------------------------------------------------------------


def test_a_pay_call_claims_the_order_and_each_claim_is_a_new_attempt(make_card):
    card = make_card(stock=5)
    order = orders.hold(card, new_order(card))
    now = int(time.time())

    assert pay_calls.start_payment(order, now, now + 50) == 1
    assert orders.get(order.order_id).paying_until == now + 50
    pay_calls.end_payment(order.order_id)
    assert orders.get(order.order_id).paying_until is None

    assert pay_calls.start_payment(order, now, now + 50) == 2  # a new Stripe idempotency key


def test_a_second_pay_call_is_refused_while_the_first_has_the_order(make_card):
    card = make_card(stock=5)
    order = orders.hold(card, new_order(card))
    now = int(time.time())
    pay_calls.start_payment(order, now, now + 50)

    with pytest.raises(StaleOrder):
        pay_calls.start_payment(order, now + 10, now + 60)

    assert pay_calls.start_payment(order, now + 50, now + 100) == 2  # the first call's claim ran out (it died)


@pytest.mark.parametrize("case", ["paid", "released", "ran_out"])
def test_only_a_held_order_with_time_left_can_be_claimed(make_card, case):
    card = make_card(stock=5)
    order = orders.hold(card, new_order(card, hold_seconds=60))
    now = int(time.time())
    if case == "paid":
        orders.mark_paid(order, "pi_1", "refcode123", "evt_1")
    elif case == "released":
        orders.release(order, EXPIRED, "hold_expired")
    else:
        now = order.expires_at

    with pytest.raises(StaleOrder):
        pay_calls.start_payment(order, now, now + 50)
    assert orders.get(order.order_id).payment_attempt == 0


def test_the_pay_calls_intent_becomes_the_orders_and_a_client_secret_only_while_one_is_needed(make_card):
    card = make_card(stock=5)
    order = orders.hold(card, new_order(card))
    now = int(time.time())
    pay_calls.start_payment(order, now, now + 50)

    pay_calls.end_payment(order.order_id, "pi_3ds", "pi_3ds_secret_x")
    stored = orders.get(order.order_id)
    assert (stored.payment_intent_id, stored.client_secret, stored.paying_until) == ("pi_3ds", "pi_3ds_secret_x", None)

    pay_calls.start_payment(order, now, now + 50)
    pay_calls.end_payment(order.order_id, "pi_declined")
    stored = orders.get(order.order_id)
    assert (stored.payment_intent_id, stored.client_secret) == ("pi_declined", None)

    pay_calls.start_payment(order, now, now + 50)
    pay_calls.end_payment(order.order_id)  # Stripe was busy: no intent was made, the last one stays
    assert orders.get(order.order_id).payment_intent_id == "pi_declined"
    assert level(card) == (4, 1, 0)


def test_paying_ends_the_pay_calls_claim(make_card):
    card = make_card(stock=5)
    order = orders.hold(card, new_order(card))
    now = int(time.time())
    pay_calls.start_payment(order, now, now + 50)

    orders.mark_paid(order, "pi_1", "refcode123")

    stored = orders.get(order.order_id)
    assert (stored.status, stored.paying_until, stored.payment_intent_id) == (PAID, None, "pi_1")


# --- held -> expired / canceled --------------------------------------------------------------


def test_a_release_puts_the_units_back_on_sale(make_card):
    card = make_card(stock=5)
    order = orders.hold(card, new_order(card, quantity=3))

    orders.release(order, EXPIRED, "hold_expired")

    assert level(card) == (5, 0, 0)
    stored = orders.get(order.order_id)
    assert stored.status == EXPIRED
    assert stored.status_reason == "hold_expired"


def test_an_order_is_released_only_once(make_card):
    card = make_card(stock=5)
    order = orders.hold(card, new_order(card, quantity=3))
    orders.release(order, EXPIRED, "hold_expired")

    with pytest.raises(StaleOrder):
        orders.release(order, CANCELED, "payment_failed")

    assert level(card) == (5, 0, 0)
    assert status(order) == EXPIRED


def test_a_paid_order_cannot_be_released(make_card):
    card = make_card(stock=5)
    order = orders.hold(card, new_order(card))
    orders.mark_paid(order, "pi_1", "refcode123", "evt_1")

    with pytest.raises(StaleOrder):
        orders.release(order, EXPIRED, "hold_expired")

    assert level(card) == (4, 0, 1)


# --- money that arrives after the hold ended ---------------------------------------------------


def test_a_late_payment_takes_stock_again_when_some_is_left(make_card):
    card = make_card(stock=5, limit_per_buyer=1)
    order = orders.hold(card, new_order(card))
    orders.release(order, EXPIRED, "hold_expired")

    assert orders.retake_for_late_payment(order, cards.get(order.card_id), "pi_late", "refcode123", "evt_late") is None

    assert level(card) == (4, 0, 1)
    stored = orders.get(order.order_id)
    assert stored.status == PAID
    assert stored.status_reason == "paid_after_hold_ended"
    assert stored.payment_intent_id == "pi_late"
    with pytest.raises(LimitReached):  # the bought unit counts against the buyer again
        orders.hold(card, new_order(card))


def test_a_late_payment_gets_nothing_when_the_stock_is_gone(make_card):
    card = make_card(stock=1)
    late = orders.hold(card, new_order(card, buyer="buyer-token-0001"))
    orders.release(late, EXPIRED, "hold_expired")
    orders.hold(card, new_order(card, buyer="buyer-token-0002"))

    assert orders.retake_for_late_payment(late, cards.get(late.card_id), "pi_late", "refcode123", "evt_late") == "sold_out_after_hold"

    assert level(card) == (0, 1, 0)
    assert status(late) == EXPIRED


# --- the sweeper's index -----------------------------------------------------------------------


def expired_hold_ids(now: int) -> list[str]:
    return [order.order_id for page in expiry.expired_holds(now) for order in page]


def test_the_sweepers_index_finds_only_held_orders_past_their_expiry(make_card):
    card = make_card(stock=10)
    due = orders.hold(card, new_order(card, hold_seconds=60))
    not_yet = orders.hold(card, new_order(card, hold_seconds=600))
    paid = orders.hold(card, new_order(card, hold_seconds=60))
    orders.mark_paid(paid, "pi_1", "refcode123", "evt_1")
    released = orders.hold(card, new_order(card, hold_seconds=60))
    orders.release(released, CANCELED, "payment_failed")

    found = expired_hold_ids(int(time.time()) + 120)

    assert found == [due.order_id]
    assert not_yet.order_id in expired_hold_ids(int(time.time()) + 601)


def test_a_stale_cached_level_is_sold_out_not_a_limit(make_card, buy, fake_stripe):
    """Another container took the last unit after this one cached the level (no limit on the card)."""
    from chalicelib.domain import SoldOut
    from chalicelib.store.models import StockShardModel

    card = make_card(stock=1, shard_count=1)
    stock.level(cards.get(card.card_id))  # this container now believes 1 is left
    StockShardModel(StockShardModel.key(card.card_id, 0)).update(actions=[StockShardModel.available.set(0),
                                                     StockShardModel.held.set(1)])

    with pytest.raises(SoldOut):
        buy(card, buyer="buyer-token-0002")
