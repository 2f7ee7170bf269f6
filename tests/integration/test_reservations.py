"""Reservations: on cards that take them, one per buyer token and address, a few a minute per
address, shared together (one post per card and window, never one per reservation), honoured by
reservers-only windows for the buyer who reserved, and announced to the seller's tools when the
sale opens (sale.opened), once."""
import json
import time

import pytest

from chalicelib import backoffice, checkout, config
from chalicelib.social import channels, shares, stream
from chalicelib.store import cards, orders
from chalicelib.store import reservations as stored
from chalicelib.store import shares as stored_shares
from chalicelib.domain import Ended, NotFound, ReservationsOff, ReserversOnly, TooManyReservations
from chalicelib.social import reservations, rules
from fixtures import shares_of

HOME, MOBILE = "203.0.113.7", "198.51.100.20"


def reservation_record(*reservation_ids: str, event_name: str = "INSERT") -> dict:
    """A reservations-table stream batch as Lambda delivers it, one record per reservation."""
    return {"Records": [{
        "eventID": str(n), "eventName": event_name, "eventVersion": "1.1", "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {"Keys": {"reservation_id": {"S": reservation_id}},
                     "NewImage": {"reservation_id": {"S": reservation_id}},
                     "SequenceNumber": f"1000000000000000000{n:02d}", "SizeBytes": 60,
                     "StreamViewType": "NEW_AND_OLD_IMAGES"},
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:000000000000:table/test-reservations/stream/2026",
    } for n, reservation_id in enumerate(reservation_ids)]}


def upcoming(make_card, mode="required", **fields):
    return make_card(stock=5, starts_at=int(time.time()) + 3600, reservation_mode=mode, **fields)


def reserve(card, buyer: str | None = "buyer-token-0001", client: str = HOME, **payload):
    return reservations.reserve(card.card_id, {**({"buyer": buyer} if buyer else {}), **payload}, client)


def test_a_reservation_is_counted_once_per_buyer_token_and_address(make_card):
    card = upcoming(make_card)

    first, created = reserve(card, email="ada@example.com")
    again, created_again = reserve(card)
    from_mobile, created_from_mobile = reserve(card, client=MOBILE)
    anonymous, _ = reserve(card, buyer=None)
    anonymous_again, created_anonymous_again = reserve(card, buyer=None)

    assert (created, created_again, created_from_mobile, created_anonymous_again) == (True, False, True, False)
    assert again == first and anonymous_again == anonymous
    assert from_mobile["reservation_id"] != first["reservation_id"]
    assert checkout.card_view(cards.get(card.card_id))["reservations"] == 3


@pytest.mark.parametrize("action", ["unpublish", "archive"])
def test_a_hidden_card_or_one_without_reservations_takes_none(make_card, seller, action):
    off = make_card(stock=5, starts_at=int(time.time()) + 3600)
    hidden = upcoming(make_card)
    backoffice.set_card_status(seller.seller_id, hidden.card_id, action)

    with pytest.raises(ReservationsOff):
        reserve(off)
    with pytest.raises(NotFound):
        reserve(hidden)
    assert checkout.card_view(cards.get(off.card_id))["reservations"] == 0
    assert checkout.card_view(cards.get(hidden.card_id))["reservations"] == 0


def test_an_address_makes_a_few_reservations_a_minute_then_waits(make_card, monkeypatch):
    monkeypatch.setattr(config, "RESERVATIONS_PER_CLIENT", 3)
    card, other = upcoming(make_card), upcoming(make_card)
    for n in range(2):
        reserve(card, buyer=f"buyer-token-000{n}")
    reserve(other, buyer="buyer-token-0002")
    reserve(card, buyer="buyer-token-0000")  # a repeat is the same reservation: it takes no turn

    with pytest.raises(TooManyReservations) as refused:
        reserve(card, buyer="buyer-token-0003")

    assert 1 <= refused.value.retry_after <= config.RESERVATION_RATE_SECONDS
    assert reserve(card, buyer="buyer-token-0003", client=MOBILE)[1] is True  # another address
    assert checkout.card_view(cards.get(card.card_id))["reservations"] == 3


