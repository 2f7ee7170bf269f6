"""A card's share channels through the seller API. Secrets (webhook signing secrets, Mastodon
tokens, Bluesky app passwords and sessions) are stored Fernet-encrypted, returned only once (the
webhook's own signing secret, at creation) and never logged."""
from __future__ import annotations

import json
from dataclasses import dataclass

from chalicelib import config, secrets
from chalicelib.domain import Card, Conflict, InvalidRequest, NotFound, text_field
from chalicelib.store import cards, sellers
from chalicelib.store import channels as stored
from chalicelib.social.rules import channel_url, new_webhook_secret

WEBHOOK, MASTODON, BLUESKY = "webhook", "mastodon", "bluesky"
TYPES = (WEBHOOK, MASTODON, BLUESKY)
# The seller-level webhook (PUT /api/channels/webhook) is a channel of every card with this id.
SELLER_WEBHOOK = "webhook"
DEFAULT_BLUESKY_SERVICE = "https://bsky.social"
MAX_CHANNELS_PER_CARD = 10


@dataclass
class Channel:
    channel_id: str
    type: str
    url: str
    secret: str
    identifier: str | None = None
    card_id: str | None = None
    session: dict | None = None


# Channel secrets are sealed with the app's one encryption helper (chalicelib/secrets.py).
encrypt, decrypt = secrets.encrypt, secrets.decrypt


def _public(model) -> dict:
    """A stored channel as the seller sees it: never its secret."""
    body = {"id": model.channel_id, "type": model.type, "created_at": int(model.created_at)}
    body[{WEBHOOK: "url", MASTODON: "instance", BLUESKY: "service"}[model.type]] = model.url
    if model.identifier:
        body["identifier"] = model.identifier
    return body


def add_channel(seller_id: str, card_id: str, payload: dict) -> dict:
    cards.get_owned(seller_id, card_id)
    kind = payload.get("type")
    if kind not in TYPES:
        raise InvalidRequest("'type' must be webhook, mastodon or bluesky.", "type")
    allow_http = config.ALLOW_LOOPBACK_CHANNELS
    identifier = None
    shown_secret = None
    if kind == WEBHOOK:
        url = channel_url(payload.get("url"), "url", allow_http)
        shown_secret = secret = new_webhook_secret()
    elif kind == MASTODON:
        url = channel_url(payload.get("instance"), "instance", allow_http).rstrip("/")
        secret = text_field(payload.get("access_token"), "access_token", 512)
    else:
        service = payload.get("service")
        # null or "": the default service; anything else must be a URL ({} is not "empty").
        url = channel_url(DEFAULT_BLUESKY_SERVICE if service in (None, "") else service, "service", allow_http).rstrip("/")
        identifier = text_field(payload.get("identifier"), "identifier", 253)
        secret = text_field(payload.get("app_password"), "app_password", 256)
    if stored.count_of_card(card_id) >= MAX_CHANNELS_PER_CARD:
        # The request is fine; the card is full: a conflict with its state, not a bad request.
        raise Conflict(f"A card has at most {MAX_CHANNELS_PER_CARD} channels; remove one first.", "type")
    body = _public(stored.create(card_id, seller_id, kind, url, identifier, encrypt(secret)))
    if shown_secret:
        body["secret"] = shown_secret
    return body


def list_channels(seller_id: str, card_id: str) -> list[dict]:
    cards.get_owned(seller_id, card_id)
    return [_public(model) for model in stored.of_card(card_id)]


def remove_channel(seller_id: str, card_id: str, channel_id: str) -> None:
    cards.get_owned(seller_id, card_id)
    if not stored.delete(card_id, channel_id):
        raise NotFound("This card has no channel with this id.")


def _from_model(model) -> Channel:
    session = json.loads(decrypt(model.session)) if model.session else None
    return Channel(model.channel_id, model.type, model.url, decrypt(model.secret), model.identifier,
                   model.card_id, session)


def set_seller_webhook(seller_id: str, payload) -> dict:
    """The seller-wide share webhook: every card's shares go there too. Its secret is shown once
    and stored encrypted, like every channel's."""
    url = payload.get("url") if isinstance(payload, dict) else None
    if url is None:
        raise InvalidRequest("'url' is required.", "url")
    url, secret = channel_url(url, "url", config.ALLOW_LOOPBACK_CHANNELS), new_webhook_secret()
    sellers.set_webhook(seller_id, url, encrypt(secret))
    return {"url": url, "secret": secret}


def _seller_webhook(seller_id: str) -> Channel | None:
    hook = sellers.webhook_of(seller_id)
    if not hook:
        return None
    url, secret = hook
    # A secret saved before secrets were encrypted is still in plain text (whsec_…).
    return Channel(SELLER_WEBHOOK, WEBHOOK, url, secret if secret.startswith("whsec_") else decrypt(secret))


def channels_of(card_id: str, seller_id: str) -> list[Channel]:
    """Every channel a card's shares go to besides its feed: the seller's webhook, then the card's."""
    hook = _seller_webhook(seller_id)
    return ([hook] if hook else []) + [_from_model(model) for model in stored.of_card(card_id)]


def channel_of(card_id: str, seller_id: str, channel_id: str) -> Channel | None:
    if channel_id == SELLER_WEBHOOK:
        return _seller_webhook(seller_id)
    model = stored.get(card_id, channel_id)
    return None if model is None else _from_model(model)


def owned_channel(card: Card, channel_id: str) -> Channel:
    """A channel of the seller's own card (cards.get_owned checked the card)."""
    channel = channel_of(card.card_id, card.seller_id, channel_id)
    if channel is None:
        raise NotFound("This card has no channel with this id.")
    return channel


def save_session(channel: Channel, session: dict) -> None:
    """Keep a Bluesky session so the next container resumes it instead of logging in again."""
    channel.session = session
    if channel.card_id:
        stored.save_session(channel.card_id, channel.channel_id, encrypt(json.dumps(session)))
