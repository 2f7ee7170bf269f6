"""pynamodb item layouts of what makes a reader buy: discount codes and shops (reviews, read by every widget, are in models.py) (table shapes come
from infra/tables.py, like every model's; models.all_models() lists them with the rest)."""
from pynamodb.attributes import ListAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.store.model_base import TableModel, index_meta, meta


class CodeModel(TableModel):
    """A discount code ("c#<CODE>": its terms and redeemed count) or one buyer's use of it
    ("b#<CODE>#<buyer>": redeemed only)."""
    Meta = meta("codes")
    card_id = UnicodeAttribute(hash_key=True)
    code_key = UnicodeAttribute(range_key=True)
    redeemed = NumberAttribute(default=0)
    percent_off = NumberAttribute(null=True)
    amount_off = NumberAttribute(null=True)
    max_redemptions = NumberAttribute(null=True)
    per_buyer = NumberAttribute(null=True)
    starts_at = NumberAttribute(null=True)
    ends_at = NumberAttribute(null=True)
    created_at = NumberAttribute(null=True)
    deleted_at = NumberAttribute(null=True)


class ShopsBySeller(GlobalSecondaryIndex):
    Meta = index_meta("by_seller", AllProjection())
    seller_id = UnicodeAttribute(hash_key=True)
    created_at = NumberAttribute(range_key=True)


class ShopModel(TableModel):
    """A blogger's shop: its name and its cards, in the seller's order."""
    Meta = meta("shops")
    shop_id = UnicodeAttribute(hash_key=True)
    seller_id = UnicodeAttribute()
    name = UnicodeAttribute()
    card_ids = ListAttribute(of=UnicodeAttribute, default=list)
    created_at = NumberAttribute()
    by_seller = ShopsBySeller()