def test_ten_reservations_make_one_share_saying_how_many(make_card, seller, webhook_receiver):
    channels.set_seller_webhook(seller.seller_id, {"url": webhook_receiver.url})
    card = upcoming(make_card, title="Speckled mug")
    ids = [reserve(card, buyer=f"buyer-token-{n:04d}", client=f"203.0.113.{n}")[0]["reservation_id"]
           for n in range(10)]
    event = reservation_record(*ids)

    assert stream.handle_batch(event) == {"batchItemFailures": []}
    assert stream.handle_batch(event) == {"batchItemFailures": []}  # redelivered

    feed = shares.feed(card.card_id)
    assert [item["kind"] for item in feed] == ["reservation.shared"]
    assert feed[0]["text"].startswith("10 people reserved Speckled mug (€18.00). Reserve yours: ")
    assert len(webhook_receiver.requests) == 1
    sent = json.loads(webhook_receiver.requests[0].body)
    assert sent["type"] == "reservation.shared" and sent["data"]["reservations"] == 10


def test_the_next_window_shares_again_once(make_card, monkeypatch):
    card = upcoming(make_card, title="Speckled mug")
    first, _ = reserve(card)
    stream.handle_batch(reservation_record(first["reservation_id"]))
    # Two more reservations a window later, in another container (nothing remembered).
    monkeypatch.setattr(shares, "_reservations_shared", {})
    later = int(time.time()) + config.RESERVATION_SHARE_SECONDS
    for n, client in ((2, "203.0.113.2"), (3, "203.0.113.3")):
        stored.create(f"rsv_later_{n}", card.card_id, card.seller_id, later, None, client, later + 86400)
    stream.handle_batch(reservation_record("rsv_later_2", "rsv_later_3"))

    texts = [item["text"] for item in shares.feed(card.card_id)]
    assert len(texts) == 2
    assert texts[0].startswith("3 people reserved") and texts[1].startswith("One person reserved")


def test_a_container_that_remembers_the_card_before_reservations_were_on_still_shares(make_card, monkeypatch):
    """The stream's container cached the card (10 s) when it shared the card's orders; the seller
    then turned reservations on in another container, and a reader reserved."""
    card = upcoming(make_card)
    reservation, _ = reserve(card)
    remembered = cards.get_fresh(card.card_id)
    remembered.reservation_mode = None
    monkeypatch.setattr(cards, "get", lambda card_id: remembered)

    stream.handle_batch(reservation_record(reservation["reservation_id"]))

    assert [item["kind"] for item in shares.feed(card.card_id)] == ["reservation.shared"]


@pytest.mark.parametrize("change", ["unpublish", "reservations off"])
def test_a_card_hidden_or_closed_before_its_reservations_are_shared_shares_none(make_card, seller, change):
    card = upcoming(make_card)
    reservation, _ = reserve(card)
    if change == "unpublish":
        backoffice.set_card_status(seller.seller_id, card.card_id, "unpublish")
    else:
        cards.update_social_settings(card.card_id, rules.social_settings_from({"reservations": {"mode": "none"}}))

    assert stream.handle_batch(reservation_record(reservation["reservation_id"])) == {"batchItemFailures": []}

    assert list(stored_shares.of_card(card.card_id)) == []


def test_reserving_after_the_sale_ended_is_refused(make_card):
    card = make_card(stock=5, starts_at=int(time.time()) - 7200, ends_at=int(time.time()) - 3600,
                     reservation_mode="required")

    with pytest.raises(Ended):
        reserve(card)


