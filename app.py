"""tapcard's Chalice app: routes and event handlers only. The work lives in chalicelib."""
import functools
import json
import logging
import os
import re

from chalice import Chalice, Rate, Response

from chalicelib import (backoffice, checkout, config, counters, dashboard, observability, pages, payment_events,
                        payments, startup)
from chalicelib.social import channels, referrals, reservations, seller_api, shares, stream
from chalicelib.store import models, sellers
from chalicelib.domain import DomainError, InvalidRequest

app = Chalice(app_name="tapcard")
app.log.setLevel(logging.INFO)
if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):  # on Lambda: a missing secret or table stops it here, in one line
    startup.check_or_exit()

STATUS_OF = {
    "invalid_request": 400,
    "invalid_signature": 400,
    "unauthorized": 401,
    "signup_closed": 403,
    "not_found": 404,
    "conflict": 409,
    "not_started": 409,
    "ended": 409,
    "sold_out": 409,
    "idempotency_mismatch": 409,
    "limit_reached": 429,
    "invalid_template": 400,
    "reservers_only": 409,
    "payments_unavailable": 503,
}


def error_response(code: str, message: str, status: int, field: str | None = None) -> Response:
    error = {"code": code, "message": message}
    if field:
        error["field"] = field
    return Response(body={"error": error}, status_code=status)


def route(path: str, **options):
    """app.route, with domain errors answered in the contract's error shape."""
    def register(view):
        @functools.wraps(view)
        def answered(*args, **kwargs):
            try:
                return view(*args, **kwargs)
            except DomainError as error:
                return error_response(error.code, error.message, STATUS_OF.get(error.code, 400),
                                      getattr(error, "field", None))
        return app.route(path, **options)(answered)
    return register


@app.middleware("http")
def chalice_errors_in_contract_shape(event, get_response):
    """Errors Chalice answers itself (415, 500, ...) get the contract's error shape too."""
    response = get_response(event)
    body = response.body
    if response.status_code >= 400 and isinstance(body, dict) and set(body) == {"Code", "Message"}:
        code = re.sub(r"(?<!^)(?=[A-Z])", "_", body["Code"]).lower().removesuffix("_error")
        response.body = {"error": {"code": code, "message": body["Message"]}}
    return response


@app.middleware("all")
def publish_metrics(event, get_response):
    """Every invocation (route, stream batch, sweep) publishes its counters and drops its order id."""
    try:
        return get_response(event)
    finally:
        observability.end_invocation()


