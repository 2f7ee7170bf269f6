"""What each verified Stripe event does to an order (payment_events.apply_payment_event, below the route).

Holds open no PaymentIntent: an order's intent comes from its pay call (the `pay` fixture), and the
webhook settles what that call left open (3-D Secure, a bank debit) or comes second and changes
nothing. The route itself (signature checking included) is covered in tests/functional/.
"""
import time

from chalicelib import payment_events, payments
from chalicelib.store import cards, orders, stock
from chalicelib.payments import PAYMENT_CANCELED, PAYMENT_FAILED, PAYMENT_SUCCEEDED, PaymentEvent
from fakes import BANK_DEBIT, CARD_3DS, CARD_OK


def event(kind: str, order: dict, event_id: str = "evt_1", intent_id: str | None = None,
          method: str | None = None, amount: int | None = None, currency: str | None = None) -> PaymentEvent:
    """Stripe's event about the order's intent (or intent_id); a success reports the order's own
    amount and currency, in Stripe's lower case, unless told otherwise."""
    stored_order = orders.get(order["order_id"])
    intent = intent_id or stored_order.payment_intent_id
    assert intent, "the order has no PaymentIntent yet: pay first"
    received = (stored_order.amount if amount is None else amount) if kind == PAYMENT_SUCCEEDED else 0
    return PaymentEvent(event_id=event_id, type=kind, payment_intent_id=intent, order_id=order["order_id"],
                        payment_method_id=method, amount_received=received,
                        currency=currency or stored_order.currency.lower())


def level(card) -> tuple[int, int, int]:
    now = stock.level(cards.get(card.card_id))
    return now.available, now.held, now.sold


def stored(order: dict):
    return orders.get(order["order_id"])


def expire_now(card) -> int:
    return payment_events.expire_holds(at=int(time.time()) + card.hold_seconds + 1)


def open_payment(pay, fake_stripe, order: dict, method: str = CARD_3DS) -> str:
    """A pay call Stripe answers without the money yet (3-D Secure, a bank debit): its intent."""
    answer = pay(order, method)
    assert answer["status"] in ("requires_action", "processing"), answer
    assert stored(order).status == "held"
    return stored(order).payment_intent_id


# --- a payment the pay call left open, settled by its webhook -------------------------------------


def test_a_successful_payment_marks_the_order_paid_and_the_unit_sold(make_card, buy, pay, fake_stripe):
    card = make_card(stock=3)
    order = buy(card)
    intent = open_payment(pay, fake_stripe, order)
    fake_stripe.complete(intent)

    assert payment_events.apply_payment_event(event(PAYMENT_SUCCEEDED, order)) == "paid"

    assert stored(order).status == "paid"
    assert stored(order).payment_intent_id == intent
    assert level(card) == (2, 0, 1)


def test_a_redelivered_event_changes_nothing_the_second_time(make_card, buy, pay, fake_stripe):
    card = make_card(stock=3)
    order = buy(card)
    open_payment(pay, fake_stripe, order)
    payment_events.apply_payment_event(event(PAYMENT_SUCCEEDED, order))

    assert payment_events.apply_payment_event(event(PAYMENT_SUCCEEDED, order)) == "duplicate"

    assert level(card) == (2, 0, 1)


def test_the_webhook_of_a_payment_the_pay_call_settled_changes_nothing(make_card, buy, pay, fake_stripe):
    card = make_card(stock=3)
    order = buy(card)
    assert pay(order, CARD_OK)["status"] == "succeeded"
    assert stored(order).status == "paid"

    assert payment_events.apply_payment_event(event(PAYMENT_SUCCEEDED, order, "evt_2")) == "ignored_paid"

    assert level(card) == (2, 0, 1)
    assert orders.event_seen("evt_2")
    assert fake_stripe.calls_to("refund") == []


