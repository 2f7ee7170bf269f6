"""One budget for Stripe, shared by every container. Each call to Stripe first takes a slot in the
account's queue (store/stripe_budget.py), at config.STRIPE_RATE_LIMIT slots a second, and waits
for it. Priorities by patience: a payment being confirmed joins a queue of up to
STRIPE_QUEUE_SECONDS; a refund only a short one, a cancel only an almost empty one, so neither
ever delays a buyer who is paying."""
from __future__ import annotations

import math
import random
import time

from chalicelib import config
from chalicelib.domain import PaymentsBusy
from chalicelib.store import stripe_budget

CONFIRM, REFUND, CANCEL = "confirm", "refund", "cancel"
_PATIENCE_SECONDS = {REFUND: 3.0, CANCEL: 1.0}

BUSY_MESSAGE = "Payments are busy: your unit is kept while the payment opens. Please try again shortly."


def patience(priority: str) -> float:
    return config.STRIPE_QUEUE_SECONDS if priority == CONFIRM else _PATIENCE_SECONDS[priority]


def wait_turn(priority: str, deadline: float | None = None) -> None:
    """Wait for this call's slot. Raises PaymentsBusy, taking no slot, when the queue is longer
    than the priority's patience or than the time left before deadline (epoch seconds)."""
    if config.STRIPE_RATE_LIMIT <= 0:
        return
    now = time.time()
    wait = patience(priority) if deadline is None else min(patience(priority), deadline - now)
    interval_ms = max(1, round(1000 / config.STRIPE_RATE_LIMIT))
    slot_ms = stripe_budget.take_slot(int(now * 1000), interval_ms, int(max(0.0, wait) * 1000))
    if slot_ms is None:
        queued = stripe_budget.queue_ms(int(now * 1000)) / 1000
        # Come back about when the queue has drained to what this call could wait, spread out.
        retry_after = max(1, math.ceil(queued - wait * random.uniform(0.3, 0.9)))
        raise PaymentsBusy(BUSY_MESSAGE, retry_after)
    time.sleep(max(0.0, slot_ms / 1000 - time.time()))
