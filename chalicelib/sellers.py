"""Sellers and their API keys. A key is shown once; only its SHA-256 is stored."""
from __future__ import annotations

import base64
import hashlib
import secrets
import time
import uuid

from pynamodb.exceptions import DoesNotExist

from chalicelib import config
from chalicelib.domain import InvalidRequest, Unauthorized
from chalicelib.models import ApiKeyModel, SellerModel

KEY_PREFIX = "tc_"


def _hash(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def create_seller(name: str, email: str) -> tuple[str, str]:
    """A new seller with one API key: (seller_id, api_key)."""
    if not name.strip() or "@" not in email:
        raise InvalidRequest("A seller needs a name and an email address.", "email")
    seller_id = "sel_" + uuid.uuid4().hex[:16]
    SellerModel(seller_id, name=name.strip(), email=email.strip(), created_at=int(time.time())).save()
    return seller_id, issue_api_key(seller_id)


def issue_api_key(seller_id: str) -> str:
    api_key = KEY_PREFIX + secrets.token_urlsafe(32)
    ApiKeyModel(_hash(api_key), seller_id=seller_id, prefix=api_key[:10], created_at=int(time.time())).save(
        condition=ApiKeyModel.key_hash.does_not_exist()
    )
    return api_key


def seller_for_authorization(header: str | None) -> str:
    """The seller id behind an 'Authorization: Bearer <key>' header."""
    scheme, _, api_key = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not api_key.strip():
        raise Unauthorized("Send your API key as 'Authorization: Bearer <key>'.")
    try:
        key = ApiKeyModel.get(_hash(api_key.strip()))
    except DoesNotExist:
        raise Unauthorized("This API key is not valid.") from None
    if key.revoked:
        raise Unauthorized("This API key has been revoked.")
    return key.seller_id


def set_webhook(seller_id: str, url: str) -> str:
    """Point the seller's share webhook at url; returns its signing secret (Standard Webhooks)."""
    from chalicelib.social.rules import channel_url

    url = channel_url(url, "url", config.ALLOW_LOOPBACK_CHANNELS)
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    SellerModel(seller_id).update(
        actions=[SellerModel.webhook_url.set(url), SellerModel.webhook_secret.set(secret)],
        condition=SellerModel.seller_id.exists(),
    )
    return secret


def webhook_of(seller_id: str) -> tuple[str, str] | None:
    try:
        seller = SellerModel.get(seller_id)
    except DoesNotExist:
        return None
    if not seller.webhook_url:
        return None
    return seller.webhook_url, seller.webhook_secret
