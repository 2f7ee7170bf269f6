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


def test_a_view_counts_once_per_client_and_card_a_minute(aws):
    now = 1_767_268_800 + 12 * 3600  # noon, so a minute on is the same day
    for at in (now, now + 1, now + config.VIEW_DEDUP_SECONDS - 1):  # one reader reloading
        counters.count_view("card_views_a", "203.0.113.7", at=at)
    counters.count_view("card_views_a", "198.51.100.20", at=now)  # another reader
    counters.count_view("card_views_b", "203.0.113.7", at=now)  # the first reader on another card
    counters.count_view("card_views_a", "203.0.113.7", at=now + config.VIEW_DEDUP_SECONDS)  # a minute on

    counters.flush()

    today = counters.day_of(now)
    assert counters.read("card_views_a", today, today)[today]["views"] == 3
    assert counters.read("card_views_b", today, today)[today]["views"] == 1
