"""pynamodb item layouts of orders and what moves them: the orders and their indexes, the Stripe
events seen, the account's Stripe call budget, the mails sent about orders and reminders (table
shapes from infra/tables.py; models.all_models() lists them with the rest)."""
from pynamodb.attributes import BooleanAttribute, ListAttribute, MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection

from chalicelib.store.model_base import TableModel, index_meta, meta


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


class StripeBudgetModel(TableModel):
    """The next free Stripe call slot of the whole account, in milliseconds since the epoch."""
    Meta = meta("stripe_budget")
    budget_key = UnicodeAttribute(hash_key=True)
    next_slot_ms = NumberAttribute(null=True)


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
