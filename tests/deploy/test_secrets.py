"""Secrets come from SSM on a stage that names a path, from the environment elsewhere; a missing
secret or table stops a Lambda container at start-up with one line saying how to fix it."""
import logging

import boto3
import pytest
from moto import mock_aws

from chalicelib import config, secrets, startup

VALUES = {"stripe_secret_key": "sk_test_from_ssm", "stripe_webhook_secret": "whsec_from_ssm",
          "order_token_secret": "token-secret-from-ssm", "channel_encryption_key": "a-fernet-key"}


@pytest.fixture
def ssm_stage(monkeypatch):
    monkeypatch.setenv("SECRETS_SSM_PATH", "/tapcard/prod")
    secrets._from_ssm.cache_clear()
    with mock_aws():
        yield boto3.client("ssm", region_name=config.AWS_REGION)
    secrets._from_ssm.cache_clear()


def put(ssm, **values):
    for name, value in values.items():
        ssm.put_parameter(Name=f"/tapcard/prod/{name}", Value=value, Type="SecureString", Overwrite=True)


def test_on_an_ssm_stage_secrets_come_from_parameter_store_in_one_call_per_container(ssm_stage):
    put(ssm_stage, **VALUES)
    assert secrets.get("STRIPE_SECRET_KEY") == "sk_test_from_ssm"
    put(ssm_stage, stripe_secret_key="sk_test_rotated")  # a new container sees it; this one keeps its copy
    assert secrets.get("STRIPE_SECRET_KEY") == "sk_test_from_ssm"
    assert secrets.get("ORDER_TOKEN_SECRET") == "token-secret-from-ssm"
    assert secrets.missing() == []


def test_elsewhere_secrets_are_the_environment_settings(monkeypatch):
    monkeypatch.delenv("SECRETS_SSM_PATH", raising=False)
    monkeypatch.setattr(config, "STRIPE_WEBHOOK_SECRET", "whsec_from_env")
    assert secrets.get("STRIPE_WEBHOOK_SECRET") == "whsec_from_env"


def test_a_missing_parameter_is_named_with_the_command_that_sets_it(ssm_stage):
    put(ssm_stage, stripe_secret_key="sk_test_x", order_token_secret="t")
    with pytest.raises(secrets.MissingSecret) as missing:
        secrets.get("STRIPE_WEBHOOK_SECRET")
    assert "/tapcard/prod/stripe_webhook_secret" in str(missing.value)
    assert "aws ssm put-parameter --type SecureString --name /tapcard/prod/stripe_webhook_secret" in str(missing.value)


def test_startup_stops_with_one_line_naming_each_missing_secret(ssm_stage, caplog):
    put(ssm_stage, stripe_secret_key="sk_test_x", order_token_secret="t")  # no webhook secret
    with caplog.at_level(logging.CRITICAL), pytest.raises(SystemExit) as stopped:
        startup.check_or_exit()
    assert stopped.value.code == 1
    [line] = [r.getMessage() for r in caplog.records if r.levelno == logging.CRITICAL]
    assert line.startswith("tapcard cannot start: ")
    assert "\n" not in line
    assert "/tapcard/prod/stripe_webhook_secret is missing" in line
    assert "sk_test_x" not in line  # names, never values


def test_startup_passes_quietly_when_everything_is_there(ssm_stage, aws, caplog):
    put(ssm_stage, **VALUES)
    startup.check_or_exit()
    assert startup.problems() == []
