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
    """The prod stage as .chalice/config.json sets it, with its placeholders filled in."""
    monkeypatch.setenv("SECRETS_SSM_PATH", "/tapcard/prod")
    for setting, value in {"STAGE": "prod", "PAYMENT_SHEET": "stripe", "DEV_ROUTES": False, "OPEN_SIGNUP": False,
                           "NON_PUBLIC_STAGE": False, "STRIPE_PUBLISHABLE_KEY": "pk_live_51abc",
                           "PUBLIC_BASE_URL": "https://shop.example.com/api",
                           "MAIL_FROM": "tapcard <no-reply@tapcard.example>"}.items():
        monkeypatch.setattr(config, setting, value)
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


# --- unsafe deploys: a container on Lambda refuses to start, one line says which setting and how ---


def refused_line(caplog) -> str:
    """Start-up stops (SystemExit 1) and logs exactly one line; it is returned."""
    caplog.clear()
    with caplog.at_level(logging.CRITICAL), pytest.raises(SystemExit) as stopped:
        startup.check_or_exit()
    assert stopped.value.code == 1
    [line] = [r.getMessage() for r in caplog.records if r.levelno == logging.CRITICAL]
    assert line.startswith("tapcard cannot start: ") and "\n" not in line
    return line


@pytest.fixture
def deployed(ssm_stage, aws):
    """A complete, safe prod stage: every secret in SSM, every table there."""
    put(ssm_stage, **VALUES)
    assert startup.problems() == []
    return ssm_stage


def test_the_default_order_token_secret_is_refused(deployed, caplog):
    put(deployed, order_token_secret=config.DEFAULT_ORDER_TOKEN_SECRET)
    secrets._from_ssm.cache_clear()
    line = refused_line(caplog)
    assert "ORDER_TOKEN_SECRET is the repository's default" in line
    assert ('aws ssm put-parameter --type SecureString --name /tapcard/prod/order_token_secret '
            '--value "$(openssl rand -hex 32)"') in line
    assert config.DEFAULT_ORDER_TOKEN_SECRET not in line  # names, never values


def test_the_channel_key_derived_from_the_table_prefix_is_refused(deployed, caplog):
    put(deployed, channel_encryption_key=secrets.dev_channel_key().decode())
    secrets._from_ssm.cache_clear()
    line = refused_line(caplog)
    assert "CHANNEL_ENCRYPTION_KEY is the repository's default" in line
    assert "--name /tapcard/prod/channel_encryption_key --value" in line and "Fernet.generate_key()" in line


def test_a_placeholder_secret_is_refused(deployed, caplog):
    put(deployed, stripe_secret_key="sk_live_SET_ME")
    secrets._from_ssm.cache_clear()
    assert "STRIPE_SECRET_KEY is a placeholder (SET_ME)" in refused_line(caplog)


def test_a_stage_without_ssm_is_told_to_get_one(ssm_stage, aws, monkeypatch, caplog):
    """A deployed stage whose secrets come from the environment (the dev stage as shipped) has
    the repository's defaults and no channel key: each is named, with the SSM path to use."""
    monkeypatch.delenv("SECRETS_SSM_PATH")
    monkeypatch.setattr(config, "STAGE", "dev")
    for setting, value in {"STRIPE_SECRET_KEY": config.DEFAULT_STRIPE_SECRET_KEY, "STRIPE_WEBHOOK_SECRET": "",
                           "ORDER_TOKEN_SECRET": config.DEFAULT_ORDER_TOKEN_SECRET,
                           "CHANNEL_ENCRYPTION_KEY": None}.items():
        monkeypatch.setattr(config, setting, value)
    line = refused_line(caplog)
    for setting in ("STRIPE_SECRET_KEY is the repository's default", "STRIPE_WEBHOOK_SECRET is not set",
                    "ORDER_TOKEN_SECRET is the repository's default", "CHANNEL_ENCRYPTION_KEY is not set"):
        assert setting in line
    assert '"SECRETS_SSM_PATH": "/tapcard/dev" in the dev stage of .chalice/config.json' in line
    assert "--name /tapcard/dev/order_token_secret" in line
    assert "CLOUDFRONT_ORIGIN_SECRET" not in line  # optional: without it a feature is off


