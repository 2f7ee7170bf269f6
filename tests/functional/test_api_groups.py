"""Group buying over HTTP (issue 16): the card's group setting, starting a group, joining it
through checkout's group_id, reading it, paying by authorisation, capture when the group is
complete (the groups stream), and the sweeper's failed group; every bad input in the contract's
error shape, nothing stored."""
import json
import time

import pytest

from chalicelib import counters, grouping
from chalicelib.audit import run as audit
from chalicelib.store import groups as stored_groups
from chalicelib.store import orders
from fakes import CARD_3DS, stripe_event, signed_webhook
from fixtures import GROUP, assert_error, card_view, create_card, pay_order, post_json
from groups_stream import GroupsStream


@pytest.fixture
def stream(aws):
    return GroupsStream()


def start_group(client, card_id, buyer="buyer-token-0001", key=None, **fields):
    payload = {"quantity": 1, "buyer": buyer, **fields}
    return post_json(client, f"/cards/{card_id}/groups", payload, {"Idempotency-Key": key or f"start-{buyer}"})


def join_group(client, card_id, group_id, buyer, key=None, **fields):
    payload = {"quantity": 1, "buyer": buyer, "group_id": group_id, **fields}
    return post_json(client, f"/cards/{card_id}/checkout", payload, {"Idempotency-Key": key or f"join-{buyer}"})


def body(response, status=201) -> dict:
    assert response.status_code == status, response.body
    return json.loads(response.body)


def test_a_card_takes_a_group_setting_and_shows_it(client, seller):
    card = create_card(client, seller, group={**GROUP, "only": False})
    assert card["group"] == {"size": 3, "price": {"amount": 1200, "currency": "EUR"}, "window_minutes": 30,
                             "only": False}
    assert card_view(client, card["id"])["group"]["price"]["amount"] == 1200
    assert card_view(client, create_card(client, seller)["id"])["group"] is None


@pytest.mark.parametrize("group, field", [
    ("three", "group"),
    ({**GROUP, "size": 1}, "group.size"),
    ({**GROUP, "size": 51}, "group.size"),
    ({**GROUP, "size": "3"}, "group.size"),
    ({**GROUP, "window_minutes": 0}, "group.window_minutes"),
    ({**GROUP, "window_minutes": 1441}, "group.window_minutes"),
    ({**GROUP, "price": {"amount": 1800}}, "group.price.amount"),  # not below the card's price
    ({**GROUP, "price": {"amount": 0}}, "group.price.amount"),
    ({**GROUP, "price": 1200}, "group.price"),
    ({"size": 3, "window_minutes": 30}, "group.price"),
    ({**GROUP, "only": "yes"}, "group.only"),
    ({**GROUP, "extra": 1}, "group.extra"),
])
def test_a_bad_group_setting_is_refused_naming_its_field_and_no_card_is_made(client, seller, group, field):
    assert_error(post_json(client, "/api/cards", {
        "title": "Mug", "image_url": "https://img.example.com/m.jpg", "price": {"amount": 1800, "currency": "EUR"},
        "stock": 5, "group": group}, seller.auth), 400, "invalid_request", field)
    assert json.loads(client.http.get("/api/cards", headers=seller.auth).body)["items"] == []


def test_the_group_setting_is_locked_once_the_card_has_orders(client, seller, fake_stripe):
    card = create_card(client, seller)
    edited = body(client.http.patch(f"/api/cards/{card['id']}", headers={**seller.auth, "Content-Type": "application/json"},
                                    body=json.dumps({"group": GROUP})), 200)
    assert edited["group"]["size"] == 3
    body(start_group(client, card["id"]))
    response = client.http.patch(f"/api/cards/{card['id']}", headers={**seller.auth, "Content-Type": "application/json"},
                                 body=json.dumps({"group": {**GROUP, "size": 2}}))
    assert_error(response, 409, "conflict", "group")
    # The same setting sent again is no change.
    assert client.http.patch(f"/api/cards/{card['id']}", headers={**seller.auth, "Content-Type": "application/json"},
                             body=json.dumps({"group": GROUP, "title": "Mug II"})).status_code == 200


