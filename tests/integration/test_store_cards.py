"""Cards and their stock shards in DynamoDB (moto)."""
import pytest

from chalicelib.store import cards, models, stock
from chalicelib.domain import NotFound
from chalicelib.store.models import StockShardModel
from chalicelib.store.transactions import Refused


def shard_units(card_id: str) -> list[int]:
    shards = StockShardModel.scan(StockShardModel.card_id == card_id)
    return [int(s.available) for s in sorted(shards, key=lambda s: int(s.shard))]


def test_a_new_card_puts_all_its_stock_on_sale(make_card):
    card = make_card(stock=40)

    level = stock.level(cards.get(card.card_id))

    assert (level.available, level.held, level.sold) == (40, 0, 0)


def test_a_stored_card_reads_back_as_it_was_made(make_card):
    card = make_card(stock=7, limit_per_buyer=2, starts_at=1_900_000_000, ends_at=1_900_003_600, hold_seconds=120)

    assert cards.get(card.card_id) == card


def test_big_stock_is_spread_evenly_over_its_shards(make_card):
    card = make_card(stock=1201)

    assert card.shard_count == 3
    assert sorted(shard_units(card.card_id), reverse=True) == [401, 400, 400]
    assert stock.level(cards.get(card.card_id)).available == 1201


def test_an_unknown_card_is_not_found(aws):
    with pytest.raises(NotFound):
        cards.get("card_doesnotexist")


def test_a_card_id_cannot_be_stored_twice_and_its_stock_is_not_doubled(make_card):
    card = make_card(stock=5)

    with pytest.raises(Refused) as refused:
        cards.create(card)

    assert refused.value.failed("card")
    assert stock.level(cards.get(card.card_id)).available == 5


def test_tables_are_reachable_under_moto(aws):
    assert models.tables_reachable()
