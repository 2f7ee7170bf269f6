"""pynamodb item layouts of the social side (table shapes from infra/tables.py; models.all_models()
lists them with the rest): shares and the indexes of the feed and retries, share channels,
referrals credited, the counters shown on a card, reservations and the rate limits that bound them."""
from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection

from chalicelib.store.model_base import TableModel, index_meta, meta


class SharesFeed(GlobalSecondaryIndex):
    Meta = index_meta("feed", AllProjection())
    feed_card_id = UnicodeAttribute(hash_key=True)
    posted_at = NumberAttribute(range_key=True)


class SharesByCard(GlobalSecondaryIndex):
    Meta = index_meta("by_card", AllProjection())
    card_id = UnicodeAttribute(hash_key=True)
    posted_at = NumberAttribute(range_key=True)


class SharesRetryDue(GlobalSecondaryIndex):
    """Sparse: only pending shares carry retry_shard; the sweeper retries those that are due."""
    Meta = index_meta("retry_due", KeysOnlyProjection())
    retry_shard = UnicodeAttribute(hash_key=True)
    next_attempt_at = NumberAttribute(range_key=True)


class ShareModel(TableModel):
    """One post of one subject (a paid order, a reservation, a sale opening) to one channel."""
    Meta = meta("shares")
    share_id = UnicodeAttribute(hash_key=True)
    card_id = UnicodeAttribute()
    # The subject: an order id, a reservation id or, for sale.opened, the card id.
    order_id = UnicodeAttribute()
    channel = UnicodeAttribute()
    text = UnicodeAttribute()
    link = UnicodeAttribute()
    status = UnicodeAttribute()  # pending | posted | failed
    posted_at = NumberAttribute()
    attempts = NumberAttribute(default=0)
    error = UnicodeAttribute(null=True)
    # Set on feed posts only, so the feed index holds nothing else.
    feed_card_id = UnicodeAttribute(null=True)
    kind = UnicodeAttribute(default="order.shared")  # order.shared | reservation.shared | sale.opened
    data = UnicodeAttribute(null=True)  # the webhook payload's data, as JSON
    retry_shard = UnicodeAttribute(null=True)
    next_attempt_at = NumberAttribute(null=True)
    # Bluesky: the record key of the last attempt, to find out whether it landed.
    remote_key = UnicodeAttribute(null=True)
    feed = SharesFeed()
    by_card = SharesByCard()
    retry_due = SharesRetryDue()


class ChannelModel(TableModel):
    """Where a card's shares go besides its feed. Secrets are Fernet tokens, never plain text."""
    Meta = meta("channels")
    card_id = UnicodeAttribute(hash_key=True)
    channel_id = UnicodeAttribute(range_key=True)
    seller_id = UnicodeAttribute()
    type = UnicodeAttribute()  # webhook | mastodon | bluesky
    url = UnicodeAttribute()  # the webhook URL, the Mastodon instance or the Bluesky service
    identifier = UnicodeAttribute(null=True)  # the Bluesky handle
    secret = UnicodeAttribute()  # encrypted: signing secret, access token or app password
    session = UnicodeAttribute(null=True)  # encrypted: the cached Bluesky session
    created_at = NumberAttribute()


class ReferralModel(TableModel):
    """A paid order that came through another buyer's link; the put is what credits it once."""
    Meta = meta("referrals")
    card_id = UnicodeAttribute(hash_key=True)
    order_id = UnicodeAttribute(range_key=True)
    referrer_code = UnicodeAttribute()
    referrer_order_id = UnicodeAttribute()
    amount = NumberAttribute()
    currency = UnicodeAttribute()
    rebate = NumberAttribute(default=0)
    created_at = NumberAttribute()


class SocialCountModel(TableModel):
    """Counters shown on the card, each split over shards ('<card>#<name>#<shard>') so a burst of
    reservations or visits never lands on one item."""
    Meta = meta("social_counts")
    counter_key = UnicodeAttribute(hash_key=True)
    value = NumberAttribute(default=0)


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