def test_start_a_group_then_two_friends_join_and_it_is_full(client, seller, fake_stripe):
    card = create_card(client, seller, group=GROUP)
    started = body(start_group(client, card["id"], name="Ada"))
    assert started["status"] == "held" and started["amount"] == 1200 and started["client_secret"] is None
    group_id = started["group_id"]
    assert started["group"]["size"] == 3 and started["group"]["members"] == 1
    assert started["group"]["state"] == "open" and started["group"]["starter_name"] == "Ada"
    # The same start again is the same order and group.
    assert body(start_group(client, card["id"], name="Ada"))["order_id"] == started["order_id"]

    second = body(join_group(client, card["id"], group_id, "buyer-token-0002"))
    assert second["group_id"] == group_id and second["amount"] == 1200 and second["group"]["members"] == 2
    body(join_group(client, card["id"], group_id, "buyer-token-0003"))
    assert_error(join_group(client, card["id"], group_id, "buyer-token-0004"), 409, "group_full")

    answer = client.http.get(f"/cards/{card['id']}/groups/{group_id}")
    assert answer.headers["Cache-Control"] == "no-store"  # polled for the live count: the edge never keeps it
    seen = body(answer, 200)
    assert seen == {"group_id": group_id, "card_id": card["id"], "size": 3, "members": 3, "authorised": 0,
                    "closes_at": started["group"]["closes_at"], "state": "open",
                    "price": {"amount": 1200, "currency": "EUR"}, "starter_name": "Ada"}
    assert card_view(client, card["id"])["stock"]["held"] == 3
    assert audit(card["id"]).clean


def test_joining_errors_are_contract_errors_and_take_nothing(client, seller, fake_stripe):
    card = create_card(client, seller, group=GROUP)
    other = create_card(client, seller, group=GROUP)
    plain = create_card(client, seller)
    group_id = body(start_group(client, card["id"]))["group_id"]
    other_group = body(start_group(client, other["id"], buyer="buyer-token-0009"))["group_id"]

    # Joining your own group again, with another tap.
    assert_error(join_group(client, card["id"], group_id, "buyer-token-0001"), 409, "already_in_group")
    # Another card's group reads as unknown; so does a made-up one.
    assert_error(join_group(client, card["id"], other_group, "buyer-token-0002"), 404, "not_found")
    assert_error(join_group(client, card["id"], "grp_nothing", "buyer-token-0002"), 404, "not_found")
    assert_error(join_group(client, card["id"], 42, "buyer-token-0002"), 400, "invalid_request", "group_id")
    assert_error(join_group(client, card["id"], None, "buyer-token-0002"), 400, "invalid_request", "group_id")
    assert_error(join_group(client, card["id"], group_id, "buyer-token-0002", code="SAVE10"), 400,
                 "invalid_request", "code")
    # A card without group buying.
    assert_error(start_group(client, plain["id"]), 409, "group_buying_off")
    assert_error(join_group(client, plain["id"], group_id, "buyer-token-0002"), 409, "group_buying_off")
    assert_error(start_group(client, card["id"], buyer="x", key="start-key-x"), 400, "invalid_request", "buyer")
    assert_error(post_json(client, f"/cards/{card['id']}/groups", {"quantity": 1, "buyer": "buyer-token-0003"}),
                 400, "invalid_request", "Idempotency-Key")
    assert_error(client.http.get(f"/cards/{other['id']}/groups/{group_id}"), 404, "not_found")
    assert_error(client.http.get(f"/cards/{card['id']}/groups/GRP-no"), 404, "not_found")
    assert stored_groups.get(group_id).members == 1
    assert card_view(client, card["id"])["stock"]["held"] == 1


def test_a_closed_group_takes_no_one(client, seller, fake_stripe, monkeypatch):
    card = create_card(client, seller, group=GROUP)
    started = body(start_group(client, card["id"]))
    later = time.time() + 31 * 60
    monkeypatch.setattr(grouping, "now", lambda: int(later))
    assert_error(join_group(client, card["id"], started["group_id"], "buyer-token-0002"), 409, "group_closed")
    assert body(client.http.get(f"/cards/{card['id']}/groups/{started['group_id']}"), 200)["state"] == "failed"


