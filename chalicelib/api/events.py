"""What is not a reader or a seller: Stripe's webhook, the DynamoDB stream handlers (the automatic
shares, referral credit, reservation counts) and the one-minute sweep."""
import os

from chalice import Rate

from chalicelib import later
from chalicelib.api.http import Routes, header, request

# Imported on first use (chalicelib.later): an API container loads them at its first webhook.
grouping = later("chalicelib.grouping")
payment_events = later("chalicelib.payment_events")
payments = later("chalicelib.payments")
refunds = later("chalicelib.refunds")
sweep = later("chalicelib.sweep")
stream = later("chalicelib.social.stream")

# Lambda imports the module a handler string names, and Chalice names a blueprint's event handlers
# after the blueprint's import name (aws/chalice#1566). Named "app", they stay app.on_order_change,
# app.on_reservation_change and app.sweep_expired_holds (app.py re-exports them), so on Lambda
# app.py is what gets imported: its start-up check runs and its middlewares wrap these handlers.
bp = Routes("app")

ORDERS_STREAM_ARN = os.environ.get(
    "ORDERS_STREAM_ARN", "arn:aws:dynamodb:us-east-1:000000000000:table/tapcard-dev-orders/stream/local")
RESERVATIONS_STREAM_ARN = os.environ.get(
    "RESERVATIONS_STREAM_ARN", "arn:aws:dynamodb:us-east-1:000000000000:table/tapcard-dev-reservations/stream/local")
GROUPS_STREAM_ARN = os.environ.get(
    "GROUPS_STREAM_ARN", "arn:aws:dynamodb:us-east-1:000000000000:table/tapcard-dev-groups/stream/local")


@bp.route("/webhooks/stripe", methods=["POST"], content_types=["application/json", "text/plain"])
def stripe_webhook():
    event = payments.parse_webhook(request().raw_body, header("stripe-signature"))
    if event is None:
        outcome = "ignored"
    elif event.type == payments.PAYMENT_AUTHORISED:  # a group payment set aside after 3-D Secure
        outcome = grouping.apply_authorised_event(event)
    elif event.type in (payments.CHARGE_REFUNDED, payments.DISPUTE_CREATED):
        outcome = refunds.apply_charge_event(event)  # refunds and disputes made at Stripe
    else:
        outcome = payment_events.apply_payment_event(event)
    bp.log.info("stripe event %s: %s", event.event_id if event else "-", outcome)
    return {"received": True, "outcome": outcome}


@bp.on_dynamodb_record(stream_arn=ORDERS_STREAM_ARN)
def on_order_change(event):
    return stream.handle_batch(event.to_dict())


@bp.on_dynamodb_record(stream_arn=RESERVATIONS_STREAM_ARN)
def on_reservation_change(event):
    return stream.handle_batch(event.to_dict())


@bp.on_dynamodb_record(stream_arn=GROUPS_STREAM_ARN)
def on_group_change(event):
    return stream.handle_batch(event.to_dict())


@bp.schedule(Rate(1, unit=Rate.MINUTES))
def sweep_expired_holds(event):
    return sweep.sweep(event.context)