def test_a_webhook_arriving_before_the_pay_call_answers_settles_the_order_once(
        make_card, buy, pay, fake_stripe, monkeypatch):
    """Stripe's webhook can beat the pay call's own answer: whichever is second changes nothing."""
    card = make_card(stock=3)
    order = buy(card)
    fake_pay = payments.pay

    def pay_and_webhook_first(*args):
        result = fake_pay(*args)
        assert payment_events.apply_payment_event(
            fake_stripe.event(PAYMENT_SUCCEEDED, result.payment_intent_id, "evt_fast")) == "paid"
        return result

    monkeypatch.setattr(payments, "pay", pay_and_webhook_first)

    answer = pay(order, CARD_OK)

    assert answer["status"] == "succeeded"
    assert answer["order"]["status"] == "paid"
    assert level(card) == (2, 0, 1)
    assert stored(order).payment_intent_id == fake_stripe.charged()[0]
    assert stored(order).paying_until is None


def test_a_second_succeeded_intent_for_a_paid_order_is_refunded(make_card, buy, pay, fake_stripe):
    """The buyer left 3-D Secure open, paid with another card, then finished 3-D Secure too."""
    card = make_card(stock=3)
    order = buy(card)
    first = open_payment(pay, fake_stripe, order)
    assert pay(order, CARD_OK)["status"] == "succeeded"
    second = stored(order).payment_intent_id
    assert fake_stripe.complete(first)

    assert payment_events.apply_payment_event(event(PAYMENT_SUCCEEDED, order, "evt_late", first)) == "refunded_duplicate"
    assert payment_events.apply_payment_event(event(PAYMENT_SUCCEEDED, order, "evt_late", first)) == "duplicate"

    assert fake_stripe.calls_to("refund") == [(first, order["order_id"])]
    assert stored(order).status == "paid"
    assert stored(order).payment_intent_id == second
    assert level(card) == (2, 0, 1)


# --- declines and cancellations --------------------------------------------------------------------


def test_a_declined_payment_keeps_the_hold(make_card, buy, pay, fake_stripe):
    """3-D Secure failed: the buyer may try another card while the hold lasts."""
    card = make_card(stock=3)
    order = buy(card)
    open_payment(pay, fake_stripe, order)

    assert payment_events.apply_payment_event(event(PAYMENT_FAILED, order)) == "ignored_held"

    assert stored(order).status == "held"
    assert level(card) == (2, 1, 0)
    assert fake_stripe.calls_to("cancel_payment_intent") == []
    assert pay(order, CARD_OK)["status"] == "succeeded"
    assert level(card) == (2, 0, 1)


def test_a_canceled_intent_releases_the_stock(make_card, buy, pay, fake_stripe):
    card = make_card(stock=3)
    order = buy(card)
    open_payment(pay, fake_stripe, order)

    assert payment_events.apply_payment_event(event(PAYMENT_CANCELED, order)) == "canceled"

    assert stored(order).status_reason == "payment_canceled"
    assert level(card) == (3, 0, 0)
    assert fake_stripe.calls_to("cancel_payment_intent") == []  # it is canceled already


def test_a_canceled_earlier_intent_does_not_end_the_hold(make_card, buy, pay, fake_stripe):
    """Only the order's current intent speaks for it: a new attempt replaced the first one."""
    card = make_card(stock=3)
    order = buy(card)
    first = open_payment(pay, fake_stripe, order)
    second = open_payment(pay, fake_stripe, order)
    assert first != second

    assert payment_events.apply_payment_event(event(PAYMENT_CANCELED, order, intent_id=first)) == "ignored_held"

    assert stored(order).status == "held"
    assert level(card) == (2, 1, 0)


# --- money that arrives after the hold ended (an asynchronous method) ----------------------------------


def test_a_late_payment_is_kept_when_stock_is_left(make_card, buy, pay, fake_stripe):
    card = make_card(stock=3)
    order = buy(card)
    intent = open_payment(pay, fake_stripe, order, BANK_DEBIT)
    assert expire_now(card) == 1
    assert stored(order).status == "expired"
    assert fake_stripe.calls_to("cancel_payment_intent") == []  # no client secret: nothing a buyer can finish
    fake_stripe.complete(intent)

    assert payment_events.apply_payment_event(event(PAYMENT_SUCCEEDED, order)) == "paid_late"

    assert stored(order).status == "paid"
    assert level(card) == (2, 0, 1)
    assert fake_stripe.calls_to("refund") == []


