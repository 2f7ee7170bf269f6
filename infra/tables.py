"""The DynamoDB tables of tapcard: the one definition the local stack and the AWS template use.

Each entry is in CreateTable's shape minus the name and billing, which the stage decides.
"""


def _index(name: str, hash_key: str, range_key: str, projection: str = "ALL") -> dict:
    """A global secondary index, in CreateTable's shape."""
    return {
        "IndexName": name,
        "KeySchema": [{"AttributeName": hash_key, "KeyType": "HASH"}, {"AttributeName": range_key, "KeyType": "RANGE"}],
        "Projection": {"ProjectionType": projection},
    }


TABLES = {
    "sellers": {
        "KeySchema": [{"AttributeName": "seller_id", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "seller_id", "AttributeType": "S"}],
    },
    # API keys are looked up by the SHA-256 of the key; the key itself is never stored.
    "api_keys": {
        "KeySchema": [{"AttributeName": "key_hash", "KeyType": "HASH"}],
        "AttributeDefinitions": [
            {"AttributeName": "key_hash", "AttributeType": "S"},
            {"AttributeName": "seller_id", "AttributeType": "S"},
            {"AttributeName": "created_at", "AttributeType": "N"},
        ],
        # A seller lists its keys (by prefix) to rotate and revoke them.
        "GlobalSecondaryIndexes": [
            _index("by_seller", "seller_id", "created_at"),
        ],
    },
    "cards": {
        "KeySchema": [{"AttributeName": "card_id", "KeyType": "HASH"}],
        "AttributeDefinitions": [
            {"AttributeName": "card_id", "AttributeType": "S"},
            {"AttributeName": "seller_id", "AttributeType": "S"},
            {"AttributeName": "created_at", "AttributeType": "N"},
            {"AttributeName": "opening_shard", "AttributeType": "S"},
            {"AttributeName": "starts_at", "AttributeType": "N"},
        ],
        "GlobalSecondaryIndexes": [
            _index("by_seller", "seller_id", "created_at"),
            # Sparse: cards whose sale start the sweeper has yet to announce (sale.opened).
            _index("opening", "opening_shard", "starts_at", "KEYS_ONLY"),
        ],
    },
    # A card's stock, split into shards so a sale is not bound to one partition: the partition
    # key is "<card_id>#<shard>", so every shard is its own partition key.
    "stock": {
        "KeySchema": [{"AttributeName": "shard_key", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "shard_key", "AttributeType": "S"}],
    },
    # Units each buyer token holds or bought per card, for the per-buyer limit.
    "buyer_limits": {
        "KeySchema": [{"AttributeName": "card_buyer", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "card_buyer", "AttributeType": "S"}],
    },
    "orders": {
        "KeySchema": [{"AttributeName": "order_id", "KeyType": "HASH"}],
        "AttributeDefinitions": [
            {"AttributeName": "order_id", "AttributeType": "S"},
            {"AttributeName": "card_id", "AttributeType": "S"},
            {"AttributeName": "created_at", "AttributeType": "N"},
            {"AttributeName": "hold_shard", "AttributeType": "S"},
            {"AttributeName": "hold_expires_at", "AttributeType": "N"},
            {"AttributeName": "referral_code", "AttributeType": "S"},
            {"AttributeName": "forget_shard", "AttributeType": "S"},
            {"AttributeName": "forget_at", "AttributeType": "N"},
        ],
        "GlobalSecondaryIndexes": [
            _index("by_card", "card_id", "created_at"),
            # Sparse: orders that carry a buyer's name (or city) until the sweeper forgets it.
            _index("personal_by_expiry", "forget_shard", "forget_at", "KEYS_ONLY"),
            # Sparse: only held orders carry hold_shard, so the sweeper reads just those.
            _index("held_by_expiry", "hold_shard", "hold_expires_at", "KEYS_ONLY"),
            # Sparse: paid orders by their referral code, to credit the buyer whose link was used.
            {
                "IndexName": "by_referral_code",
                "KeySchema": [{"AttributeName": "referral_code", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            },
        ],
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    },
    # Stripe event ids already applied, so a redelivered webhook changes nothing twice.
    "stripe_events": {
        "KeySchema": [{"AttributeName": "event_id", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "event_id", "AttributeType": "S"}],
        "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True},
    },
    # One item per (order, channel): its conditional put is what makes a share post once.
    "shares": {
        "KeySchema": [{"AttributeName": "share_id", "KeyType": "HASH"}],
        "AttributeDefinitions": [
            {"AttributeName": "share_id", "AttributeType": "S"},
            {"AttributeName": "feed_card_id", "AttributeType": "S"},
            {"AttributeName": "posted_at", "AttributeType": "N"},
            {"AttributeName": "card_id", "AttributeType": "S"},
            {"AttributeName": "retry_shard", "AttributeType": "S"},
            {"AttributeName": "next_attempt_at", "AttributeType": "N"},
        ],
        "GlobalSecondaryIndexes": [
            # Sparse: only posts to the card's own feed carry feed_card_id.
            _index("feed", "feed_card_id", "posted_at"),
            # Every share of a card, for the seller's report.
            _index("by_card", "card_id", "posted_at"),
            # Sparse: pending posts, for the sweeper's retries once they are due.
            _index("retry_due", "retry_shard", "next_attempt_at", "KEYS_ONLY"),
        ],
    },
    # Emails to buyers (receipt, shipped, refunded) and reservers (reminder): one item per
    # (order or reservation, kind), put before the mail is sent so it is sent once although
    # streams and retries deliver again; and one per address unsubscribed from reminders (hashed).
    "notices": {
        "KeySchema": [{"AttributeName": "notice_id", "KeyType": "HASH"}],
        "AttributeDefinitions": [
            {"AttributeName": "notice_id", "AttributeType": "S"},
            {"AttributeName": "retry_shard", "AttributeType": "S"},
            {"AttributeName": "next_attempt_at", "AttributeType": "N"},
        ],
        "GlobalSecondaryIndexes": [
            # Sparse: mails being sent (or to send again), for the sweeper once they are due.
            _index("retry_due", "retry_shard", "next_attempt_at", "KEYS_ONLY"),
        ],
    },
    # A card's share channels (webhook, Mastodon, Bluesky); secrets stored encrypted.
    "channels": {
        "KeySchema": [
            {"AttributeName": "card_id", "KeyType": "HASH"},
            {"AttributeName": "channel_id", "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [
            {"AttributeName": "card_id", "AttributeType": "S"},
            {"AttributeName": "channel_id", "AttributeType": "S"},
        ],
    },
    # Paid orders credited to the buyer whose link brought them, one item per referred order.
    "referrals": {
        "KeySchema": [
            {"AttributeName": "card_id", "KeyType": "HASH"},
            {"AttributeName": "order_id", "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [
            {"AttributeName": "card_id", "AttributeType": "S"},
            {"AttributeName": "order_id", "AttributeType": "S"},
        ],
    },
    # Reservations before a sale; the stream shares them together, once per card and window.
    "reservations": {
        "KeySchema": [{"AttributeName": "reservation_id", "KeyType": "HASH"}],
        "AttributeDefinitions": [
            {"AttributeName": "reservation_id", "AttributeType": "S"},
            {"AttributeName": "card_id", "AttributeType": "S"},
            {"AttributeName": "created_at", "AttributeType": "N"},
        ],
        # The seller's list of reservers (to notify them when the sale opens).
        "GlobalSecondaryIndexes": [
            _index("by_card", "card_id", "created_at"),
        ],
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        # A reservation (and the email it may keep) goes PERSONAL_DATA_DAYS after the sale.
        "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True},
    },
    # What one client address did in one fixed window (reservations a minute), counted against a
    # limit that must hold across containers; an item is useless once its window is over (TTL).
    "rate_limits": {
        "KeySchema": [{"AttributeName": "limit_key", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "limit_key", "AttributeType": "S"}],
        "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True},
    },
    # Sharded counters shown on the card: shares, reservations, referral visits.
    "social_counts": {
        "KeySchema": [{"AttributeName": "counter_key", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "counter_key", "AttributeType": "S"}],
    },
    # The account's Stripe budget shared by every container: the next free call slot
    # (chalicelib/store/stripe_budget.py).
    "stripe_budget": {
        "KeySchema": [{"AttributeName": "budget_key", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "budget_key", "AttributeType": "S"}],
    },
    # A card's discount codes (code_key "c#<CODE>") with their redemption counts, and what each
    # buyer redeemed of one ("b#<CODE>#<buyer>"): the hold's transaction counts both.
    "codes": {
        "KeySchema": [
            {"AttributeName": "card_id", "KeyType": "HASH"},
            {"AttributeName": "code_key", "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [
            {"AttributeName": "card_id", "AttributeType": "S"},
            {"AttributeName": "code_key", "AttributeType": "S"},
        ],
    },
    # Reviews of paid orders ("r#<created_at>#<order_id>") and each card's totals of those shown
    # ("stats"), written together.
    "reviews": {
        "KeySchema": [
            {"AttributeName": "card_id", "KeyType": "HASH"},
            {"AttributeName": "review_key", "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [
            {"AttributeName": "card_id", "AttributeType": "S"},
            {"AttributeName": "review_key", "AttributeType": "S"},
        ],
    },
    # A blogger's shops: a name and an ordered list of the seller's cards.
    "shops": {
        "KeySchema": [{"AttributeName": "shop_id", "KeyType": "HASH"}],
        "AttributeDefinitions": [
            {"AttributeName": "shop_id", "AttributeType": "S"},
            {"AttributeName": "seller_id", "AttributeType": "S"},
            {"AttributeName": "created_at", "AttributeType": "N"},
        ],
        "GlobalSecondaryIndexes": [
            _index("by_seller", "seller_id", "created_at"),
        ],
    },
    # Buyers' after-sales requests (thread and photo keys inside the item), and one "open#<order_id>"
    # item per order with an unsettled request, so an order has one at a time (a conditional put).
    "aftersales": {
        "KeySchema": [{"AttributeName": "request_id", "KeyType": "HASH"}],
        "AttributeDefinitions": [
            {"AttributeName": "request_id", "AttributeType": "S"},
            {"AttributeName": "seller_id", "AttributeType": "S"},
            {"AttributeName": "order_id", "AttributeType": "S"},
            {"AttributeName": "created_at", "AttributeType": "N"},
        ],
        "GlobalSecondaryIndexes": [
            _index("by_seller", "seller_id", "created_at"),  # the seller's After-sales list
            _index("by_order", "order_id", "created_at"),    # the buyer's requests on the order page
        ],
    },
    # Group buying: each group ("group") and its members ("m#<buyer>"). Its stream captures a
    # group's payments once it is complete and shares who joined.
    "groups": {
        "KeySchema": [
            {"AttributeName": "group_id", "KeyType": "HASH"},
            {"AttributeName": "item", "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [
            {"AttributeName": "group_id", "AttributeType": "S"},
            {"AttributeName": "item", "AttributeType": "S"},
            {"AttributeName": "sweep_shard", "AttributeType": "S"},
            {"AttributeName": "closes_at", "AttributeType": "N"},
        ],
        "GlobalSecondaryIndexes": [
            # Sparse: groups not yet settled, by when they close, for the sweeper.
            _index("to_sweep", "sweep_shard", "closes_at", "KEYS_ONLY"),
        ],
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    },
    # The funnel: per card, one item per (day, shard). Each container adds its counts in one
    # UpdateItem every few seconds to a shard of its own, so a flash sale's counting stays cheap.
    "counters": {
        "KeySchema": [
            {"AttributeName": "card_id", "KeyType": "HASH"},
            {"AttributeName": "bucket", "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [
            {"AttributeName": "card_id", "AttributeType": "S"},
            {"AttributeName": "bucket", "AttributeType": "S"},
        ],
    },
}


def table_name(prefix: str, logical: str) -> str:
    return f"{prefix}{logical}"


def create_table_kwargs(prefix: str, logical: str) -> dict:
    """CreateTable arguments for one table, on-demand, as boto3 takes them."""
    spec = {k: v for k, v in TABLES[logical].items() if k != "TimeToLiveSpecification"}
    return {"TableName": table_name(prefix, logical), "BillingMode": "PAY_PER_REQUEST", **spec}


def create_all(client, prefix: str) -> None:
    """Create every table that is missing (local stack and tests; AWS uses the template)."""
    existing = set(client.list_tables()["TableNames"])
    for logical in TABLES:
        name = table_name(prefix, logical)
        if name in existing:
            continue
        client.create_table(**create_table_kwargs(prefix, logical))
        client.get_waiter("table_exists").wait(TableName=name)
        ttl = TABLES[logical].get("TimeToLiveSpecification")
        if ttl:
            client.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