def reservers_first(make_card, minutes=10, starts_in=-60):
    card = make_card(stock=5, starts_at=int(time.time()) + starts_in)
    cards.update_social_settings(card.card_id, rules.social_settings_from(
        {"reservations": {"mode": "first_minutes", "minutes": minutes}}))
    return cards.get(card.card_id)


def test_in_the_reservers_window_only_a_reservation_token_buys(make_card, buy):
    card = reservers_first(make_card)
    reservation, _ = reserve(card)

    with pytest.raises(ReserversOnly):
        buy(card, buyer="buyer-token-0002")
    order = checkout.checkout(card.card_id, {"quantity": 1, "buyer": "buyer-token-0001",
                                             "reservation": reservation["token"]}, "tap-key-2001")

    assert order["status"] == "held"
    assert orders.get(order["order_id"]).reservation_id == reservation["reservation_id"]


def test_a_forged_or_other_cards_token_does_not_open_the_window(make_card):
    card, other = reservers_first(make_card), upcoming(make_card)
    elsewhere, _ = reserve(other)
    mine, _ = reserve(card)
    forged = mine["token"][:-3] + "aaa"

    for token in (elsewhere["token"], forged, "rsv_made_up.token"):
        with pytest.raises(ReserversOnly):
            checkout.checkout(card.card_id, {"quantity": 1, "buyer": "buyer-token-0001", "reservation": token},
                              "tap-key-3001")


def test_a_reservers_token_gives_no_priority_to_another_buyer(make_card):
    card = reservers_first(make_card)
    reservation, _ = reserve(card, buyer="buyer-token-0001")

    with pytest.raises(ReserversOnly):
        checkout.checkout(card.card_id, {"quantity": 1, "buyer": "buyer-token-0002",
                                         "reservation": reservation["token"]}, "tap-key-4001")


def test_after_the_window_anyone_buys(make_card, buy):
    card = reservers_first(make_card, minutes=1, starts_in=-120)

    assert buy(card, buyer="buyer-token-0002")["status"] == "held"


def test_a_sale_that_requires_a_reservation_refuses_everyone_else(make_card, buy):
    card = make_card(stock=5)
    cards.update_social_settings(card.card_id, rules.social_settings_from({"reservations": {"mode": "required"}}))

    with pytest.raises(ReserversOnly):
        buy(cards.get(card.card_id), buyer="buyer-token-0002")


def test_sale_opened_goes_to_the_sellers_webhook_once_with_the_reservation_count(make_card, seller, webhook_receiver):
    from standardwebhooks.webhooks import Webhook

    secret = channels.set_seller_webhook(seller.seller_id, {"url": webhook_receiver.url})["secret"]
    card = upcoming(make_card)
    for n in range(3):
        reserve(card, buyer=f"buyer-token-000{n}")

    assert reservations.announce_openings() == 0  # not yet
    opened_at = int(time.time()) + 3601
    assert reservations.announce_openings(opened_at) == 1
    assert reservations.announce_openings(opened_at) == 0

    events = [json.loads(r.body) for r in webhook_receiver.requests]
    assert [e["type"] for e in events] == ["sale.opened"]
    assert events[0]["data"]["reservations"] == 3
    assert events[0]["data"]["card_id"] == card.card_id
    Webhook(secret).verify(webhook_receiver.requests[0].body, webhook_receiver.requests[0].headers)
    assert shares_of(card.card_id)["webhook"].status == "posted"


def test_a_sale_moved_after_its_opening_is_announced_again(make_card, seller):
    from datetime import datetime, timezone

    card = make_card(stock=5, starts_at=int(time.time()) + 3600)
    assert reservations.announce_openings(int(time.time()) + 3601) == 1

    later = int(time.time()) + 7200
    backoffice.update_card(seller.seller_id, card.card_id,
                           {"sale": {"starts_at": datetime.fromtimestamp(later, timezone.utc).isoformat()}})

    assert reservations.announce_openings(later - 1) == 0
    assert reservations.announce_openings(later + 1) == 1
