"""The orders and reservations streams, record by record: the same code runs in Lambda and in the
local poller."""
from __future__ import annotations

import logging

from chalicelib import grouping, notices, observability, reminders
from chalicelib.domain import PAID
from chalicelib.social import referrals, shares
from chalicelib.store import orders
from chalicelib.store import reservations as stored_reservations

log = logging.getLogger(__name__)


def _status(image: dict | None) -> str | None:
    return ((image or {}).get("status") or {}).get("S")


def handle_record(record: dict) -> None:
    """An order that just became paid is credited to its referrer, gets its automatic shares and
    its buyer's receipt (once each); a new reservation may share its card's reservations (once per
    card and window) and, made once its card's reminder time has come, gets its reminder at once;
    other changes are ignored. A channel that fails does not fail the record (the sweeper retries
    it); only our own storage failing does."""
    change = record.get("dynamodb") or {}
    keys = change.get("Keys") or {}
    if "group_id" in keys:  # the groups table: capture a complete group, share who joined
        grouping.handle_change(record)
        return
    if "reservation_id" in keys:
        if record.get("eventName") == "INSERT":
            reservation = stored_reservations.get(keys["reservation_id"]["S"])
            if reservation is not None:
                shares.post_reservations_share(reservation.card_id, int(reservation.created_at))
                reminders.remind_if_late(reservation)
        return
    if _status(change.get("NewImage")) != PAID or _status(change.get("OldImage")) == PAID:
        return
    order_id = keys["order_id"]["S"]
    observability.order_context(order_id)
    order = orders.get(order_id)
    if order is None:
        return
    referrals.credit(order)
    shares.post_order_shares(order)
    notices.receipt(order)  # a failed send is the sweeper's to retry, not the record's


def handle_batch(event: dict, context=None) -> dict:
    """Each record on its own: a failing record is reported back for retry, the rest go on."""
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)
    return process_partial_response(
        event=event, record_handler=lambda record: handle_record(record.raw_event),
        processor=processor, context=context,
    )
