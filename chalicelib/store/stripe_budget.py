"""The stripe_budget table: the whole account's queue of Stripe call slots, spaced 1/rate apart.
Every container takes its slots from the one item, so together they stay within Stripe's rate.
Taking a slot is one UpdateItem (two when the queue had drained)."""
from __future__ import annotations

from pynamodb.exceptions import UpdateError

from chalicelib.store.order_models import StripeBudgetModel

ACCOUNT = "account"


def _refused(error: UpdateError) -> bool:
    return error.cause_response_code == "ConditionalCheckFailedException"


def take_slot(now_ms: int, interval_ms: int, max_queue_ms: int) -> int | None:
    """The time (ms) this call may go to Stripe, or None, taking nothing, when the calls already
    queued would keep it waiting longer than max_queue_ms."""
    item, next_slot = StripeBudgetModel(ACCOUNT), StripeBudgetModel.next_slot_ms
    try:
        item.update(actions=[next_slot.set(now_ms + interval_ms)],
                    condition=next_slot.does_not_exist() | (next_slot <= now_ms))
        return now_ms
    except UpdateError as error:
        if not _refused(error):
            raise
    try:
        item.update(actions=[next_slot.add(interval_ms)], condition=next_slot <= now_ms + max_queue_ms)
    except UpdateError as error:
        if not _refused(error):
            raise
        return None
    return int(item.next_slot_ms) - interval_ms


def queue_ms(now_ms: int) -> int:
    """How long a call joining the queue now would wait."""
    try:
        item = StripeBudgetModel.get(ACCOUNT)
    except StripeBudgetModel.DoesNotExist:
        return 0
    return max(0, int(item.next_slot_ms or 0) - now_ms)
