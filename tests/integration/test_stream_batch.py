"""The orders stream handler, fed Lambda-shaped DynamoDB Streams events (tests/events/orders_stream_*.json)."""
import boto3

from chalicelib import config
from chalicelib.social import shares, stream
from chalicelib.store import orders
from fixtures import mark_paid, stream_event


def paid(card, buy, buyer="buyer-token-0001"):
    order = buy(card, buyer=buyer)
    mark_paid(order["order_id"])
    return orders.get(order["order_id"])


def test_a_paid_order_record_posts_one_share_and_reports_no_failures(make_card, buy):
    card = make_card(stock=5)
    order = paid(card, buy)
    event = stream_event("orders_stream_paid.json", [order])

    assert stream.handle_batch(event) == {"batchItemFailures": []}

    feed = shares.feed(card.card_id)
    assert len(feed) == 1
    assert order.referral_code in feed[0]["link"]


def test_a_redelivered_batch_does_not_share_twice(make_card, buy):
    card = make_card(stock=5)
    event = stream_event("orders_stream_paid.json", [paid(card, buy)])

    stream.handle_batch(event)
    assert stream.handle_batch(event) == {"batchItemFailures": []}

    assert len(shares.feed(card.card_id)) == 1


def test_changes_that_are_not_payments_share_nothing(make_card, buy):
    card = make_card(stock=5)
    order = paid(card, buy)
    event = stream_event("orders_stream_not_payments.json", [order, order, order])

    assert stream.handle_batch(event) == {"batchItemFailures": []}

    assert shares.feed(card.card_id) == []


def test_a_failing_record_is_reported_for_retry_and_the_others_still_go_through(make_card, buy, monkeypatch):
    card = make_card(stock=5)
    broken, fine = paid(card, buy, "buyer-token-0001"), paid(card, buy, "buyer-token-0002")
    event = stream_event("orders_stream_two_paid.json", [broken, fine])
    real_post = shares.post_order_shares

    def post_or_throttle(order):
        if order.order_id == broken.order_id:
            raise RuntimeError("ProvisionedThroughputExceededException")
        real_post(order)

    monkeypatch.setattr(shares, "post_order_shares", post_or_throttle)

    result = stream.handle_batch(event)

    broken_sequence = event["Records"][0]["dynamodb"]["SequenceNumber"]
    assert result == {"batchItemFailures": [{"itemIdentifier": broken_sequence}]}
    assert [item["link"] for item in shares.feed(card.card_id)] == [shares.share_link(fine)]


def test_the_retried_record_posts_its_share_once_it_succeeds(make_card, buy, monkeypatch):
    card = make_card(stock=5)
    order = paid(card, buy)
    event = stream_event("orders_stream_paid.json", [order])
    real_post = shares.post_order_shares

    def throttled(order):
        raise RuntimeError("ProvisionedThroughputExceededException")

    monkeypatch.setattr(shares, "post_order_shares", throttled)
    assert stream.handle_batch(event)["batchItemFailures"]

    monkeypatch.setattr(shares, "post_order_shares", real_post)

    assert stream.handle_batch(event) == {"batchItemFailures": []}
    assert len(shares.feed(card.card_id)) == 1


def test_the_records_dynamodb_streams_really_produces_are_handled(make_card, buy):
    """The images DynamoDB (moto) writes to the orders stream, wrapped the way Lambda delivers them."""
    card = make_card(stock=5)
    order = paid(card, buy)
    table = boto3.client("dynamodb").describe_table(TableName=f"{config.TABLE_PREFIX}orders")["Table"]
    streams = boto3.client("dynamodbstreams")
    arn = table["LatestStreamArn"]
    shard_id = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard_id,
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator)["Records"]
    lambda_event = {"Records": [_as_lambda_record(record, arn) for record in records]}
    assert [r["eventName"] for r in lambda_event["Records"]][-1] == "MODIFY"

    assert stream.handle_batch(lambda_event) == {"batchItemFailures": []}

    assert [item["link"] for item in shares.feed(card.card_id)] == [shares.share_link(order)]


def _as_lambda_record(record: dict, arn: str) -> dict:
    """boto3 hands back datetimes; Lambda's JSON event carries epoch seconds and the stream ARN."""
    change = dict(record["dynamodb"])
    created = change.get("ApproximateCreationDateTime")
    if created is not None and not isinstance(created, (int, float)):
        change["ApproximateCreationDateTime"] = int(created.timestamp())
    return {**{k: v for k, v in record.items() if k != "dynamodb"}, "dynamodb": change, "eventSourceARN": arn}
