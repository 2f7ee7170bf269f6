"""The social loop over HTTP: card channels, social settings, reservations, referral and share reports."""
import csv
import io
import json
import time

import pytest

from chalicelib.social import stream
from chalicelib.store import orders
from fakes import CARD_OK
from fixtures import (
    assert_error, card_request, card_view, from_address, hold, mark_paid, pay_order, post_json, request_checkout,
    stream_event, through_our_cloudfront, view,
)


def call(client, method, path, seller=None, payload=None):
    headers = {"Content-Type": "application/json", **(seller.auth if seller else {})}
    return client.http.request(method, path, headers=headers,
                               body=json.dumps(payload).encode() if payload is not None else b"")


def body(response):
    return json.loads(response.body)


# --- channels -----------------------------------------------------------------------------------


def test_a_webhook_channel_is_added_listed_without_its_secret_and_removed(client, seller, make_card):
    card = make_card()
    path = f"/api/cards/{card.card_id}/channels"

    added = call(client, "POST", path, seller, {"type": "webhook", "url": "https://hooks.example.com/tapcard"})

    assert added.status_code == 201
    channel = body(added)
    assert channel["type"] == "webhook" and channel["secret"].startswith("whsec_")
    listed = body(call(client, "GET", path, seller))["items"]
    assert listed == [{k: v for k, v in channel.items() if k != "secret"}]
    assert call(client, "DELETE", f"{path}/{channel['id']}", seller).status_code == 204
    assert body(call(client, "GET", path, seller))["items"] == []
    assert_error(call(client, "DELETE", f"{path}/{channel['id']}", seller), 404, "not_found")


@pytest.mark.parametrize("payload, field", [
    ({"type": "webhook", "url": "http://hooks.example.com/x"}, "url"),
    ({"type": "webhook", "url": "ftp://hooks.example.com/x"}, "url"),
    ({"type": "webhook"}, "url"),
    ({"type": "mastodon", "instance": "http://mastodon.example", "access_token": "t"}, "instance"),
    ({"type": "mastodon", "instance": "https://mastodon.example"}, "access_token"),
    ({"type": "bluesky", "identifier": "ada.test"}, "app_password"),
    ({"type": "bluesky", "identifier": "ada.test", "app_password": "p", "service": {}}, "service"),
    ({"type": "carrier-pigeon"}, "type"),
])
def test_a_bad_channel_is_a_400_naming_the_field(client, seller, make_card, payload, field):
    card = make_card()

    assert_error(call(client, "POST", f"/api/cards/{card.card_id}/channels", seller, payload), 400,
                 "invalid_request", field=field)


def test_a_full_card_refuses_another_channel_as_a_conflict(client, seller, make_card, monkeypatch):
    # The request is fine, the card has its channels: 409, not 400 (issue 13, found by tests/schema).
    from chalicelib.social import channels

    monkeypatch.setattr(channels, "MAX_CHANNELS_PER_CARD", 1)
    card = make_card()
    hook = {"type": "webhook", "url": "https://hooks.example.com/x"}
    assert call(client, "POST", f"/api/cards/{card.card_id}/channels", seller, hook).status_code == 201

    assert_error(call(client, "POST", f"/api/cards/{card.card_id}/channels", seller, hook), 409, "conflict", field="type")


def test_another_sellers_card_has_no_channels_for_you(client, seller, make_card):
    from chalicelib.store import sellers

    other_id, _ = sellers.create_seller("Bob", "bob@example.com")
    card = make_card(seller_id=other_id)

    for method, payload in (("GET", None), ("POST", {"type": "webhook", "url": "https://x.example"})):
        assert_error(call(client, method, f"/api/cards/{card.card_id}/channels", seller, payload), 404, "not_found")
    assert_error(call(client, "GET", f"/api/cards/{card.card_id}/channels"), 401, "unauthorized")


def test_a_test_send_reaches_the_channel_and_says_so(client, seller, make_card, webhook_receiver, closed_port_url):
    card = make_card()
    path = f"/api/cards/{card.card_id}/channels"
    good = body(call(client, "POST", path, seller, {"type": "webhook", "url": webhook_receiver.url}))
    down = body(call(client, "POST", path, seller, {"type": "webhook", "url": closed_port_url}))

    assert body(call(client, "POST", f"{path}/{good['id']}/test", seller)) == {"delivered": True}
    failed = body(call(client, "POST", f"{path}/{down['id']}/test", seller))

    assert failed["delivered"] is False and failed["retryable"] is True and "refused" in failed["error"].lower()
    assert json.loads(webhook_receiver.requests[0].body)["type"] == "channel.test"


