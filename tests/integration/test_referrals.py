"""Referral credit: a paid order that came through another buyer's link is credited to that buyer,
once; codes that are unknown, foreign or the buyer's own are ignored."""
import csv
import io

import pytest

from chalicelib import counters
from chalicelib.store import counters as stored_counters
from chalicelib.social import stream
from chalicelib.store import cards, orders
from chalicelib.social import referrals
from fixtures import mark_paid, stream_event


def bought(card, buy, buyer, ref=None, quantity=1):
    """A paid order, through the stream as in production; returns the stored order."""
    order = buy(card, buyer=buyer, ref=ref, quantity=quantity)
    mark_paid(order["order_id"])
    stored = orders.get(order["order_id"])
    assert stream.handle_batch(stream_event("orders_stream_paid.json", [stored])) == {"batchItemFailures": []}
    return stored


def test_a_chain_of_three_buyers_credits_each_link_to_its_sharer(make_card, buy):
    card = make_card(stock=10, price_amount=2000)
    cards.update_social_settings(card.card_id, {"rebate_percent": 10})
    ada = bought(card, buy, "buyer-token-ada1")
    bea = bought(card, buy, "buyer-token-bea1", ref=ada.referral_code)
    bought(card, buy, "buyer-token-cyd1", ref=bea.referral_code, quantity=2)

    report = referrals.report(cards.get(card.card_id))

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

    rows = list(csv.DictReader(io.StringIO(referrals.report_csv(cards.get(card.card_id)))))

    assert rows == [{"code": ada.referral_code, "name": "", "referred_orders": "2", "referred_revenue": "3000",
                     "rebate": "600", "currency": "EUR",
                     "share_url": f"http://tapcard.test/p/{card.card_id}?ref={ada.referral_code}"}]
