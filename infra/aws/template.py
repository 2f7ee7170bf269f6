"""What `chalice package --merge-template` adds for AWS: the DynamoDB tables, made from the same
definitions (infra/tables.py) the local stack creates; the orders stream wired to the stream
handler with the settings Chalice's decorator cannot express and an SQS queue for the records it
gives up on; API Gateway stage throttling; log retention; and the alarms to watch.

    python -m infra.aws.template STAGE > build/STAGE/merge.json      (make package does this)
"""
import json
import sys

from infra.aws import edge
from infra.tables import TABLES, table_name

# chalice's CloudFormation names for app.py's handlers (see the packaged sam.json)
API_FUNCTION = "APIHandler"
STREAM_FUNCTION = "OnOrderChange"  # app.on_order_change
STREAM_EVENT = "OnOrderChangeDynamodbEventSource"
# Each stream table, the function chalice names for its handler, and that handler's event source.
STREAMS = {
    "orders": (STREAM_FUNCTION, STREAM_EVENT),
    "reservations": ("OnReservationChange", "OnReservationChangeDynamodbEventSource"),
    "groups": ("OnGroupChange", "OnGroupChangeDynamodbEventSource"),
}
SWEEP_FUNCTION = "SweepExpiredHolds"
REST_API = "RestAPI"
API_NAME, API_STAGE = "tapcard", "api"  # API Gateway metrics are keyed by the API's name and stage
ON_FAILURE_QUEUE = "StreamFailureQueue"
ALARM_TOPIC = "AlarmTopic"

# Per stage: API Gateway throttling (requests/s and burst) for every route and, tighter, for the
# checkout, which is the route that writes; how long logs are kept; and the writes/s the tables a
# tap writes are kept warm for (None: on-demand's starting 4,000/s). The account's own limit is
# 10,000 requests/s per Region, shared by every API in it.
STAGES = {
    "dev": {"rate": 100, "burst": 50, "checkout_rate": 50, "checkout_burst": 20, "log_days": 7,
            "warm_writes": None},
    "prod": {"rate": 5000, "burst": 2500, "checkout_rate": 2000, "checkout_burst": 1000, "log_days": 90,
             "warm_writes": 10_000},
}
# The tables every hold writes. At about 5 WCU per hold on the busiest of them (README, Capacity on
# AWS), prod's checkout limit of 2,000/s needs 10,000 WCU/s; warm throughput lets a new or quiet
# on-demand table (which starts at 4,000/s) take that from the first second of a sale.
WARM_TABLES = ("orders", "stock", "buyer_limits")
# A stream record is retried this often (the batch split in halves each time) and for at most this
# long before it goes to the on-failure queue (one for every stream), so one poison record never
# stalls its shard.
STREAM_RETRIES = 5
STREAM_MAX_RECORD_AGE_SECONDS = 3600


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
    if STAGES[stage]["warm_writes"] and logical in WARM_TABLES:
        properties["WarmThroughput"] = {"WriteUnitsPerSecond": STAGES[stage]["warm_writes"]}
    return {
        "Type": "AWS::DynamoDB::Table",
        "DeletionPolicy": "Retain" if stage == "prod" else "Delete",
        "UpdateReplacePolicy": "Retain",
        "Properties": properties,
    }


def stream_mapping(logical: str) -> dict:
    """Overrides for the event source mapping chalice writes for @app.on_dynamodb_record."""
    return {
        "Stream": {"Fn::GetAtt": [resource_name(logical), "StreamArn"]},
        "StartingPosition": "TRIM_HORIZON",
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "BisectBatchOnFunctionError": True,
        "MaximumRetryAttempts": STREAM_RETRIES,
        "MaximumRecordAgeInSeconds": STREAM_MAX_RECORD_AGE_SECONDS,
        "DestinationConfig": {"OnFailure": {
            "Type": "SQS", "Destination": {"Fn::GetAtt": [ON_FAILURE_QUEUE, "Arn"]}}},
    }


def stage_throttling(stage: str) -> list[dict]:
    limits = STAGES[stage]
    return [
        {"ResourcePath": "/*", "HttpMethod": "*", "MetricsEnabled": True,
         "ThrottlingRateLimit": limits["rate"], "ThrottlingBurstLimit": limits["burst"]},
        # MethodSettings paths escape "/" as "~1".
        {"ResourcePath": "/~1cards~1{card_id}~1checkout", "HttpMethod": "POST", "MetricsEnabled": True,
         "ThrottlingRateLimit": limits["checkout_rate"], "ThrottlingBurstLimit": limits["checkout_burst"]},
    ]


def alarm(description: str, namespace: str, metric: str, dimensions: dict, statistic: str,
          threshold: float, periods: int = 1, period: int = 60) -> dict:
    return {"Type": "AWS::CloudWatch::Alarm", "Properties": {
        "AlarmDescription": description,
        "Namespace": namespace, "MetricName": metric,
        "Dimensions": [{"Name": name, "Value": value} for name, value in dimensions.items()],
        "Statistic": statistic, "Period": period, "EvaluationPeriods": periods,
        "Threshold": threshold, "ComparisonOperator": "GreaterThanThreshold",
        "TreatMissingData": "notBreaching",
        "AlarmActions": [{"Ref": ALARM_TOPIC}], "OKActions": [{"Ref": ALARM_TOPIC}],
    }}


