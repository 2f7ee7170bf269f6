"""pynamodb models: the only module that knows item layouts. Table shapes come from infra/tables.py."""
from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection

from chalicelib.store.model_base import TableModel, index_meta, meta
from chalicelib.store.aftersales_models import AftersalesModel
from chalicelib.store.group_models import GroupModel
from chalicelib.store.offer_models import CodeModel, ReviewModel, ShopModel
from chalicelib.store.social_models import ChannelModel, ReferralModel, ShareModel, SocialCountModel


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


class OrdersByCard(GlobalSecondaryIndex):
    Meta = index_meta("by_card", AllProjection())
    card_id = UnicodeAttribute(hash_key=True)
    created_at = NumberAttribute(range_key=True)


class HeldByExpiry(GlobalSecondaryIndex):
    """Sparse: held orders (shards h0, h1, ...) and paid orders whose refund is under way (shard
    "refunding"), each by when the sweeper should look at it."""
    Meta = index_meta("held_by_expiry", KeysOnlyProjection())
    hold_shard = UnicodeAttribute(hash_key=True)
    hold_expires_at = NumberAttribute(range_key=True)


class PersonalDataByExpiry(GlobalSecondaryIndex):
    """Sparse: only orders that still keep a buyer's name, city or address."""
    Meta = index_meta("personal_by_expiry", KeysOnlyProjection())
    forget_shard = UnicodeAttribute(hash_key=True)
    forget_at = NumberAttribute(range_key=True)


class OrdersByReferralCode(GlobalSecondaryIndex):
    """Sparse: only paid orders have a referral code."""
    Meta = index_meta("by_referral_code", KeysOnlyProjection())
    referral_code = UnicodeAttribute(hash_key=True)


class OrderModel(TableModel):
    Meta = meta("orders")
    order_id = UnicodeAttribute(hash_key=True)
    card_id = UnicodeAttribute()
    seller_id = UnicodeAttribute()
    buyer = UnicodeAttribute()
    quantity = NumberAttribute()
    amount = NumberAttribute()
    currency = UnicodeAttribute()
    status = UnicodeAttribute()
    created_at = NumberAttribute()
    updated_at = NumberAttribute()
    expires_at = NumberAttribute()
    # Units taken from each stock shard, keyed by shard number as text.
    stock_take = MapAttribute(default=dict)
    payment_intent_id = UnicodeAttribute(null=True)
    client_secret = UnicodeAttribute(null=True)
    ref = UnicodeAttribute(null=True)
    referral_code = UnicodeAttribute(null=True)
    status_reason = UnicodeAttribute(null=True)
    refund_id = UnicodeAttribute(null=True)
    request_fingerprint = UnicodeAttribute(null=True)
    # Whether the units count against the buyer's limit (only cards with a limit keep counts).
    counted = BooleanAttribute(default=False)
    # Bumped when a tap is retried after Stripe was down: a new Stripe idempotency key, since
    # Stripe replays a saved error for the old one.
    payment_attempt = NumberAttribute(default=0)
    # While a pay call is with Stripe: until when (a second call waits; the sweeper leaves it be).
    paying_until = NumberAttribute(null=True)
    # Present only while held, or while a refund is under way: the sweeper's sparse index.
    hold_shard = UnicodeAttribute(null=True)
    hold_expires_at = NumberAttribute(null=True)
    display_name = UnicodeAttribute(null=True)
    anonymous = BooleanAttribute(null=True)
    city = UnicodeAttribute(null=True)
    # Present while the order keeps personal data: when the sweeper forgets it (store/retention.py).
    forget_shard = UnicodeAttribute(null=True)
    forget_at = NumberAttribute(null=True)
    reservation_id = UnicodeAttribute(null=True)
    # Where the tap came from (ISO country, optionally "-REGION"), for the seller's insights.
    country = UnicodeAttribute(null=True)
    # Who paid, as counted against the per-buyer limit: refunds take them off again.
    payer_ids = ListAttribute(of=UnicodeAttribute, null=True)
    # The client whose open holds on the card count this order while held (a hash, not an address).
    client = UnicodeAttribute(null=True)
    fulfilled_at = NumberAttribute(null=True)
    carrier = UnicodeAttribute(null=True)
    tracking_number = UnicodeAttribute(null=True)
    # Encrypted (a Fernet token of the address as JSON), never plain text: chalicelib/shipping.py.
    shipping_address = UnicodeAttribute(null=True)
    # The discount priced into amount: "code" (then code) or "referral".
    code = UnicodeAttribute(null=True)
    discount_kind = UnicodeAttribute(null=True)
    discount_amount = NumberAttribute(null=True)
    review_key = UnicodeAttribute(null=True)  # its buyer's review (one per order)
    group_id = UnicodeAttribute(null=True)  # the group it joined; authorised_at: its payment authorised
    authorised_at = NumberAttribute(null=True)
    amount_refunded = NumberAttribute(null=True)
    # A refund under way (store/refunds.py): the seller's restock choice; with hold_shard
    # "refunding" and hold_expires_at when the sweeper should finish it.
    refund_restock = BooleanAttribute(null=True)
    dispute_reason = UnicodeAttribute(null=True)
    disputed_at = NumberAttribute(null=True)
    by_card = OrdersByCard()
    held_by_expiry = HeldByExpiry()
    by_referral_code = OrdersByReferralCode()
    personal_by_expiry = PersonalDataByExpiry()


