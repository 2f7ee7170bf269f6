"""Automatic shares: the words, the card's feed, and the posts to every channel the seller set up
(chalicelib/social/channels.py), each (subject, channel) recorded by a conditional put so it is
posted once although the stream delivers at least once.

A post that fails is not retried by the stream (that would hold up every later record of its shard)
but by the sweeper, when due: after the channel's Retry-After, else with exponential backoff. After
MAX_ATTEMPTS, or at once when retrying cannot help (a refused token), it is recorded failed with
its reason, which the seller sees in GET /api/cards/{card_id}/shares.
"""
from __future__ import annotations

import json
import logging
import random
import time

from chalicelib import config, counters, observability, views
from chalicelib.domain import PUBLISHED, Card, Order, rate_window, render_share_text
from chalicelib.store import cards, counts, stock
from chalicelib.store import shares as stored
from chalicelib.store.shares import FAILED, FEED, PENDING, POSTED
from chalicelib.social import channels, rules
from chalicelib.social.channels import Channel
from chalicelib.social.senders import ChannelError, Post, send

log = logging.getLogger(__name__)

ORDER_SHARED, RESERVATION_SHARED, SALE_OPENED = "order.shared", "reservation.shared", "sale.opened"
REQUEST_OPENED = "request.opened"  # a buyer's after-sales request (chalicelib/aftersales.py)
ORDER_DISPUTED = "order.disputed"  # a buyer disputed a payment with their bank (chalicelib/refunds.py)
EVENTS = (SALE_OPENED, REQUEST_OPENED, ORDER_DISPUTED)  # for the seller's tools: webhooks only, not shares
MAX_ATTEMPTS = 5
BACKOFF_SECONDS = 30
MAX_BACKOFF_SECONDS = 3600
# The latest reservations window this container shared per card, so the window's other
# reservations cost no read at all. Only a saving: the claims are what make it post once.
_reservations_shared: dict[str, int] = {}
_MAX_REMEMBERED = 10_000


def share_link(order: Order) -> str:
    return views.product_url(order.card_id, order.referral_code)


def compose(order: Order, card: Card | None = None) -> str:
    card = card or cards.get(order.card_id)
    return render_share_text(
        rules.order_template(card),
        buyer=rules.buyer_words(card.locale, order.display_name, order.anonymous, order.city),
        title=card.title, price=views.format_money(card.price_amount, card.currency, card.locale),
        left=stock.level(card).available, link=share_link(order),
    )


def compose_reservations(card: Card, reserved: int) -> str:
    """'12 people reserved <title> (<price>). Reserve yours: <link>', in the card's words."""
    return render_share_text(
        rules.reservation_template(card), buyer=rules.reservers_words(card.locale, reserved),
        title=card.title, price=views.format_money(card.price_amount, card.currency, card.locale),
        left=stock.level(card).available, link=views.product_url(card.card_id),
    )


# --- posting ----------------------------------------------------------------------------------


def post_order_shares(order: Order) -> None:
    """Post the paid order's share to its card's feed and to every channel, each at most once."""
    card = cards.get(order.card_id)
    text, link = compose(order, card), share_link(order)
    data = {"card_id": order.card_id, "order_id": order.order_id, "text": text, "link": link}
    _post_everywhere(card, order.order_id, ORDER_SHARED, text, link, data)


def post_group_share(card: Card, subject: str, kind: str, text: str, link: str, data: dict) -> None:
    """A group's share (a member joined: "join my group"; the group is complete), each
    (subject, channel) once, like an order's."""
    _post_everywhere(card, subject, kind, text, link, data)


def post_reservations_share(card_id: str, reserved_at: int) -> None:
    """A card's reservations are shared together, at most once per RESERVATION_SHARE_SECONDS
    window: the window's first reservation posts how many readers have reserved so far (subject
    'reservations:<card>:<window>', claimed once per channel); the window's others post nothing.
    A card hidden or no longer taking reservations shares none."""
    window, _ = rate_window(reserved_at, config.RESERVATION_SHARE_SECONDS)
    if _reservations_shared.get(card_id, -1) >= window:
        return
    card = cards.get(card_id)
    if not _takes_reservations(card):
        card = cards.get_fresh(card_id)  # remembered from before the seller turned them on?
    if _takes_reservations(card):
        counts.forget(card_id)
        # At least this reservation, should the count's read not show it yet.
        reserved = max(1, counts.of_card(card_id)[counts.RESERVATIONS])
        text, link = compose_reservations(card, reserved), views.product_url(card_id)
        data = {"card_id": card_id, "reservations": reserved, "text": text, "link": link}
        _post_everywhere(card, f"reservations:{card_id}:{window}", RESERVATION_SHARED, text, link, data)
    if len(_reservations_shared) >= _MAX_REMEMBERED:
        _reservations_shared.clear()
    _reservations_shared[card_id] = window


def _takes_reservations(card: Card) -> bool:
    return card.status == PUBLISHED and card.reservation_mode is not None


def announce(card: Card, data: dict, subject: str | None = None) -> None:
    """An event for the seller's own tools (sale.opened, request.opened) to their webhook channels,
    once each per subject (the card for sale.opened, the request for request.opened); failures are
    retried like shares."""
    for channel in channels.channels_of(card.card_id, card.seller_id):
        if channel.type == channels.WEBHOOK:
            share = stored.claim(card.card_id, subject or card.card_id, channel.channel_id, data["type"], "", data["url"],
                           data, status=PENDING)
            if share is not None:
                _attempt(share, channel, card)
    return True


