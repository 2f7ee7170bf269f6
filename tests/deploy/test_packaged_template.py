"""What `make package` produces, read as data: what CloudFormation will create on AWS."""
import re
import subprocess
from pathlib import Path

import pytest

from infra.aws.template import STREAMS
from infra.tables import TABLES

ROOT = Path(__file__).resolve().parents[2]
STAGES = ("dev", "prod")
FUNCTIONS = ("APIHandler", "SweepExpiredHolds", *(function for function, _ in STREAMS.values()))

STAGE = pytest.mark.parametrize("stage", STAGES)


@STAGE
def test_the_package_passes_cfn_lint(packages, stage):
    lint = subprocess.run([str(ROOT / ".venv/bin/cfn-lint"), str(packages[stage].sam_json)],
                          capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert (packages[stage].directory / "deployment.zip").stat().st_size > 0


@STAGE
def test_every_function_enters_through_app_py(packages, stage):
    # Lambda imports the module its handler names: app.py's start-up check and middlewares must
    # wrap the stream and sweep functions too, not only the API (chalicelib/api/events.py).
    handlers = {name: packages[stage].resources[name]["Properties"]["Handler"] for name in FUNCTIONS}
    assert handlers == {"APIHandler": "app.app", "SweepExpiredHolds": "app.sweep_expired_holds",
                        "OnOrderChange": "app.on_order_change", "OnReservationChange": "app.on_reservation_change",
                        "OnGroupChange": "app.on_group_change"}


@STAGE
@pytest.mark.parametrize("table", ["orders", "reservations", "groups"])
def test_each_stream_retries_a_poison_record_a_bounded_time_then_parks_it_in_a_queue(packages, stage, table):
    resources = packages[stage].resources
    function, event = STREAMS[table]
    mapping = resources[function]["Properties"]["Events"][event]
    assert mapping["Type"] == "DynamoDB"
    settings = mapping["Properties"]
    assert settings["Stream"] == {"Fn::GetAtt": [f"{table.capitalize()}Table", "StreamArn"]}
    assert settings["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert settings["BisectBatchOnFunctionError"] is True
    assert 0 < settings["MaximumRetryAttempts"] <= 10
    assert 60 <= settings["MaximumRecordAgeInSeconds"] <= 6 * 3600
    destination = settings["DestinationConfig"]["OnFailure"]
    assert destination["Type"] == "SQS"
    queue = destination["Destination"]["Fn::GetAtt"][0]
    assert resources[queue]["Type"] == "AWS::SQS::Queue"
    assert resources[queue]["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600


@STAGE
def test_every_table_is_on_demand_with_point_in_time_recovery_and_orders_streams_both_images(packages, stage):
    tables = {r["Properties"]["TableName"]: r for r in packages[stage].resources.values()
              if r.get("Type") == "AWS::DynamoDB::Table"}
    assert sorted(tables) == sorted(f"tapcard-{stage}-{logical}" for logical in TABLES)
    for table in tables.values():
        properties = table["Properties"]
        assert properties["BillingMode"] == "PAY_PER_REQUEST"
        assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert properties["DeletionProtectionEnabled"] is (stage == "prod")
        assert table["DeletionPolicy"] == ("Retain" if stage == "prod" else "Delete")
    orders = tables[f"tapcard-{stage}-orders"]["Properties"]
    assert orders["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    ttl = tables[f"tapcard-{stage}-stripe_events"]["Properties"]["TimeToLiveSpecification"]
    assert ttl == {"AttributeName": "expires_at", "Enabled": True}


@STAGE
def test_the_sweeper_runs_every_minute_on_its_own(packages, stage):
    sweeper = packages[stage].resources["SweepExpiredHolds"]["Properties"]
    assert sweeper["Events"]["SweepExpiredHoldsEvent"] == {
        "Type": "Schedule", "Properties": {"Schedule": "rate(1 minute)"}}
    assert sweeper["ReservedConcurrentExecutions"] == 1  # two sweeps never overlap
    assert sweeper["Timeout"] < 60


def test_prod_reserves_concurrency_for_the_api_and_every_function_has_its_size(packages):
    resources = packages["prod"].resources
    api = resources["APIHandler"]["Properties"]
    assert api["ReservedConcurrentExecutions"] >= 100
    assert api["Timeout"] < 29  # API Gateway gives up at 29 s
    for function in FUNCTIONS:
        assert resources[function]["Properties"]["MemorySize"] >= 256


@STAGE
def test_api_gateway_throttles_the_stage_and_the_checkout_tighter(packages, stage):
    settings = {(s["ResourcePath"], s["HttpMethod"]): s
                for s in packages[stage].resources["RestAPI"]["Properties"]["MethodSettings"]}
    everything, checkout = settings[("/*", "*")], settings[("/~1cards~1{card_id}~1checkout", "POST")]
    assert 0 < checkout["ThrottlingRateLimit"] < everything["ThrottlingRateLimit"] <= 10_000
    assert 0 < checkout["ThrottlingBurstLimit"] <= everything["ThrottlingBurstLimit"]


@STAGE
def test_alarms_watch_errors_throttles_stream_lag_and_parked_records(packages, stage):
    resources = packages[stage].resources
    alarms = [r["Properties"] for r in resources.values() if r.get("Type") == "AWS::CloudWatch::Alarm"]
    watched = {(a["Namespace"], a["MetricName"]) for a in alarms}
    assert {("AWS/ApiGateway", "5XXError"), ("AWS/Lambda", "Throttles"), ("AWS/DynamoDB", "WriteThrottleEvents"),
            ("AWS/Lambda", "IteratorAge"), ("AWS/SQS", "ApproximateNumberOfMessagesVisible")} <= watched
    for alarm in alarms:
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]
        for dimension in alarm["Dimensions"]:
            value = dimension["Value"]
            if isinstance(value, dict):  # a Ref or GetAtt: it must name a resource of this template
                target = value.get("Ref") or value["Fn::GetAtt"][0]
                assert target in resources, f"{alarm['AlarmDescription']} watches a missing {target}"
    assert resources["AlarmTopic"]["Type"] == "AWS::SNS::Topic"


@STAGE
def test_no_secret_is_in_the_template_and_prod_reads_them_from_ssm(packages, stage):
    text = packages[stage].sam_json.read_text()
    assert not re.search(r"\b(sk|rk)_(live|test)_[A-Za-z0-9]{6,}|whsec_[A-Za-z0-9]{6,}", text)
    resources = packages[stage].resources
    for function in FUNCTIONS:
        env = resources[function]["Properties"]["Environment"]["Variables"]
        assert not {"STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "ORDER_TOKEN_SECRET"} & set(env)
        if stage == "prod":
            assert env["SECRETS_SSM_PATH"] == "/tapcard/prod"


def test_the_outputs_name_the_stripe_webhook_endpoint(packages):
    outputs = packages["prod"].template["Outputs"]
    # Through the edge (infra/aws/edge.py): with the origin secret set, the API answers nothing else.
    assert outputs["StripeWebhookURL"]["Value"]["Fn::Sub"] == "https://${EdgeDistribution.DomainName}/webhooks/stripe"


def test_prod_keeps_the_tables_a_hold_writes_warm_for_the_checkout_throttle(packages):
    # about 5 WCU per hold on the busiest table (README, Capacity on AWS); a new on-demand table
    # starts at 4,000/s, and warming by hand the day before a sale was a step to forget
    resources = packages["prod"].resources
    settings = {(s["ResourcePath"], s["HttpMethod"]): s for s in resources["RestAPI"]["Properties"]["MethodSettings"]}
    checkout_rate = settings[("/~1cards~1{card_id}~1checkout", "POST")]["ThrottlingRateLimit"]
    for logical in ("orders", "stock", "buyer_limits"):
        warm = resources[f"{logical.title().replace('_', '')}Table"]["Properties"]["WarmThroughput"]
        assert warm["WriteUnitsPerSecond"] >= 5 * checkout_rate
    assert not any("WarmThroughput" in r.get("Properties", {}) for r in packages["dev"].resources.values())
