"""The deploy tier: `make package` for each stage, once per session, and what it produced.

It also star-imports the moto fixtures (tests/fixtures.py) for the tests that run the app.
"""
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
    """The integration tier (and the secrets tests) run again, in a fresh process, against tables
    the packaged dev template deployed into moto's CloudFormation, recording every AWS call the
    app's code makes. Returns (the pytest run, the IAM actions performed)."""
    calls = tmp_path_factory.mktemp("calls") / "aws_calls.json"
    env = {**os.environ, "TAPCARD_TABLES_FROM": str(packages["dev"].sam_json),
           "TAPCARD_RECORD_AWS_CALLS": str(calls),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).parent), os.environ.get("PYTHONPATH")]))}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "record_aws_calls", "-x",
         "tests/integration", "tests/deploy/test_secrets.py"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200)
    performed = set(json.loads(calls.read_text())) if calls.exists() else set()
    return run, performed
