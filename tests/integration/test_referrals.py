"""Referral credit: a paid order that came through another buyer's link is credited to that buyer,
once; codes that are unknown, foreign or the buyer's own (by token, card or email) are ignored;
rebates are earned once the order is past the refund window."""
import csv
import io
import time

import pytest

from chalicelib import config, counters, payments, refunds
from chalicelib.store import counters as stored_counters
from chalicelib.social import stream
from chalicelib.store import cards, orders
from chalicelib.social import referrals
from fixtures import mark_paid, stream_event


def bought(card, buy, buyer, ref=None, quantity=1, payer_ids=()):
    """A paid order, through the stream as in production; returns the stored order."""
    order = buy(card, buyer=buyer, ref=ref, quantity=quantity)
    mark_paid(order["order_id"], payer_ids=payer_ids)
    stored = orders.get(order["order_id"])
    assert stream.handle_batch(stream_event("orders_stream_paid.json", [stored])) == {"batchItemFailures": []}
    return stored


def after_refund_window() -> float:
    return time.time() + (config.REFUND_WINDOW_DAYS + 1) * 24 * 3600


def test_a_chain_of_three_buyers_credits_each_link_to_its_sharer(make_card, buy):
    card = make_card(stock=10, price_amount=2000)
    cards.update_social_settings(card.card_id, {"rebate_percent": 10})
    ada = bought(card, buy, "buyer-token-ada1")
    bea = bought(card, buy, "buyer-token-bea1", ref=ada.referral_code)
    bought(card, buy, "buyer-token-cyd1", ref=bea.referral_code, quantity=2)

    report = referrals.report(cards.get(card.card_id), at=after_refund_window())

    assert (report["referred_orders"], report["referred_revenue"], report["rebate_total"]) == (2, 6000, 600)
    by_code = {r["code"]: r for r in report["top_referrers"]}
    assert set(by_code) == {ada.referral_code, bea.referral_code}
    assert (by_code[ada.referral_code]["orders"], by_code[ada.referral_code]["revenue"]) == (1, 2000)
    assert (by_code[bea.referral_code]["orders"], by_code[bea.referral_code]["revenue"]) == (1, 4000)
    assert by_code[bea.referral_code]["rebate"] == 400
    assert report["top_referrers"][0]["code"] == bea.referral_code  # most revenue first


def test_a_refunded_order_takes_its_referral_credit_back(make_card, buy):
    card = make_card(stock=5)
    ada = bought(card, buy, "buyer-token-ada1")
    bea = bought(card, buy, "buyer-token-bea1", ref=ada.referral_code)

    orders.refund_paid(bea, "re_test_1", restock=True)
    orders.refund_paid(ada, "re_test_2", restock=True)  # no credit of its own: nothing to take

    report = referrals.report(cards.get(card.card_id))
    assert (report["referred_orders"], report["referred_revenue"], report["top_referrers"]) == (0, 0, [])


def partial_refund(order, amount_refunded: int, event_id: str) -> str:
    """Stripe's charge.refunded for part of the order's payment (cumulative amount_refunded)."""
    return refunds.apply_charge_event(payments.PaymentEvent(
        event_id, payments.CHARGE_REFUNDED, order.payment_intent_id, order.order_id,
        amount=order.amount, amount_refunded=amount_refunded))


def test_a_credit_made_after_a_partial_refund_counts_what_was_paid(make_card, buy):
    """The stream's credit retried after a refund made in Stripe's dashboard."""
    card = make_card(stock=5, price_amount=2000)
    cards.update_social_settings(card.card_id, {"rebate_percent": 10})
    ada = bought(card, buy, "buyer-token-ada1")
    order = buy(card, buyer="buyer-token-bea1", ref=ada.referral_code)
    mark_paid(order["order_id"])
    assert partial_refund(orders.get(order["order_id"]), 500, "evt_part_1") == "partially_refunded"

    stream.handle_batch(stream_event("orders_stream_paid.json", [orders.get(order["order_id"])]))

    report = referrals.report(cards.get(card.card_id))
    assert (report["referred_revenue"], report["rebate_pending_total"]) == (1500, 150)