def test_the_seller_level_webhook_still_refuses_plain_http_off_this_machine(client, seller):
    response = call(client, "PUT", "/api/channels/webhook", seller, {"url": "http://hooks.example.com/x"})

    assert_error(response, 400, "invalid_request", field="url")


# --- card settings ------------------------------------------------------------------------------


def test_unknown_share_template_placeholders_are_refused_when_the_card_is_saved(client, seller, make_card):
    created = post_json(client, "/api/cards", card_request(share_text="Grab {title} with {coupon}"), seller.auth)
    card = make_card()
    patched = call(client, "PATCH", f"/api/cards/{card.card_id}/social", seller, {"share_text": "{oops"})

    assert_error(created, 400, "invalid_template", field="share_text")
    assert_error(patched, 400, "invalid_template", field="share_text")


def test_social_settings_are_saved_with_the_card_and_changed_later(client, seller):
    created = body(post_json(client, "/api/cards", card_request(
        locale="zh-CN", reservations={"mode": "first_minutes", "minutes": 15},
        sale={"starts_at": "2030-05-01T12:00:00Z"}), seller.auth))
    path = f"/api/cards/{created['id']}/social"

    assert created["locale"] == "zh-CN"
    assert created["reservation"] == {"mode": "first_minutes", "reservers_only_until": "2030-05-01T12:15:00Z"}
    changed = body(call(client, "PATCH", path, seller, {"shares_enabled": False, "rebate_percent": 5}))
    assert changed == {"locale": "zh-CN", "shares_enabled": False, "rebate_percent": 5,
                       "referral_discount_percent": None,
                       "reservations": {"mode": "first_minutes", "minutes": 15, "reminder_minutes": 10},
                       "share_text": created_share_text()}
    assert body(call(client, "GET", path, seller)) == changed


def created_share_text():
    from chalicelib.domain import DEFAULT_SHARE_TEXT

    return DEFAULT_SHARE_TEXT


@pytest.mark.parametrize("payload, field", [
    ({"locale": "fr"}, "locale"), ({"shares_enabled": "no"}, "shares_enabled"),
    ({"rebate_percent": 80}, "rebate_percent"), ({"reservations": {"mode": "lottery"}}, "reservations.mode"),
    ({"reservations": {"mode": "first_minutes"}}, "reservations.minutes"), ({"price": 1}, "price"),
])
def test_a_bad_setting_is_a_400_naming_the_field(client, seller, make_card, payload, field):
    card = make_card()

    assert_error(call(client, "PATCH", f"/api/cards/{card.card_id}/social", seller, payload), 400,
                 "invalid_request", field=field)


# --- reservations and the card's social proof ------------------------------------------------------


def test_a_reader_reserves_and_the_card_shows_the_count(client, make_card):
    card = make_card(starts_at=int(time.time()) + 3600, reservation_mode="required")

    first = call(client, "POST", f"/cards/{card.card_id}/reservations", payload={"buyer": "buyer-token-0001"})
    again = call(client, "POST", f"/cards/{card.card_id}/reservations", payload={"buyer": "buyer-token-0001"})
    anonymous = call(client, "POST", f"/cards/{card.card_id}/reservations")

    assert (first.status_code, again.status_code, anonymous.status_code) == (201, 200, 201)
    assert set(body(first)) == {"reservation_id", "token", "card_id"}
    assert body(again) == body(first)
    view = card_view(client, card.card_id)
    assert (view["reservations"], view["bought"], view["shares"]) == (2, 0, 0)
    assert_error(call(client, "POST", f"/cards/{card.card_id}/reservations", payload={"email": "nope"}),
                 400, "invalid_request", field="email")
    assert_error(call(client, "POST", "/cards/card_nope/reservations"), 404, "not_found")


