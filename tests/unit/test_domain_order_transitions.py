"""The table of order moves the store builds its conditional writes from."""
import pytest

from chalicelib.domain import CANCELED, EXPIRED, HELD, ORDER_STATUSES, ORDER_TRANSITIONS, PAID, REFUNDED, transition


def test_every_move_is_between_known_statuses_and_moves_units_between_known_counters():
    for (source, target), units in ORDER_TRANSITIONS.items():
        assert {source, target} <= set(ORDER_STATUSES) and source != target
        assert units is None or set(units) <= {"available", "held", "sold"}


@pytest.mark.parametrize("sources, target, units", [
    ((HELD,), PAID, ("held", "sold")),
    ((HELD,), EXPIRED, ("held", "available")),
    ((EXPIRED, CANCELED), PAID, ("available", "sold")),
    ((EXPIRED, CANCELED), REFUNDED, None),
    ((PAID,), REFUNDED, ("sold", "available")),
])
def test_a_move_says_where_its_units_go(sources, target, units):
    assert transition(sources, target) == units


@pytest.mark.parametrize("sources, target", [
    ((PAID,), HELD), ((REFUNDED,), PAID), ((EXPIRED,), HELD), ((PAID,), EXPIRED),
    ((CANCELED,), HELD),  # a hold never comes back: the tap holds anew (no Stripe call can fail it)
])
def test_a_move_the_table_does_not_allow_is_refused(sources, target):
    with pytest.raises(ValueError):
        transition(sources, target)


def test_sources_that_move_units_differently_cannot_share_one_write():
    with pytest.raises(ValueError):
        transition((HELD, EXPIRED), PAID)
