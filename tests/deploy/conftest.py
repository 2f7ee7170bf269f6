"""The deploy tier: `make package` for each stage, once per session, and what it produced.

It also star-imports the moto fixtures (tests/fixtures.py) for the tests that run the app.
"""
import functools
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from fixtures import *  # noqa: F401,F403

ROOT = Path(__file__).resolve().parents[2]
STAGES = ("dev", "prod")


@dataclass
class Package:
    stage: str
    directory: Path

    @property
    def sam_json(self) -> Path:
        return self.directory / "sam.json"

    @property
    def template(self) -> dict:
        return json.loads(self.sam_json.read_text())

    @property
    def resources(self) -> dict:
        return self.template["Resources"]

    @functools.cached_property
    def translated(self) -> dict:
        """What CloudFormation deploys: the template through the AWS::Serverless transform
        (aws-sam-translator, as CloudFormation runs it) once `aws cloudformation package` has
        put the code on S3. Also written to translated.json, for cfn-lint."""
        from samtranslator.translator.transform import transform

        template = self.template
        for resource in template["Resources"].values():
            if resource["Type"] == "AWS::Serverless::Function":
                resource["Properties"]["CodeUri"] = f"s3://tapcard-artifacts/tapcard-{self.stage}/deployment.zip"
        translated = transform(template, {}, NoManagedPolicies())
        (self.directory / "translated.json").write_text(json.dumps(translated, indent=1))
        return translated


class NoManagedPolicies:
    """The policy loader the transform asks for managed policy ARNs: the template names none."""

    def load(self) -> dict:
        return {}


@pytest.fixture(scope="session")
def packages(tmp_path_factory) -> dict[str, Package]:
    built = {}
    for stage in STAGES:
        directory = tmp_path_factory.mktemp("build") / stage
        run = subprocess.run(["make", "-s", "package", f"STAGE={stage}", f"BUILD={directory}"],
                             cwd=ROOT, capture_output=True, text=True, timeout=600)
        assert run.returncode == 0, f"make package STAGE={stage} failed:\n{run.stdout}\n{run.stderr}"
        built[stage] = Package(stage, directory)
    return built


@pytest.fixture(scope="session")
def integration_run(packages, tmp_path_factory):
    """The integration and functional tiers (and the secrets tests) run again, in a fresh process,
    against tables the packaged dev template deployed into moto's CloudFormation, recording every
    AWS call the app's code makes (record_aws_calls.py). Returns (the pytest run, the calls)."""
    calls = tmp_path_factory.mktemp("calls") / "aws_calls.json"
    env = {**os.environ, "TAPCARD_TABLES_FROM": str(packages["dev"].sam_json),
           "TAPCARD_RECORD_AWS_CALLS": str(calls),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).parent), os.environ.get("PYTHONPATH")]))}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "record_aws_calls", "-x",
         "tests/integration", "tests/functional", "tests/deploy/test_secrets.py"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600)  # ~10 min alone on 2 cores
    return run, json.loads(calls.read_text()) if calls.exists() else []
