"""The notices table: one item per (order or reservation, kind) of email, put before the mail is
sent so each is sent once although the orders stream and the sweeper deliver at least once. While it is being sent
(or is to be sent again) it carries retry_shard and next_attempt_at (a sparse index): its sender
holds it until then; after that the sweeper may take it. The only module that writes it."""
from __future__ import annotations

import random
import time
from typing import Callable

from pynamodb.exceptions import PutError, UpdateError

from chalicelib.store.order_models import NoticeModel

SENDING, SENT, FAILED = "sending", "sent", "failed"
LEASE_SECONDS = 60
RETRY_SHARDS = 4


def notice_id(order_id: str, kind: str) -> str:
    return f"{order_id}#{kind}"


def _conditional_failed(error) -> bool:
    return error.cause_response_code == "ConditionalCheckFailedException"


def claim(order_id: str, kind: str, now: int | None = None) -> int | None:
    """The attempts made so far when this caller may send the (order, kind) mail now: nobody has,
    or its last sender's lease or backoff is over. None when it went (or is going) already."""
    now = int(time.time()) if now is None else now
    notice = NoticeModel(notice_id(order_id, kind), order_id=order_id, kind=kind, status=SENDING, claimed_at=now,
                         attempts=0, retry_shard=f"r{random.randrange(RETRY_SHARDS)}",
                         next_attempt_at=now + LEASE_SECONDS)
    try:
        notice.save(condition=NoticeModel.notice_id.does_not_exist())
        return 0
    except PutError as error:
        if not _conditional_failed(error):
            raise
    try:
        NoticeModel(notice.notice_id).update(
            actions=[NoticeModel.claimed_at.set(now), NoticeModel.next_attempt_at.set(now + LEASE_SECONDS)],
            condition=(NoticeModel.status == SENDING) & (NoticeModel.next_attempt_at <= now))
    except UpdateError as error:
        if not _conditional_failed(error):
            raise
        return None
    return int(NoticeModel.get(notice.notice_id, consistent_read=True).attempts or 0)


def _finish(order_id: str, kind: str, status: str, attempts: int) -> None:
    actions = [NoticeModel.status.set(status), NoticeModel.attempts.set(attempts),
               NoticeModel.retry_shard.remove(), NoticeModel.next_attempt_at.remove()]
    if status == SENT:
        actions.append(NoticeModel.sent_at.set(int(time.time())))
    NoticeModel(notice_id(order_id, kind)).update(actions=actions)


def mark_sent(order_id: str, kind: str, attempts: int) -> None:
    _finish(order_id, kind, SENT, attempts)


def mark_failed(order_id: str, kind: str, attempts: int) -> None:
    """Refused for good (a rejected address) or out of attempts: not tried again."""
    _finish(order_id, kind, FAILED, attempts)


def retry_at(order_id: str, kind: str, attempts: int, at: int) -> None:
    """The send failed for now: the sweeper sends it again once `at` has come."""
    try:
        NoticeModel(notice_id(order_id, kind)).update(
            actions=[NoticeModel.attempts.set(attempts), NoticeModel.next_attempt_at.set(at)],
            condition=NoticeModel.status == SENDING)
    except UpdateError as error:
        if not _conditional_failed(error):
            raise


def due(now: int, limit: int, wanted: Callable[[str], bool]) -> list[tuple[str, str]]:
    """(subject id, kind) of the mails whose retry (or stale lease) is due, across the index's
    shards; only the kinds `wanted` takes (a reminder's subject is a reservation, not an order)."""
    found = []
    for shard in range(RETRY_SHARDS):
        for item in NoticeModel.retry_due.query(f"r{shard}", NoticeModel.next_attempt_at <= now, limit=limit):
            subject_id, _, kind = item.notice_id.rpartition("#")
            if wanted(kind):
                found.append((subject_id, kind))
    return found


def status_of(order_id: str, kind: str) -> str | None:
    try:
        return NoticeModel.get(notice_id(order_id, kind), consistent_read=True).status
    except NoticeModel.DoesNotExist:
        return None


# --- unsubscriptions (reservation reminders) ------------------------------------------------
# An address that unsubscribed is one item, by its keyed hash (domain.address_key): no address here.
OPTED_OUT, OPT_OUT = "opted_out", "optout"


def opt_out(address_key: str, now: int | None = None) -> None:
    """Unsubscribe the address from reminders; doing it again changes nothing."""
    now = int(time.time()) if now is None else now
    notice = NoticeModel(f"{OPT_OUT}#{address_key}", order_id=address_key, kind=OPT_OUT, status=OPTED_OUT,
                         claimed_at=now)
    try:
        notice.save(condition=NoticeModel.notice_id.does_not_exist())
    except PutError as error:
        if not _conditional_failed(error):
            raise


def opted_out(address_key: str) -> bool:
    return status_of(OPT_OUT, address_key) == OPTED_OUT
