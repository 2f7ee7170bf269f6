"""Posting one share to one channel: a Standard Webhooks delivery, a Mastodon status or a Bluesky
post. Each call either returns (posted) or raises ChannelError saying whether and when to retry."""
from __future__ import annotations

import http.client
import json
import random
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Callable
from urllib.parse import urlencode, urlsplit

from chalicelib import config, views
from chalicelib.social import channels, rules
from chalicelib.social.channels import BLUESKY, MASTODON, WEBHOOK, Channel

TIMEOUT_SECONDS = 5
MAX_BODY_BYTES = 64 * 1024
MAX_RETRY_AFTER_SECONDS = 6 * 3600


class ChannelError(Exception):
    """The channel did not take the post. final: retrying cannot help (bad token, refused)."""

    def __init__(self, reason: str, retry_after: float | None = None, final: bool = False):
        super().__init__(reason)
        self.reason, self.retry_after, self.final = reason, retry_after, final


@dataclass
class Post:
    share_id: str
    kind: str  # order.shared | reservation.shared | sale.opened | request.opened | channel.test
    text: str
    link: str
    title: str
    description: str
    data: dict
    created_at: float


def send(channel: Channel, post: Post, remote_key: str | None = None,
         remember_key: Callable[[str], None] = lambda key: None) -> None:
    if channel.type == WEBHOOK:
        return _webhook(channel, post)
    if post.kind in ("sale.opened", "request.opened", "order.disputed"):
        return None  # an event for the seller's tools, not a public post
    if channel.type == MASTODON:
        return _mastodon(channel, post)
    if channel.type == BLUESKY:
        return _bluesky(channel, post, remote_key, remember_key)
    raise ChannelError(f"unknown channel type {channel.type}", final=True)


# --- HTTP ---------------------------------------------------------------------------------------


def _retry_after(value: str | None) -> float | None:
    """Retry-After is seconds or an HTTP date."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return max(0.0, min(seconds, MAX_RETRY_AFTER_SECONDS))


def _call(method: str, url: str, body: dict | str | None, headers: dict) -> dict:
    """One request to a channel, pinned to an address checked just now; never follows a redirect.
    What the remote answered stays here: the seller and the logs get its status only."""
    data = body if isinstance(body, str) else (json.dumps(body) if body is not None else None)
    parts = urlsplit(url)
    secure = parts.scheme == "https"
    port = parts.port or (443 if secure else 80)
    address = _checked_address(parts.hostname or "", port)
    connection = (_PinnedHTTPS if secure else _PinnedHTTP)(parts.hostname, port, address, timeout=TIMEOUT_SECONDS)
    try:
        connection.request(method, (parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
                           body=data.encode() if data is not None else None,
                           headers={"content-type": "application/json", "user-agent": "tapcard", **headers})
        response = connection.getresponse()
        raw = response.read(MAX_BODY_BYTES)
    except (OSError, http.client.HTTPException) as error:
        raise ChannelError(f"unreachable: {type(error).__name__}") from None
    finally:
        connection.close()
    if 300 <= response.status < 400:
        raise ChannelError(f"HTTP {response.status}: redirects are not followed", final=True)
    if response.status >= 400:
        retryable = response.status in (408, 425, 429) or response.status >= 500
        raise HttpError(f"HTTP {response.status}", response.status, raw[:300].decode("utf-8", "replace"),
                        _retry_after(response.getheader("Retry-After")), final=not retryable)
    try:
        return json.loads(raw) if raw.strip() else {}
    except ValueError:
        return {}


def _checked_address(host: str, port: int) -> str:
    """Resolve the host and check every address it has (IPv4 and IPv6): one inside a private
    network refuses the send, so a name cannot be pointed at one between save and send."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        raise ChannelError("unreachable: the host name does not resolve") from None
    addresses = [info[4][0] for info in infos]
    if not addresses or not all(rules.address_allowed(a, config.ALLOW_LOOPBACK_CHANNELS) for a in addresses):
        raise ChannelError("this address is not allowed (a private or reserved network)", final=True)
    return addresses[0]


class _PinnedHTTP(http.client.HTTPConnection):
    """Connects to the address checked, whatever the name resolves to by then."""

    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self):
        self.sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """As _PinnedHTTP, with TLS verified for the host name (SNI and certificate)."""

    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.address = address

    def connect(self):
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


class HttpError(ChannelError):
    def __init__(self, reason, status, text, retry_after, final):
        super().__init__(reason, retry_after, final)
        self.status, self.text = status, text

    @property
    def xrpc_error(self) -> str | None:
        try:
            return json.loads(self.text).get("error")
        except (ValueError, AttributeError):
            return None


# --- Standard Webhooks ------------------------------------------------------------------------