def test_a_late_payment_is_refunded_when_the_stock_is_gone(make_card, buy, pay, fake_stripe):
    card = make_card(stock=1)
    late = buy(card, buyer="buyer-token-0001")
    late_intent = open_payment(pay, fake_stripe, late, BANK_DEBIT)
    expire_now(card)
    other = buy(card, buyer="buyer-token-0002")
    assert pay(other, CARD_OK)["status"] == "succeeded"
    fake_stripe.complete(late_intent)

    assert payment_events.apply_payment_event(event(PAYMENT_SUCCEEDED, late, "evt_late")) == "refunded"

    assert stored(late).status == "refunded"
    assert fake_stripe.calls_to("refund") == [(late_intent, late["order_id"])]
    assert level(card) == (0, 0, 1)


def test_two_late_payments_for_one_order_are_both_refunded_when_the_stock_is_gone(make_card, buy, pay, fake_stripe):
    """The buyer started a bank debit twice (a pay call retried after its answer was lost). Both
    clear after the hold ended and the unit was sold: the order gets neither, and neither payment
    is kept, whichever clears first."""
    card = make_card(stock=1)
    order = buy(card, buyer="buyer-token-0001")
    first = open_payment(pay, fake_stripe, order, BANK_DEBIT)
    second = open_payment(pay, fake_stripe, order, BANK_DEBIT)
    assert stored(order).payment_intent_id == second
    expire_now(card)
    other = buy(card, buyer="buyer-token-0002")
    assert pay(other, CARD_OK)["status"] == "succeeded"
    fake_stripe.complete(first)
    fake_stripe.complete(second)

    assert payment_events.apply_payment_event(event(PAYMENT_SUCCEEDED, order, "evt_first", first)) == "refunded"
    payment_events.apply_payment_event(event(PAYMENT_SUCCEEDED, order, "evt_second", second))

    assert stored(order).status == "refunded"
    assert fake_stripe.refunded() == {first, second}, "a payment was kept for an order that got no goods"
    assert level(card) == (0, 0, 1)


# --- the per-buyer limit also counts who paid ---------------------------------------------------------


def test_a_payer_past_the_limit_under_another_buyer_token_is_refunded(make_card, buy, pay, fake_stripe):
    """A bank debit started while the same card had bought nothing, then that card paid another
    order first: the debit's money goes back when it clears, and so do its units."""
    card = make_card(stock=5, limit_per_buyer=1)
    fake_stripe.payers = {CARD_OK: ("card:fp_same",), BANK_DEBIT: ("card:fp_same",)}
    first, second = buy(card, buyer="buyer-token-0001"), buy(card, buyer="buyer-token-0002")
    second_intent = open_payment(pay, fake_stripe, second, BANK_DEBIT)
    assert pay(first, CARD_OK)["status"] == "succeeded"
    fake_stripe.complete(second_intent)

    outcome = payment_events.apply_payment_event(event(PAYMENT_SUCCEEDED, second, "evt_2", method=BANK_DEBIT))

    assert outcome == "refunded"
    assert stored(second).status == "refunded"
    assert stored(second).status_reason == "payer_limit_reached"
    assert fake_stripe.calls_to("refund") == [(second_intent, second["order_id"])]
    assert level(card) == (4, 0, 1)


def test_another_card_paying_within_the_limit_is_paid(make_card, buy, pay, fake_stripe):
    card = make_card(stock=5, limit_per_buyer=1)
    fake_stripe.payers = {"pm_card_one": ("card:fp_one",), "pm_card_two": ("card:fp_two",)}
    first, second = buy(card, buyer="buyer-token-0001"), buy(card, buyer="buyer-token-0002")

    assert pay(first, "pm_card_one")["status"] == "succeeded"
    assert pay(second, "pm_card_two")["status"] == "succeeded"

    assert level(card) == (3, 0, 2)
    assert stored(second).payer_ids == ("card:fp_two",)