def test_reservers_only_is_a_409_and_the_token_gets_through_for_its_buyer_only(client, seller, make_card,
                                                                             fake_stripe):
    card = make_card(starts_at=int(time.time()) - 10)
    call(client, "PATCH", f"/api/cards/{card.card_id}/social", seller,
         {"reservations": {"mode": "first_minutes", "minutes": 30}})
    from_address(client, "203.0.113.7")
    token = body(call(client, "POST", f"/cards/{card.card_id}/reservations",
                      payload={"buyer": "buyer-token-0001"}))["token"]
    from_address(client, "198.51.100.20")  # the reader buys from another network: the token still counts

    assert_error(request_checkout(client, card.card_id, key="tap-key-0001"), 409, "reservers_only")
    passed_on = post_json(client, f"/cards/{card.card_id}/checkout",
                          {"quantity": 1, "buyer": "buyer-token-0002", "reservation": token},
                          {"Idempotency-Key": "tap-key-0003"})
    assert_error(passed_on, 409, "reservers_only")
    response = post_json(client, f"/cards/{card.card_id}/checkout",
                         {"quantity": 1, "buyer": "buyer-token-0001", "reservation": token},
                         {"Idempotency-Key": "tap-key-0002"})
    assert response.status_code == 201, response.body


def test_a_card_without_reservations_refuses_them_and_the_widget_offers_none(client, make_card):
    card = make_card(starts_at=int(time.time()) + 3600)

    assert_error(call(client, "POST", f"/cards/{card.card_id}/reservations", payload={"buyer": "buyer-token-0001"}),
                 409, "reservations_off")
    assert card_view(client, card.card_id)["reservations"] == 0
    assert card_view(client, card.card_id)["reservation"]["mode"] == "none"  # card.js shows no button then


def test_one_address_reserving_past_its_rate_is_a_429_with_retry_after(client, make_card, monkeypatch):
    from chalicelib import config

    monkeypatch.setattr(config, "RESERVATIONS_PER_CLIENT", 2)
    card = make_card(starts_at=int(time.time()) + 3600, reservation_mode="required")
    path = f"/cards/{card.card_id}/reservations"
    from_address(client, "203.0.113.7")
    made = [call(client, "POST", path, payload={"buyer": f"buyer-token-000{n}"}).status_code for n in range(2)]

    refused = call(client, "POST", path, payload={"buyer": "buyer-token-0009"})

    assert made == [201, 201]
    assert_error(refused, 429, "too_many_reservations")
    assert 1 <= int(refused.headers["Retry-After"]) <= config.RESERVATION_RATE_SECONDS
    assert call(client, "POST", path, payload={"buyer": "buyer-token-0000"}).status_code == 200  # already reserved
    from_address(client, "2001:db8:1:2::1")
    assert call(client, "POST", path, payload={"buyer": "buyer-token-0009"}).status_code == 201
    from_address(client, "2001:db8:1:2::ffff")  # the same IPv6 /64: the same client
    assert call(client, "POST", path, payload={"buyer": "buyer-token-0009"}).status_code == 200
    assert card_view(client, card.card_id)["reservations"] == 3


FORGED_CITY = "%3Cb%3EFREE%20iPhones%20at%20https%3A%2F%2Fevil.example%2Fclaim%3C%2Fb%3E"


@pytest.mark.parametrize("city", [FORGED_CITY, "FREE iPhones at https://evil.example/claim"])
def test_a_forged_viewer_city_never_reaches_a_share(client, make_card, fake_stripe, monkeypatch, city):
    from chalicelib import config
    from chalicelib.social import shares

    through_our_cloudfront(client, monkeypatch)  # even from our CloudFront
    card = make_card(starts_at=int(time.time()) + 3600, reservation_mode="required")
    for n in range(3):
        from_address(client, f"203.0.113.{n}")
        reserved = client.http.post(f"/cards/{card.card_id}/reservations", body=json.dumps({"buyer": f"buyer-token-000{n}"}),
                                    headers={"Content-Type": "application/json", "CloudFront-Viewer-City": city,
                                             "X-Tapcard-Origin-Verify": "origin-secret"})
        assert reserved.status_code == 201, reserved.body
    shares.post_reservations_share(card.card_id, int(time.time()))  # what the reservations stream does
    live = make_card()
    order = body(post_json(client, f"/cards/{live.card_id}/checkout",
                           {"quantity": 1, "buyer": "buyer-token-0001", "anonymous": True},
                           {"Idempotency-Key": "tap-key-0001", "CloudFront-Viewer-City": city,
                            "X-Tapcard-Origin-Verify": "origin-secret"}))
    mark_paid(order["order_id"])
    stream.handle_batch(stream_event("orders_stream_paid.json", [orders.get(order["order_id"])]))

    texts = [item["text"] for c in (card, live) for item in body(client.http.get(f"/cards/{c.card_id}/feed"))["items"]]
    assert len(texts) == 2
    assert texts[0].startswith("3 people reserved") and texts[1].startswith("Someone just got")
    assert not any("evil" in text or "iPhone" in text or "<" in text for text in texts)


