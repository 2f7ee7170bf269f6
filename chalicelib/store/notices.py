"""The notices table: one item per (order, kind) of email, put before the mail is sent so each is
sent once although the orders stream and the sweeper deliver at least once. A claim whose sender
died (or whose send failed) may be taken again after LEASE_SECONDS. The only module that writes it."""
from __future__ import annotations

import time

from pynamodb.exceptions import PutError, UpdateError

from chalicelib.store.models import NoticeModel

SENDING, SENT, FAILED = "sending", "sent", "failed"
LEASE_SECONDS = 60


def notice_id(order_id: str, kind: str) -> str:
    return f"{order_id}#{kind}"


def claim(order_id: str, kind: str, now: int | None = None) -> bool:
    """True when this caller may send the (order, kind) mail now: nobody has, and nobody is
    sending it within its lease."""
    now = int(time.time()) if now is None else now
    notice = NoticeModel(notice_id(order_id, kind), order_id=order_id, kind=kind, status=SENDING, claimed_at=now)
    try:
        notice.save(condition=NoticeModel.notice_id.does_not_exist())
        return True
    except PutError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise
    try:
        NoticeModel(notice.notice_id).update(
            actions=[NoticeModel.claimed_at.set(now)],
            condition=(NoticeModel.status == SENDING) & (NoticeModel.claimed_at <= now - LEASE_SECONDS))
    except UpdateError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise
        return False
    return True


def mark_sent(order_id: str, kind: str) -> None:
    NoticeModel(notice_id(order_id, kind)).update(
        actions=[NoticeModel.status.set(SENT), NoticeModel.sent_at.set(int(time.time()))])


def mark_failed(order_id: str, kind: str) -> None:
    """SES refused it for good (a rejected address): not tried again."""
    NoticeModel(notice_id(order_id, kind)).update(actions=[NoticeModel.status.set(FAILED)])


def release(order_id: str, kind: str) -> None:
    """The send failed: let the next delivery (the stream's retry) take it at once."""
    try:
        NoticeModel(notice_id(order_id, kind)).update(
            actions=[NoticeModel.claimed_at.set(0)], condition=NoticeModel.status == SENDING)
    except UpdateError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise


def status_of(order_id: str, kind: str) -> str | None:
    try:
        return NoticeModel.get(notice_id(order_id, kind), consistent_read=True).status
    except NoticeModel.DoesNotExist:
        return None
