"""Holds are for people: one client address holds, unpaid, only a few units of a card at once,
whatever buyer tokens it makes up (issue 13, case 1)."""
import json

import pytest
from chalice.local import LambdaEventConverter

from chalicelib import audit, config, payment_events
from chalicelib.store import orders as orders_store
from fixtures import assert_error, card_view, hold, pay_order, request_checkout


@pytest.fixture
def from_address(monkeypatch):
    """Requests arrive from this address, as API Gateway's requestContext.identity.sourceIp says."""
    def set_address(address: str) -> None:
        monkeypatch.setattr(LambdaEventConverter, "LOCAL_SOURCE_IP", address)
    return set_address


def tap(client, card_id, n: int):
    return request_checkout(client, card_id, buyer=f"made-up-token-{n:04d}", key=f"tap-key-{n:06d}")


def test_made_up_buyer_tokens_from_one_address_cannot_hold_all_the_stock(client, make_card, fake_stripe, from_address):
    card = make_card(stock=5, limit_per_buyer=1)
    from_address("203.0.113.9")

    answers = [tap(client, card.card_id, n) for n in range(5)]

    assert [a.status_code for a in answers] == [201, 201, 201, 429, 429]  # 3 × the limit of 1
    error = assert_error(answers[3], 429, "too_many_holds")
    assert "pay" in error["message"]
    assert answers[3].headers["Retry-After"] == str(config.OPEN_HOLDS_REFUSAL_SECONDS)
    # A real buyer elsewhere still gets a unit.
    from_address("198.51.100.4")
    assert tap(client, card.card_id, 100).status_code == 201
    assert card_view(client, card.card_id)["stock"]["available"] == 1
    assert audit.run(card.card_id).clean


def test_without_a_limit_the_cap_is_a_few_units(client, make_card, fake_stripe, from_address):
    card = make_card(stock=50)
    from_address("203.0.113.9")
    answers = [tap(client, card.card_id, n) for n in range(config.OPEN_HOLDS_WITHOUT_LIMIT + 1)]
    assert [a.status_code for a in answers].count(201) == config.OPEN_HOLDS_WITHOUT_LIMIT
    assert_error(answers[-1], 429, "too_many_holds")


def test_a_known_refused_client_costs_no_database_write(client, make_card, fake_stripe, from_address, monkeypatch):
    card = make_card(stock=10, limit_per_buyer=1)
    from_address("203.0.113.9")
    for n in range(4):
        tap(client, card.card_id, n)
    def no_write(*args, **kwargs):
        raise AssertionError("a known refused client reached DynamoDB")
    monkeypatch.setattr(orders_store.Transaction, "commit", no_write)
    assert_error(tap(client, card.card_id, 5), 429, "too_many_holds")


def test_paying_frees_the_slot_at_once(client, make_card, fake_stripe, from_address, monkeypatch):
    monkeypatch.setattr(config, "OPEN_HOLDS_REFUSAL_SECONDS", 0)
    card = make_card(stock=10, limit_per_buyer=1)
    from_address("203.0.113.9")  # a carrier NAT: many readers, one address
    held = [json.loads(tap(client, card.card_id, n).body) for n in range(3)]
    assert_error(tap(client, card.card_id, 3), 429, "too_many_holds")

    assert pay_order(client, held[0]).status_code == 200

    assert tap(client, card.card_id, 4).status_code == 201
    assert audit.run(card.card_id).clean


def test_an_expired_hold_frees_the_slot(client, make_card, fake_stripe, from_address, monkeypatch):
    monkeypatch.setattr(config, "OPEN_HOLDS_REFUSAL_SECONDS", 0)
    card = make_card(stock=10, limit_per_buyer=1, hold_seconds=60)
    from_address("203.0.113.9")
    for n in range(3):
        tap(client, card.card_id, n)
    assert_error(tap(client, card.card_id, 3), 429, "too_many_holds")

    import time
    assert payment_events.expire_holds(at=int(time.time()) + 61) == 3

    assert tap(client, card.card_id, 4).status_code == 201
    assert audit.run(card.card_id).clean


def test_every_address_of_one_ipv6_subscriber_shares_one_cap(client, make_card, fake_stripe, from_address):
    card = make_card(stock=10, limit_per_buyer=1)
    answers = []
    for n in range(4):
        from_address(f"2001:db8:1:2::{n + 1}")
        answers.append(tap(client, card.card_id, n).status_code)
    assert answers == [201, 201, 201, 429]


def test_a_forwarded_for_header_does_not_make_a_new_client(client, make_card, fake_stripe, from_address):
    card = make_card(stock=10, limit_per_buyer=1)
    from_address("203.0.113.9")
    codes = []
    for n in range(4):
        payload = {"quantity": 1, "buyer": f"made-up-token-{n:04d}"}
        response = client.http.post(f"/cards/{card.card_id}/checkout", body=json.dumps(payload), headers={
            "Content-Type": "application/json", "Idempotency-Key": f"tap-key-{n:06d}",
            "X-Forwarded-For": f"198.51.100.{n}", "X-Real-IP": f"198.51.100.{n}"})
        codes.append(response.status_code)
    assert codes == [201, 201, 201, 429]


def test_the_cap_can_be_turned_off(client, make_card, fake_stripe, from_address, monkeypatch):
    monkeypatch.setattr(config, "OPEN_HOLDS_PER_LIMIT", 0)
    card = make_card(stock=5, limit_per_buyer=1)
    assert all(tap(client, card.card_id, n).status_code == 201 for n in range(5))


def test_a_replayed_tap_is_answered_even_when_the_client_is_at_its_cap(client, make_card, fake_stripe, from_address):
    card = make_card(stock=10, limit_per_buyer=1)
    from_address("203.0.113.9")
    first = hold(client, card.card_id, buyer="made-up-token-0000")
    for n in range(1, 4):
        tap(client, card.card_id, n)
    again = json.loads(request_checkout(client, card.card_id, buyer="made-up-token-0000",
                                        key="tap-made-up-token-0000-1-None", retry=1).body)
    assert again["order_id"] == first["order_id"]