def test_a_city_is_named_when_our_cloudfront_sent_the_request(client, make_card, fake_stripe, monkeypatch):
    through_our_cloudfront(client, monkeypatch)
    card = make_card()
    order = body(post_json(client, f"/cards/{card.card_id}/checkout",
                           {"quantity": 1, "buyer": "buyer-token-0001", "anonymous": True},
                           {"Idempotency-Key": "tap-key-0001", "CloudFront-Viewer-City": "Lyon"}))
    mark_paid(order["order_id"])
    stream.handle_batch(stream_event("orders_stream_paid.json", [orders.get(order["order_id"])]))

    text = body(client.http.get(f"/cards/{card.card_id}/feed"))["items"][0]["text"]
    assert text.startswith("Someone in Lyon just got"), text


@pytest.mark.parametrize("origin_header", [None, "", "a-guess"])
def test_a_tap_around_our_cloudfront_is_refused_and_holds_nothing(client, make_card, fake_stripe, monkeypatch,
                                                                  origin_header):
    from chalicelib import config

    monkeypatch.setattr(config, "CLOUDFRONT_ORIGIN_SECRET", "origin-secret")
    card = make_card(stock=3)
    headers = {"Idempotency-Key": "tap-key-0001", "CloudFront-Viewer-City": "Lyon"}
    if origin_header is not None:
        headers["X-Tapcard-Origin-Verify"] = origin_header

    refused = post_json(client, f"/cards/{card.card_id}/checkout", {"quantity": 1, "buyer": "buyer-token-0001"}, headers)

    assert_error(refused, 403, "forbidden")
    assert fake_stripe.calls == []
    monkeypatch.setattr(config, "CLOUDFRONT_ORIGIN_SECRET", None)
    assert card_view(client, card.card_id)["stock"]["available"] == 3


def test_a_stage_without_a_cloudfront_secret_believes_no_viewer_city(client, make_card, fake_stripe, monkeypatch):
    from chalicelib import config

    monkeypatch.setattr(config, "CLOUDFRONT_ORIGIN_SECRET", None)
    card = make_card()
    order = body(post_json(client, f"/cards/{card.card_id}/checkout",
                           {"quantity": 1, "buyer": "buyer-token-0001", "anonymous": True},
                           {"Idempotency-Key": "tap-key-0001", "CloudFront-Viewer-City": "Lyon",
                            "X-Tapcard-Origin-Verify": ""}))
    mark_paid(order["order_id"])
    stream.handle_batch(stream_event("orders_stream_paid.json", [orders.get(order["order_id"])]))

    assert body(client.http.get(f"/cards/{card.card_id}/feed"))["items"][0]["text"].startswith("Someone just got")


# --- reports ------------------------------------------------------------------------------------


def test_referrals_are_reported_as_json_and_csv(client, seller, make_card, fake_stripe):
    card = make_card(price_amount=1000)
    first = body(request_checkout(client, card.card_id, buyer="buyer-token-0001", key="tap-key-0001"))
    mark_paid(first["order_id"])
    code = orders.get(first["order_id"]).referral_code
    assert client.http.get(f"/p/{card.card_id}?ref={code}").status_code == 200  # kept at the edge: counts nothing
    assert client.http.get(f"/cards/{card.card_id}/widget?ref={code}").status_code == 200
    view(client, card.card_id, ref=code)  # the card framed on it, on the reader's screen: one visit
    second = body(request_checkout(client, card.card_id, buyer="buyer-token-0002", key="tap-key-0002", ref=code))
    mark_paid(second["order_id"])
    stream.handle_batch(stream_event("orders_stream_paid.json", [orders.get(second["order_id"])]))

    report = body(call(client, "GET", f"/api/cards/{card.card_id}/referrals", seller))
    exported = call(client, "GET", f"/api/cards/{card.card_id}/referrals?format=csv", seller)

    assert (report["referral_visits"], report["referred_orders"], report["referred_revenue"]) == (1, 1, 1000)
    assert [r["code"] for r in report["top_referrers"]] == [code]
    assert exported.headers["Content-Type"].startswith("text/csv")
    assert [row["code"] for row in csv.DictReader(io.StringIO(exported.body.decode()))] == [code]
    assert_error(call(client, "GET", f"/api/cards/{card.card_id}/referrals?format=xml", seller), 400,
                 "invalid_request", field="format")