def tell_seller(card: Card, subject: str, data: dict) -> None:
    """A private event (order.disputed) to the seller's own webhook only, if they set one: once
    per subject; a failure is retried like a share."""
    channel = channels.channel_of(card.card_id, card.seller_id, channels.SELLER_WEBHOOK)
    if channel is None:
        return
    share = stored.claim(card.card_id, subject, channel.channel_id, data["type"], "", "", data, status=PENDING)
    if share is not None:
        _attempt(share, channel, card)


def _post_everywhere(card: Card, subject: str, kind: str, text: str, link: str, data: dict) -> None:
    stored.claim(card.card_id, subject, FEED, kind, text, link, data, status=POSTED)
    if not card.shares_enabled:
        return
    # One failing channel never stops the others: each failure is recorded and retried on its own.
    for channel in channels.channels_of(card.card_id, card.seller_id):
        share = stored.claim(card.card_id, subject, channel.channel_id, kind, text, link, data, status=PENDING)
        if share is not None:
            _attempt(share, channel, card)


def _attempt(share, channel: Channel, card: Card) -> None:
    post = Post(share.share_id, share.kind, share.text, share.link, card.title, card.description,
                json.loads(share.data or "{}"), share.posted_at / 1000)
    if post.kind == ORDER_SHARED and not post.data:  # records made before kinds existed
        post.data = {"card_id": share.card_id, "order_id": share.order_id, "text": share.text, "link": share.link}

    try:
        send(channel, post, share.remote_key, lambda key: stored.remember_remote_key(share, key))
    except ChannelError as error:
        _record_failure(share, error)
        return
    if stored.mark_posted(share) and share.kind not in EVENTS:
        counts.add(share.card_id, counts.SHARES)
        counters.count(share.card_id, counters.SHARES_POSTED)


def _record_failure(share, error: ChannelError) -> None:
    observability.count("share_failures")
    attempts = int(share.attempts or 0) + 1
    reason = error.reason[:500]
    if error.final or attempts >= MAX_ATTEMPTS:
        log.warning("share %s failed for good after %d attempts: %s", share.share_id, attempts, reason)
        stored.mark_failed(share, attempts, reason)
        return
    backoff = min(BACKOFF_SECONDS * 2 ** (attempts - 1), MAX_BACKOFF_SECONDS) * random.uniform(0.8, 1.2)
    delay = max(error.retry_after or 0, backoff)
    stored.retry_at(share, attempts, reason, int(time.time() + delay))


def retry_due(now: float | None = None, limit: int = 50) -> int:
    """The sweeper's part: post the pending shares whose retry is due; returns how many it tried."""
    now = int(time.time() if now is None else now)
    tried = 0
    for share_id in stored.due_ids(now, limit):
        try:
            tried += _retry(share_id, now)
        except Exception:  # one broken share must not stop the sweep
            log.exception("retrying share %s", share_id)
    return tried


def _retry(share_id: str, now: int) -> int:
    share = stored.lease(share_id, now)
    if share is None:
        return 0
    card = cards.get(share.card_id)
    channel = channels.channel_of(card.card_id, card.seller_id, share.channel)
    if channel is None:
        _record_failure(share, ChannelError("the channel was removed", final=True))
    else:
        _attempt(share, channel, card)
    return 1


def test_send(seller_id: str, card_id: str, channel_id: str) -> dict:
    """The seller's test-send: one post now, not recorded as a share; the outcome is returned."""
    card = cards.get_owned(seller_id, card_id)
    channel = channels.owned_channel(card, channel_id)
    link = views.product_url(card_id)
    text = f"tapcard test: {card.title} {link}"
    post = Post(f"test_{int(time.time() * 1000)}#{channel_id}", "channel.test", text, link,
                card.title, card.description, {"card_id": card_id, "text": text}, time.time())
    try:
        send(channel, post)
    except ChannelError as error:
        return {"delivered": False, "error": error.reason, "retryable": not error.final}
    return {"delivered": True}


# --- reading ----------------------------------------------------------------------------------


def feed(card_id: str, limit: int = 20) -> list[dict]:
    cards.get_for_buyer(card_id)  # 404 for an unknown or hidden card
    return [
        {"text": item.text, "link": item.link, "posted_at": int(item.posted_at) // 1000, "kind": item.kind}
        for item in stored.feed(card_id, limit)
    ]


def report(card_id: str, limit: int = 50) -> dict:
    """For the seller: counts per channel and status, and the latest posts with their errors."""
    by_channel: dict[str, dict[str, int]] = {}
    latest = []
    for item in stored.of_card(card_id):
        counts_of = by_channel.setdefault(item.channel, {POSTED: 0, PENDING: 0, FAILED: 0})
        counts_of[item.status] = counts_of.get(item.status, 0) + 1
        if len(latest) < limit:
            latest.append({
                "channel": item.channel, "kind": item.kind, "subject": item.order_id, "status": item.status,
                "attempts": int(item.attempts or 0), "error": item.error, "text": item.text,
                "created_at": int(item.posted_at) // 1000,
            })
    return {"channels": by_channel, "items": latest}
