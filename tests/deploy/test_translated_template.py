"""The packaged template as CloudFormation deploys it: after the AWS::Serverless transform
(aws-sam-translator), which is where SAM adds resources chalice's sam.json does not show."""
import json
import subprocess
from pathlib import Path

import pytest

from infra.aws.template import STREAMS

ROOT = Path(__file__).resolve().parents[2]
STAGE = pytest.mark.parametrize("stage", ("dev", "prod"))


def configured_api_stage(stage: str) -> str:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    return config["stages"][stage].get("api_gateway_stage", config.get("api_gateway_stage", "api"))


def of_type(resources: dict, kind: str) -> dict:
    return {name: r for name, r in resources.items() if r["Type"] == kind}


@STAGE
def test_the_translated_template_passes_cfn_lint(packages, stage):
    packages[stage].translated  # writes translated.json
    translated = packages[stage].directory / "translated.json"
    lint = subprocess.run([str(ROOT / ".venv/bin/cfn-lint"), str(translated)], capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr


@STAGE
def test_the_api_is_deployed_to_the_configured_stage_only(packages, stage):
    # A Deployment with a StageName creates that stage too: SAM's implicit "Stage" came that way,
    # without the throttles, reachable at /Stage/... (aws/chalice#1655).
    resources = packages[stage].translated["Resources"]
    deployed = {r["Properties"]["StageName"] for r in of_type(resources, "AWS::ApiGateway::Stage").values()}
    deployed |= {r["Properties"]["StageName"] for r in of_type(resources, "AWS::ApiGateway::Deployment").values()
                 if "StageName" in r["Properties"]}
    assert deployed == {configured_api_stage(stage)}


@STAGE
def test_the_configured_stage_carries_the_throttles_and_the_5xx_alarm_watches_it(packages, stage):
    resources = packages[stage].translated["Resources"]
    [api_stage] = of_type(resources, "AWS::ApiGateway::Stage").values()
    settings = {(s["ResourcePath"], s["HttpMethod"]): s for s in api_stage["Properties"]["MethodSettings"]}
    everything, checkout = settings[("/*", "*")], settings[("/~1cards~1{card_id}~1checkout", "POST")]
    assert 0 < checkout["ThrottlingRateLimit"] < everything["ThrottlingRateLimit"]
    assert 0 < checkout["ThrottlingBurstLimit"] <= everything["ThrottlingBurstLimit"]
    [api] = of_type(resources, "AWS::ApiGateway::RestApi").values()
    api_name = api["Properties"].get("Name") or api["Properties"]["Body"]["info"]["title"]
    dimensions = {d["Name"]: d["Value"] for d in resources["Api5xxAlarm"]["Properties"]["Dimensions"]}
    assert dimensions == {"ApiName": api_name, "Stage": api_stage["Properties"]["StageName"]}


@STAGE
def test_each_function_runs_under_its_own_role(packages, stage):
    resources = packages[stage].translated["Resources"]
    roles = [r["Properties"]["Role"] for r in of_type(resources, "AWS::Lambda::Function").values()]
    assert len(roles) == len({json.dumps(role) for role in roles}) == 2 + len(STREAMS)  # the API, the sweep, a stream each
