"""Each Lambda function's role allows exactly what that function does, in IAM's own terms, on its
stage's own resources (autogen_policy is off; .chalice/policy-<stage>-<role>.json):

- the API handler (`api`), the two stream handlers (`stream`, one policy: the same code reads
  either stream) and the sweeper (`sweeper`) each have their own policy;
- the calls are recorded while the integration and functional tiers run against deployed tables
  (conftest.py, record_aws_calls.py), each with the function that would make it; what every
  container does at start-up counts for every function;
- each call is mapped to the IAM actions that authorise it and the ARNs it touches (iam.py); what
  Lambda itself does with a role (read a stream, park failed records in the queue, write logs,
  decrypt SecureStrings through SSM) is listed here;
- every action a policy names exists in IAM's service authorization reference, every ARN the
  app touches is of a resource type its action is authorised on, and every (action, resource) a
  policy grants is needed and matches nothing else of either stage.

moto enforces no IAM, so this is what stands between a policy and a call denied on AWS.
"""
import fnmatch
import json
import re
from pathlib import Path

import pytest

from iam import (ACCOUNT, REGION, allows, as_list, authorisations, grants, is_action, reads_ssm,
                 resource_patterns, stage_config, statements)
from infra.aws.template import API_FUNCTION, STREAMS, SWEEP_FUNCTION
from record_aws_calls import SWEEP_JOBS

ROOT = Path(__file__).resolve().parents[2]
STAGES = ("dev", "prod")
# Each role, and the functions (chalice's name: CloudFormation's) that run under it.
ROLES = {
    "api": {"api_handler": API_FUNCTION},
    "stream": {"on_order_change": STREAMS["orders"][0], "on_reservation_change": STREAMS["reservations"][0],
               "on_group_change": STREAMS["groups"][0]},
    "sweeper": {"sweep_expired_holds": SWEEP_FUNCTION},
}
EVERY_STAGE_AND_ROLE = pytest.mark.parametrize("stage, role", [(s, r) for s in STAGES for r in ROLES])


def policy_file(stage: str, role: str) -> str:
    return f"policy-{stage}-{role}.json"


def log_stream(stage: str, function: str) -> str:
    # CloudFormation names a function <stack>-<logical id>-<suffix>; Lambda logs to /aws/lambda/<name>
    return (f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/tapcard-{stage}-{function}-1A2B3C4D5E6F"
            ":log-stream:2026/12/01/[$LATEST]0123456789abcdef")


