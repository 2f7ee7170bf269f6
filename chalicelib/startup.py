"""What a Lambda container checks once, at start-up, before it serves anything: every secret is set
and none is the repository's default or a placeholder, no setting is a placeholder URL or key, and the
dev routes and open sign-up run only on a stage marked non-public. Anything wrong stops the container
with one log line naming each setting and the command that sets it (README "Secrets (prod)").

It stops the import (sys.exit) rather than answer 503: Lambda makes a failed start visible where
ops look. The line is in the function's log with an INIT_REPORT saying Runtime.ExitError, the
function's Errors metric counts every refused start, API Gateway's 5xx fire Api5xxAlarm, and the
stream and schedule functions fail and are retried instead of consuming records. A container that
answered 503 would look healthy to Lambda. Readers meanwhile get API Gateway's own 502; no code
of the app runs with an unsafe setting. The local stack and tests never run this (app.py checks
only where AWS_LAMBDA_FUNCTION_NAME is set).

Tables are not checked here: asking DynamoDB for each (DescribeTable) on every cold start would
spend the account's control-plane rate on a burst of new containers, and the tables come with the
functions in one stack; /health reads the cards table.
"""
from __future__ import annotations

import logging
import sys

from chalicelib import config, secrets

log = logging.getLogger(__name__)


def _in_config(setting: str, value: str) -> str:
    """How to change a plain (not secret) setting: the stage's environment in .chalice/config.json."""
    return (f"set \"{setting}\": \"{value}\" in the {config.STAGE} stage's environment_variables in "
            f".chalice/config.json, then make deploy STAGE={config.STAGE}")


def unsafe_settings() -> list[str]:
    """Placeholders and the repository's defaults among the plain settings, and the dev-only
    features outside a stage marked non-public."""
    found = []
    placeholders = {"PUBLIC_BASE_URL": "https://<your domain, or the EndpointURL output without its trailing slash>",
                    "STRIPE_PUBLISHABLE_KEY": "pk_live_...", "MAIL_FROM": "tapcard <no-reply@<your SES domain>>"}
    for setting, example in placeholders.items():
        value = getattr(config, setting)
        if secrets.PLACEHOLDER in value.upper():
            found.append(f"{setting} is a placeholder ({value}): {_in_config(setting, example)}")
    if config.PUBLIC_BASE_URL == config.DEFAULT_PUBLIC_BASE_URL:
        found.append(f"PUBLIC_BASE_URL is the local stack's ({config.PUBLIC_BASE_URL}): "
                     f"{_in_config('PUBLIC_BASE_URL', placeholders['PUBLIC_BASE_URL'])}")
    if config.STRIPE_PUBLISHABLE_KEY == config.DEFAULT_STRIPE_PUBLISHABLE_KEY:
        found.append(f"STRIPE_PUBLISHABLE_KEY is the repository's default: "
                     f"{_in_config('STRIPE_PUBLISHABLE_KEY', 'pk_live_...')}")
    if not config.NON_PUBLIC_STAGE:
        marked = ("or, for a stage the public never reaches, mark it with \"NON_PUBLIC_STAGE\": \"true\"")
        if config.DEV_ROUTES:
            found.append(f"PAYMENT_SHEET=test (the /dev routes, the TEST MODE sheet) on a stage not marked "
                         f"non-public: {_in_config('PAYMENT_SHEET', 'stripe')} ({marked})")
        if config.OPEN_SIGNUP:
            found.append(f"OPEN_SIGNUP (anyone may sign up as a seller) on a stage not marked non-public: "
                         f"{_in_config('OPEN_SIGNUP', 'false')} ({marked})")
    return found


def problems() -> list[str]:
    return secrets.missing() + secrets.unsafe() + unsafe_settings()


def check_or_exit() -> None:
    found = problems()
    if found:
        log.critical("tapcard cannot start: %s", "; ".join(found))
        sys.exit(1)
