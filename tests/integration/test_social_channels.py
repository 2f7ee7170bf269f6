"""A card's own share channels: Mastodon and Bluesky (the local stand-ins), signed webhooks. Each
post is made once per order and channel; failures are retried by the sweeper, never forever."""
import json
import time

from standardwebhooks.webhooks import Webhook

from chalicelib import checkout
from chalicelib.social import shares, stream
from chalicelib.store import cards, orders
from chalicelib.store.social_models import ChannelModel
from chalicelib.social import channels, senders
from fixtures import mark_paid, shares_of, stream_event, sweep_shares


def paid(card, buy, buyer="buyer-token-0001", **extra):
    order = buy(card, buyer=buyer, **extra)
    mark_paid(order["order_id"])
    return orders.get(order["order_id"])


def mastodon(seller, card, social, token="mastodon-token-ok"):
    return channels.add_channel(seller.seller_id, card.card_id,
                                {"type": "mastodon", "instance": social.url, "access_token": token})


def bluesky(seller, card, social, password="app-pass-1234"):
    return channels.add_channel(seller.seller_id, card.card_id, {
        "type": "bluesky", "service": social.url, "identifier": "ada.test", "app_password": password})


def test_a_paid_order_becomes_one_mastodon_status_even_when_the_batch_comes_twice(make_card, buy, seller, social):
    card = make_card(stock=5)
    channel = mastodon(seller, card, social)
    order = paid(card, buy)
    event = stream_event("orders_stream_paid.json", [order])

    assert stream.handle_batch(event) == {"batchItemFailures": []}
    assert stream.handle_batch(event) == {"batchItemFailures": []}

    assert len(social.statuses) == 1
    status = social.statuses[0]
    assert status["content"] == shares.feed(card.card_id)[0]["text"]
    assert status["idempotency_key"] == f"{order.order_id}#{channel['id']}"
    assert shares_of(order.order_id)[channel["id"]].status == "posted"


def test_a_channel_answering_500_then_200_posts_once_after_the_retry(make_card, buy, seller, social):
    card = make_card(stock=5)
    channel = mastodon(seller, card, social)
    social.fail_next("/api/v1/statuses", 500)
    order = paid(card, buy)

    stream.handle_batch(stream_event("orders_stream_paid.json", [order]))
    share = shares_of(order.order_id)[channel["id"]]
    assert (share.status, share.attempts) == ("pending", 1)
    assert "HTTP 500" in share.error

    assert sweep_shares() == 1
    assert sweep_shares() == 0
    assert len(social.statuses) == 1
    assert shares_of(order.order_id)[channel["id"]].status == "posted"


def test_a_429_is_retried_no_sooner_than_its_retry_after(make_card, buy, seller, social):
    card = make_card(stock=5)
    channel = mastodon(seller, card, social)
    social.fail_next("/api/v1/statuses", 429, headers={"Retry-After": "600"})
    order = paid(card, buy)
    stream.handle_batch(stream_event("orders_stream_paid.json", [order]))

    share = shares_of(order.order_id)[channel["id"]]
    assert share.next_attempt_at >= time.time() + 590
    assert sweep_shares(after_seconds=300) == 0
    assert sweep_shares(after_seconds=601) == 1
    assert len(social.statuses) == 1


def test_a_channel_that_always_fails_is_recorded_failed_and_the_rest_of_the_batch_is_shared(
        make_card, buy, seller, social, webhook_receiver):
    card = make_card(stock=5)
    refused = mastodon(seller, card, social, token="revoked-token")
    hook = channels.add_channel(seller.seller_id, card.card_id, {"type": "webhook", "url": webhook_receiver.url})
    first, second = paid(card, buy, "buyer-token-0001"), paid(card, buy, "buyer-token-0002")

    result = stream.handle_batch(stream_event("orders_stream_two_paid.json", [first, second]))

    assert result == {"batchItemFailures": []}
    for order in (first, second):
        records = shares_of(order.order_id)
        assert records[refused["id"]].status == "failed"  # a refused token cannot get better by retrying
        assert "HTTP 401" in records[refused["id"]].error
        assert records[hook["id"]].status == "posted"
        assert records["feed"].status == "posted"
    assert len(webhook_receiver.requests) == 2
    for request in webhook_receiver.requests:
        Webhook(hook["secret"]).verify(request.body, request.headers)
    assert sweep_shares() == 0
    report = shares.report(card.card_id)
    assert report["channels"][refused["id"]] == {"posted": 0, "pending": 0, "failed": 2}
    assert report["channels"][hook["id"]]["posted"] == 2


def test_a_server_that_keeps_failing_is_given_up_after_the_last_attempt(make_card, buy, seller, social):
    card = make_card(stock=5)
    channel = mastodon(seller, card, social)
    social.fail_next("/api/v1/statuses", 503, times=shares.MAX_ATTEMPTS + 5)
    order = paid(card, buy)
    stream.handle_batch(stream_event("orders_stream_paid.json", [order]))

    tried = [sweep_shares(after_seconds=10 ** 6 * attempt) for attempt in range(1, shares.MAX_ATTEMPTS + 2)]

    assert sum(tried) == shares.MAX_ATTEMPTS - 1
    share = shares_of(order.order_id)[channel["id"]]
    assert (share.status, share.attempts) == ("failed", shares.MAX_ATTEMPTS)
    assert social.statuses == []