def json_body() -> dict:
    raw = app.current_request.raw_body or b""
    try:
        body = json.loads(raw) if raw.strip() else {}
    except (ValueError, UnicodeDecodeError):
        raise InvalidRequest("The body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise InvalidRequest("The body must be a JSON object.")
    return body


def seller_id() -> str:
    return sellers.seller_for_authorization(app.current_request.headers.get("authorization"))


def html(page: pages.Page, max_age: int = 0) -> Response:
    max_age = max_age if page.status == 200 else 0
    return Response(body=page.html, status_code=page.status, headers={
        "Content-Type": "text/html; charset=utf-8",
        "Content-Security-Policy": page.content_security_policy,
        "Cache-Control": f"public, max-age={max_age}" if max_age else "no-store",
    })


# --- buyer side -----------------------------------------------------------------------------


@route("/health")
def health():
    if not models.tables_reachable():
        return error_response("unavailable", "The database is not reachable yet.", 503)
    return {"status": "ok", "stage": config.STAGE}


@route("/embed.js")
def embed_js():
    return Response(body=pages.embed_js(), headers={
        "Content-Type": "application/javascript; charset=utf-8",
        "Cache-Control": "public, max-age=300",
    })


@route("/cards/{card_id}")
def get_card(card_id):
    return Response(body=checkout.buyer_card(card_id),
                    headers={"Cache-Control": "public, max-age=1"})


@route("/cards/{card_id}/widget")
def card_widget(card_id):
    request = app.current_request
    referrals.record_visit(card_id, request.query_params)
    return html(pages.widget(card_id, request.query_params or {}, request.headers.get("accept-language")))


@route("/cards/{card_id}/feed")
def card_feed(card_id):
    return {"items": shares.feed(card_id)}


@route("/p/{card_id}")
def product_page(card_id):
    request = app.current_request
    referrals.record_visit(card_id, request.query_params)
    return html(pages.product_page(card_id, request.query_params or {}, request.headers.get("accept-language")),
                max_age=30)


@route("/p/{card_id}/qr.svg")
def share_qr_code(card_id):
    ref = (app.current_request.query_params or {}).get("ref")
    return Response(body=pages.qr_svg(card_id, ref), headers={
        "Content-Type": "image/svg+xml", "Cache-Control": "public, max-age=86400"})


@route("/cards/{card_id}/checkout", methods=["POST"])
def checkout_card(card_id):
    headers = app.current_request.headers
    order = checkout.checkout(card_id, json_body(), headers.get("idempotency-key"),
                              is_retry=headers.get("tapcard-retry") is not None,
                              city=headers.get("cloudfront-viewer-city"), place=counters.place_of(headers))
    return Response(body=order, status_code=201)


@route("/orders/{order_id}")
def get_order(order_id):
    token = (app.current_request.query_params or {}).get("token")
    return checkout.order_status(order_id, token)


@route("/webhooks/stripe", methods=["POST"], content_types=["application/json", "text/plain"])
def stripe_webhook():
    event = payments.parse_webhook(app.current_request.raw_body,
                                   app.current_request.headers.get("stripe-signature"))
    outcome = payment_events.apply_payment_event(event) if event else "ignored"
    app.log.info("stripe event %s: %s", event.event_id if event else "-", outcome)
    return {"received": True, "outcome": outcome}


# --- seller side ----------------------------------------------------------------------------


@route("/api/cards", methods=["POST"])
def create_card():
    return Response(body=backoffice.create_card(seller_id(), json_body()), status_code=201)


@route("/api/channels/webhook", methods=["PUT"])
def set_share_webhook():
    seller = seller_id()  # who asks comes first: no key, no word about the body
    url = json_body().get("url")
    if url is None:
        raise InvalidRequest("'url' is required.", "url")
    return backoffice.set_share_webhook(seller, {"url": url})


# --- the social loop: reservations, share channels, referral credit -----------------------


@route("/cards/{card_id}/reservations", methods=["POST"])
def reserve(card_id):
    reservation, created = reservations.reserve(card_id, json_body(),
                                                app.current_request.headers.get("cloudfront-viewer-city"))
    return Response(body=reservation, status_code=201 if created else 200)


@route("/api/cards/{card_id}/channels", methods=["POST"])
def add_channel(card_id):
    return Response(body=channels.add_channel(seller_id(), card_id, json_body()), status_code=201)


@route("/api/cards/{card_id}/channels", methods=["GET"])
def list_channels(card_id):
    return {"items": channels.list_channels(seller_id(), card_id)}


@route("/api/cards/{card_id}/channels/{channel_id}", methods=["DELETE"])
def remove_channel(card_id, channel_id):
    channels.remove_channel(seller_id(), card_id, channel_id)
    return Response(body="", status_code=204)


@route("/api/cards/{card_id}/channels/{channel_id}/test", methods=["POST"])
def test_channel(card_id, channel_id):
    return shares.test_send(seller_id(), card_id, channel_id)


@route("/api/cards/{card_id}/social", methods=["GET", "PATCH"])
def card_social_settings(card_id):
    patch = app.current_request.method == "PATCH"
    return seller_api.settings(seller_id(), card_id, json_body() if patch else None)


@route("/api/cards/{card_id}/shares")
def card_shares(card_id):
    return seller_api.share_report(seller_id(), card_id)


@route("/api/cards/{card_id}/referrals")
def card_referrals(card_id):
    report = seller_api.referral_report(seller_id(), card_id, (app.current_request.query_params or {}).get("format"))
    if isinstance(report, str):
        return Response(body=report, headers={"Content-Type": "text/csv; charset=utf-8",
                                              "Content-Disposition": f'attachment; filename="{card_id}-referrals.csv"'})
    return report


@route("/api/cards/{card_id}/reservations")
def card_reservations(card_id):
    return seller_api.reservers(seller_id(), card_id, (app.current_request.query_params or {}).get("after"))


@route("/openapi.json")
def openapi():
    return pages.openapi()


def query() -> dict:
    return app.current_request.query_params or {}


@route("/api/sellers", methods=["POST"])
def sign_up():
    return Response(body=backoffice.sign_up(json_body()), status_code=201)


@route("/api/keys")
def list_keys():
    return {"items": sellers.keys_of(seller_id())}


@route("/api/keys", methods=["POST"])
def create_key():
    return Response(body=backoffice.new_key(seller_id()), status_code=201)


@route("/api/keys/{prefix}", methods=["DELETE"])
def revoke_key(prefix):
    sellers.revoke_key(seller_id(), prefix)
    return {"prefix": prefix, "revoked": True}


@route("/api/cards")
def list_cards():
    return backoffice.list_cards(seller_id(), query())


@route("/api/cards/{card_id}")
def seller_card(card_id):
    return backoffice.get_card(seller_id(), card_id)


@route("/api/cards/{card_id}", methods=["PATCH"])
def update_card(card_id):
    return backoffice.update_card(seller_id(), card_id, json_body())


@route("/api/cards/{card_id}/publish", methods=["POST"])
def publish_card(card_id):
    return backoffice.set_card_status(seller_id(), card_id, "publish")


@route("/api/cards/{card_id}/unpublish", methods=["POST"])
def unpublish_card(card_id):
    return backoffice.set_card_status(seller_id(), card_id, "unpublish")


@route("/api/cards/{card_id}/archive", methods=["POST"])
def archive_card(card_id):
    return backoffice.set_card_status(seller_id(), card_id, "archive")


@route("/api/cards/{card_id}/orders")
def card_orders(card_id):
    if query().get("format") == "csv":
        return Response(body=backoffice.export_orders(seller_id(), card_id, query()), headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="orders-{card_id}.csv"',
        })
    return backoffice.list_orders(seller_id(), card_id, query())


