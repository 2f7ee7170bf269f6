"""Secrets at run time. On a stage that names an SSM path (prod: SECRETS_SSM_PATH) they come from
SSM Parameter Store as SecureStrings, fetched in one call on first use and kept for the container's
life; elsewhere (dev, the local stack, tests) from the environment, through config, as before.

Nothing secret is in .chalice/config.json: it names only the path.

encrypt/decrypt: the one way tapcard stores something readable only with the stage's Fernet key
(CHANNEL_ENCRYPTION_KEY): share channels' credentials and buyers' shipping addresses.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import os

from chalicelib import config

# The setting each secret replaces, and its parameter's name under the stage's path.
SECRETS = {
    "STRIPE_SECRET_KEY": "stripe_secret_key",
    "STRIPE_WEBHOOK_SECRET": "stripe_webhook_secret",
    "ORDER_TOKEN_SECRET": "order_token_secret",
    "CHANNEL_ENCRYPTION_KEY": "channel_encryption_key",  # a Fernet key: channels' credentials, buyers' addresses
    "CLOUDFRONT_ORIGIN_SECRET": "cloudfront_origin_secret",  # only where a CloudFront is in front
}
# Secrets a stage may leave unset: without them a feature is off, nothing breaks.
OPTIONAL = {"CLOUDFRONT_ORIGIN_SECRET"}
# What the command that sets each one puts as its value (README "Secrets (prod)").
VALUE_OF = {
    "STRIPE_SECRET_KEY": "'sk_live_...'", "STRIPE_WEBHOOK_SECRET": "'whsec_...'",
    "ORDER_TOKEN_SECRET": '"$(openssl rand -hex 32)"',
    "CHANNEL_ENCRYPTION_KEY": "\"$(.venv/bin/python -c 'from cryptography.fernet import Fernet; "
                              "print(Fernet.generate_key().decode())')\"",
    "CLOUDFRONT_ORIGIN_SECRET": '"$(openssl rand -hex 32)"',
}
PLACEHOLDER = "SET_ME"


class MissingSecret(RuntimeError):
    pass


def ssm_path() -> str | None:
    return os.environ.get("SECRETS_SSM_PATH") or None


def parameter_name(setting: str) -> str:
    return f"{ssm_path().rstrip('/')}/{SECRETS[setting]}"


def how_to_set(setting: str) -> str:
    if ssm_path():
        return (f"aws ssm put-parameter --type SecureString --name {parameter_name(setting)} "
                f"--value {VALUE_OF[setting]} (then redeploy or wait for new containers)")
    path = f"/tapcard/{config.STAGE}"
    return (f"the {setting} environment variable (on AWS: \"SECRETS_SSM_PATH\": \"{path}\" in the {config.STAGE} "
            f"stage of .chalice/config.json, then aws ssm put-parameter --type SecureString "
            f"--name {path}/{SECRETS[setting]} --value {VALUE_OF[setting]})")


@functools.lru_cache(maxsize=1)
def _from_ssm() -> dict[str, str]:
    import boto3

    names = {parameter_name(setting): setting for setting in SECRETS}
    answer = boto3.client("ssm", region_name=config.AWS_REGION).get_parameters(
        Names=list(names), WithDecryption=True)
    return {names[p["Name"]]: p["Value"] for p in answer["Parameters"]}


def get(setting: str) -> str:
    """The secret's value; raises MissingSecret (naming it and how to set it) when it is unset."""
    if ssm_path():
        value = _from_ssm().get(setting)
        if not value:
            raise MissingSecret(f"secret {parameter_name(setting)} is missing: set it with {how_to_set(setting)}")
        return value
    return getattr(config, setting)


def optional(setting: str) -> str | None:
    """An OPTIONAL secret's value, None when the stage has not set it."""
    try:
        return get(setting) or None
    except MissingSecret:
        return None


def missing() -> list[str]:
    """The secrets an SSM stage has not set, each as one line saying how to set it. (Elsewhere the
    environment's defaults stand: the dev stage derives what it lacks.)"""
    if not ssm_path():
        return []
    problems = []
    for setting in SECRETS.keys() - OPTIONAL:
        try:
            if not get(setting):
                problems.append(f"{setting} is empty: set it with {how_to_set(setting)}")
        except MissingSecret as error:
            problems.append(str(error))
    return problems


def unsafe() -> list[str]:
    """Secrets a deployed stage must not run with: unset where the environment holds them (an SSM
    stage's missing ones are missing()'s), left at the repository's default (order tokens could be
    forged; the dev channel key is derived from the table prefix, which anyone can read), or a
    placeholder. Each is one line naming the setting and how to set it, never its value."""
    defaults = {"STRIPE_SECRET_KEY": config.DEFAULT_STRIPE_SECRET_KEY,
                "ORDER_TOKEN_SECRET": config.DEFAULT_ORDER_TOKEN_SECRET,
                "CHANNEL_ENCRYPTION_KEY": dev_channel_key().decode()}
    problems = []
    for setting in SECRETS:
        value = optional(setting)
        if value is None:
            if setting not in OPTIONAL and not ssm_path():
                problems.append(f"{setting} is not set: set it with {how_to_set(setting)}")
        elif value == defaults.get(setting):
            problems.append(f"{setting} is the repository's default: set it with {how_to_set(setting)}")
        elif PLACEHOLDER in value.upper():
            problems.append(f"{setting} is a placeholder ({PLACEHOLDER}): set it with {how_to_set(setting)}")
    return problems


def dev_channel_key() -> bytes:
    """Dev only: a Fernet key derived from the stage's table prefix, so local data survives restarts."""
    return base64.urlsafe_b64encode(hashlib.sha256(f"tapcard-dev-channels:{config.TABLE_PREFIX}".encode()).digest())


# --- what is stored encrypted: share channels' credentials, buyers' shipping addresses ---------


@functools.lru_cache(maxsize=1)
def _fernet():
    from cryptography.fernet import Fernet

    key = get("CHANNEL_ENCRYPTION_KEY")
    if key is None:
        if config.STAGE != "dev":
            raise RuntimeError("CHANNEL_ENCRYPTION_KEY must be set outside the dev stage")
        key = dev_channel_key()
    return Fernet(key)


def encrypt(plain: str) -> str:
    """Text sealed with the stage's key (CHANNEL_ENCRYPTION_KEY), as a Fernet token."""
    return _fernet().encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    return _fernet().decrypt(token.encode()).decode()