def test_a_group_only_card_refuses_a_solo_checkout(client, seller, fake_stripe):
    card = create_card(client, seller, group={**GROUP, "only": True})
    response = post_json(client, f"/cards/{card['id']}/checkout", {"quantity": 1, "buyer": "buyer-token-0001"},
                         {"Idempotency-Key": "solo-tap-0001"})
    assert_error(response, 409, "group_only")
    assert card_view(client, card["id"])["stock"]["held"] == 0


def test_the_group_pays_when_the_last_member_authorises_and_only_then(client, seller, fake_stripe, stream):
    card = create_card(client, seller, group=GROUP)
    members = [body(start_group(client, card["id"], name="Ada"))]
    members += [body(join_group(client, card["id"], members[0]["group_id"], f"buyer-token-000{n}")) for n in (2, 3)]
    for member in members[:2]:
        answer = body(pay_order(client, member), 200)
        assert answer["status"] == "authorized" and answer["order"]["status"] == "held"
        assert answer["order"]["authorised"] is True
    stream.deliver()
    assert fake_stripe.charged() == [] and len(fake_stripe.authorised()) == 2
    assert_error(pay_order(client, members[0]), 409, "already_paid")  # authorised once

    body(pay_order(client, members[2]), 200)
    stream.deliver()
    assert len(fake_stripe.charged()) == 3
    for member in members:
        assert orders.get(member["order_id"]).status == "paid"
    stream.deliver(again=True)  # a redelivered batch captures nothing twice
    assert len(fake_stripe.calls_to("capture")) == 3
    assert body(client.http.get(f"/cards/{card['id']}/groups/{members[0]['group_id']}"), 200)["state"] == "complete"
    assert audit(card["id"]).clean
    counters.flush()
    stats = body(client.http.get(f"/api/cards/{card['id']}/stats", headers=seller.auth), 200)["total"]
    assert (stats["groups_started"], stats["groups_completed"], stats["groups_failed"], stats["group_units"]) == \
        (1, 1, 0, 3)
    feed = body(client.http.get(f"/cards/{card['id']}/feed"), 200)["items"]
    assert sorted(item["kind"] for item in feed) == ["group.completed"] + ["group.joined"] * 3
    assert all(f"group={members[0]['group_id']}" in item["link"] for item in feed)


def test_a_member_whose_capture_fails_drops_out_and_the_rest_pay(client, seller, fake_stripe, stream):
    card = create_card(client, seller, group={**GROUP, "size": 2})
    first = body(start_group(client, card["id"]))
    second = body(join_group(client, card["id"], first["group_id"], "buyer-token-0002"))
    body(pay_order(client, first), 200)
    body(pay_order(client, second), 200)
    fake_stripe.capture_fails.update(fake_stripe.intents_of(second["order_id"]))  # its issuer says no
    stream.deliver()
    assert orders.get(first["order_id"]).status == "paid"
    dropped = orders.get(second["order_id"])
    assert (dropped.status, dropped.status_reason) == ("canceled", "group_capture_failed")
    assert fake_stripe.charged() == fake_stripe.intents_of(first["order_id"])
    assert card_view(client, card["id"])["stock"]["available"] == 4
    assert audit(card["id"]).clean


def test_when_the_window_closes_first_no_one_is_charged_and_the_units_come_back(client, seller, fake_stripe, stream):
    card = create_card(client, seller, group=GROUP)
    first = body(start_group(client, card["id"]))
    second = body(join_group(client, card["id"], first["group_id"], "buyer-token-0002"))
    body(pay_order(client, first), 200)
    body(pay_order(client, second), 200)
    assert grouping.sweep(at=int(time.time())) == 0  # not closed yet
    assert grouping.sweep(at=int(time.time()) + 31 * 60) == 1
    for member in (first, second):
        order = orders.get(member["order_id"])
        assert (order.status, order.status_reason) == ("canceled", "group_failed")
    assert fake_stripe.charged() == [] and fake_stripe.authorised() == []
    assert card_view(client, card["id"])["stock"]["available"] == 5
    assert audit(card["id"]).clean
    assert grouping.sweep(at=int(time.time()) + 32 * 60) == 0  # settled: nothing left to do
    counters.flush()
    stats = body(client.http.get(f"/api/cards/{card['id']}/stats", headers=seller.auth), 200)["total"]
    assert (stats["groups_started"], stats["groups_failed"], stats["group_units"]) == (1, 1, 0)


