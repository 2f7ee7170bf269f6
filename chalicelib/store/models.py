"""pynamodb item layouts of what every request may read: sellers and their API keys, cards, their
stock and buyer limits, reviews and their totals, the funnel counters. Table shapes come from infra/tables.py. The other
tables' layouts live in the *_models modules beside this one, so a container answering a widget
builds only these (cold start); all_models() lists them all."""
from pynamodb.attributes import BooleanAttribute, ListAttribute, MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection

from chalicelib.store.model_base import TableModel, index_meta, meta


class SellerModel(TableModel):
    Meta = meta("sellers")
    seller_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    email = UnicodeAttribute()
    created_at = NumberAttribute()
    webhook_url = UnicodeAttribute(null=True)
    webhook_secret = UnicodeAttribute(null=True)


class KeysBySeller(GlobalSecondaryIndex):
    Meta = index_meta("by_seller", AllProjection())
    seller_id = UnicodeAttribute(hash_key=True)
    created_at = NumberAttribute(range_key=True)


class ApiKeyModel(TableModel):
    Meta = meta("api_keys")
    key_hash = UnicodeAttribute(hash_key=True)
    seller_id = UnicodeAttribute()
    prefix = UnicodeAttribute()
    created_at = NumberAttribute()
    revoked = BooleanAttribute(default=False)
    revoked_at = NumberAttribute(null=True)
    by_seller = KeysBySeller()


class CardsBySeller(GlobalSecondaryIndex):
    Meta = index_meta("by_seller", AllProjection())
    seller_id = UnicodeAttribute(hash_key=True)
    created_at = NumberAttribute(range_key=True)


class CardsOpening(GlobalSecondaryIndex):
    """Sparse: cards whose sale start is not yet announced (sale.opened) carry opening_shard."""
    Meta = index_meta("opening", KeysOnlyProjection())
    opening_shard = UnicodeAttribute(hash_key=True)
    starts_at = NumberAttribute(range_key=True)


class CardModel(TableModel):
    Meta = meta("cards")
    card_id = UnicodeAttribute(hash_key=True)
    seller_id = UnicodeAttribute()
    created_at = NumberAttribute()
    title = UnicodeAttribute()
    description = UnicodeAttribute(default="")
    image_url = UnicodeAttribute()
    price_amount = NumberAttribute()
    currency = UnicodeAttribute()
    stock = NumberAttribute()
    starts_at = NumberAttribute(null=True)
    ends_at = NumberAttribute(null=True)
    limit_per_buyer = NumberAttribute(null=True)
    hold_seconds = NumberAttribute()
    share_text = UnicodeAttribute()
    shard_count = NumberAttribute()
    # The social loop; absent on cards made before it, read as the defaults.
    locale = UnicodeAttribute(null=True)
    shares_enabled = BooleanAttribute(null=True)
    reservation_mode = UnicodeAttribute(null=True)
    reservers_minutes = NumberAttribute(null=True)
    reminder_minutes = NumberAttribute(null=True)
    rebate_percent = NumberAttribute(null=True)
    referral_discount_percent = NumberAttribute(null=True)
    compare_at_amount = NumberAttribute(null=True)
    opening_shard = UnicodeAttribute(null=True)
    # Reservation reminders: the sale start they were sent for, and how far ('done' when all went).
    reminders_for = NumberAttribute(null=True)
    reminders_after = UnicodeAttribute(null=True)
    # published | unpublished | archived; cards stored before this existed are published.
    status = UnicodeAttribute(null=True)
    updated_at = NumberAttribute(null=True)
    # Shipping (absent: digital goods); the fee is per order, in the card's minor units.
    shipping_required = BooleanAttribute(null=True)
    shipping_countries = ListAttribute(of=UnicodeAttribute, null=True)
    shipping_fee = NumberAttribute(null=True)
    group = MapAttribute(null=True)  # {size, price_amount, window_minutes, only}: group buying
    return_days = NumberAttribute(null=True)  # None: a card stored before the setting (the default)
    by_seller = CardsBySeller()
    opening = CardsOpening()


class StockShardModel(TableModel):
    """One shard of a card's stock. Each shard is its own partition key, so a hot sale spreads
    over partitions instead of sharing one item collection."""
    Meta = meta("stock")
    shard_key = UnicodeAttribute(hash_key=True)
    card_id = UnicodeAttribute()
    shard = NumberAttribute()
    available = NumberAttribute()
    held = NumberAttribute(default=0)
    sold = NumberAttribute(default=0)

    @staticmethod
    def key(card_id: str, shard: int) -> str:
        return f"{card_id}#{shard}"


class BuyerLimitModel(TableModel):
    Meta = meta("buyer_limits")
    card_buyer = UnicodeAttribute(hash_key=True)
    units = NumberAttribute(default=0)
    # On a payer's '<card>#paying:<payer>' item: the order that payer is paying for right now.
    paying_order = UnicodeAttribute(null=True)
    paying_until = NumberAttribute(null=True)


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


class CounterModel(TableModel):
    """Funnel counts of a card: one item per (day, shard), counts as top-level number attributes
    whose names are only known at run time ("views", "geo:paid:CN"), so chalicelib/store/counters.py
    writes and reads them with plain UpdateItem/Query; this model declares the keys."""
    Meta = meta("counters")
    card_id = UnicodeAttribute(hash_key=True)
    bucket = UnicodeAttribute(range_key=True)  # "YYYY-MM-DD#shard"


def all_models() -> dict:
    """Every table's model by its logical name (infra/tables.py's), the other modules' imported."""
    from chalicelib.store.aftersales_models import AftersalesModel
    from chalicelib.store.group_models import GroupModel
    from chalicelib.store.offer_models import CodeModel, ShopModel
    from chalicelib.store.order_models import NoticeModel, OrderModel, StripeBudgetModel, StripeEventModel
    from chalicelib.store.social_models import (ChannelModel, RateLimitModel, ReferralModel, ReservationModel,
                                                ShareModel, SocialCountModel)

    return {
        "sellers": SellerModel,
        "api_keys": ApiKeyModel,
        "cards": CardModel,
        "stock": StockShardModel,
        "buyer_limits": BuyerLimitModel,
        "orders": OrderModel,
        "stripe_events": StripeEventModel,
        "shares": ShareModel,
        "notices": NoticeModel,
        "channels": ChannelModel,
        "referrals": ReferralModel,
        "reservations": ReservationModel,
        "rate_limits": RateLimitModel,
        "social_counts": SocialCountModel,
        "counters": CounterModel,
        "stripe_budget": StripeBudgetModel,
        "codes": CodeModel,
        "reviews": ReviewModel,
        "shops": ShopModel,
        "aftersales": AftersalesModel,
        "groups": GroupModel,
    }


HEALTH_PROBE_KEY = "health-probe"  # no card has this id (card ids are "card_..."), so nothing is read


def tables_reachable() -> bool:
    """Whether DynamoDB answers for the cards table (the health check): one eventually consistent
    GetItem of a key that is never stored, the cheapest read there is (0.5 read units)."""
    try:
        CardModel.get(HEALTH_PROBE_KEY)
    except CardModel.DoesNotExist:
        return True
    except Exception:  # any failure to reach DynamoDB (or a missing table) means "not ready"
        return False
    return True