@pytest.mark.parametrize("setting, value, said", [
    ("PUBLIC_BASE_URL", "https://SET_ME.execute-api.us-east-1.amazonaws.com/api",
     'PUBLIC_BASE_URL is a placeholder (https://SET_ME.execute-api.us-east-1.amazonaws.com/api): '
     'set "PUBLIC_BASE_URL": "https://<your domain'),
    ("PUBLIC_BASE_URL", config.DEFAULT_PUBLIC_BASE_URL, "PUBLIC_BASE_URL is the local stack's"),
    ("STRIPE_PUBLISHABLE_KEY", "pk_live_SET_ME",
     'STRIPE_PUBLISHABLE_KEY is a placeholder (pk_live_SET_ME): set "STRIPE_PUBLISHABLE_KEY": "pk_live_..." '
     "in the prod stage's environment_variables in .chalice/config.json, then make deploy STAGE=prod"),
    ("STRIPE_PUBLISHABLE_KEY", config.DEFAULT_STRIPE_PUBLISHABLE_KEY, "STRIPE_PUBLISHABLE_KEY is the repository's default"),
    ("MAIL_FROM", "tapcard <no-reply@SET_ME>", "MAIL_FROM is a placeholder"),
])
def test_a_placeholder_url_or_key_is_refused(deployed, monkeypatch, caplog, setting, value, said):
    monkeypatch.setattr(config, setting, value)
    assert said in refused_line(caplog)


def test_the_dev_routes_and_open_signup_are_refused_on_a_public_stage(deployed, monkeypatch, caplog):
    monkeypatch.setattr(config, "DEV_ROUTES", True)
    monkeypatch.setattr(config, "OPEN_SIGNUP", True)
    line = refused_line(caplog)
    assert ("PAYMENT_SHEET=test (the /dev routes, the TEST MODE sheet) on a stage not marked non-public: "
            "set \"PAYMENT_SHEET\": \"stripe\"") in line
    assert 'OPEN_SIGNUP (anyone may sign up as a seller) on a stage not marked non-public: set "OPEN_SIGNUP": "false"' in line
    assert '"NON_PUBLIC_STAGE": "true"' in line


def test_a_stage_marked_non_public_may_run_the_dev_routes_and_open_signup(deployed, monkeypatch):
    monkeypatch.setattr(config, "DEV_ROUTES", True)
    monkeypatch.setattr(config, "OPEN_SIGNUP", True)
    monkeypatch.setattr(config, "NON_PUBLIC_STAGE", True)
    startup.check_or_exit()


def test_the_prod_stage_as_shipped_refuses_to_start_until_its_placeholders_are_set(deployed, monkeypatch, caplog):
    """.chalice/config.json's prod stage, as the repository has it, read as Lambda would."""
    import json
    from pathlib import Path

    env = json.loads((Path(__file__).parents[2] / ".chalice" / "config.json").read_text())["stages"]["prod"][
        "environment_variables"]
    for setting in ("PUBLIC_BASE_URL", "STRIPE_PUBLISHABLE_KEY"):
        monkeypatch.setattr(config, setting, env[setting])
    line = refused_line(caplog)
    assert "PUBLIC_BASE_URL is a placeholder" in line and "STRIPE_PUBLISHABLE_KEY is a placeholder" in line


def test_on_lambda_the_app_does_not_import_and_says_why_in_one_line():
    """What Lambda sees: `import app` (its handler's module) ends the process with status 1 and
    one line on stderr, before any route exists. The dev stage as shipped, deployed: the
    repository's secrets, the /dev routes, open sign-up."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {key: value for key, value in os.environ.items()
           if key not in ("STRIPE_WEBHOOK_SECRET", "SECRETS_SSM_PATH", "PUBLIC_BASE_URL", "OPEN_SIGNUP")}
    env.update({"AWS_LAMBDA_FUNCTION_NAME": "tapcard-dev-APIHandler-1A2B3C", "TAPCARD_STAGE": "dev",
                "TABLE_PREFIX": "tapcard-dev-", "PAYMENT_SHEET": "test"})
    started = subprocess.run([sys.executable, "-c", "from moto import mock_aws; mock_aws().start(); import app"],
                             cwd=Path(__file__).parents[2], env=env, capture_output=True, text=True, timeout=120)
    assert started.returncode == 1
    lines = [line for line in started.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("tapcard cannot start: "), started.stderr
    for said in ("ORDER_TOKEN_SECRET is the repository's default", "CHANNEL_ENCRYPTION_KEY is not set",
                 "PAYMENT_SHEET=test", "OPEN_SIGNUP", "PUBLIC_BASE_URL is the local stack's"):
        assert said in lines[0]
    assert "table" not in lines[0]  # no DescribeTable per cold start: /health reads the cards table
