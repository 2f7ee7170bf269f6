"""The one-minute sweep (every few seconds on the local stack): what no request or stream starts."""
from __future__ import annotations

from chalicelib import payment_events
from chalicelib.social import reservations, shares


def sweep() -> dict:
    """Expire unpaid holds, retry the share posts that are due, announce sales that opened."""
    return {"expired": payment_events.expire_holds(), "shares_retried": shares.retry_due(),
            "sales_opened": reservations.announce_openings()}
