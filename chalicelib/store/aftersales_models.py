"""pynamodb item layout of after-sales requests (the table's shape comes from infra/tables.py, like
every model's; models.all_models() lists it with the rest)."""
from pynamodb.attributes import BooleanAttribute, ListAttribute, MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from chalicelib.store.model_base import TableModel, index_meta, meta


class RequestsBySeller(GlobalSecondaryIndex):
    Meta = index_meta("by_seller", AllProjection())
    seller_id = UnicodeAttribute(hash_key=True)
    created_at = NumberAttribute(range_key=True)


class RequestsByOrder(GlobalSecondaryIndex):
    Meta = index_meta("by_order", AllProjection())
    order_id = UnicodeAttribute(hash_key=True)
    created_at = NumberAttribute(range_key=True)


class MessageMap(MapAttribute):
    author = UnicodeAttribute()
    text = UnicodeAttribute()
    at = NumberAttribute()


class PhotoMap(MapAttribute):
    photo_id = UnicodeAttribute()
    key = UnicodeAttribute()
    content_type = UnicodeAttribute()
    size = NumberAttribute()
    at = NumberAttribute()


class AftersalesModel(TableModel):
    """A request ("req_…": its state, thread and photos), or an order's mark that it has an
    unsettled one ("open#<order_id>": holder names it; no index attributes, so in no index)."""
    Meta = meta("aftersales")
    request_id = UnicodeAttribute(hash_key=True)
    holder = UnicodeAttribute(null=True)
    order_id = UnicodeAttribute(null=True)
    card_id = UnicodeAttribute(null=True)
    seller_id = UnicodeAttribute(null=True)
    type = UnicodeAttribute(null=True)
    status = UnicodeAttribute(null=True)
    created_at = NumberAttribute(null=True)
    updated_at = NumberAttribute(null=True)
    messages = ListAttribute(of=MessageMap, null=True)
    photos = ListAttribute(of=PhotoMap, null=True)
    instructions = UnicodeAttribute(null=True)
    reason = UnicodeAttribute(null=True)
    restock = BooleanAttribute(null=True)
    by_seller = RequestsBySeller()
    by_order = RequestsByOrder()
