"""`make deploy` as an operator runs it, read with `make -n` (what it would run, nothing run):
the template, over CloudFormation's 51,200-byte limit for an inline template, goes through the
bucket on both `aws cloudformation` calls, and no stage or bucket is ever assumed."""
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def make_n(*args: str) -> subprocess.CompletedProcess:
    env = {name: value for name, value in os.environ.items()
           if name not in {"STAGE", "DEPLOY_BUCKET", "BUILD", "MAKEFLAGS", "MAKELEVEL"}}
    return subprocess.run(["make", "-n", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def commands(output: str) -> list[str]:
    """make -n's lines, with the recipes' continued lines joined."""
    return output.replace("\\\n", " ").splitlines()


def aws_cloudformation(lines: list[str], verb: str) -> list[str]:
    [line] = [line for line in lines if line.startswith(f"aws cloudformation {verb} ")]
    return line.split()


def option(words: list[str], name: str) -> str:
    return words[words.index(name) + 1]


def test_deploy_uploads_the_code_and_the_template_through_the_bucket():
    run = make_n("deploy", "STAGE=prod", "DEPLOY_BUCKET=tapcard-artifacts")
    assert run.returncode == 0, run.stderr
    lines = commands(run.stdout)
    package, deploy = aws_cloudformation(lines, "package"), aws_cloudformation(lines, "deploy")
    for words in (package, deploy):
        assert option(words, "--s3-bucket") == "tapcard-artifacts"
        assert option(words, "--s3-prefix") == "tapcard-prod"
    assert option(package, "--template-file") == "build/prod/sam.json"
    assert option(deploy, "--template-file") == option(package, "--output-template-file")
    assert option(deploy, "--stack-name") == "tapcard-prod"
    # the package step (chalice's package through infra/aws/bundle.py, cfn-lint) comes first
    position = {line.split()[2] if line.startswith("aws cloudformation") else line: i for i, line in enumerate(lines)}
    chalice_package = next(i for line, i in position.items() if "infra.aws.bundle package prod" in line)
    assert chalice_package < position["package"] < position["deploy"]


@pytest.mark.parametrize("args, missing, hint", [
    (["deploy", "DEPLOY_BUCKET=tapcard-artifacts"], "STAGE", "make deploy STAGE=prod"),
    (["deploy", "STAGE=prod"], "DEPLOY_BUCKET", "make deploy STAGE=prod DEPLOY_BUCKET="),
    (["package"], "STAGE", "make package STAGE=prod"),
])
def test_deploy_and_package_refuse_to_guess_the_stage_or_the_bucket(args, missing, hint):
    run = make_n(*args)
    assert run.returncode != 0
    assert run.stdout == ""  # refused before any command
    assert f"Set {missing}" in run.stderr and hint in run.stderr
