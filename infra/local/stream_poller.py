"""Reads the orders, reservations and groups tables' streams from the moto server and hands Lambda-shaped
batches to the same handlers Lambda calls (app.on_order_change, app.on_reservation_change), with
Lambda's retry rules for failed records.
"""
import argparse
import os
import sys
import time
from pathlib import Path

import boto3

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

MAX_RETRIES = 5  # like MaximumRetryAttempts on the AWS event source mapping
SHARD_LIST_SECONDS = 10  # how often to look for new shards


class LambdaContext:
    function_name = "tapcard-dev-on_order_change"
    aws_request_id = "local"
    memory_limit_in_mb = 256

    @staticmethod
    def get_remaining_time_in_millis():
        return 60_000


def lambda_record(record: dict, stream_arn: str) -> dict:
    change = dict(record["dynamodb"])
    created = change.get("ApproximateCreationDateTime")
    if hasattr(created, "timestamp"):
        change["ApproximateCreationDateTime"] = int(created.timestamp())
    return {**record, "dynamodb": change, "eventSourceARN": stream_arn}


class ShardReader:
    def __init__(self, client, stream_arn: str, shard_id: str):
        self.client, self.stream_arn, self.shard_id = client, stream_arn, shard_id
        self.iterator = self._iterator("TRIM_HORIZON")
        self.failures = 0

    def _iterator(self, kind: str, sequence: str | None = None) -> str:
        args = {"StreamArn": self.stream_arn, "ShardId": self.shard_id, "ShardIteratorType": kind}
        if sequence:
            args["SequenceNumber"] = sequence
        return self.client.get_shard_iterator(**args)["ShardIterator"]

    def poll(self, handler) -> int:
        response = self.client.get_records(ShardIterator=self.iterator, Limit=100)
        records = response.get("Records", [])
        if not records:
            self.iterator = response.get("NextShardIterator") or self.iterator
            return 0
        event = {"Records": [lambda_record(r, self.stream_arn) for r in records]}
        try:
            result = handler(event, LambdaContext()) or {}
            failed = [f["itemIdentifier"] for f in result.get("batchItemFailures", [])]
        except Exception as error:  # a crash fails the whole batch, as in Lambda
            print(f"stream handler failed: {error!r}", flush=True)
            failed = [records[0]["dynamodb"]["SequenceNumber"]]
        if failed and self.failures < MAX_RETRIES:
            # Lambda's checkpoint: resume at the first failed record, after a pause.
            self.failures += 1
            first = min(failed, key=int)
            self.iterator = self._iterator("AT_SEQUENCE_NUMBER", first)
            time.sleep(min(5.0, 0.2 * 2**self.failures))
            return len(records)
        if failed:
            print(f"giving up on records {failed} after {MAX_RETRIES} retries", flush=True)
        self.failures = 0
        self.iterator = response["NextShardIterator"]
        return len(records)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--interval", type=float, default=0.3)
    args = parser.parse_args()
    import app  # the Chalice app, with the stage's settings from the environment

    handlers = {os.environ["ORDERS_STREAM_ARN"]: app.on_order_change}
    if os.environ.get("RESERVATIONS_STREAM_ARN"):
        handlers[os.environ["RESERVATIONS_STREAM_ARN"]] = app.on_reservation_change
    if os.environ.get("GROUPS_STREAM_ARN"):
        handlers[os.environ["GROUPS_STREAM_ARN"]] = app.on_group_change
    client = boto3.client("dynamodbstreams", endpoint_url=os.environ["DYNAMODB_ENDPOINT"])
    readers: dict[tuple[str, str], ShardReader] = {}
    print(f"stream poller on {', '.join(handlers)}", flush=True)
    described_at = 0.0
    while True:
        if time.monotonic() - described_at > SHARD_LIST_SECONDS:
            for stream_arn in handlers:
                for shard in client.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]:
                    if (stream_arn, shard["ShardId"]) not in readers:
                        readers[(stream_arn, shard["ShardId"])] = ShardReader(client, stream_arn, shard["ShardId"])
            described_at = time.monotonic()
        handled = sum(reader.poll(handlers[arn]) for (arn, _), reader in readers.items())
        if not handled:
            time.sleep(args.interval)


if __name__ == "__main__":
    main()