def test_paying_through_ones_own_link_with_another_buyer_token_earns_no_rebate(client, seller, make_card, fake_stripe):
    """Issue 13: the same person paid twice with two buyer tokens (two browsers) and credited
    themselves. The card that paid both orders gives them away; another person's card is credited,
    and the rebate waits for the refund window."""
    card = make_card(price_amount=1000)
    call(client, "PATCH", f"/api/cards/{card.card_id}/social", seller, {"rebate_percent": 10})
    fake_stripe.payers = {CARD_OK: ("card:fp_ada", "email:ada@example.com"),
                          "pm_card_bea": ("card:fp_bea", "email:bea@example.com")}

    def pays(buyer, method, ref=None) -> str:
        order = hold(client, card.card_id, buyer=buyer, ref=ref)
        assert body(pay_order(client, order, {"payment_method": method}))["status"] == "succeeded"
        stream.handle_batch(stream_event("orders_stream_paid.json", [orders.get(order["order_id"])]))
        return orders.get(order["order_id"]).referral_code

    code = pays("buyer-token-ada1", CARD_OK)
    pays("buyer-token-ada2", CARD_OK, ref=code)
    pays("buyer-token-bea1", "pm_card_bea", ref=code)

    report = body(call(client, "GET", f"/api/cards/{card.card_id}/referrals", seller))

    assert (report["referred_orders"], report["referred_revenue"]) == (1, 1000)
    assert (report["rebate_total"], report["rebate_pending_total"], report["refund_window_days"]) == (0, 100, 14)
    assert [(r["code"], r["orders"], r["rebate"], r["rebate_pending"]) for r in report["top_referrers"]] == [
        (code, 1, 0, 100)]


def test_the_share_report_shows_each_channel_and_failure(client, seller, make_card, fake_stripe, closed_port_url):
    card = make_card()
    channel = body(call(client, "POST", f"/api/cards/{card.card_id}/channels", seller,
                        {"type": "webhook", "url": closed_port_url}))
    order = body(request_checkout(client, card.card_id))
    mark_paid(order["order_id"])
    stream.handle_batch(stream_event("orders_stream_paid.json", [orders.get(order["order_id"])]))

    report = body(call(client, "GET", f"/api/cards/{card.card_id}/shares", seller))

    assert report["channels"] == {"feed": {"posted": 1, "pending": 0, "failed": 0},
                                  channel["id"]: {"posted": 0, "pending": 1, "failed": 0}}
    pending = [item for item in report["items"] if item["channel"] == channel["id"]][0]
    assert pending["attempts"] == 1 and "refused" in pending["error"].lower()


def test_the_seller_pages_through_the_reservers_to_notify_them(client, seller, make_card, monkeypatch):
    from chalicelib.social import reservations

    monkeypatch.setattr(reservations, "PAGE_SIZE", 2)
    card = make_card(starts_at=int(time.time()) + 3600, reservation_mode="required")
    for n in range(3):
        call(client, "POST", f"/cards/{card.card_id}/reservations",
             payload={"buyer": f"buyer-token-000{n}", "email": f"reader{n}@example.com"})

    first = body(call(client, "GET", f"/api/cards/{card.card_id}/reservations", seller))
    second = body(call(client, "GET", f"/api/cards/{card.card_id}/reservations?after={first['next']}", seller))

    emails = [item["email"] for item in first["items"] + second["items"]]
    assert sorted(emails) == ["reader0@example.com", "reader1@example.com", "reader2@example.com"]
    assert "next" not in second
    for after in ("garbage", "rsv_x.%C2%B2"):  # '²' passes str.isdigit() but not int(): it was a 500
        assert_error(call(client, "GET", f"/api/cards/{card.card_id}/reservations?after={after}", seller), 400,
                     "invalid_request", field="after")
