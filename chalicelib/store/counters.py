"""The counters table: the funnel's counts of a card, one item per (day, shard), each count a
top-level number attribute named at run time ("views", "geo:paid:CN"), so they are written and
read with plain UpdateItem and Query. The only module that writes it (chalicelib/counters.py
adds the counts up in memory first)."""
from __future__ import annotations

from collections import Counter

from chalicelib.store.model_base import connection
from chalicelib.store.models import CounterModel


def add(card_id: str, bucket: str, counts: Counter) -> None:
    names = {f"#n{i}": name for i, name in enumerate(counts)}
    values = {f":v{i}": {"N": str(n)} for i, n in enumerate(counts.values())}
    connection().client.update_item(
        TableName=CounterModel.Meta.table_name,
        Key={"card_id": {"S": card_id}, "bucket": {"S": bucket}},
        UpdateExpression="ADD " + ", ".join(f"#n{i} :v{i}" for i in range(len(counts))),
        ExpressionAttributeNames=names, ExpressionAttributeValues=values,
    )


def read(card_id: str, first_day: str, last_day: str) -> dict[str, Counter]:
    """{day: counts} from first_day to last_day (YYYY-MM-DD), the shards added up."""
    days: dict[str, Counter] = {}
    query = {
        "TableName": CounterModel.Meta.table_name,
        "KeyConditionExpression": "card_id = :card AND bucket BETWEEN :first AND :last",
        "ExpressionAttributeValues": {":card": {"S": card_id}, ":first": {"S": first_day},
                                      ":last": {"S": last_day + "#~"}},
    }
    while True:
        page = connection().client.query(**query)
        for item in page["Items"]:
            day = item.pop("bucket")["S"].partition("#")[0]
            item.pop("card_id")
            days.setdefault(day, Counter()).update({name: int(value["N"]) for name, value in item.items()})
        if "LastEvaluatedKey" not in page:
            return days
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
