"""Settings, read once from the environment when the module is imported."""
import os


def _flag(name: str, default: str = "false") -> bool:
    return os.environ.get(name, default).lower() in ("1", "true", "yes")


STAGE = os.environ.get("TAPCARD_STAGE", "dev")
AWS_REGION = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
TABLE_PREFIX = os.environ.get("TABLE_PREFIX", f"tapcard-{STAGE}-")
# Unset on AWS; the local stack points it at the moto server.
DYNAMODB_ENDPOINT = os.environ.get("DYNAMODB_ENDPOINT") or None

# The repository's defaults, for the local stack and tests only: a Lambda container refuses to
# start with any of them (chalicelib/startup.py).
DEFAULT_STRIPE_SECRET_KEY, DEFAULT_STRIPE_PUBLISHABLE_KEY = "sk_test_local", "pk_test_local"
DEFAULT_ORDER_TOKEN_SECRET = "dev-only-order-token-secret"
DEFAULT_PUBLIC_BASE_URL = "http://127.0.0.1:8000"

STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", DEFAULT_STRIPE_SECRET_KEY)
STRIPE_PUBLISHABLE_KEY = os.environ.get("STRIPE_PUBLISHABLE_KEY", DEFAULT_STRIPE_PUBLISHABLE_KEY)
STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")
# Unset on AWS; the local stack points it at localstripe.
STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE") or None
# localstripe refuses fields real Stripe needs less of; the dev adapter lists what to send.
STRIPE_PAYMENT_METHOD_TYPES = [t for t in os.environ.get("STRIPE_PAYMENT_METHOD_TYPES", "").split(",") if t]
# Requests per second the whole account may send Stripe (25: a sandbox, and each live endpoint by
# default); every container takes its calls from one shared queue (chalicelib/stripe_budget.py).
# 0 turns the budget off.
STRIPE_RATE_LIMIT = float(os.environ.get("STRIPE_RATE_LIMIT", "25"))
# How long a pay call may wait in that queue before it answers 503 payments_busy (the unit stays
# held); well inside API Gateway's 29 s.
STRIPE_QUEUE_SECONDS = float(os.environ.get("STRIPE_QUEUE_SECONDS", "10"))

# Signs order tokens; a per-stage secret on AWS.
ORDER_TOKEN_SECRET = os.environ.get("ORDER_TOKEN_SECRET", DEFAULT_ORDER_TOKEN_SECRET)
# Where buyers reach the API (used in snippets and share links).
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", DEFAULT_PUBLIC_BASE_URL).rstrip("/")
# "test" shows the TEST MODE payment sheet and mounts the dev-only payment routes.
PAYMENT_SHEET = os.environ.get("PAYMENT_SHEET", "stripe")
DEV_ROUTES = PAYMENT_SHEET == "test"
# A deployed stage that is not for the public (a team's test stage) says so explicitly; only there
# may a Lambda container run the dev routes (PAYMENT_SHEET=test) or open sign-up.
NON_PUBLIC_STAGE = _flag("NON_PUBLIC_STAGE")

HOLD_SHARDS = int(os.environ.get("HOLD_SHARDS", "4"))
# During a rush (as many units held unpaid as are left) a new hold lasts this long unless its
# buyer starts paying: the pay call then extends it to the card's hold_seconds. Abandoned holds
# (and bots' holds) come back on sale sooner; a buyer queued behind Stripe's limit keeps theirs.
# 0 turns it off.
RUSH_HOLD_SECONDS = int(os.environ.get("RUSH_HOLD_SECONDS", "120"))
# Units one client (network address; IPv6 by /64) may hold unpaid on one card at once: this many
# times the card's per-buyer limit, or OPEN_HOLDS_WITHOUT_LIMIT on a card without one. Paying
# frees the slot at once, so readers sharing a carrier NAT wait seconds, not the hold's minutes.
# 0 turns the cap off (for cards with, or without, a limit).
OPEN_HOLDS_PER_LIMIT = int(os.environ.get("OPEN_HOLDS_PER_LIMIT", "3"))
OPEN_HOLDS_WITHOUT_LIMIT = int(os.environ.get("OPEN_HOLDS_WITHOUT_LIMIT", "10"))
# A container that saw a client refused answers its next taps on the card for this long without
# a DynamoDB write; also the Retry-After the refusal carries.
OPEN_HOLDS_REFUSAL_SECONDS = int(os.environ.get("OPEN_HOLDS_REFUSAL_SECONDS", "5"))
# The sweep starts no new work once this share of its Lambda's time is gone; the holds left wait for
# the next run, a minute later. Without a Lambda context (the local sweeper) it has SWEEP_SECONDS:
# 80% of the 55 s lambda_timeout in .chalice/config.json.
SWEEP_TIME_SHARE = 0.8
SWEEP_SECONDS = float(os.environ.get("SWEEP_SECONDS", "44"))
# How stale a container's view of a card and of its stock may be. One second of stock cache is
# what lets a sold-out storm be answered without touching DynamoDB; a card's own fields change
# rarely (an edit shows within ten seconds).
CARD_CACHE_SECONDS = float(os.environ.get("CARD_CACHE_SECONDS", "10"))
STOCK_CACHE_SECONDS = float(os.environ.get("STOCK_CACHE_SECONDS", "1"))
STRIPE_EVENT_TTL_SECONDS = 30 * 24 * 3600
# A seller's refund under way is finished by the sweeper once this old (its request, or Stripe's
# charge.refunded, usually finishes it first); one Stripe could not take is tried again as late.
REFUND_SWEEP_SECONDS = int(os.environ.get("REFUND_SWEEP_SECONDS", "60"))

