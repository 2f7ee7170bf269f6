"""The groups table's stream as Lambda would deliver it, read from moto's in-process DynamoDB
Streams: deliver() hands every record written since the last call to the stream handler (as
app.on_group_change does); deliver(again=True) hands every record delivered so far once more, as
an at-least-once stream may."""
from __future__ import annotations

import boto3

from chalicelib import config
from chalicelib.social import stream
from infra.local.stream_poller import lambda_record
from infra.tables import table_name


class GroupsStream:
    def __init__(self):
        self.client = boto3.client("dynamodbstreams", region_name=config.AWS_REGION)
        table = boto3.client("dynamodb", region_name=config.AWS_REGION).describe_table(
            TableName=table_name(config.TABLE_PREFIX, "groups"))["Table"]
        self.arn = table["LatestStreamArn"]
        self.iterators: dict[str, str] = {}
        self.delivered: list[dict] = []

    def _new_records(self) -> list[dict]:
        records = []
        for shard in self.client.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"]:
            iterator = self.iterators.get(shard["ShardId"]) or self.client.get_shard_iterator(
                StreamArn=self.arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            response = self.client.get_records(ShardIterator=iterator)
            records += [lambda_record(record, self.arn) for record in response["Records"]]
            self.iterators[shard["ShardId"]] = response["NextShardIterator"]
        return records

    def deliver(self, again: bool = False) -> dict:
        """Hand the records to the handler until it writes nothing more to the stream."""
        batch = list(self.delivered) if again else self._new_records()
        result = {}
        while batch:
            result = stream.handle_batch({"Records": batch})
            assert not result.get("batchItemFailures"), result
            self.delivered += [] if again else batch
            again = False
            batch = self._new_records()
        return result
