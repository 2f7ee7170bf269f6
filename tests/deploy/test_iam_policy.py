"""Each stage's IAM policy (autogen_policy off) allows every AWS call the app makes, on the
stage's own resources only, and nothing the app does not need.

The calls are recorded while the integration tier runs against deployed tables (conftest.py,
record_aws_calls.py); what Lambda itself does with the role (read the stream, park failed
records in the queue, write logs, decrypt SecureStrings) is listed here.
"""
import fnmatch
import json
from pathlib import Path

import pytest

from chalicelib import secrets
from infra.aws.template import STREAMS

ROOT = Path(__file__).resolve().parents[2]
REGION, ACCOUNT = "us-east-1", "123456789012"


def reads_ssm(stage: str) -> bool:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    return "SECRETS_SSM_PATH" in config["stages"][stage]["environment_variables"]


def on_behalf_of_the_app(stage: str) -> dict[str, list[str]]:
    """What Lambda does with the function's role: action -> ARNs it touches."""
    streams = [f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/tapcard-{stage}-{table}/stream/2026-11-22T00:00:00.000"
               for table in STREAMS]
    log = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/tapcard-{stage}-APIHandler-1A2B3C:log-stream:x"
    done = {
        "dynamodb:DescribeStream": streams, "dynamodb:GetRecords": streams,
        "dynamodb:GetShardIterator": streams, "dynamodb:ListStreams": streams,
        "sqs:SendMessage": [f"arn:aws:sqs:{REGION}:{ACCOUNT}:tapcard-{stage}-stream-failures"],
        "logs:CreateLogStream": [log], "logs:PutLogEvents": [log],
    }
    if reads_ssm(stage):  # SecureStrings are decrypted with KMS, on the app's behalf, through SSM
        done["kms:Decrypt"] = [f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"]
    return done


def mail_domain(stage: str) -> str:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    return config["stages"][stage]["environment_variables"]["MAIL_FROM"].rpartition("@")[2].rstrip(">")


def performed_on(stage: str, performed: set[str]) -> set[str]:
    """The recorded calls a stage makes: SSM only where secrets live there."""
    return {action for action in performed if reads_ssm(stage) or not action.startswith("ssm:")}


def touched_by_the_app(stage: str, action: str, template: dict) -> list[str]:
    """The ARNs one recorded call may touch on this stage."""
    service = action.split(":")[0]
    if service == "dynamodb":
        arns = []
        for resource in template["Resources"].values():
            if resource.get("Type") == "AWS::DynamoDB::Table":
                table = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{resource['Properties']['TableName']}"
                arns.append(table)
                arns += [f"{table}/index/{i['IndexName']}" for i in resource["Properties"].get("GlobalSecondaryIndexes", [])]
        return arns
    if service == "ses":  # sesv2 SendEmail is authorised on the sender's identity: the stage's domain
        return [f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/{mail_domain(stage)}"]
    if service == "ssm":
        return [f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/tapcard/{stage}/{name}" for name in secrets.SECRETS.values()]
    raise AssertionError(f"the app calls {action}: say here which resources it touches")


def policy(stage: str) -> list[dict]:
    document = json.loads((ROOT / ".chalice" / f"policy-{stage}.json").read_text())
    return [s for s in document["Statement"] if s["Effect"] == "Allow"]


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def allows(statements: list[dict], action: str, arn: str) -> bool:
    return any(
        any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in as_list(s["Action"]))
        and any(fnmatch.fnmatchcase(arn, r) for r in as_list(s["Resource"]))
        for s in statements)


@pytest.fixture(scope="module")
def performed(integration_run) -> set[str]:
    run, calls = integration_run
    assert run.returncode == 0, "the recorded run failed: " + run.stdout[-3000:]
    return calls


def test_the_recording_saw_the_app_use_its_tables_and_its_secrets(performed):
    assert {"dynamodb:TransactWriteItems", "dynamodb:GetItem", "dynamodb:Query", "ssm:GetParameters",
            "ses:SendEmail"} <= performed


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_every_call_the_app_makes_is_allowed_on_its_stage_resources(performed, packages, stage):
    statements = policy(stage)
    template = packages[stage].template
    for action in sorted(performed_on(stage, performed)):
        for arn in touched_by_the_app(stage, action, template):
            assert allows(statements, action, arn), f"policy-{stage}.json does not allow {action} on {arn}"
    for action, arns in on_behalf_of_the_app(stage).items():
        for arn in arns:
            assert allows(statements, action, arn), f"policy-{stage}.json does not allow {action} on {arn}"


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_the_policy_allows_nothing_more(performed, stage):
    needed = performed_on(stage, performed) | set(on_behalf_of_the_app(stage))
    other = "prod" if stage == "dev" else "dev"
    for statement in policy(stage):
        for action in as_list(statement["Action"]):
            assert "*" not in action, f"{action}: name the actions"
            assert action in needed, f"policy-{stage}.json allows {action}, which nothing does"
        for resource in as_list(statement["Resource"]):
            assert resource != "*" and not resource.endswith(":*:*:*"), f"{statement['Sid']} allows every resource"
            assert f"tapcard-{other}-" not in resource and f"/tapcard/{other}/" not in resource
    # another stage's tables stay out of reach
    assert not allows(policy(stage), "dynamodb:GetItem", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/tapcard-{other}-orders")


def test_the_packaged_roles_carry_the_stage_policy(packages):
    for stage, package in packages.items():
        roles = [r for r in package.resources.values() if r.get("Type") == "AWS::IAM::Role"]
        assert roles
        for role in roles:
            [inline] = role["Properties"]["Policies"]
            assert inline["PolicyDocument"]["Statement"] == json.loads(
                (ROOT / ".chalice" / f"policy-{stage}.json").read_text())["Statement"]
