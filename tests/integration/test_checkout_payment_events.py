"""What each verified Stripe event does to an order (payment_events.apply_payment_event, below the route).

The route itself (signature checking included) is covered in tests/functional/.
"""
import time

from chalicelib import payment_events, payments
from chalicelib.store import cards, orders, stock
from chalicelib.payments import PAYMENT_CANCELED, PAYMENT_FAILED, PAYMENT_SUCCEEDED, PaymentEvent


def event(kind: str, order: dict, event_id: str = "evt_1", intent_id: str | None = None) -> PaymentEvent:
    intent = intent_id or orders.get(order["order_id"]).payment_intent_id
    return PaymentEvent(event_id=event_id, type=kind, payment_intent_id=intent, order_id=order["order_id"])


def level(card) -> tuple[int, int, int]:
    now = stock.level(cards.get(card.card_id))
    return now.available, now.held, now.sold


def stored(order: dict):
    return orders.get(order["order_id"])


def expire_now(card) -> None:
    assert payment_events.expire_holds(at=int(time.time()) + card.hold_seconds + 1) >= 1


def test_a_successful_payment_marks_the_order_paid_and_the_unit_sold(make_card, buy):
    card = make_card(stock=3)
    order = buy(card)

    assert payment_events.apply_payment_event(event(PAYMENT_SUCCEEDED, order)) == "paid"

    assert stored(order).status == "paid"
    assert level(card) == (2, 0, 1)


def test_a_redelivered_event_changes_nothing_the_second_time(make_card, buy):
    card = make_card(stock=3)
    order = buy(card)
    payment_events.apply_payment_event(event(PAYMENT_SUCCEEDED, order))

    assert payment_events.apply_payment_event(event(PAYMENT_SUCCEEDED, order)) == "duplicate"

    assert level(card) == (2, 0, 1)


def test_another_success_for_a_paid_order_is_ignored(make_card, buy):
    card = make_card(stock=3)
    order = buy(card)
    payment_events.apply_payment_event(event(PAYMENT_SUCCEEDED, order, "evt_1"))

    assert payment_events.apply_payment_event(event(PAYMENT_SUCCEEDED, order, "evt_2")) == "ignored_paid"

    assert level(card) == (2, 0, 1)
    assert orders.event_seen("evt_2")


def test_a_failed_payment_releases_the_stock_and_cancels_the_intent(make_card, buy, fake_stripe):
    card = make_card(stock=3)
    order = buy(card)
    intent = stored(order).payment_intent_id

    assert payment_events.apply_payment_event(event(PAYMENT_FAILED, order)) == "canceled"

    assert stored(order).status == "canceled"
    assert stored(order).status_reason == "payment_failed"
    assert level(card) == (3, 0, 0)
    assert fake_stripe.calls_to("cancel_payment_intent") == [(intent,)]


def test_a_canceled_intent_releases_the_stock(make_card, buy, fake_stripe):
    card = make_card(stock=3)
    order = buy(card)

    assert payment_events.apply_payment_event(event(PAYMENT_CANCELED, order)) == "canceled"

    assert stored(order).status_reason == "payment_canceled"
    assert level(card) == (3, 0, 0)
    assert fake_stripe.calls_to("cancel_payment_intent") == []  # it is canceled already


def test_a_late_payment_is_kept_when_stock_is_left(make_card, buy, fake_stripe):
    card = make_card(stock=3)
    order = buy(card)
    expire_now(card)
    assert stored(order).status == "expired"

    assert payment_events.apply_payment_event(event(PAYMENT_SUCCEEDED, order)) == "paid_late"

    assert stored(order).status == "paid"
    assert level(card) == (2, 0, 1)
    assert fake_stripe.calls_to("refund") == []


def test_a_late_payment_is_refunded_when_the_stock_is_gone(make_card, buy, fake_stripe):
    card = make_card(stock=1)
    late = buy(card, buyer="buyer-token-0001")
    expire_now(card)
    other = buy(card, buyer="buyer-token-0002")
    payment_events.apply_payment_event(event(PAYMENT_SUCCEEDED, other, "evt_other"))
    late_intent = stored(late).payment_intent_id

    assert payment_events.apply_payment_event(event(PAYMENT_SUCCEEDED, late, "evt_late")) == "refunded"

    assert stored(late).status == "refunded"
    assert fake_stripe.calls_to("refund") == [(late_intent, late["order_id"])]
    assert level(card) == (0, 0, 1)


