"""The orders stream, record by record: the same code runs in Lambda and in the local poller."""
from __future__ import annotations

import logging

from chalicelib import observability, shares
from chalicelib.domain import PAID
from chalicelib.inventory import get_order

log = logging.getLogger(__name__)


def _status(image: dict | None) -> str | None:
    return ((image or {}).get("status") or {}).get("S")


def handle_record(record: dict) -> None:
    """An order that just became paid gets its automatic shares; other changes are ignored."""
    change = record.get("dynamodb") or {}
    if _status(change.get("NewImage")) != PAID or _status(change.get("OldImage")) == PAID:
        return
    order_id = change["Keys"]["order_id"]["S"]
    observability.order_context(order_id)
    order = get_order(order_id)
    if order is None:
        return
    shares.post_order_shares(order)


def handle_batch(event: dict, context=None) -> dict:
    """Each record on its own: a failing record is reported back for retry, the rest go on."""
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)
    return process_partial_response(
        event=event, record_handler=lambda record: handle_record(record.raw_event),
        processor=processor, context=context,
    )