class StripeEventModel(TableModel):
    Meta = meta("stripe_events")
    event_id = UnicodeAttribute(hash_key=True)
    type = UnicodeAttribute()
    expires_at = NumberAttribute()


class NoticesRetryDue(GlobalSecondaryIndex):
    """Sparse: only mails being sent carry retry_shard; the sweeper sends those that are due."""
    Meta = index_meta("retry_due", KeysOnlyProjection())
    retry_shard = UnicodeAttribute(hash_key=True)
    next_attempt_at = NumberAttribute(range_key=True)


class NoticeModel(TableModel):
    """One email to an order's buyer (receipt, shipped, refunded) or a reserver (reminder), or an
    address unsubscribed from reminders (by its keyed hash); never an address or a body."""
    Meta = meta("notices")
    notice_id = UnicodeAttribute(hash_key=True)  # "<order_id>#<kind>"
    order_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    status = UnicodeAttribute()  # sending | sent | failed
    claimed_at = NumberAttribute()
    attempts = NumberAttribute(default=0)
    sent_at = NumberAttribute(null=True)
    retry_shard = UnicodeAttribute(null=True)
    next_attempt_at = NumberAttribute(null=True)  # the sender's lease ends, or the retry is due
    retry_due = NoticesRetryDue()


class ReservationsByCard(GlobalSecondaryIndex):
    Meta = index_meta("by_card", AllProjection())
    card_id = UnicodeAttribute(hash_key=True)
    created_at = NumberAttribute(range_key=True)


class ReservationModel(TableModel):
    Meta = meta("reservations")
    reservation_id = UnicodeAttribute(hash_key=True)
    card_id = UnicodeAttribute()
    seller_id = UnicodeAttribute()
    created_at = NumberAttribute()
    email = UnicodeAttribute(null=True)
    expires_at = NumberAttribute(null=True)  # DynamoDB's TTL deletes it then
    by_card = ReservationsByCard()


class RateLimitModel(TableModel):
    """Requests of one kind one client made in one window ('reservations#203.0.113.7#1767225600')."""
    Meta = meta("rate_limits")
    limit_key = UnicodeAttribute(hash_key=True)
    taken = NumberAttribute(default=0)
    expires_at = NumberAttribute(null=True)


class CounterModel(TableModel):
    """Funnel counts of a card: one item per (day, shard), counts as top-level number attributes
    whose names are only known at run time ("views", "geo:paid:CN"), so chalicelib/store/counters.py
    writes and reads them with plain UpdateItem/Query; this model declares the keys."""
    Meta = meta("counters")
    card_id = UnicodeAttribute(hash_key=True)
    bucket = UnicodeAttribute(range_key=True)  # "YYYY-MM-DD#shard"


class StripeBudgetModel(TableModel):
    """The next free Stripe call slot of the whole account, in milliseconds since the epoch."""
    Meta = meta("stripe_budget")
    budget_key = UnicodeAttribute(hash_key=True)
    next_slot_ms = NumberAttribute(null=True)


ALL_MODELS = {
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
