"""The one-minute sweep (every few seconds on the local stack): what no request or stream starts."""
from __future__ import annotations

import time

from chalicelib import config, grouping, notices, payment_events, refunds, reminders
from chalicelib.social import reservations, shares
from chalicelib.store import retention


def deadline(context) -> float:
    """When (time.monotonic()) the sweep stops taking new work: at SWEEP_TIME_SHARE of the time
    the Lambda context has left, so a run ends before the Lambda's timeout kills it mid-way."""
    if context is None:
        return time.monotonic() + config.SWEEP_SECONDS
    return time.monotonic() + context.get_remaining_time_in_millis() / 1000 * config.SWEEP_TIME_SHARE


def sweep(context=None) -> dict:
    """Expire unpaid holds (until the deadline: the next run releases the rest), finish refunds
    left under way, retry the share posts and buyers' mails that are due, remind reservers of sales
    about to open, announce sales that opened, forget buyers' names past their time."""
    stop = deadline(context)
    return {"expired": payment_events.expire_holds(deadline=stop), "refunds_finished": refunds.finish_due(deadline=stop),
            "groups_closed": grouping.sweep(deadline=stop),
            "shares_retried": shares.retry_due(), "mails_retried": notices.retry_due() + reminders.retry_due(),
            # before the openings: a card whose start has come is announced, its reminders are not
            "reminders_sent": reminders.send_due(deadline=stop),
            "sales_opened": reservations.announce_openings(),
            "personal_data_forgotten": retention.forget_due(int(time.time()), stop)}