def _webhook(channel: Channel, post: Post) -> None:
    from standardwebhooks.webhooks import Webhook

    sent_at = datetime.now(timezone.utc).replace(microsecond=0)
    stamp = int(sent_at.timestamp())
    body = json.dumps({"type": post.kind, "timestamp": stamp, "data": post.data})
    # The share id is the webhook-id: a receiver dedupes a redelivery by it.
    _call("POST", channel.url, body, {
        "webhook-id": post.share_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": Webhook(channel.secret).sign(post.share_id, sent_at, body),
    })


# --- Mastodon -----------------------------------------------------------------------------------


def _mastodon(channel: Channel, post: Post) -> None:
    # Mastodon keeps an Idempotency-Key for an hour: a retry within it returns the first status.
    _call("POST", f"{channel.url}/api/v1/statuses", {"status": post.text, "visibility": "public"},
          {"authorization": f"Bearer {channel.secret}", "idempotency-key": post.share_id})


# --- Bluesky ------------------------------------------------------------------------------------

_sessions: dict[str, dict] = {}
_sessions_lock = threading.Lock()
_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"


def tid(at: float | None = None) -> str:
    """An AT Protocol TID: microseconds since 1970 and a clock id, base32-sortable, 13 characters."""
    micros = int((time.time() if at is None else at) * 1_000_000)
    value = (micros << 10) | random.randrange(1024)
    return "".join(_TID_ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(13)))


def _session_key(channel: Channel) -> str:
    return f"{channel.card_id}#{channel.channel_id}"


def _xrpc(channel: Channel, method: str, name: str, body: dict | None = None, token: str | None = None,
          query: str = "") -> dict:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return _call(method, f"{channel.url}/xrpc/{name}{query}", body, headers)


def _login(channel: Channel) -> dict:
    try:
        session = _xrpc(channel, "POST", "com.atproto.server.createSession",
                        {"identifier": channel.identifier, "password": channel.secret})
    except HttpError as error:
        if error.status in (400, 401):
            raise ChannelError(f"Bluesky refused the login: {error.xrpc_error or error.status}", final=True) from None
        raise
    return _keep(channel, session)


def _keep(channel: Channel, session: dict) -> dict:
    session = {k: session.get(k) for k in ("accessJwt", "refreshJwt", "did")}
    with _sessions_lock:
        _sessions[_session_key(channel)] = session
    channels.save_session(channel, session)
    return session


def _session(channel: Channel) -> dict:
    with _sessions_lock:
        cached = _sessions.get(_session_key(channel))
    return cached or channel.session or _login(channel)


def _refresh(channel: Channel, session: dict) -> dict:
    try:
        return _keep(channel, _xrpc(channel, "POST", "com.atproto.server.refreshSession",
                                    token=session.get("refreshJwt")))
    except HttpError as error:
        if error.status in (400, 401):
            return _login(channel)  # the refresh token expired too
        raise


def _authorized(channel: Channel, call: Callable[[dict], dict]) -> dict:
    """Run call with the cached session; on an expired access token refresh once and run again."""
    session = _session(channel)
    try:
        return call(session)
    except HttpError as error:
        if error.status in (400, 401) and error.xrpc_error in ("ExpiredToken", "InvalidToken"):
            return call(_refresh(channel, session))
        raise


def _bluesky(channel: Channel, post: Post, remote_key: str | None, remember_key: Callable[[str], None]) -> None:
    if remote_key and _bluesky_record_exists(channel, remote_key):
        return  # the last attempt landed; only its answer was lost
    rkey = tid()
    remember_key(rkey)
    text = post.text if len(post.text) <= 300 else post.text[:299] + "…"
    record = {
        "$type": "app.bsky.feed.post",
        "text": text,
        "createdAt": views.iso(time.time()),
        "embed": {"$type": "app.bsky.embed.external", "external": {
            "uri": post.link, "title": post.title, "description": post.description[:300]}},
    }
    start = text.encode().find(post.link.encode())
    if start >= 0:
        record["facets"] = [{
            "index": {"byteStart": start, "byteEnd": start + len(post.link.encode())},
            "features": [{"$type": "app.bsky.richtext.facet#link", "uri": post.link}],
        }]
    _authorized(channel, lambda session: _xrpc(
        channel, "POST", "com.atproto.repo.createRecord", token=session["accessJwt"],
        body={"repo": session["did"], "collection": "app.bsky.feed.post", "rkey": rkey, "record": record}))


def _bluesky_record_exists(channel: Channel, rkey: str) -> bool:
    def get(session):
        query = "?" + urlencode({"repo": session["did"], "collection": "app.bsky.feed.post", "rkey": rkey})
        return _xrpc(channel, "GET", "com.atproto.repo.getRecord", token=session["accessJwt"], query=query)

    try:
        _authorized(channel, get)
        return True
    except HttpError as error:
        if error.status in (400, 404):
            return False
        raise
