"""One Stripe budget for every container (chalicelib/stripe_budget.py over store/stripe_budget.py):
call slots spaced 1/rate apart in one DynamoDB item, patience by priority, and the adapter's
answer to Stripe's own 429 (payments._call). Sleeps are recorded, not slept; DynamoDB requests
are serialized the way DynamoDB serializes writes to one item (moto's in-process backend has no
lock of its own)."""
import math
import threading
import time

import botocore.client
import pytest
import stripe

from chalicelib import config, payments, stripe_budget
from chalicelib.domain import PaymentsBusy, PaymentsUnavailable
from chalicelib.store import stripe_budget as budget_table
from chalicelib.store.order_models import StripeBudgetModel
from chalicelib.stripe_budget import CANCEL, CONFIRM, REFUND


class Clock:
    """time for the budget and the adapter: real time unless frozen. Sleeping is only recorded:
    the callers in a test stand for many containers, and the one that sleeps is not the others."""

    def __init__(self):
        self.frozen: float | None = None
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def time(self) -> float:
        return time.time() if self.frozen is None else self.frozen

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)

    def advance(self, seconds: float) -> None:
        self.frozen = self.time() + seconds


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(stripe_budget, "time", clock)
    monkeypatch.setattr(payments, "time", clock)
    return clock


@pytest.fixture
def dynamodb(aws, monkeypatch) -> list[str]:
    """Every DynamoDB request, one at a time; returns the list of their operations."""
    requests, lock = [], threading.Lock()
    make_api_call = botocore.client.BaseClient._make_api_call

    def serialized(client, operation, params):
        with lock:
            requests.append(operation)
            return make_api_call(client, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", serialized)
    return requests


@pytest.fixture
def slots(monkeypatch) -> list[int | None]:
    """Every slot the budget handed out (None: refused), in ms since the epoch."""
    taken = []
    take_slot = budget_table.take_slot

    def recorded(*args):
        slot = take_slot(*args)
        taken.append(slot)
        return slot

    monkeypatch.setattr(budget_table, "take_slot", recorded)
    return taken


@pytest.fixture
def rate(monkeypatch):
    def set_rate(per_second: float, queue_seconds: float = 10.0) -> None:
        monkeypatch.setattr(config, "STRIPE_RATE_LIMIT", per_second)
        monkeypatch.setattr(config, "STRIPE_QUEUE_SECONDS", queue_seconds)
    return set_rate


def next_slot_ms() -> int | None:
    try:
        return int(StripeBudgetModel.get(budget_table.ACCOUNT, consistent_read=True).next_slot_ms)
    except StripeBudgetModel.DoesNotExist:
        return None


def queue_up(n: int) -> None:
    """n payment confirmations already waiting their turn."""
    for _ in range(n):
        stripe_budget.wait_turn(CONFIRM)


# --- the shared queue ----------------------------------------------------------------------------


def test_callers_in_many_containers_get_distinct_slots_spaced_one_over_the_rate(dynamodb, clock, slots, rate):
    rate(50)  # 20 ms apart
    clock.frozen = 1_900_000_000.0  # they all arrive at once (moto alone takes longer than the queue)
    start = threading.Barrier(20)
    errors = []

    def container():  # 20 containers, 5 buyers paying in each: 100 callers
        try:
            start.wait()
            for _ in range(5):
                stripe_budget.wait_turn(CONFIRM)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=container) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert len(slots) == 100 and None not in slots
    ordered = sorted(slots)
    assert len(set(ordered)) == 100
    gaps = [later - earlier for earlier, later in zip(ordered, ordered[1:])]
    assert min(gaps) >= 20
    assert ordered[0] == 1_900_000_000_000
    assert ordered[-1] - ordered[0] == 99 * 20  # 100 calls at 50/s: the last about 2 s out
    assert sorted(round(s * 1000) for s in clock.sleeps) == [slot - ordered[0] for slot in ordered]
    assert next_slot_ms() == ordered[-1] + 20