def test_a_payer_past_the_limit_under_another_buyer_token_is_refunded(make_card, buy, fake_stripe):
    """The per-buyer limit also counts the card that paid, so a fresh buyer token does not get around it."""
    card = make_card(stock=5, limit_per_buyer=1)
    fake_stripe.payers = {"pm_first": ("card:fp_same",), "pm_second": ("card:fp_same",)}
    first = buy(card, buyer="buyer-token-0001")
    second = buy(card, buyer="buyer-token-0002")
    paid = PaymentEvent("evt_1", PAYMENT_SUCCEEDED, stored(first).payment_intent_id, first["order_id"], "pm_first")
    assert payment_events.apply_payment_event(paid) == "paid"
    second_intent = stored(second).payment_intent_id

    outcome = payment_events.apply_payment_event(
        PaymentEvent("evt_2", PAYMENT_SUCCEEDED, second_intent, second["order_id"], "pm_second"))

    assert outcome == "refunded"
    assert stored(second).status == "refunded"
    assert stored(second).status_reason == "payer_limit_reached"
    assert fake_stripe.calls_to("refund") == [(second_intent, second["order_id"])]
    assert level(card) == (4, 0, 1)


def test_another_card_paying_within_the_limit_is_paid(make_card, buy, fake_stripe):
    card = make_card(stock=5, limit_per_buyer=1)
    fake_stripe.payers = {"pm_first": ("card:fp_one",), "pm_second": ("card:fp_two",)}
    first, second = buy(card, buyer="buyer-token-0001"), buy(card, buyer="buyer-token-0002")

    for n, (order, method) in enumerate([(first, "pm_first"), (second, "pm_second")]):
        event = PaymentEvent(f"evt_{n}", PAYMENT_SUCCEEDED, stored(order).payment_intent_id, order["order_id"], method)
        assert payment_events.apply_payment_event(event) == "paid"

    assert level(card) == (3, 0, 2)


def test_an_event_for_an_unknown_order_is_not_ours(aws, fake_stripe):
    unknown = PaymentEvent("evt_x", PAYMENT_SUCCEEDED, "pi_x", "ord_unknown")

    assert payment_events.apply_payment_event(unknown) == "not_ours"
    assert payment_events.apply_payment_event(unknown) == "duplicate"


def test_an_event_about_another_intent_does_not_touch_the_order(make_card, buy):
    card = make_card(stock=3)
    order = buy(card)

    outcome = payment_events.apply_payment_event(event(PAYMENT_SUCCEEDED, order, intent_id="pi_someone_else"))

    assert outcome == "not_ours"
    assert stored(order).status == "held"
    assert level(card) == (2, 1, 0)


def test_handled_event_types():
    assert set(payments.HANDLED_EVENTS) == {PAYMENT_SUCCEEDED, PAYMENT_FAILED, PAYMENT_CANCELED}


def test_after_a_busy_sale_every_unit_is_accounted_for(make_card, buy, fake_stripe):
    """Holds, a payment, a decline, an expiry paid late, and a late payment refunded: the audit
    (available + held + sold == stock, counters match orders) finds nothing wrong."""
    from chalicelib import audit, payment_events

    card = make_card(stock=3, shard_count=2, limit_per_buyer=2)
    paid_now = buy(card, buyer="buyer-token-0001")
    payment_events.apply_payment_event(event(PAYMENT_SUCCEEDED, paid_now, "evt_a"))
    declined = buy(card, buyer="buyer-token-0002")
    payment_events.apply_payment_event(event(PAYMENT_FAILED, declined, "evt_b"))
    late = buy(card, quantity=2, buyer="buyer-token-0003")
    expire_now(card)
    still_held = buy(card, buyer="buyer-token-0004")
    payment_events.apply_payment_event(event(PAYMENT_SUCCEEDED, late, "evt_c"))  # 2 wanted, 1 left: refunded

    report = audit.run(card.card_id)

    assert report.problems == []
    assert (report.available, report.held, report.sold) == (1, 1, 1)
    assert stored(late).status == "refunded"
    assert stored(still_held).status == "held"
