"""plan_take decides which stock shards give the units of one order."""
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain import MAX_SHARDS, plan_take

shard_levels = st.dictionaries(st.integers(0, MAX_SHARDS - 1), st.integers(0, 600), max_size=MAX_SHARDS)
quantities = st.integers(1, 250)
seeds = st.integers(0, 2**32)


@settings(max_examples=400)
@given(levels=shard_levels, quantity=quantities, seed=seeds)
def test_a_plan_takes_exactly_the_quantity_and_never_more_than_a_shard_has(levels, quantity, seed):
    plan = plan_take(levels, quantity, random.Random(seed))

    if sum(levels.values()) < quantity:
        assert plan is None
        return
    assert plan is not None
    assert sum(plan.values()) == quantity
    for shard, units in plan.items():
        assert shard in levels
        assert 0 < units <= levels[shard]


@given(levels=shard_levels, quantity=quantities, seed=seeds)
def test_no_plan_exactly_when_the_shards_together_are_short(levels, quantity, seed):
    plan = plan_take(levels, quantity, random.Random(seed))

    assert (plan is None) == (sum(levels.values()) < quantity)


@given(levels=shard_levels, quantity=quantities, seed=seeds)
def test_one_shard_gives_everything_when_one_can(levels, quantity, seed):
    plan = plan_take(levels, quantity, random.Random(seed))

    if any(units >= quantity for units in levels.values()):
        assert plan is not None and len(plan) == 1


def test_the_shard_that_gives_is_spread_at_random():
    levels = {shard: 100 for shard in range(8)}

    chosen = {next(iter(plan_take(levels, 1, random.Random(seed)))) for seed in range(200)}

    assert len(chosen) > 4


def test_when_no_shard_has_enough_the_fullest_shards_give_together():
    plan = plan_take({0: 3, 1: 5, 2: 0, 3: 4}, 8, random.Random(0))

    assert plan == {1: 5, 3: 3}


def test_no_shards_means_sold_out():
    assert plan_take({}, 1, random.Random(0)) is None
    assert plan_take({0: 0, 1: 0}, 1, random.Random(0)) is None
