"""Automatic shares: the text, the channels (the card's feed, the seller's signed webhook) and the
record that makes each (order, channel) post once."""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from datetime import datetime, timezone

from pynamodb.exceptions import PutError

from chalicelib import config, counters, inventory, sellers
from chalicelib.domain import Order, render_share_text
from chalicelib.models import ShareModel

FEED, WEBHOOK = "feed", "webhook"
POSTED, PENDING, FAILED = "posted", "pending", "failed"
MAX_ATTEMPTS = 5
WEBHOOK_TIMEOUT_SECONDS = 5


class ShareRetry(Exception):
    """A channel failed in a way worth trying again later."""


def format_money(amount: int, currency: str, locale: str = "en") -> str:
    from babel.numbers import format_currency, get_currency_precision

    return format_currency(amount / 10 ** get_currency_precision(currency), currency, locale=locale)


def share_link(order: Order) -> str:
    return f"{config.PUBLIC_BASE_URL}/p/{order.card_id}?ref={order.referral_code}"


def compose(order: Order) -> str:
    card = inventory.get_card(order.card_id)
    left = inventory.stock_level(order.card_id).available
    return render_share_text(
        card.share_text, buyer="Someone", title=card.title,
        price=format_money(card.price_amount, card.currency), left=left, link=share_link(order),
    )


def _claim(order: Order, channel: str, text: str, status: str) -> ShareModel | None:
    """Record the share; None when this (order, channel) was already posted or gave up."""
    share = ShareModel(
        f"{order.order_id}#{channel}", card_id=order.card_id, order_id=order.order_id,
        channel=channel, text=text, link=share_link(order), status=status,
        posted_at=int(time.time() * 1000), attempts=0,
        feed_card_id=order.card_id if channel == FEED else None,
    )
    try:
        share.save(condition=ShareModel.share_id.does_not_exist())
        return share
    except PutError:
        existing = ShareModel.get(share.share_id, consistent_read=True)
        return existing if existing.status == PENDING else None


def post_order_shares(order: Order) -> None:
    """Post the paid order's share to every channel, each at most once."""
    text = compose(order)
    if _claim(order, FEED, text, POSTED):
        counters.count(order.card_id, counters.SHARES_POSTED)
    hook = sellers.webhook_of(order.seller_id)
    if hook:
        share = _claim(order, WEBHOOK, text, PENDING)
        if share is not None:
            _deliver_webhook(share, *hook)


def _deliver_webhook(share: ShareModel, url: str, secret: str) -> None:
    from standardwebhooks.webhooks import Webhook

    sent_at = datetime.now(timezone.utc).replace(microsecond=0)
    stamp = int(sent_at.timestamp())
    body = json.dumps({
        "type": "order.shared",
        "timestamp": stamp,
        "data": {"card_id": share.card_id, "order_id": share.order_id, "text": share.text, "link": share.link},
    })
    # The share id is the webhook-id: a receiver dedupes a redelivery by it.
    signature = Webhook(secret).sign(share.share_id, sent_at, body)
    request = urllib.request.Request(url, data=body.encode(), method="POST", headers={
        "content-type": "application/json",
        "webhook-id": share.share_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": signature,
    })
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:
            response.read()
    except (urllib.error.URLError, OSError) as error:
        _record_failure(share, str(error))
        return
    share.update(actions=[ShareModel.status.set(POSTED), ShareModel.attempts.add(1)])


def _record_failure(share: ShareModel, reason: str) -> None:
    attempts = int(share.attempts) + 1
    final = attempts >= MAX_ATTEMPTS
    share.update(actions=[
        ShareModel.attempts.set(attempts),
        ShareModel.error.set(reason[:500]),
        ShareModel.status.set(FAILED if final else PENDING),
    ])
    if not final:
        raise ShareRetry(f"{share.share_id}: {reason}")


def feed(card_id: str, limit: int = 20) -> list[dict]:
    inventory.get_card(card_id)  # 404 for an unknown card
    items = ShareModel.feed.query(card_id, scan_index_forward=False, limit=limit)
    return [
        {"text": item.text, "link": item.link, "posted_at": int(item.posted_at) // 1000}
        for item in items
    ]
