"""What readers tell us about themselves is kept for PERSONAL_DATA_DAYS after the sale, then
forgotten: a buyer's name and city by the sweeper (the order stays, for the seller's books), a
reservation with its email by DynamoDB's TTL."""
import time

from chalicelib import checkout, config, sweep
from chalicelib.social import referrals, reservations, stream
from chalicelib.store import cards, orders, retention
from chalicelib.store import reservations as stored_reservations
from chalicelib.store.order_models import OrderModel
from fixtures import mark_paid, stream_event
from infra.tables import TABLES

DAY = 86400


def named_order(card, buyer: str, name: str | None = "Ada Lovelace", ref: str | None = None):
    payload = {"quantity": 1, "buyer": buyer, **({"name": name} if name else {}), **({"ref": ref} if ref else {})}
    order = checkout.checkout(card.card_id, payload, f"tap-key-{buyer}")
    mark_paid(order["order_id"])
    stored = orders.get(order["order_id"])
    stream.handle_batch(stream_event("orders_stream_paid.json", [stored]))
    return stored


def forget_at(order_id: str) -> int | None:
    forget = OrderModel.get(order_id, consistent_read=True).forget_at
    return None if forget is None else int(forget)


def test_a_buyers_name_is_forgotten_after_the_retention_period_and_the_order_stays(make_card, fake_stripe):
    ends = int(time.time()) + 2 * DAY
    card = make_card(stock=5, ends_at=ends)
    ada = named_order(card, "buyer-token-ada1")
    bea = named_order(card, "buyer-token-bea1", name="Bea", ref=ada.referral_code)
    quiet = named_order(card, "buyer-token-cyd1", name=None)
    assert forget_at(ada.order_id) == ends + config.PERSONAL_DATA_DAYS * DAY
    assert forget_at(quiet.order_id) is None  # nothing personal: nothing to forget

    assert retention.forget_due(ends + config.PERSONAL_DATA_DAYS * DAY - 1, time.monotonic() + 30) == 0
    assert orders.get(ada.order_id).display_name == "Ada Lovelace"
    assert referrals.report(cards.get(card.card_id))["top_referrers"][0]["name"] == "Ada Lovelace"

    assert retention.forget_due(ends + config.PERSONAL_DATA_DAYS * DAY, time.monotonic() + 30) == 2

    for order in (ada, bea):
        kept = orders.get(order.order_id)
        assert (kept.display_name, kept.city, kept.status, kept.amount) == (None, None, "paid", order.amount)
        assert forget_at(order.order_id) is None
    assert referrals.report(cards.get(card.card_id))["top_referrers"][0]["name"] is None
    assert retention.forget_due(ends + 400 * DAY, time.monotonic() + 30) == 0  # forgotten once


def test_the_minute_sweep_forgets_what_is_due(make_card, fake_stripe, monkeypatch):
    card = make_card(stock=5)  # a sale without an end: counted from the order
    order = named_order(card, "buyer-token-ada1")
    later = time.time() + (config.PERSONAL_DATA_DAYS + 1) * DAY
    monkeypatch.setattr(sweep.time, "time", lambda: later)

    assert sweep.sweep()["personal_data_forgotten"] == 1
    assert orders.get(order.order_id).display_name is None


def test_a_reservation_and_its_email_expire_with_dynamodb_ttl_after_the_sale(make_card):
    starts, ends = int(time.time()) + 3600, int(time.time()) + 3 * DAY
    card = make_card(stock=5, starts_at=starts, ends_at=ends, reservation_mode="required")
    open_ended = make_card(stock=5, starts_at=starts, reservation_mode="required")

    for each, sale_end in ((card, ends), (open_ended, starts)):
        made, _ = reservations.reserve(each.card_id, {"buyer": "buyer-token-0001", "email": "ada@example.com"},
                                       "203.0.113.7")
        kept = stored_reservations.get(made["reservation_id"])
        assert int(kept.expires_at) == sale_end + config.PERSONAL_DATA_DAYS * DAY
    assert TABLES["reservations"]["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}


def test_a_shipping_address_given_after_the_tap_is_forgotten_with_the_name(make_card, fake_stripe):
    from chalicelib.domain import Shipping

    ends = int(time.time()) + DAY
    card = make_card(stock=5, ends_at=ends, shipping=Shipping(True, ("FR",), 450))
    held = checkout.checkout(card.card_id, {"quantity": 1, "buyer": "buyer-token-ada1"}, "tap-key-ada")
    assert forget_at(held["order_id"]) is None
    checkout.set_shipping_address(held["order_id"], held["order_token"], {
        "name": "Ada Lovelace", "line1": "7 impasse Secrète", "city": "Lyon", "postal_code": "69001",
        "country": "FR", "email": "ada@example.com"})
    assert forget_at(held["order_id"]) == ends + config.PERSONAL_DATA_DAYS * DAY

    assert retention.forget_due(ends + config.PERSONAL_DATA_DAYS * DAY, time.monotonic() + 30) == 1

    assert orders.get(held["order_id"]).shipping_address is None