def alarms() -> dict:
    api = {"ApiName": API_NAME, "Stage": API_STAGE}
    return {
        "Api5xxAlarm": alarm(
            "More than 1% of API requests answered 5xx for 3 minutes: read the APIHandler logs.",
            "AWS/ApiGateway", "5XXError", api, "Average", 0.01, periods=3),
        "ApiHandlerThrottleAlarm": alarm(
            "Lambda throttled the API handler: its reserved concurrency is exhausted.",
            "AWS/Lambda", "Throttles", {"FunctionName": {"Ref": API_FUNCTION}}, "Sum", 0),
        "StockThrottleAlarm": alarm(
            "DynamoDB throttled writes to the stock table: a hot card outgrew its shards or the "
            "table's warm throughput (raise WarmThroughput in infra/aws/template.py before a bigger sale).",
            "AWS/DynamoDB", "WriteThrottleEvents", {"TableName": {"Ref": resource_name("stock")}}, "Sum", 0),
        **{f"{function}IteratorAgeAlarm": alarm(
            f"The {logical} stream is more than a minute behind: shares are late.",
            "AWS/Lambda", "IteratorAge", {"FunctionName": {"Ref": function}}, "Maximum", 60_000,
            periods=5) for logical, (function, _) in STREAMS.items()},
        "StreamFailureQueueAlarm": alarm(
            "A stream record was given up on and sits in the on-failure queue: its shares were "
            "not posted (see README, on-failure queue).",
            "AWS/SQS", "ApproximateNumberOfMessagesVisible",
            {"QueueName": {"Fn::GetAtt": [ON_FAILURE_QUEUE, "QueueName"]}}, "Maximum", 0),
    }


def log_group(function: str, days: int) -> dict:
    return {"Type": "AWS::Logs::LogGroup", "Properties": {
        "LogGroupName": {"Fn::Sub": f"/aws/lambda/${{{function}}}"}, "RetentionInDays": days}}


# --- after-sales photos (chalicelib/photos.py) ---------------------------------------------------
PHOTOS_BUCKET = "PhotosBucket"
PHOTO_DAYS = 365  # a request's photos outlive any return window


def photos_resources(stage: str) -> dict:
    """The stage's private bucket for after-sales photos, and its name in the API function's
    environment. Browsers upload by presigned POST (its policy is the authorisation, so any origin
    may POST) and read by presigned GET; nothing is public."""
    kept = "Retain" if stage == "prod" else "Delete"  # buyers' evidence outlives a stack's replacement in prod
    bucket = {"Type": "AWS::S3::Bucket", "DeletionPolicy": kept, "UpdateReplacePolicy": kept,
              "Properties": {
                  "BucketName": {"Fn::Sub": f"tapcard-{stage}-photos-${{AWS::AccountId}}"},
                  "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                                     "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
                  "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
                  "BucketEncryption": {"ServerSideEncryptionConfiguration": [
                      {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
                  "CorsConfiguration": {"CorsRules": [{"AllowedMethods": ["POST"], "AllowedOrigins": ["*"],
                                                       "AllowedHeaders": ["*"], "MaxAge": 3600}]},
                  "LifecycleConfiguration": {"Rules": [{"Id": "expire-photos", "Status": "Enabled",
                                                        "ExpirationInDays": PHOTO_DAYS}]},
              }}
    api_environment = {"Properties": {"Environment": {"Variables": {"PHOTOS_BUCKET": {"Ref": PHOTOS_BUCKET}}}}}
    return {PHOTOS_BUCKET: bucket, API_FUNCTION: api_environment}


def merge_template(stage: str) -> dict:
    resources = {resource_name(logical): table_resource(stage, logical) for logical in TABLES}
    for logical, (function, event) in STREAMS.items():
        resources[function] = {"Properties": {"Events": {event: {"Properties": stream_mapping(logical)}}}}
    resources[ON_FAILURE_QUEUE] = {"Type": "AWS::SQS::Queue", "Properties": {
        "QueueName": f"tapcard-{stage}-stream-failures",
        "MessageRetentionPeriod": 14 * 24 * 3600,
        "SqsManagedSseEnabled": True,
    }}
    # Any OpenApiVersion stops SAM from also deploying the API to a stage named "Stage", which
    # would have none of these throttles (aws/chalice#1655); "2.0" keeps chalice's swagger as is.
    resources[REST_API] = {"Properties": {"MethodSettings": stage_throttling(stage), "OpenApiVersion": "2.0"}}
    resources[ALARM_TOPIC] = {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": f"tapcard-{stage}-alarms"}}
    resources.update(alarms())
    resources.update(photos_resources(stage))
    for function in (API_FUNCTION, SWEEP_FUNCTION, *(function for function, _ in STREAMS.values())):
        resources[f"{function}LogGroup"] = log_group(function, STAGES[stage]["log_days"])
    outputs = {
        "StripeWebhookURL": {"Value": {"Fn::Sub":
            "https://${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}/api/webhooks/stripe"}},
        "StreamFailureQueueURL": {"Value": {"Ref": ON_FAILURE_QUEUE}},
        "AlarmTopicArn": {"Value": {"Ref": ALARM_TOPIC}},
    }
    return edge.add_to({"Resources": resources, "Outputs": outputs}, stage)  # CloudFront and WAF: infra/aws/edge.py


def tables_only(packaged: dict, prefix: str) -> dict:
    """A plain CloudFormation template with just the packaged template's tables, renamed to
    `prefix` (tests deploy it into moto, which cannot run the SAM transform)."""
    tables = {}
    for name, resource in packaged["Resources"].items():
        if resource.get("Type") == "AWS::DynamoDB::Table":
            resource = json.loads(json.dumps(resource))
            properties = resource["Properties"]
            properties["TableName"] = prefix + properties["TableName"].split("-", 2)[2]
            tables[name] = resource
    return {"AWSTemplateFormatVersion": "2010-09-09", "Resources": tables}


if __name__ == "__main__":
    json.dump(merge_template(sys.argv[1] if len(sys.argv) > 1 else "dev"), sys.stdout, indent=2)
    sys.stdout.write("\n")