def test_a_raised_rebate_percent_never_raises_a_partially_refunded_rebate(make_card, buy):
    card = make_card(stock=5, price_amount=2000)
    cards.update_social_settings(card.card_id, {"rebate_percent": 10})
    ada = bought(card, buy, "buyer-token-ada1")
    bea = bought(card, buy, "buyer-token-bea1", ref=ada.referral_code)
    cards.update_social_settings(card.card_id, {"rebate_percent": 50})

    assert partial_refund(bea, 100, "evt_part_2") == "partially_refunded"

    report = referrals.report(cards.get(card.card_id))
    assert (report["referred_revenue"], report["rebate_pending_total"]) == (1900, 200)


def test_a_redelivered_record_credits_once(make_card, buy):
    card = make_card(stock=5)
    ada = bought(card, buy, "buyer-token-ada1")
    bea = bought(card, buy, "buyer-token-bea1", ref=ada.referral_code)

    stream.handle_batch(stream_event("orders_stream_paid.json", [bea]))

    assert referrals.report(cards.get(card.card_id))["referred_orders"] == 1


@pytest.mark.parametrize("how", ["unknown", "own", "other_card", "same_buyer"])
def test_codes_that_cannot_credit_anyone_are_ignored(make_card, buy, how):
    card, other = make_card(stock=5), make_card(stock=5)
    ada = bought(card, buy, "buyer-token-ada1")
    elsewhere = bought(other, buy, "buyer-token-eve1")
    ref = {"unknown": "zzzzzzzzzz", "other_card": elsewhere.referral_code, "same_buyer": ada.referral_code,
           "own": None}[how]
    buyer = "buyer-token-ada1" if how == "same_buyer" else "buyer-token-bea1"

    order = bought(card, buy, buyer, ref=ref)
    if how == "own":  # a buyer cannot credit the order to itself
        assert referrals.credit(orders.get(order.order_id)) is False
        order.ref = order.referral_code
        assert referrals.credit(order) is False

    assert order.status == "paid"
    assert referrals.report(cards.get(card.card_id))["referred_orders"] == 0


def test_referral_visits_are_batched_with_the_funnel_and_bad_codes_ignored(make_card, monkeypatch):
    card = make_card(stock=5)
    writes = []
    real_add = stored_counters.add
    monkeypatch.setattr(stored_counters, "add", lambda *args: (writes.append(args), real_add(*args)))
    counters.flush()
    writes.clear()

    for _ in range(50):
        referrals.record_visit(card.card_id, {"ref": "abc123"})
    referrals.record_visit(card.card_id, {"ref": "not a code!"})
    referrals.record_visit(card.card_id, {})
    referrals.record_visit("card_unknown", {"ref": "abc123"})

    report = referrals.report(cards.get(card.card_id))

    assert report["referral_visits"] == 50
    assert len(writes) == 1  # 50 visits, one write


def test_the_rebate_export_lists_every_referrer(make_card, buy):
    card = make_card(stock=10, price_amount=1500)
    cards.update_social_settings(card.card_id, {"rebate_percent": 20})
    ada = bought(card, buy, "buyer-token-ada1")
    bought(card, buy, "buyer-token-bea1", ref=ada.referral_code)
    bought(card, buy, "buyer-token-cyd1", ref=ada.referral_code)

    rows = list(csv.DictReader(io.StringIO(referrals.report_csv(cards.get(card.card_id), at=after_refund_window()))))

    assert rows == [{"code": ada.referral_code, "name": "", "referred_orders": "2", "referred_revenue": "3000",
                     "rebate": "600", "currency": "EUR",
                     "share_url": f"http://tapcard.test/p/{card.card_id}?ref={ada.referral_code}",
                     "rebate_pending": "0"}]


# --- the same person under another buyer token ----------------------------------------------------


@pytest.mark.parametrize("payer_ids", [("card:fp_ada", "email:other@example.com"),
                                       ("card:fp_other", "email:ada@example.com")], ids=["same card", "same email"])