# The social loop. Channel secrets (and buyers' shipping addresses) are encrypted with this Fernet
# key (a per-stage secret on AWS);
# the dev stage derives one so the local stack needs no setup.
CHANNEL_ENCRYPTION_KEY = os.environ.get("CHANNEL_ENCRYPTION_KEY") or None
# Share channels must be https; the dev stage may also post to http on this machine.
ALLOW_LOOPBACK_CHANNELS = _flag("ALLOW_LOOPBACK_CHANNELS", "true" if STAGE == "dev" else "false")
SOCIAL_COUNT_SHARDS = 8
# Reservations one client address may make in RESERVATION_RATE_SECONDS, over every card. Not 1: a
# carrier NAT puts many readers behind one IPv4 address (and one buyer token + address reserves a
# card once anyway).
RESERVATIONS_PER_CLIENT = int(os.environ.get("RESERVATIONS_PER_CLIENT", "10"))
RESERVATION_RATE_SECONDS = int(os.environ.get("RESERVATION_RATE_SECONDS", "60"))
# A card's reservations are shared together, at most once per window of this many seconds
# ("12 people reserved ..."), never one post per reservation.
RESERVATION_SHARE_SECONDS = int(os.environ.get("RESERVATION_SHARE_SECONDS", "300"))
# CloudFront's viewer headers (City, Country, Country-Region) are believed only on a request that
# carries this secret in CLOUDFRONT_ORIGIN_HEADER: a custom origin header our distribution adds.
# Unset (the default, and locally) nobody's are: any caller can write those headers, and reaching
# the API Gateway URL directly skips CloudFront.
CLOUDFRONT_ORIGIN_SECRET = os.environ.get("CLOUDFRONT_ORIGIN_SECRET") or None
CLOUDFRONT_ORIGIN_HEADER = "x-tapcard-origin-verify"
# How long after a sale (after the order, on a sale without an end) a buyer's name and city and a
# reserver's email are kept; then the sweeper (orders) and DynamoDB's TTL (reservations) drop them.
PERSONAL_DATA_DAYS = int(os.environ.get("PERSONAL_DATA_DAYS", "90"))
# A referrer's rebate is earned only once the referred order is this old (and not refunded):
# until then the buyer may still get their money back.
REFUND_WINDOW_DAYS = int(os.environ.get("REFUND_WINDOW_DAYS", "14"))
# The funnel's counts are added up in memory and written at most this often per container, each
# container to one of COUNTER_SHARDS items per (card, day) (chalicelib/counters.py).
COUNTER_FLUSH_SECONDS = float(os.environ.get("COUNTER_FLUSH_SECONDS", "5"))
COUNTER_SHARDS = int(os.environ.get("COUNTER_SHARDS", "8"))
# A card's view is counted once per client in this many seconds: reloads do not pump the funnel.
VIEW_DEDUP_SECONDS = 60
# Whether anyone may sign up as a seller with POST /api/sellers; elsewhere ops use
# `python ops.py create-seller`.
OPEN_SIGNUP = _flag("OPEN_SIGNUP", "true" if STAGE == "dev" else "false")
# Notices by email (chalicelib/mail.py): the sender, an SES identity of the stage. With
# MAIL_CAPTURE_FILE set (the local stack, tests) mail is appended there as JSON lines instead.
MAIL_FROM = os.environ.get("MAIL_FROM", "tapcard <no-reply@tapcard.test>")
MAIL_CAPTURE_FILE = os.environ.get("MAIL_CAPTURE_FILE") or None
MAIL_SEND_ATTEMPTS = int(os.environ.get("MAIL_SEND_ATTEMPTS", "4"))
# After-sales photos (chalicelib/photos.py): the stage's private bucket (the template sets it on
# AWS), the local stack's S3 endpoint (its moto server), how long a seller's photo link works.
PHOTOS_BUCKET = os.environ.get("PHOTOS_BUCKET", f"tapcard-{STAGE}-photos")
S3_ENDPOINT = os.environ.get("S3_ENDPOINT") or None
PHOTO_VIEW_SECONDS = int(os.environ.get("PHOTO_VIEW_SECONDS", "300"))