@route("/api/cards/{card_id}/stats")
def card_stats(card_id):
    return backoffice.stats(seller_id(), card_id, query())


@route("/api/orders/{order_id}/fulfil", methods=["POST"])
def fulfil_order(order_id):
    return backoffice.fulfil(seller_id(), order_id, json_body())


@route("/api/orders/{order_id}/refund", methods=["POST"])
def refund_order(order_id):
    return backoffice.refund(seller_id(), order_id, json_body())


@route("/o/{order_id}")
def order_page(order_id):
    request = app.current_request
    return html(pages.order_page(order_id, query().get("token"), request.headers.get("accept-language")))


@route("/dashboard")
def dashboard_page():
    return html(dashboard.page())


@app.middleware("http")
def count_card_views(event, get_response):
    """A widget served is a view of its card; counted here so the buyer routes stay as they are.
    The dashboard's preview (?preview=1) is not a view. Referral visits: referrals.record_visit."""
    response = get_response(event)
    query_params = event.query_params or {}
    if (response.status_code == 200 and event.context.get("resourcePath") == "/cards/{card_id}/widget"
            and "preview" not in query_params):
        card_id = event.uri_params["card_id"]
        counters.count(card_id, counters.VIEWS, place=counters.place_of(event.headers))
    return response


@app.middleware("all")
def flush_counts(event, get_response):
    """Write the funnel's counts after a request or event when a few seconds have passed since the
    last write: a Lambda container may be frozen right after it answers."""
    try:
        return get_response(event)
    finally:
        counters.flush_if_due()


# --- dev stage only: the TEST MODE payment sheet pays through the fake Stripe --------------

if config.DEV_ROUTES:
    @route("/dev/orders/{order_id}/pay", methods=["POST"])
    def dev_pay(order_id):
        body = json_body()
        return checkout.pay_with_test_card(order_id, body)

    @route("/dev/settings", methods=["PUT"])
    def dev_settings():
        """The flash-sale benchmark turns the sold-out short-circuit off for its comparison run."""
        seconds = json_body().get("stock_cache_seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 <= seconds <= 60:
            raise InvalidRequest("'stock_cache_seconds' must be a number from 0 to 60.", "stock_cache_seconds")
        checkout.set_stock_cache({"stock_cache_seconds": seconds})
        return {"stock_cache_seconds": seconds}


# --- events ---------------------------------------------------------------------------------


@app.on_dynamodb_record(stream_arn=os.environ.get("ORDERS_STREAM_ARN", "arn:aws:dynamodb:us-east-1:000000000000:table/tapcard-dev-orders/stream/local"))
def on_order_change(event):
    return stream.handle_batch(event.to_dict())


@app.on_dynamodb_record(stream_arn=os.environ.get("RESERVATIONS_STREAM_ARN", "arn:aws:dynamodb:us-east-1:000000000000:table/tapcard-dev-reservations/stream/local"))
def on_reservation_change(event):
    return stream.handle_batch(event.to_dict())


@app.schedule(Rate(1, unit=Rate.MINUTES))
def sweep_expired_holds(event):
    """Expire unpaid holds, retry the share posts that are due, announce sales that opened."""
    return {"expired": payment_events.expire_holds(), "shares_retried": shares.retry_due(),
            "sales_opened": reservations.announce_openings()}