def test_a_buyer_who_paid_the_referring_order_too_credits_no_one(make_card, buy, payer_ids):
    """The same person paying twice with two buyer tokens (two browsers) through their own link:
    the card or the email that paid both orders gives them away."""
    card = make_card(stock=5)
    cards.update_social_settings(card.card_id, {"rebate_percent": 10})
    ada = bought(card, buy, "buyer-token-ada1", payer_ids=("card:fp_ada", "email:ada@example.com"))

    again = bought(card, buy, "buyer-token-ada2", ref=ada.referral_code, payer_ids=payer_ids)

    assert referrals.credit(again) is False
    report = referrals.report(cards.get(card.card_id), at=after_refund_window())
    assert (report["referred_orders"], report["rebate_total"], report["top_referrers"]) == (0, 0, [])


def test_another_person_through_the_link_is_credited(make_card, buy):
    card = make_card(stock=5)
    ada = bought(card, buy, "buyer-token-ada1", payer_ids=("card:fp_ada", "email:ada@example.com"))

    bought(card, buy, "buyer-token-bea1", ref=ada.referral_code, payer_ids=("card:fp_bea", "email:bea@example.com"))

    assert referrals.report(cards.get(card.card_id))["referred_orders"] == 1


# --- rebates wait for the refund window -----------------------------------------------------------


def test_a_rebate_is_pending_within_the_refund_window_and_earned_after(make_card, buy):
    card = make_card(stock=5, price_amount=2000)
    cards.update_social_settings(card.card_id, {"rebate_percent": 10})
    ada = bought(card, buy, "buyer-token-ada1")
    bought(card, buy, "buyer-token-bea1", ref=ada.referral_code)
    window = config.REFUND_WINDOW_DAYS * 24 * 3600

    now = referrals.report(cards.get(card.card_id))
    last_day = referrals.report(cards.get(card.card_id), at=time.time() + window - 3600)
    after = referrals.report(cards.get(card.card_id), at=after_refund_window())

    assert (now["rebate_total"], now["rebate_pending_total"], now["referred_orders"]) == (0, 200, 1)
    assert [(r["rebate"], r["rebate_pending"]) for r in now["top_referrers"]] == [(0, 200)]
    assert (last_day["rebate_total"], last_day["rebate_pending_total"]) == (0, 200)
    assert (after["rebate_total"], after["rebate_pending_total"]) == (200, 0)
    assert [(r["rebate"], r["rebate_pending"]) for r in after["top_referrers"]] == [(200, 0)]
    assert now["refund_window_days"] == config.REFUND_WINDOW_DAYS == 14


def test_an_order_refunded_within_the_window_earns_nothing(make_card, buy):
    card = make_card(stock=5, price_amount=2000)
    cards.update_social_settings(card.card_id, {"rebate_percent": 10})
    ada = bought(card, buy, "buyer-token-ada1")
    bea = bought(card, buy, "buyer-token-bea1", ref=ada.referral_code)

    orders.refund_paid(bea, "re_test_1", restock=True)

    after = referrals.report(cards.get(card.card_id), at=after_refund_window())
    assert (after["rebate_total"], after["rebate_pending_total"], after["referred_orders"]) == (0, 0, 0)


def test_an_older_partial_refund_racing_a_newer_one_never_lowers_what_the_order_records(make_card, buy):
    """Two charge.refunded of one charge applied at once: the one holding the older total read the
    order before the newer total was recorded."""
    card = make_card(stock=5, price_amount=2000)
    order = buy(card, buyer="buyer-token-bea1")
    mark_paid(order["order_id"])
    read_by_both = orders.get(order["order_id"])

    assert partial_refund(read_by_both, 800, "evt_newer") == "partially_refunded"
    real_get = orders.get
    reads = iter([read_by_both])
    with pytest.MonkeyPatch.context() as patch:  # the older event's first read is the stale one
        patch.setattr(orders, "get", lambda order_id: next(reads, None) or real_get(order_id))
        assert partial_refund(read_by_both, 500, "evt_older") == "ignored_older_refund"

    assert orders.get(order["order_id"]).amount_refunded == 800
