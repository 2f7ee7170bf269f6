"""What `chalice package --merge-template` adds for AWS: the DynamoDB tables, made from the same
definitions (infra/tables.py) the local stack creates, and the orders stream wired to the stream
handler with the settings Chalice's decorator cannot express.

    python -m infra.aws.template STAGE > build/STAGE-merge.json
"""
import json
import sys

from infra.tables import TABLES, table_name

STREAM_FUNCTION = "OnOrderChange"  # chalice's CloudFormation name for app.on_order_change
STREAM_EVENT = "OnOrderChangeDynamodbEventSource"
# Each stream table, the function chalice names for its handler, and that handler's event source.
STREAMS = {
    "orders": (STREAM_FUNCTION, STREAM_EVENT),
    "reservations": ("OnReservationChange", "OnReservationChangeDynamodbEventSource"),
}


def resource_name(logical: str) -> str:
    return "".join(part.capitalize() for part in logical.split("_")) + "Table"


def table_resource(stage: str, logical: str) -> dict:
    spec = TABLES[logical]
    properties = {
        "TableName": table_name(f"tapcard-{stage}-", logical),
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": spec["KeySchema"],
        "AttributeDefinitions": spec["AttributeDefinitions"],
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "DeletionProtectionEnabled": stage == "prod",
    }
    if "GlobalSecondaryIndexes" in spec:
        properties["GlobalSecondaryIndexes"] = spec["GlobalSecondaryIndexes"]
    if "StreamSpecification" in spec:
        properties["StreamSpecification"] = {"StreamViewType": spec["StreamSpecification"]["StreamViewType"]}
    if "TimeToLiveSpecification" in spec:
        properties["TimeToLiveSpecification"] = spec["TimeToLiveSpecification"]
    return {
        "Type": "AWS::DynamoDB::Table",
        "DeletionPolicy": "Retain" if stage == "prod" else "Delete",
        "UpdateReplacePolicy": "Retain",
        "Properties": properties,
    }


def merge_template(stage: str) -> dict:
    resources = {resource_name(logical): table_resource(stage, logical) for logical in TABLES}
    for logical, (function, event) in STREAMS.items():
        resources[function] = {"Properties": {"Events": {event: {"Properties": {
            "Stream": {"Fn::GetAtt": [resource_name(logical), "StreamArn"]},
            "StartingPosition": "TRIM_HORIZON",
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "BisectBatchOnFunctionError": True,
            "MaximumRetryAttempts": 5,
            "MaximumRecordAgeInSeconds": 3600,
        }}}}}
    return {"Resources": resources}


if __name__ == "__main__":
    json.dump(merge_template(sys.argv[1] if len(sys.argv) > 1 else "dev"), sys.stdout, indent=2)
    sys.stdout.write("\n")
