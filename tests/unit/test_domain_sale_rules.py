"""The state a card shows and the rules a tap must pass before any stock is touched."""
import pytest

from chalicelib.domain import Card, Ended, LimitReached, NotStarted, check_can_buy, sale_state

START, END = 1_900_000_000, 1_900_003_600


def card(**overrides) -> Card:
    values = dict(card_id="card_1", seller_id="sel_1", title="Mug", description="", image_url="https://x/y.jpg",
                  price_amount=1800, currency="EUR", stock=10, starts_at=START, ends_at=END)
    values.update(overrides)
    return Card(**values)


@pytest.mark.parametrize("now, available, state", [
    (START - 1, 10, "upcoming"),
    (START, 10, "live"),
    (END - 1, 1, "live"),
    (START + 5, 0, "sold_out"),
    (END, 10, "ended"),
    (END + 100, 0, "ended"),        # an ended sale says ended, not sold out
    (START - 1, 0, "upcoming"),     # nothing can be bought before the start anyway
])
def test_sale_state(now, available, state):
    assert sale_state(card(), now, available) == state


def test_a_card_without_a_window_is_live_until_it_sells_out():
    always = card(starts_at=None, ends_at=None)

    assert sale_state(always, 0, 1) == "live"
    assert sale_state(always, 2**40, 1) == "live"
    assert sale_state(always, 2**40, 0) == "sold_out"


def test_buying_during_the_sale_is_allowed():
    check_can_buy(card(), START, 1)
    check_can_buy(card(), END - 1, 1)


def test_buying_before_the_start_is_refused_as_not_started():
    with pytest.raises(NotStarted) as caught:
        check_can_buy(card(), START - 1, 1)

    assert caught.value.code == "not_started"


def test_buying_at_or_after_the_end_is_refused_as_ended():
    for now in (END, END + 1):
        with pytest.raises(Ended) as caught:
            check_can_buy(card(), now, 1)
        assert caught.value.code == "ended"


def test_asking_for_more_than_the_per_buyer_limit_at_once_is_refused():
    limited = card(limit_per_buyer=2)

    check_can_buy(limited, START, 2)
    with pytest.raises(LimitReached) as caught:
        check_can_buy(limited, START, 3)

    assert caught.value.code == "limit_reached"
    assert "2" in caught.value.message