def test_bluesky_gets_a_post_with_a_link_card_and_logs_in_once(make_card, buy, seller, social):
    card = make_card(stock=5, title="Speckled mug")
    channel = bluesky(seller, card, social)
    paid_orders = [paid(card, buy, f"buyer-token-000{n}") for n in (1, 2)]

    for order in paid_orders:
        stream.handle_batch(stream_event("orders_stream_paid.json", [order]))

    assert social.sessions_created == 1
    assert len(social.posts) == 2
    record = social.posts[0]["record"]
    link = shares.share_link(paid_orders[0])
    assert record["embed"] == {"$type": "app.bsky.embed.external", "external": {
        "uri": link, "title": "Speckled mug", "description": card.description}}
    facet = record["facets"][0]
    assert record["text"].encode()[facet["index"]["byteStart"]:facet["index"]["byteEnd"]] == link.encode()
    assert len(social.posts[0]["rkey"]) == 13  # a TID
    assert all(shares_of(o.order_id)[channel["id"]].status == "posted" for o in paid_orders)


def test_an_expired_bluesky_session_is_refreshed_not_logged_in_again(make_card, buy, seller, social):
    card = make_card(stock=5)
    bluesky(seller, card, social)
    stream.handle_batch(stream_event("orders_stream_paid.json", [paid(card, buy, "buyer-token-0001")]))
    social.expire_access_tokens()

    stream.handle_batch(stream_event("orders_stream_paid.json", [paid(card, buy, "buyer-token-0002")]))

    assert (social.sessions_created, social.sessions_refreshed) == (1, 1)
    assert len(social.posts) == 2


def test_a_bluesky_post_whose_answer_was_lost_is_not_posted_again(make_card, buy, seller, social, monkeypatch):
    card = make_card(stock=5)
    channel = bluesky(seller, card, social)
    order = paid(card, buy)
    real_call = senders._call

    def answer_lost(method, url, body, headers):
        answer = real_call(method, url, body, headers)
        if url.endswith("createRecord"):
            raise senders.ChannelError("unreachable: timed out")  # posted, but we never heard back
        return answer

    monkeypatch.setattr(senders, "_call", answer_lost)
    stream.handle_batch(stream_event("orders_stream_paid.json", [order]))
    monkeypatch.setattr(senders, "_call", real_call)
    assert shares_of(order.order_id)[channel["id"]].status == "pending"

    assert sweep_shares() == 1

    assert len(social.posts) == 1
    assert shares_of(order.order_id)[channel["id"]].status == "posted"


def test_a_wrong_bluesky_password_fails_at_once_with_the_reason(make_card, buy, seller, social):
    card = make_card(stock=5)
    channel = bluesky(seller, card, social, password="wrong")
    order = paid(card, buy)

    stream.handle_batch(stream_event("orders_stream_paid.json", [order]))

    share = shares_of(order.order_id)[channel["id"]]
    assert share.status == "failed"
    assert "Bluesky refused the login" in share.error


def test_with_shares_off_only_the_cards_feed_is_posted(make_card, buy, seller, social):
    card = make_card(stock=5)
    mastodon(seller, card, social)
    cards.update_social_settings(card.card_id, {"shares_enabled": False})
    order = paid(card, buy)

    stream.handle_batch(stream_event("orders_stream_paid.json", [order]))

    assert set(shares_of(order.order_id)) == {"feed"}
    assert social.statuses == []


def test_secrets_are_stored_encrypted_and_never_listed(make_card, seller, social):
    card = make_card(stock=5)
    mastodon(seller, card, social, token="mastodon-token-ok")
    bluesky(seller, card, social)

    stored = [item.secret for item in ChannelModel.query(card.card_id)]
    listed = json.dumps(channels.list_channels(seller.seller_id, card.card_id))

    assert all(secret.startswith("gAAAA") for secret in stored)  # Fernet tokens
    for plain in ("mastodon-token-ok", "app-pass-1234"):
        assert plain not in "".join(stored) and plain not in listed
    assert "secret" not in listed


def test_the_cards_share_count_is_the_posts_on_channels(make_card, buy, seller, social):
    card = make_card(stock=5)
    mastodon(seller, card, social)
    bluesky(seller, card, social)

    stream.handle_batch(stream_event("orders_stream_paid.json", [paid(card, buy)]))

    view = checkout.card_view(card)
    assert (view["shares"], view["bought"]) == (2, 1)


def test_the_buyers_name_or_city_is_in_the_share_in_the_cards_locale(make_card, buy, seller, fake_stripe):
    card = make_card(stock=5, price_amount=1800, currency="CNY")
    cards.update_social_settings(card.card_id, {"locale": "zh-CN"})
    named = checkout.checkout(card.card_id, {"quantity": 1, "buyer": "buyer-token-0001", "name": "小明"}, "tap-key-1001")
    hidden = checkout.checkout(card.card_id, {"quantity": 1, "buyer": "buyer-token-0002", "name": "小红",
                                              "anonymous": True}, "tap-key-1002", city="Shanghai")
    for order in (named, hidden):
        mark_paid(order["order_id"])
        shares.post_order_shares(orders.get(order["order_id"]))

    texts = [item["text"] for item in shares.feed(card.card_id)]
    assert any(text.startswith("小明刚以¥18.00买下了Speckled mug") for text in texts), texts
    assert any(text.startswith("Shanghai的一位读者刚以") for text in texts), texts
    assert not any("小红" in text for text in texts)


def test_channel_secrets_never_reach_the_logs(make_card, buy, seller, social, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    card = make_card(stock=5)
    mastodon(seller, card, social, token="mastodon-token-revoked-xyz")
    bluesky(seller, card, social, password="wrong-app-password-xyz")

    stream.handle_batch(stream_event("orders_stream_paid.json", [paid(card, buy)]))
    sweep_shares()

    assert "failed for good" in caplog.text
    assert "mastodon-token-revoked-xyz" not in caplog.text
    assert "wrong-app-password-xyz" not in caplog.text
