"""Reservations: counted on the card, shared on their own, honoured by reservers-only windows, and
announced to the seller's tools when the sale opens (sale.opened), once."""
import json
import time

import pytest

from chalicelib import backoffice, checkout
from chalicelib.social import channels, shares, stream
from chalicelib.store import cards, orders
from chalicelib.domain import Ended, ReserversOnly
from chalicelib.social import reservations, rules
from fixtures import shares_of


def reservation_record(reservation_id: str, event_name: str = "INSERT") -> dict:
    """A reservations-table stream record as Lambda delivers it."""
    return {"Records": [{
        "eventID": "1", "eventName": event_name, "eventVersion": "1.1", "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {"Keys": {"reservation_id": {"S": reservation_id}},
                     "NewImage": {"reservation_id": {"S": reservation_id}},
                     "SequenceNumber": "100000000000000000001", "SizeBytes": 60, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:000000000000:table/test-reservations/stream/2026",
    }]}


def test_a_reservation_is_counted_once_per_buyer(make_card):
    card = make_card(stock=5, starts_at=int(time.time()) + 3600)

    first, created = reservations.reserve(card.card_id, {"buyer": "buyer-token-0001", "email": "ada@example.com"}, None)
    again, created_again = reservations.reserve(card.card_id, {"buyer": "buyer-token-0001"}, None)
    reservations.reserve(card.card_id, {}, None)

    assert (created, created_again) == (True, False)
    assert again == first
    assert checkout.card_view(card)["reservations"] == 2


def test_a_reservation_posts_its_own_share_once(make_card, seller, webhook_receiver):
    channels.set_seller_webhook(seller.seller_id, {"url": webhook_receiver.url})["secret"]
    card = make_card(stock=5, title="Speckled mug", starts_at=int(time.time()) + 3600)
    reservation, _ = reservations.reserve(card.card_id, {"buyer": "buyer-token-0001"}, "Lyon")
    event = reservation_record(reservation["reservation_id"])

    assert stream.handle_batch(event) == {"batchItemFailures": []}
    assert stream.handle_batch(event) == {"batchItemFailures": []}

    feed = shares.feed(card.card_id)
    assert [item["kind"] for item in feed] == ["reservation.shared"]
    assert feed[0]["text"].startswith("Someone in Lyon reserved Speckled mug")
    assert len(webhook_receiver.requests) == 1
    assert json.loads(webhook_receiver.requests[0].body)["type"] == "reservation.shared"


def test_reserving_after_the_sale_ended_is_refused(make_card):
    card = make_card(stock=5, starts_at=int(time.time()) - 7200, ends_at=int(time.time()) - 3600)

    with pytest.raises(Ended):
        reservations.reserve(card.card_id, {}, None)


def reservers_first(make_card, minutes=10, starts_in=-60):
    card = make_card(stock=5, starts_at=int(time.time()) + starts_in)
    cards.update_social_settings(card.card_id, rules.social_settings_from(
        {"reservations": {"mode": "first_minutes", "minutes": minutes}}))
    return cards.get(card.card_id)


def test_in_the_reservers_window_only_a_reservation_token_buys(make_card, buy):
    card = reservers_first(make_card)
    reservation, _ = reservations.reserve(card.card_id, {"buyer": "buyer-token-0001"}, None)

    with pytest.raises(ReserversOnly):
        buy(card, buyer="buyer-token-0002")
    order = checkout.checkout(card.card_id, {"quantity": 1, "buyer": "buyer-token-0001",
                                             "reservation": reservation["token"]}, "tap-key-2001")

    assert order["status"] == "held"
    assert orders.get(order["order_id"]).reservation_id == reservation["reservation_id"]


def test_a_forged_or_other_cards_token_does_not_open_the_window(make_card):
    card, other = reservers_first(make_card), make_card(stock=5)
    elsewhere, _ = reservations.reserve(other.card_id, {"buyer": "buyer-token-0001"}, None)
    mine, _ = reservations.reserve(card.card_id, {"buyer": "buyer-token-0001"}, None)
    forged = mine["token"][:-3] + "aaa"

    for token in (elsewhere["token"], forged, "rsv_made_up.token"):
        with pytest.raises(ReserversOnly):
            checkout.checkout(card.card_id, {"quantity": 1, "buyer": "buyer-token-0001", "reservation": token},
                              "tap-key-3001")


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
    card = make_card(stock=5, starts_at=int(time.time()) + 3600)
    for n in range(3):
        reservations.reserve(card.card_id, {"buyer": f"buyer-token-000{n}"}, None)

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

    from chalicelib import backoffice

    card = make_card(stock=5, starts_at=int(time.time()) + 3600)
    assert reservations.announce_openings(int(time.time()) + 3601) == 1

    later = int(time.time()) + 7200
    backoffice.update_card(seller.seller_id, card.card_id,
                           {"sale": {"starts_at": datetime.fromtimestamp(later, timezone.utc).isoformat()}})

    assert reservations.announce_openings(later - 1) == 0
    assert reservations.announce_openings(later + 1) == 1