def on_behalf_of_the_app(stage: str, role: str) -> set[tuple[str, str]]:
    """What Lambda does with the role: action, ARN."""
    done = {(action, log_stream(stage, function)) for function in ROLES[role].values()
            for action in ("logs:CreateLogStream", "logs:PutLogEvents")}
    if role == "stream":  # the event source mappings read the streams and park failures in the queue
        streams = [f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/tapcard-{stage}-{table}/stream/2026-11-22T00:00:00.000"
                   for table in STREAMS]
        done |= {(action, arn) for arn in streams
                 for action in ("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator")}
        done.add(("dynamodb:ListStreams", "*"))  # an action on no resource type: IAM takes only "*"
        done.add(("sqs:SendMessage", f"arn:aws:sqs:{REGION}:{ACCOUNT}:tapcard-{stage}-stream-failures"))
    if reads_ssm(stage):  # SecureStrings are decrypted with KMS on the app's behalf, through SSM
        done.add(("kms:Decrypt", f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"))
    return done


@pytest.fixture(scope="module")
def calls(integration_run) -> list[dict]:
    run, recorded = integration_run
    assert run.returncode == 0, "the recorded run failed: " + run.stdout[-3000:]
    return recorded


def needed(calls: list[dict], stage: str, role: str, test_name: str = "") -> set[tuple[str, str]]:
    """What a role needs on a stage: its functions' calls and every container's start-up."""
    found = set()
    for call in calls:
        if call["function"] not in (role, "startup") or test_name not in call["test"]:
            continue
        if call["service"] == "ssm" and not reads_ssm(stage):
            continue
        found |= authorisations(call, stage)
    return found | (on_behalf_of_the_app(stage, role) if not test_name else set())


@pytest.fixture(scope="module")
def every_resource(packages) -> set[str]:
    """Every ARN of either stage a grant could reach: tables, indexes, streams, the queue, the
    functions' log streams, the SSM parameters, the mail identities."""
    arns = set()
    for stage, package in packages.items():
        for resource in package.resources.values():
            if resource.get("Type") == "AWS::DynamoDB::Table":
                table = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{resource['Properties']['TableName']}"
                arns |= {table, f"{table}/stream/2026-11-22T00:00:00.000"}
                arns |= {f"{table}/index/{i['IndexName']}" for i in resource["Properties"].get("GlobalSecondaryIndexes", [])}
        arns |= {log_stream(stage, function) for functions in ROLES.values() for function in functions.values()}
        arns.add(f"arn:aws:sqs:{REGION}:{ACCOUNT}:tapcard-{stage}-stream-failures")
        arns |= {f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/tapcard/{stage}/{name}"
                 for name in ("stripe_secret_key", "order_token_secret", "channel_encryption_key")}
    return arns


def test_the_recording_saw_every_function_at_work(calls):
    def operations(function):
        return {f"{c['service']}:{c['operation']}" for c in calls if c["function"] == function}
    assert {"dynamodb:TransactWriteItems", "dynamodb:GetItem", "dynamodb:Query", "ses:SendEmail"} <= operations("api")
    assert {"dynamodb:GetItem", "dynamodb:PutItem", "ses:SendEmail"} <= operations("stream")
    assert {"dynamodb:TransactWriteItems", "dynamodb:Query", "ses:SendEmail"} <= operations("sweeper")
    assert "ssm:GetParameters" in operations("startup")


def test_the_recorder_knows_every_job_the_sweep_runs():
    source = (ROOT / "chalicelib" / "sweep.py").read_text()
    body = source[source.index("def sweep("):]
    jobs = set(re.findall(r"\b(?!time\b|config\b)([a-z_]+)\.([a-z_]+)\(", body))
    assert {(module, name) for module, name in jobs} == {(Path(path).stem, name) for path, name in SWEEP_JOBS}


@pytest.mark.parametrize("stage", STAGES)
def test_each_function_names_its_own_policy_file(stage):
    functions = stage_config(stage)["lambda_functions"]
    for role, names in ROLES.items():
        for name in names:
            assert functions[name]["iam_policy_file"] == policy_file(stage, role)
    assert not (ROOT / ".chalice" / f"policy-{stage}.json").exists(), "a stage-wide policy nothing uses"


@EVERY_STAGE_AND_ROLE
def test_every_action_in_the_policy_is_a_real_iam_action(stage, role):
    for action, _ in grants(statements(policy_file(stage, role))):
        assert "*" not in action, f"{action}: name the actions"
        assert is_action(action), f"{policy_file(stage, role)}: {action} is not an IAM action"


@EVERY_STAGE_AND_ROLE
def test_every_permission_needed_is_a_real_action_on_a_resource_type_it_takes(calls, stage, role):
    for action, arn in sorted(needed(calls, stage, role)):
        assert is_action(action), f"the app needs {action}, which is not an IAM action: map it in iam.py"
        patterns = resource_patterns(action)
        assert (arn == "*") if not patterns else any(p.match(arn) for p in patterns), \
            f"{action} is not authorised on a resource like {arn}"


@EVERY_STAGE_AND_ROLE
def test_the_policy_allows_everything_the_function_does(calls, stage, role):
    policy = statements(policy_file(stage, role))
    missing = sorted(f"{action} on {arn}" for action, arn in needed(calls, stage, role)
                     if not allows(policy, action, arn))
    assert not missing, f"{policy_file(stage, role)} does not allow:\n" + "\n".join(missing)


@EVERY_STAGE_AND_ROLE
def test_the_policy_allows_nothing_the_function_does_not_do(calls, every_resource, stage, role):
    need = needed(calls, stage, role)
    for action, resource in sorted(grants(statements(policy_file(stage, role)))):
        needed_here = {arn for a, arn in need if a == action}
        matched = {arn for arn in needed_here if fnmatch.fnmatchcase(arn, resource)}
        assert matched, f"{policy_file(stage, role)} allows {action} on {resource}, which nothing needs"
        if not resource_patterns(action):
            continue  # an action on no resource type (dynamodb:ListStreams) is granted on "*" alone
        beyond = {arn for arn in every_resource if fnmatch.fnmatchcase(arn, resource)} - needed_here
        assert not beyond, f"{policy_file(stage, role)}: {action} on {resource} also reaches {sorted(beyond)[:3]}"


@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("flow, action, table", [
    ("refund", "dynamodb:DeleteItem", "referrals"),  # a refund takes back the referral credit
    ("channel", "dynamodb:DeleteItem", "channels"),  # a seller removes a share channel
])
def test_a_refund_and_removing_a_channel_are_allowed_to_delete(calls, stage, flow, action, table):
    # On AWS these were denied after the fact (Stripe had refunded; the order stayed paid).
    need = needed(calls, stage, "api", test_name=flow)
    arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/tapcard-{stage}-{table}"
    assert (action, arn) in need, f"no recorded {flow} flow deletes from {table}"
    policy = statements(policy_file(stage, "api"))
    assert all(allows(policy, a, r) for a, r in need)


def test_the_packaged_functions_run_under_their_roles_policies(packages):
    for stage, package in packages.items():
        resources = package.resources
        for role, functions in ROLES.items():
            expected = json.loads((ROOT / ".chalice" / policy_file(stage, role)).read_text())["Statement"]
            for function in functions.values():
                role_name = resources[function]["Properties"]["Role"]["Fn::GetAtt"][0]
                [inline] = resources[role_name]["Properties"]["Policies"]
                assert inline["PolicyDocument"]["Statement"] == expected, f"{stage} {function}"
                assert as_list(inline["PolicyDocument"]["Statement"])