def test_callers_arriving_over_time_never_get_slots_closer_than_one_over_the_rate(dynamodb, clock, slots, rate):
    rate(50)  # the real clock this time: some find the queue drained, some queue behind others
    threads = [threading.Thread(target=stripe_budget.wait_turn, args=(CONFIRM,)) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    ordered = sorted(slots)
    assert len(ordered) == 40 and len(set(ordered)) == 40
    assert min(later - earlier for earlier, later in zip(ordered, ordered[1:])) >= 20


def test_a_drained_queue_gives_the_slot_now(aws, clock, slots, rate):
    rate(50)
    clock.frozen = 1_900_000_000.0
    queue_up(3)

    clock.advance(5)  # long after the last slot
    stripe_budget.wait_turn(CONFIRM)

    assert slots[-1] == 1_900_000_005_000
    assert clock.sleeps[-1] == 0


# --- priorities: confirm > refund > cancel, by patience -------------------------------------------


def test_a_cancel_is_refused_without_taking_a_slot_while_a_confirm_still_joins(aws, clock, slots, rate):
    rate(50)
    clock.frozen = 1_900_000_000.0
    queue_up(100)  # 2 s of confirmations queued
    queued_until = next_slot_ms()

    with pytest.raises(PaymentsBusy) as refused:
        stripe_budget.wait_turn(CANCEL)  # patience 1 s

    assert refused.value.code == "payments_busy"
    assert 1 <= refused.value.retry_after <= math.ceil((queued_until - 1_900_000_000_000) / 1000)
    assert next_slot_ms() == queued_until  # no slot taken
    assert slots[-1] is None

    stripe_budget.wait_turn(REFUND)  # patience 3 s: joins a 2 s queue
    stripe_budget.wait_turn(CONFIRM)
    assert slots[-2:] == [queued_until, queued_until + 20]


def test_a_cancel_joins_a_short_queue(aws, clock, slots, rate):
    rate(50)
    clock.frozen = 1_900_000_000.0
    queue_up(25)  # half a second

    stripe_budget.wait_turn(CANCEL)

    assert slots[-1] == 1_900_000_000_000 + 25 * 20


def test_a_refund_is_refused_past_its_patience(aws, clock, rate):
    rate(50)
    clock.frozen = 1_900_000_000.0
    queue_up(200)  # 4 s

    with pytest.raises(PaymentsBusy):
        stripe_budget.wait_turn(REFUND)


def test_a_confirm_is_refused_past_the_queue_limit_or_the_holds_deadline(aws, clock, rate):
    rate(50, queue_seconds=2)
    clock.frozen = 1_900_000_000.0
    queue_up(101)  # the last of them waits exactly the 2 s a confirmation may
    queued_until = next_slot_ms()

    with pytest.raises(PaymentsBusy):
        stripe_budget.wait_turn(CONFIRM)  # it would wait 2.02 s
    with pytest.raises(PaymentsBusy):
        stripe_budget.wait_turn(CONFIRM, deadline=clock.time() + 0.5)

    assert next_slot_ms() == queued_until


# --- no budget ---------------------------------------------------------------------------------------


def test_a_rate_of_zero_means_no_waiting_and_no_dynamodb_request(dynamodb, clock, rate):
    rate(0)
    before = len(dynamodb)

    for priority in (CONFIRM, REFUND, CANCEL):
        for _ in range(50):
            stripe_budget.wait_turn(priority)

    assert dynamodb[before:] == []
    assert clock.sleeps == []


# --- Stripe's own 429, in payments._call ---------------------------------------------------------------


def rate_limited(times: int, result="ok", stripe_seconds: float = 0.0, clock: Clock | None = None):
    """A request Stripe answers 429 `times` times (each answer taking stripe_seconds), then answers."""
    calls = []

    def request():
        calls.append(1)
        if clock is not None and stripe_seconds:
            clock.advance(stripe_seconds)
        if len(calls) <= times:
            raise stripe.RateLimitError("Too many requests hit the API too quickly.", http_status=429,
                                        json_body={"error": {"type": "invalid_request_error",
                                                             "code": "rate_limit"}})
        return result

    request.calls = calls
    return request


def test_a_single_429_is_retried_in_the_next_slot_and_never_raised(aws, clock, slots, rate):
    rate(50)
    clock.frozen = 1_900_000_000.0
    request = rate_limited(1)

    assert payments._call(CONFIRM, request) == "ok"

    assert len(request.calls) == 2
    assert len(slots) == 2 and slots[1] >= slots[0] + 20  # a turn of its own, not an extra call


def test_429s_that_outlast_the_patience_are_payments_busy(aws, clock, rate):
    rate(50, queue_seconds=10)
    clock.frozen = 1_900_000_000.0
    request = rate_limited(100, stripe_seconds=3.0, clock=clock)  # each 429 takes 3 s to come back

    with pytest.raises(PaymentsBusy) as busy:
        payments._call(CONFIRM, request)

    assert busy.value.retry_after >= 1
    assert len(request.calls) == 4  # 0, 3, 6, 9 s: then 12 s is past the patience of 10 s
    assert clock.time() - 1_900_000_000.0 < 10 + 3 + 1


def test_429s_stop_at_the_holds_deadline(aws, clock, rate):
    rate(50)
    clock.frozen = 1_900_000_000.0
    request = rate_limited(100, stripe_seconds=1.0, clock=clock)

    with pytest.raises(PaymentsBusy):
        payments._call(CONFIRM, request, deadline=clock.time() + 2.5)

    assert len(request.calls) == 3


def test_without_a_budget_a_429_backs_off_a_little_and_is_retried(aws, clock, rate):
    rate(0)
    clock.frozen = 1_900_000_000.0
    request = rate_limited(2)

    assert payments._call(REFUND, request) == "ok"

    assert len(request.calls) == 3
    assert len(clock.sleeps) == 2 and all(0 <= s <= 0.2 for s in clock.sleeps)


def test_stripe_down_is_payments_unavailable_not_busy(aws, clock, rate):
    rate(50)

    def down():
        raise stripe.APIConnectionError("Could not connect to Stripe.")

    with pytest.raises(PaymentsUnavailable) as unavailable:
        payments._call(CONFIRM, down)

    assert type(unavailable.value) is PaymentsUnavailable