def test_a_payment_its_webhook_settles_keeps_who_paid(make_card, buy, pay, fake_stripe):
    card = make_card(stock=3)
    fake_stripe.payers = {CARD_3DS: ("card:fp_ada",)}
    order = buy(card)
    intent = open_payment(pay, fake_stripe, order)
    fake_stripe.complete(intent)

    assert payment_events.apply_payment_event(event(PAYMENT_SUCCEEDED, order, method=CARD_3DS)) == "paid"

    assert stored(order).payer_ids == ("card:fp_ada",)


def test_a_late_payment_by_a_payer_past_the_limit_is_refunded(make_card, buy, pay, fake_stripe):
    """A bank debit clears after its hold ended, and the same card meanwhile bought the limit
    under another buyer token: the units are not taken again, the money goes back."""
    card = make_card(stock=5, limit_per_buyer=1)
    fake_stripe.payers = {CARD_OK: ("card:fp_same",), BANK_DEBIT: ("card:fp_same",)}
    late = buy(card, buyer="buyer-token-0001")
    intent = open_payment(pay, fake_stripe, late, BANK_DEBIT)
    expire_now(card)
    assert pay(buy(card, buyer="buyer-token-0002"), CARD_OK)["status"] == "succeeded"
    fake_stripe.complete(intent)

    outcome = payment_events.apply_payment_event(event(PAYMENT_SUCCEEDED, late, "evt_late", method=BANK_DEBIT))

    assert outcome == "refunded"
    assert (stored(late).status, stored(late).status_reason) == ("refunded", "limit_reached_after_hold")
    assert fake_stripe.refunded() == {intent}
    assert level(card) == (4, 0, 1)


# --- events that are not about our orders --------------------------------------------------------------


def test_an_event_for_an_unknown_order_is_not_ours(aws, fake_stripe):
    unknown = PaymentEvent("evt_x", PAYMENT_SUCCEEDED, "pi_x", "ord_unknown")

    assert payment_events.apply_payment_event(unknown) == "not_ours"
    assert payment_events.apply_payment_event(unknown) == "duplicate"


def test_an_event_without_an_order_id_is_not_ours(aws, fake_stripe):
    assert payment_events.apply_payment_event(PaymentEvent("evt_y", PAYMENT_SUCCEEDED, "pi_y", None)) == "not_ours"


def test_handled_event_types():
    assert set(payments.HANDLED_EVENTS) == {PAYMENT_SUCCEEDED, PAYMENT_FAILED, PAYMENT_CANCELED,
                                            "charge.refunded", "charge.dispute.created",
                                            payments.PAYMENT_AUTHORISED}  # a group payment set aside


def test_after_a_busy_sale_every_unit_is_accounted_for(make_card, buy, pay, fake_stripe):
    """Holds, a payment, a decline, a bank debit that cleared after its hold expired and found too
    little stock: the audit (available + held + sold == stock, counters match orders) finds
    nothing wrong, and every charged intent paid an order or was refunded."""
    from chalicelib import audit

    card = make_card(stock=4, shard_count=2, limit_per_buyer=2)
    paid_now = buy(card, buyer="buyer-token-0001")
    assert pay(paid_now, CARD_OK)["status"] == "succeeded"
    declined = buy(card, buyer="buyer-token-0002")
    assert pay(declined, "pm_card_chargeDeclined")["status"] == "failed"
    late = buy(card, quantity=2, buyer="buyer-token-0003")
    late_intent = open_payment(pay, fake_stripe, late, BANK_DEBIT)
    expire_now(card)  # the declined hold and the debit's hold run out
    still_held = buy(card, quantity=2, buyer="buyer-token-0004")
    fake_stripe.complete(late_intent)
    payment_events.apply_payment_event(event(PAYMENT_SUCCEEDED, late, "evt_c"))  # 2 wanted, 1 left: refunded

    report = audit.run(card.card_id)

    assert report.problems == []
    assert (report.available, report.held, report.sold) == (1, 2, 1)
    assert stored(late).status == "refunded"
    assert stored(declined).status == "expired"
    assert stored(still_held).status == "held"
    assert set(fake_stripe.charged()) == {stored(paid_now).payment_intent_id, late_intent}
    assert fake_stripe.refunded() == {late_intent}
