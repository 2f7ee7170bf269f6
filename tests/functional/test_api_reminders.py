"""Reservation reminders through the routes and the sweep (issue 15): a reserver who left an email is
mailed once, reminder_minutes before the start, with a link that carries the reservation and an
unsubscribe link (RFC 8058 headers); the unsubscribe page and its one-click POST; bad tokens."""
import json
import re
import time
from urllib.parse import urlsplit

import pytest

from chalicelib import sweep
from chalicelib.store import cards
from chalicelib.store.models import CardModel
from fixtures import assert_error, from_address, post_json


def reserve(client, card_id, email=None, buyer="buyer-token-0001", address="203.0.113.7"):
    from_address(client, address)
    payload = {"buyer": buyer, **({"email": email} if email else {})}
    response = post_json(client, f"/cards/{card_id}/reservations", payload)
    assert response.status_code in (200, 201), response.body
    return json.loads(response.body)


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_each_reserver_with_an_email_is_reminded_once_with_their_reservation(client, make_card, outbox):
    card = make_card(title="Speckled <mug>", starts_at=int(time.time()) + 5 * 60, reservation_mode="required")
    ada = reserve(client, card.card_id, "ada@example.com")
    reserve(client, card.card_id, buyer="buyer-token-0002", address="203.0.113.8")  # no email: no mail
    reserve(client, card.card_id, "bo@example.com", buyer="buyer-token-0003", address="203.0.113.9")

    first, second = sweep.sweep(), sweep.sweep()

    sent = outbox()
    assert (first["reminders_sent"], second["reminders_sent"]) == (2, 0)
    assert sorted(m["to"] for m in sent) == ["ada@example.com", "bo@example.com"]
    [to_ada] = [m for m in sent if m["to"] == "ada@example.com"]
    assert to_ada["subject"] == "In 5 min: Speckled <mug> goes on sale"
    assert "Speckled &lt;mug&gt;" in to_ada["html"] and "<mug>" not in to_ada["html"]
    link = re.search(r"http://tapcard\.test/p/\S+", to_ada["text"]).group(0)
    assert link.startswith(f"http://tapcard.test/p/{card.card_id}?reservation={ada['reservation_id']}.m")
    unsubscribe = to_ada["headers"]["List-Unsubscribe"]
    assert re.fullmatch(r"<http://tapcard\.test/unsubscribe\?token=[a-z2-7]{32}\.[a-z2-7]{24}>", unsubscribe)
    assert to_ada["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsubscribe[1:-1] in to_ada["text"] and unsubscribe[1:-1] in to_ada["html"]
    # The product page frames the card with the reservation, and the card buys with it.
    page = client.http.get(path_of(link)).body.decode()
    assert f"reservation={ada['reservation_id']}.m" in page


def test_the_reminders_link_buys_a_reservers_only_sale_from_another_device(client, make_card, outbox,
                                                                           fake_stripe):
    card = make_card(starts_at=int(time.time()) + 5 * 60, reservation_mode="required")
    reserve(client, card.card_id, "ada@example.com")
    sweep.sweep()
    [reminder] = outbox()
    reservation = re.search(r"reservation=([\w.]+)", reminder["text"]).group(1)
    CardModel(card.card_id).update(actions=[CardModel.starts_at.set(int(time.time()) - 5)])  # the sale opens
    cards.forget(card.card_id)
    from_address(client, "198.51.100.20")

    def tap(buyer, key, **extra):
        return post_json(client, f"/cards/{card.card_id}/checkout", {"quantity": 1, "buyer": buyer, **extra},
                         {"Idempotency-Key": key})

    assert_error(tap("buyer-token-phone1", "tap-key-0001"), 409, "reservers_only")
    assert tap("buyer-token-phone1", "tap-key-0002", reservation=reservation).status_code == 201
    forged = reservation[:-1] + ("a" if reservation[-1] != "a" else "b")
    assert_error(tap("buyer-token-phone2", "tap-key-0003", reservation=forged), 409, "reservers_only")


def test_a_reminder_waits_for_its_time_and_follows_the_cards_setting(client, seller, make_card, outbox):
    card = make_card(starts_at=int(time.time()) + 60 * 60, reservation_mode="required")
    reserve(client, card.card_id, "ada@example.com")

    assert sweep.sweep()["reminders_sent"] == 0  # 10 minutes before by default: not yet
    patched = client.http.patch(f"/api/cards/{card.card_id}/social", headers={
        **seller.auth, "Content-Type": "application/json"}, body=json.dumps(
        {"reservations": {"mode": "required", "reminder_minutes": 90}}))
    assert patched.status_code == 200, patched.body
    assert json.loads(patched.body)["reservations"]["reminder_minutes"] == 90

    assert sweep.sweep()["reminders_sent"] == 1
    assert [m["subject"] for m in outbox()] == ["In 60 min: Speckled mug goes on sale"]


def test_a_chinese_card_reminds_in_chinese(client, make_card, outbox):
    card = make_card(starts_at=int(time.time()) + 3 * 60, reservation_mode="required", locale="zh-CN")
    reserve(client, card.card_id, "ada@example.com")

    sweep.sweep()

    [reminder] = outbox()
    assert reminder["subject"] == "3 分钟后开售：Speckled mug"
    assert "退订" in reminder["html"] or "不再" in reminder["html"]


def test_an_opened_or_hidden_sale_sends_no_reminder(client, seller, make_card, outbox):
    opened = make_card(starts_at=int(time.time()) - 5, reservation_mode="required")
    hidden = make_card(starts_at=int(time.time()) + 5 * 60, reservation_mode="required")
    reserve(client, opened.card_id, "ada@example.com")
    reserve(client, hidden.card_id, "ada@example.com")
    post_json(client, f"/api/cards/{hidden.card_id}/unpublish", {}, seller.auth)

    assert sweep.sweep()["reminders_sent"] == 0
    assert outbox() == []


def test_unsubscribing_through_the_page_or_one_click_stops_reminders_to_that_address(client, make_card, outbox):
    first = make_card(starts_at=int(time.time()) + 5 * 60, reservation_mode="required")
    reserve(client, first.card_id, "ada@example.com")
    sweep.sweep()
    [reminder] = outbox()
    link = path_of(reminder["headers"]["List-Unsubscribe"][1:-1])

    page = client.http.get(link, headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    assert "form-action 'self'" in page.headers["Content-Security-Policy"]
    assert 'method="post"' in page.body.decode() and "退订" in page.body.decode()
    one_click = client.http.post(link, headers={"Content-Type": "application/x-www-form-urlencoded"},
                                 body="List-Unsubscribe=One-Click")
    again = client.http.post(link, headers={"Content-Type": "application/x-www-form-urlencoded"},
                             body="List-Unsubscribe=One-Click")
    assert one_click.status_code == again.status_code == 200
    assert "data-unsubscribed" in one_click.body.decode()

    second = make_card(starts_at=int(time.time()) + 5 * 60, reservation_mode="required")
    reserve(client, second.card_id, "ADA@example.com ", buyer="buyer-token-0009")
    reserve(client, second.card_id, "bo@example.com", buyer="buyer-token-0010", address="203.0.113.11")
    sweep.sweep()
    assert [m["to"] for m in outbox()[1:]] == ["bo@example.com"]


@pytest.mark.parametrize("token", [None, "", "nope", "a" * 32 + "." + "b" * 24, "a" * 32 + "." + "b" * 24 + "x"])
def test_an_unsubscribe_link_that_is_not_genuine_is_refused_and_changes_nothing(client, token):
    path = "/unsubscribe" if token is None else f"/unsubscribe?token={token}"

    assert_error(client.http.get(path), 400, "invalid_request", "token")
    assert_error(client.http.post(path, headers={"Content-Type": "application/x-www-form-urlencoded"},
                                  body="List-Unsubscribe=One-Click"), 400, "invalid_request", "token")


@pytest.mark.parametrize("minutes", [0, 1441, "10", 2.5, True])
def test_a_reminder_time_out_of_range_is_refused_naming_it(client, seller, make_card, minutes):
    card = make_card(starts_at=int(time.time()) + 3600)
    response = client.http.patch(f"/api/cards/{card.card_id}/social", headers={
        **seller.auth, "Content-Type": "application/json"}, body=json.dumps(
        {"reservations": {"mode": "required", "reminder_minutes": minutes}}))

    assert_error(response, 400, "invalid_request", "reservations.reminder_minutes")
    assert cards.get_fresh(card.card_id).reservation_mode is None