def test_a_payment_authorised_after_3d_secure_counts_through_its_webhook_once(client, seller, fake_stripe, stream):
    card = create_card(client, seller, group={**GROUP, "size": 2})
    first = body(start_group(client, card["id"]))
    second = body(join_group(client, card["id"], first["group_id"], "buyer-token-0002"))
    body(pay_order(client, first), 200)
    assert body(pay_order(client, second, {"payment_method": CARD_3DS}), 200)["status"] == "requires_action"
    [intent] = fake_stripe.intents_of(second["order_id"])
    fake_stripe.complete(intent, "requires_capture")
    event = stripe_event("payment_intent.amount_capturable_updated", intent, second["order_id"], amount=1200)
    event["data"]["object"].update(status="requires_capture", amount_capturable=1200)
    for _ in range(2):  # Stripe delivers it twice
        payload, headers = signed_webhook(event)
        assert client.http.post("/webhooks/stripe", headers=headers, body=payload).status_code == 200
    assert stored_groups.get(first["group_id"]).authorised == 2
    stream.deliver()
    assert sorted(fake_stripe.charged()) == sorted(fake_stripe.intents_of(first["order_id"]) + [intent])
    assert audit(card["id"]).clean


def test_a_payment_authorised_after_the_group_closed_is_cancelled(client, seller, fake_stripe, monkeypatch):
    card = create_card(client, seller, group={**GROUP, "size": 2})
    first = body(start_group(client, card["id"]))
    stored_groups.GroupModel(first["group_id"], "group").update(
        actions=[stored_groups.GroupModel.closes_at.set(int(time.time()) + 4)])
    real_now = grouping.now
    monkeypatch.setattr(grouping, "now", lambda: real_now() + 10)  # the group closed during the payment
    answer = body(pay_order(client, first), 200)
    assert answer["status"] == "failed"
    assert fake_stripe.charged() == [] and fake_stripe.authorised() == []


def test_an_authorisation_after_3d_secure_on_a_failed_group_is_cancelled_once(client, seller, fake_stripe, stream):
    """The window closed (the sweeper failed the group) while the buyer was at their bank: the late
    authorisation is cancelled, and Stripe's redelivery of the event is a duplicate."""
    card = create_card(client, seller, group={**GROUP, "size": 2})
    first = body(start_group(client, card["id"]))
    assert body(pay_order(client, first, {"payment_method": CARD_3DS}), 200)["status"] == "requires_action"
    assert grouping.sweep(at=int(time.time()) + 31 * 60) == 1
    [intent] = fake_stripe.intents_of(first["order_id"])
    fake_stripe.complete(intent, "requires_capture")
    event = stripe_event("payment_intent.amount_capturable_updated", intent, first["order_id"], amount=1200)
    event["data"]["object"].update(status="requires_capture", amount_capturable=1200)
    outcomes = []
    for _ in range(2):  # Stripe delivers it twice
        payload, headers = signed_webhook(event)
        outcomes.append(body(client.http.post("/webhooks/stripe", headers=headers, body=payload), 200)["outcome"])
    assert outcomes == ["canceled", "duplicate"]
    assert fake_stripe.charged() == [] and fake_stripe.authorised() == []
    assert orders.get(first["order_id"]).status == "canceled"
    assert audit(card["id"]).clean


def test_the_group_script_and_words_come_only_with_a_group_card(client, seller):
    group_card = create_card(client, seller, group=GROUP, locale="zh-CN")
    page = client.http.get(f"/cards/{group_card['id']}/widget?group=grp_abc&locale=zh-CN").body.decode()
    assert "window.tapcardGroup = " in page and "发起拼团" in page and "单独购买" in page
    assert '"group_id": "grp_abc"' in page or '"group_id":"grp_abc"' in page
    plain = client.http.get(f"/cards/{create_card(client, seller)['id']}/widget").body.decode()
    assert "window.tapcardGroup = " not in plain and "group-start" not in plain
    # The product page passes the group link on to its card.
    product = client.http.get(f"/p/{group_card['id']}?group=grp_abc&ref=abc123").body.decode()
    assert "group=grp_abc" in product
