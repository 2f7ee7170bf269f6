"""The seller's share webhook: a real HTTP endpoint on 127.0.0.1, signed per Standard Webhooks."""
import base64
import json
import time

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError


from chalicelib.social import channels, shares, stream
from chalicelib.store import orders
from fixtures import mark_paid, shares_of, stream_event, sweep_shares


def paid(card, buy, buyer="buyer-token-0001"):
    order = buy(card, buyer=buyer)
    mark_paid(order["order_id"])
    return orders.get(order["order_id"])


def test_the_seller_receives_one_signed_share_per_paid_order(make_card, buy, seller, webhook_receiver):
    secret = channels.set_seller_webhook(seller.seller_id, {"url": webhook_receiver.url})["secret"]
    card = make_card(stock=5)
    order = paid(card, buy)

    result = stream.handle_batch(stream_event("orders_stream_paid.json", [order]))

    assert result == {"batchItemFailures": []}
    assert len(webhook_receiver.requests) == 1
    request = webhook_receiver.requests[0]
    assert request.path == "/hooks/tapcard"
    payload = Webhook(secret).verify(request.body, request.headers)  # raises if the signature is wrong
    assert payload["type"] == "order.shared"
    assert payload["data"]["order_id"] == order.order_id
    assert payload["data"]["card_id"] == card.card_id
    assert payload["data"]["link"] == shares.share_link(order)
    assert payload["data"]["text"] == shares.feed(card.card_id)[0]["text"]
    assert request.headers["webhook-id"] == f"{order.order_id}#webhook"
    assert abs(int(request.headers["webhook-timestamp"]) - time.time()) < 30


def test_a_tampered_share_or_another_secret_does_not_verify(make_card, buy, seller, webhook_receiver):
    secret = channels.set_seller_webhook(seller.seller_id, {"url": webhook_receiver.url})["secret"]
    card = make_card(stock=5)
    stream.handle_batch(stream_event("orders_stream_paid.json", [paid(card, buy)]))
    request = webhook_receiver.requests[0]
    tampered = json.loads(request.body)
    tampered["data"]["text"] = "Free mugs for everyone"

    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(json.dumps(tampered), request.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + base64.b64encode(b"x" * 24).decode()).verify(request.body, request.headers)


def test_a_redelivered_record_does_not_call_the_seller_again(make_card, buy, seller, webhook_receiver):
    channels.set_seller_webhook(seller.seller_id, {"url": webhook_receiver.url})["secret"]
    card = make_card(stock=5)
    event = stream_event("orders_stream_paid.json", [paid(card, buy)])

    stream.handle_batch(event)
    stream.handle_batch(event)

    assert len(webhook_receiver.requests) == 1


def test_an_unreachable_webhook_does_not_fail_the_record_and_is_left_for_a_retry(
        make_card, buy, seller, closed_port_url):
    channels.set_seller_webhook(seller.seller_id, {"url": closed_port_url})["secret"]
    card = make_card(stock=5)
    order = paid(card, buy)
    event = stream_event("orders_stream_paid.json", [order])

    # The stream goes on: holding up the shard for one seller's endpoint would delay every share after it.
    assert stream.handle_batch(event) == {"batchItemFailures": []}
    assert stream.handle_batch(event) == {"batchItemFailures": []}

    assert len(shares.feed(card.card_id)) == 1
    webhook_share = shares_of(order.order_id)["webhook"]
    assert webhook_share.status == "pending"
    assert webhook_share.attempts == 1  # the redelivery does not try again before the backoff is over
    assert "refused" in webhook_share.error.lower()
    assert webhook_share.next_attempt_at >= time.time() + shares.BACKOFF_SECONDS * 0.8 - 1


def test_a_webhook_answering_an_error_status_is_retried_by_the_sweeper(make_card, buy, seller, webhook_receiver):
    webhook_receiver.status = 503
    secret = channels.set_seller_webhook(seller.seller_id, {"url": webhook_receiver.url})["secret"]
    card = make_card(stock=5)
    order = paid(card, buy)
    stream.handle_batch(stream_event("orders_stream_paid.json", [order]))
    assert shares_of(order.order_id)["webhook"].status == "pending"

    webhook_receiver.status = 200
    assert sweep_shares() == 1
    assert sweep_shares() == 0

    assert shares_of(order.order_id)["webhook"].status == "posted"
    assert len(webhook_receiver.requests) == 2
    first, second = webhook_receiver.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"]  # the receiver can dedupe
    Webhook(secret).verify(second.body, second.headers)


def test_a_retry_is_not_made_before_it_is_due(make_card, buy, seller, closed_port_url):
    channels.set_seller_webhook(seller.seller_id, {"url": closed_port_url})["secret"]
    card = make_card(stock=5)
    order = paid(card, buy)
    stream.handle_batch(stream_event("orders_stream_paid.json", [order]))

    assert shares.retry_due() == 0
    assert shares_of(order.order_id)["webhook"].attempts == 1


def test_after_five_failed_attempts_the_webhook_is_recorded_failed_and_never_tried_again(
        make_card, buy, seller, closed_port_url):
    channels.set_seller_webhook(seller.seller_id, {"url": closed_port_url})["secret"]
    card = make_card(stock=5)
    order = paid(card, buy)
    event = stream_event("orders_stream_paid.json", [order])
    stream.handle_batch(event)

    tried = [sweep_shares(after_seconds=10 ** 6 * attempt) for attempt in range(1, shares.MAX_ATTEMPTS + 2)]

    assert tried == [1] * (shares.MAX_ATTEMPTS - 1) + [0, 0]
    share = shares_of(order.order_id)["webhook"]
    assert (share.status, share.attempts) == ("failed", shares.MAX_ATTEMPTS)
    assert "refused" in share.error.lower()
    assert stream.handle_batch(event) == {"batchItemFailures": []}
    assert len(shares.feed(card.card_id)) == 1
