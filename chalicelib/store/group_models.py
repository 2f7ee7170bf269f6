"""pynamodb item layouts of group buying (table shape from infra/tables.py; models.all_models()
lists it with the rest): a group ("group") and one item per member ("m#<buyer>")."""
from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection
from chalicelib.store.model_base import TableModel, index_meta, meta


class GroupsToSweep(GlobalSecondaryIndex):
    """Sparse: groups whose members are not all settled yet carry sweep_shard, by when they close."""
    Meta = index_meta("to_sweep", KeysOnlyProjection())
    sweep_shard = UnicodeAttribute(hash_key=True)
    closes_at = NumberAttribute(range_key=True)


class GroupModel(TableModel):
    """item "group": the group, its counts and state; item "m#<buyer>": a member's place (its put
    is what keeps a buyer from joining twice) and, once it authorised, when (the stream shares it)."""
    Meta = meta("groups")
    group_id = UnicodeAttribute(hash_key=True)
    item = UnicodeAttribute(range_key=True)
    card_id = UnicodeAttribute()
    order_id = UnicodeAttribute(null=True)  # a member's order; the group's: its starter's
    size = NumberAttribute(null=True)
    members = NumberAttribute(null=True)
    authorised = NumberAttribute(null=True)
    price_amount = NumberAttribute(null=True)
    currency = UnicodeAttribute(null=True)
    closes_at = NumberAttribute(null=True)
    state = UnicodeAttribute(null=True)  # open | complete | failed
    created_at = NumberAttribute(null=True)
    starter_name = UnicodeAttribute(null=True)
    authorised_at = NumberAttribute(null=True)  # a member's
    sweep_shard = UnicodeAttribute(null=True)
    to_sweep = GroupsToSweep()
