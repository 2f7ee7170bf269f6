"""A refused transaction names the item that refused it, whatever order its items were added in
(pynamodb sends puts before updates; the labels must follow what was sent)."""
import pytest

from chalicelib.store.group_models import GroupModel

from chalicelib.store.models import StockShardModel
from chalicelib.store.transactions import Refused, Transaction


def test_a_put_added_after_an_update_is_named_when_its_condition_fails(aws):
    StockShardModel("card_t#0", card_id="card_t", shard=0, available=3).save()
    GroupModel("grp_t", "m#buyer", card_id="card_t").save()
    tx = Transaction()
    tx.update("shard:0", StockShardModel("card_t#0"), actions=[StockShardModel.available.add(-1)],
              condition=StockShardModel.available >= 1)
    tx.save("member", GroupModel("grp_t", "m#buyer", card_id="card_t"), condition=GroupModel.item.does_not_exist())
    with pytest.raises(Refused) as refused:
        tx.commit()
    assert refused.value.failed("member")
    assert not refused.value.failed("shard:0")
    assert StockShardModel.get("card_t#0").available == 3
