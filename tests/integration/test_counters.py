"""The funnel's counters: batched in memory, one UpdateItem per (card, day) per flush."""
import time

from chalicelib import config, counters
from chalicelib.store import counters as stored_counters


def test_counts_are_written_in_one_update_per_card_and_day(aws, monkeypatch):
    writes = []
    real_add = stored_counters.add
    monkeypatch.setattr(stored_counters, "add", lambda *args: (writes.append(args), real_add(*args)))
    for _ in range(500):
        counters.count("card_a", counters.TAPS)
    counters.count("card_a", counters.VIEWS, place="US-CA")
    counters.count("card_b", counters.VIEWS)

    counters.flush()

    assert len(writes) == 2
    today = counters.day_of(time.time())
    days = counters.read("card_a", today, today)
    assert days[today]["taps"] == 500
    assert days[today]["geo:views:US"] == 1 and days[today]["region:views:US-CA"] == 1


def test_shards_of_one_day_are_added_up(aws, monkeypatch):
    for shard in range(3):
        monkeypatch.setattr(counters, "_shard", shard)
        counters.count("card_a", counters.PAID, 2)
        counters.flush()

    today = counters.day_of(time.time())
    assert counters.read("card_a", today, today)[today]["paid"] == 6


def test_a_flush_waits_for_its_interval(aws, monkeypatch):
    monkeypatch.setattr(config, "COUNTER_FLUSH_SECONDS", 3600)
    counters.flush()
    counters.count("card_a", counters.TAPS)

    counters.flush_if_due()

    today = counters.day_of(time.time())
    assert counters.read("card_a", today, today) == {}


def test_counts_that_fail_to_write_are_kept_for_the_next_flush(aws, monkeypatch):
    def unreachable(*args):
        raise ConnectionError("DynamoDB is away")

    counters.count("card_a", counters.HOLDS, 3)
    real_add = stored_counters.add
    monkeypatch.setattr(stored_counters, "add", unreachable)
    counters.flush()
    monkeypatch.setattr(stored_counters, "add", real_add)
    counters.flush()

    today = counters.day_of(time.time())
    assert counters.read("card_a", today, today)[today]["holds"] == 3
