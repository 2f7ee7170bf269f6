"""The shares table: one item per (subject, channel), put before the post is made so it is posted
once although streams deliver at least once; a pending post is leased to one poster at a time.
The only module that writes it."""
from __future__ import annotations

import json
import random
import time

from pynamodb.exceptions import PutError, UpdateError

from chalicelib.store.social_models import ShareModel

FEED = "feed"
POSTED, PENDING, FAILED = "posted", "pending", "failed"
# A claimed post belongs to its poster this long; if the poster dies the sweeper takes it over.
LEASE_SECONDS = 60
RETRY_SHARDS = 4


def claim(card_id: str, subject: str, channel_id: str, kind: str, text: str, link: str, data: dict,
          status: str) -> ShareModel | None:
    """Record the post before making it; returns it when this caller may post it now: it is new,
    or it is pending and due (its last poster died or its backoff is over). None otherwise."""
    now = time.time()
    share = ShareModel(
        f"{subject}#{channel_id}", card_id=card_id, order_id=subject, channel=channel_id, text=text,
        link=link, status=status, posted_at=int(now * 1000), attempts=0, kind=kind, data=json.dumps(data),
        feed_card_id=card_id if channel_id == FEED else None,
    )
    if status == PENDING:
        share.retry_shard = f"r{random.randrange(RETRY_SHARDS)}"
        share.next_attempt_at = int(now) + LEASE_SECONDS
    try:
        share.save(condition=ShareModel.share_id.does_not_exist())
        return share
    except PutError:
        return lease(share.share_id) if status == PENDING else None


def lease(share_id: str, now: int | None = None) -> ShareModel | None:
    """Take a pending, due post for LEASE_SECONDS, so no one else posts it meanwhile."""
    now = int(time.time()) if now is None else now
    try:
        ShareModel(share_id).update(actions=[ShareModel.next_attempt_at.set(now + LEASE_SECONDS)],
                                    condition=(ShareModel.status == PENDING) & (ShareModel.next_attempt_at <= now))
    except UpdateError:
        return None
    return ShareModel.get(share_id, consistent_read=True)


def remember_remote_key(share: ShareModel, key: str) -> None:
    """Bluesky: the record key of this attempt, to find out later whether it landed."""
    share.update(actions=[ShareModel.remote_key.set(key)])


def mark_posted(share: ShareModel) -> bool:
    """pending → posted; False when it was not pending any more (another poster finished it)."""
    try:
        share.update(actions=[
            ShareModel.status.set(POSTED), ShareModel.attempts.add(1), ShareModel.error.remove(),
            ShareModel.retry_shard.remove(), ShareModel.next_attempt_at.remove(),
        ], condition=ShareModel.status == PENDING)
    except UpdateError:
        return False
    return True


def mark_failed(share: ShareModel, attempts: int, reason: str) -> None:
    share.update(actions=[
        ShareModel.attempts.set(attempts), ShareModel.error.set(reason), ShareModel.status.set(FAILED),
        ShareModel.retry_shard.remove(), ShareModel.next_attempt_at.remove(),
    ])


def retry_at(share: ShareModel, attempts: int, reason: str, at: int) -> None:
    share.update(actions=[ShareModel.attempts.set(attempts), ShareModel.error.set(reason),
                          ShareModel.next_attempt_at.set(at)])


def due_ids(now: int, limit: int) -> list[str]:
    """Ids of pending posts whose retry is due, from the sparse index, across its shards."""
    return [item.share_id for shard in range(RETRY_SHARDS)
            for item in ShareModel.retry_due.query(f"r{shard}", ShareModel.next_attempt_at <= now, limit=limit)]


def feed(card_id: str, limit: int) -> list[ShareModel]:
    """The card's feed posts, newest first."""
    return list(ShareModel.feed.query(card_id, scan_index_forward=False, limit=limit))


def of_card(card_id: str):
    """Every post of the card, newest first."""
    return ShareModel.by_card.query(card_id, scan_index_forward=False)
