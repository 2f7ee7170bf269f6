"""The sellers and API-keys tables. A key is shown once; only its SHA-256 is stored. The only
module that writes either table."""
from __future__ import annotations

import hashlib
import secrets
import time
import uuid

from pynamodb.exceptions import DoesNotExist

from chalicelib.domain.errors import Conflict, InvalidRequest, NotFound, Unauthorized
from chalicelib.store.models import ApiKeyModel, SellerModel

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


def issue_api_key_for_existing(seller_id: str) -> str:
    """Ops: another key for a seller that exists (a typo must not mint a key for no one)."""
    try:
        SellerModel.get(seller_id)
    except DoesNotExist:
        raise NotFound("No seller has this id.") from None
    return issue_api_key(seller_id)


def keys_of(seller_id: str) -> list[dict]:
    """The seller's keys as the seller may see them: prefix, when made, whether revoked."""
    return [{"prefix": key.prefix, "created_at": int(key.created_at), "revoked": bool(key.revoked)}
            for key in ApiKeyModel.by_seller.query(seller_id, scan_index_forward=False)]


def revoke_key(seller_id: str, prefix: str) -> None:
    """Revoke the seller's keys that start with prefix; the last working key stays (a seller
    locked out would need ops)."""
    keys = [key for key in ApiKeyModel.by_seller.query(seller_id) if not key.revoked]
    doomed = [key for key in keys if key.prefix == prefix]
    if not doomed:
        raise NotFound("This seller has no working key with this prefix.")
    if len(doomed) == len(keys):
        raise Conflict("This is your last working key: create a new one before revoking it.", "prefix")
    for key in doomed:
        key.update(actions=[ApiKeyModel.revoked.set(True), ApiKeyModel.revoked_at.set(int(time.time()))])


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


def set_webhook(seller_id: str, url: str, secret: str) -> None:
    """Point the seller's share webhook at url, signed with secret (Standard Webhooks)."""
    SellerModel(seller_id).update(
        actions=[SellerModel.webhook_url.set(url), SellerModel.webhook_secret.set(secret)],
        condition=SellerModel.seller_id.exists(),
    )


def webhook_of(seller_id: str) -> tuple[str, str] | None:
    try:
        seller = SellerModel.get(seller_id)
    except DoesNotExist:
        return None
    if not seller.webhook_url:
        return None
    return seller.webhook_url, seller.webhook_secret
