"""The pay call's races and crashes, below the route (paying.pay through checkout.pay): whatever
happens between its Stripe call and its answer, the money is either the order's or refunded, and
the answer does not claim more than happened."""
import dataclasses

import pytest

from chalicelib import checkout, payment_events, payments
from chalicelib.payments import PAYMENT_SUCCEEDED
from chalicelib.store import cards, orders, stock
from fakes import CARD_OK


def level(card) -> tuple[int, int, int]:
    now = stock.level(cards.get(card.card_id))
    return now.available, now.held, now.sold


def stored(order: dict):
    return orders.get(order["order_id"])


def test_a_crash_after_the_charge_leaves_the_intent_on_the_held_order_for_its_webhook(
        make_card, buy, pay, fake_stripe, monkeypatch):
    card = make_card(stock=3)
    order = buy(card)

    def crash(*args, **kwargs):
        raise RuntimeError("the Lambda died after Stripe charged")

    with monkeypatch.context() as patched, pytest.raises(RuntimeError):
        patched.setattr(payment_events, "settle_paid", crash)
        pay(order, CARD_OK)

    intent = fake_stripe.charged()[0]
    assert (stored(order).status, stored(order).payment_intent_id, stored(order).paying_until) == ("held", intent, None)
    assert payment_events.apply_payment_event(fake_stripe.event(PAYMENT_SUCCEEDED, intent, "evt_1")) == "paid"
    assert level(card) == (2, 0, 1)


def test_a_payer_who_reaches_the_limit_during_the_charge_is_refunded_and_not_told_it_succeeded(
        make_card, buy, pay, fake_stripe, monkeypatch):
    """The same card pays two orders: the first asks for 3-D Secure (its pay call ends, so the card
    may pay again), the second is charged, and the first's webhook settles it meanwhile. The second
    to settle is refunded; its pay call must not answer `succeeded` for money that went back."""
    from fakes import CARD_3DS

    card = make_card(stock=5, limit_per_buyer=1)
    fake_stripe.payers = {CARD_OK: ("card:fp_same",), CARD_3DS: ("card:fp_same",)}
    first, second = buy(card, buyer="buyer-token-0001"), buy(card, buyer="buyer-token-0002")
    assert pay(first, CARD_3DS)["status"] == "requires_action"
    fake_pay = payments.pay

    def the_other_order_settles_meanwhile(order_id, *args):
        if order_id == second["order_id"]:
            intent = stored(first).payment_intent_id
            assert fake_stripe.complete(intent)
            assert payment_events.apply_payment_event(fake_stripe.event(PAYMENT_SUCCEEDED, intent, "evt_3ds")) == "paid"
        return fake_pay(order_id, *args)

    monkeypatch.setattr(payments, "pay", the_other_order_settles_meanwhile)

    answer = pay(second, CARD_OK)

    second_intent = fake_stripe.intents_of(second["order_id"])[0]
    assert fake_stripe.calls_to("refund") == [(second_intent, second["order_id"])]
    assert stored(second).status == "refunded"
    assert stored(second).status_reason == "payer_limit_reached"
    assert level(card) == (4, 0, 1)
    assert answer["order"]["status"] == "refunded"
    assert answer["status"] != "succeeded", answer
    # Money taken for goods that are gone goes back at a payment's priority, not behind buyers
    # (at the refund's short patience it was refused during the sale and the charge was kept).
    assert fake_stripe.refund_priorities[second_intent] == payments.CONFIRM


def test_the_sweeper_settles_a_3d_secure_payment_whose_webhook_never_came(make_card, buy, pay, fake_stripe):
    """Stripe cannot cancel an intent that was paid: the sweeper then settles it as its webhook
    would have, instead of asking Stripe again at every run."""
    from fakes import CARD_3DS

    card = make_card(stock=3, hold_seconds=60)
    order = buy(card)
    assert pay(order, CARD_3DS)["status"] == "requires_action"
    intent = stored(order).payment_intent_id
    assert fake_stripe.complete(intent)  # the buyer authenticated; the webhook is lost

    assert payment_events.expire_holds(at=stored(order).expires_at + 1) == 0

    assert (stored(order).status, stored(order).payment_intent_id) == ("paid", intent)
    assert level(card) == (2, 0, 1)
    assert payment_events.expire_holds(at=stored(order).expires_at + 120) == 0
    assert len(fake_stripe.calls_to("cancel_payment_intent")) == 1


# --- money that is not the order's price ----------------------------------------------------------


def test_a_pay_call_whose_payment_took_another_amount_is_refunded_and_keeps_the_hold(
        make_card, buy, pay, fake_stripe, monkeypatch):
    """Stripe reports a charge of another amount than asked: the buyer is not told it succeeded,
    the money goes back and the unit stays theirs for a payment of the right amount."""
    card = make_card(stock=3, price_amount=1800, currency="EUR")
    order = buy(card)
    fake_pay = payments.pay

    def stripe_took_one_yen(*args):
        result = fake_pay(*args)
        return dataclasses.replace(result, received=payments.Received(result.payment_intent_id, 1, "jpy"))

    with monkeypatch.context() as patched:
        patched.setattr(payments, "pay", stripe_took_one_yen)
        answer = pay(order, CARD_OK)

    intent = fake_stripe.intents_of(order["order_id"])[0]
    assert answer["status"] == "failed" and "refunded" in answer["reason"]
    assert (answer["order"]["status"], answer["order"]["status_reason"]) == ("held", "amount_mismatch")
    assert fake_stripe.calls_to("refund") == [(intent, order["order_id"])]
    assert level(card) == (2, 1, 0)
    assert pay(order, CARD_OK)["status"] == "succeeded"
    assert level(card) == (2, 0, 1)


def test_the_sweeper_refunds_a_lost_payment_of_another_amount_and_ends_the_hold(make_card, buy, pay, fake_stripe):
    from fakes import CARD_3DS

    card = make_card(stock=3, hold_seconds=60)
    order = buy(card)
    assert pay(order, CARD_3DS)["status"] == "requires_action"
    intent = stored(order).payment_intent_id
    fake_stripe.intents[intent].update(amount=1, currency="jpy")
    assert fake_stripe.complete(intent)  # paid, and its webhook lost

    assert payment_events.expire_holds(at=stored(order).expires_at + 1) == 1

    assert stored(order).status == "expired"
    assert fake_stripe.refunded() == {intent}
    assert level(card) == (3, 0, 0)


def test_a_paid_order_keeps_who_paid_without_asking_stripe_again(make_card, buy, pay, fake_stripe):
    """Referrals compare who paid, so every paid order keeps it, limit or not; the pay call learns
    it from the payment itself. Without a limit it is not counted against anything."""
    card = make_card(stock=3)
    fake_stripe.payers = {CARD_OK: ("card:fp_ada", "email:ada@example.com")}

    assert pay(buy(card), CARD_OK)["status"] == "succeeded"

    [paid] = orders.of_card(card.card_id)[0]
    assert paid.payer_ids == ("card:fp_ada", "email:ada@example.com")
    assert [call.name for call in fake_stripe.calls] == ["pay"]
    assert stock.buyer_units(card.card_id, {"card:fp_ada"}) == {"card:fp_ada": 0}
