"""pynamodb item layouts of what makes a reader buy: discount codes, reviews and shops (table shapes come
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


class ReviewModel(TableModel):
    """A review of a paid order ("r#<created_at>#<order_id>": newest last, so read backwards), or
    the card's totals of the reviews shown ("stats": count, total, h1..h5), both kept in the same
    transactions."""
    Meta = meta("reviews")
    card_id = UnicodeAttribute(hash_key=True)
    review_key = UnicodeAttribute(range_key=True)
    order_id = UnicodeAttribute(null=True)
    rating = NumberAttribute(null=True)
    text = UnicodeAttribute(null=True)
    name = UnicodeAttribute(null=True)
    created_at = NumberAttribute(null=True)
    hidden_at = NumberAttribute(null=True)
    hidden_reason = UnicodeAttribute(null=True)
    reply = UnicodeAttribute(null=True)
    replied_at = NumberAttribute(null=True)
    count = NumberAttribute(null=True)
    total = NumberAttribute(null=True)
    h1 = NumberAttribute(null=True)
    h2 = NumberAttribute(null=True)
    h3 = NumberAttribute(null=True)
    h4 = NumberAttribute(null=True)
    h5 = NumberAttribute(null=True)


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
