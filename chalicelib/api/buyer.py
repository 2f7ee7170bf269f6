"""The reader's routes, no auth: the embed loader, the card and its widget, the hosted product
page and its QR code, the blogger's shop page and its frame, the activity feed, checkout, groups, the order, its shipping address, its pay call and its page,
reservations and the unsubscribe link of their reminders."""
from chalice import Response

from chalicelib import config, later, pages
from chalicelib.api.http import (Routes, client, created, error_response, header, html, json_body, place, query,
                                 request, viewer_city)
from chalicelib.store import models

# Imported on first use (chalicelib.later): a container answering a widget loads none of them.
aftersales = later("chalicelib.aftersales")
checkout = later("chalicelib.checkout")
grouping = later("chalicelib.grouping")
reminders = later("chalicelib.reminders")
reviewing = later("chalicelib.reviewing")
referrals = later("chalicelib.social.referrals")
reservations = later("chalicelib.social.reservations")
shares = later("chalicelib.social.shares")

bp = Routes(__name__)

# How long each public GET may be kept, by browsers and (s-maxage) by CloudFront (infra/aws/edge.py).
# Nothing on them is personal: no order token, buyer id or cookie. The live card (stock, state,
# price) is polled every 4-6 s by every reader: one second at the edge turns a crowd into about
# one request a second per edge location; stale-while-revalidate answers at once while it refreshes.
LIVE = "public, max-age=1, s-maxage=1, stale-while-revalidate=2"
EMBED_JS = "public, max-age=300"  # bloggers' pages load it: a fix reaches them within five minutes
PAGE = "public, max-age=30, s-maxage=30"  # the product and shop pages
# The widget's HTML: the card's words and looks; its live data comes from GET /cards/{card_id}.
WIDGET = "public, max-age=60, s-maxage=60, stale-while-revalidate=600"
QR = "public, max-age=86400"  # a referral link's QR code never changes
REVIEWS = "public, max-age=5"


@bp.route("/health")
def health():
    if not models.tables_reachable():
        return error_response("unavailable", "The database is not reachable yet.", 503)
    return {"status": "ok", "stage": config.STAGE}


@bp.route("/embed.js")
def embed_js():
    return Response(body=pages.embed_js(), headers={
        "Content-Type": "application/javascript; charset=utf-8",
        "Cache-Control": EMBED_JS,
    })


@bp.route("/cards/{card_id}")
def get_card(card_id):
    return Response(body=checkout.buyer_card(card_id), headers={"Cache-Control": LIVE})


@bp.route("/cards/{card_id}/widget")
def card_widget(card_id):
    # The seller's own preview (the dashboard's ?preview=1) shows an edit at once; a reminder's
    # reservation pass is one reader's own.
    return html(pages.widget(card_id, query(), header("accept-language")),
                cache_control="no-store" if {"preview", "reservation"} & set(query()) else WIDGET)


@bp.route("/cards/{card_id}/views", methods=["POST"])
def card_viewed(card_id):
    referrals.record_view(card_id, json_body(), client(), place())
    return Response(body="", status_code=204)


@bp.route("/cards/{card_id}/feed")
def card_feed(card_id):
    return Response(body={"items": shares.feed(card_id)}, headers={"Cache-Control": LIVE})


@bp.route("/p/{card_id}")
def product_page(card_id):
    return html(pages.product_page(card_id, query(), header("accept-language")),
                cache_control="no-store" if "reservation" in query() else PAGE)


@bp.route("/s/{shop_id}")
def shop_page(shop_id):
    return html(pages.shop_page(shop_id, query(), header("accept-language")), cache_control=PAGE)


@bp.route("/s/{shop_id}/frame")
def shop_frame(shop_id):
    return html(pages.shop_page(shop_id, query(), header("accept-language"), compact=True), cache_control=PAGE)


@bp.route("/p/{card_id}/qr.svg")
def share_qr_code(card_id):
    return Response(body=pages.qr_svg(card_id, query().get("ref")), headers={
        "Content-Type": "image/svg+xml", "Cache-Control": QR})


@bp.route("/cards/{card_id}/checkout", methods=["POST"])
def checkout_card(card_id):
    headers = request().headers
    return created(checkout.checkout(card_id, json_body(), headers.get("idempotency-key"),
                                     is_retry=headers.get("tapcard-retry") is not None,
                                     city=viewer_city(), place=place(), client=client()))


@bp.route("/cards/{card_id}/groups", methods=["POST"])
def start_group(card_id):
    return created(grouping.start(card_id, json_body(), header("idempotency-key"),
                                  city=viewer_city(), place=place(), client=client()))


@bp.route("/cards/{card_id}/groups/{group_id}")
def get_group(card_id, group_id):
    return Response(body=grouping.view(card_id, group_id), headers={"Cache-Control": "no-store"})


@bp.route("/orders/{order_id}")
def get_order(order_id):
    return checkout.order_status(order_id, query().get("token"))


@bp.route("/orders/{order_id}/pay", methods=["POST"])
def pay_order(order_id):
    return checkout.pay(order_id, query().get("token"), json_body())


@bp.route("/orders/{order_id}/shipping", methods=["PUT"])
def set_shipping_address(order_id):
    return checkout.set_shipping_address(order_id, query().get("token"), json_body())


@bp.route("/assets/{name}")
def script_asset(name):
    return Response(body=pages.asset(name), headers={"Content-Type": "application/javascript; charset=utf-8",
                                                     "Cache-Control": "public, max-age=300"})


@bp.route("/o/{order_id}")
def order_page(order_id):
    return html(pages.order_page(order_id, query().get("token"), header("accept-language")))


@bp.route("/cards/{card_id}/reservations", methods=["POST"])
def reserve(card_id):
    reservation, is_new = reservations.reserve(card_id, json_body(), client())
    return Response(body=reservation, status_code=201 if is_new else 200)


@bp.route("/orders/{order_id}/review", methods=["POST"])
def review_order(order_id):
    return created(reviewing.write(order_id, query().get("token"), json_body()))


@bp.route("/cards/{card_id}/reviews")
def card_reviews(card_id):
    return Response(body=reviewing.card_reviews(card_id, query()), headers={"Cache-Control": REVIEWS})


# --- after-sales requests (the order's token) -----------------------------------------------


@bp.route("/orders/{order_id}/requests", methods=["POST"])
def open_request(order_id):
    return created(aftersales.open_request(order_id, query().get("token"), json_body()))


@bp.route("/orders/{order_id}/requests")
def order_requests(order_id):
    return aftersales.buyer_requests(order_id, query().get("token"))


@bp.route("/orders/{order_id}/requests/{request_id}/messages", methods=["POST"])
def buyer_message(order_id, request_id):
    return aftersales.buyer_message(order_id, query().get("token"), request_id, json_body())


@bp.route("/orders/{order_id}/requests/{request_id}/photos", methods=["POST"])
def photo_upload(order_id, request_id):
    return created(aftersales.photo_upload(order_id, query().get("token"), request_id, json_body()))



@bp.route("/unsubscribe")
def unsubscribe_page():
    return html(reminders.unsubscribe_page(query().get("token"), header("accept-language")))


# RFC 8058's one-click POST is a form body ("List-Unsubscribe=One-Click"); the page's button sends the same.
@bp.route("/unsubscribe", methods=["POST"], content_types=["application/x-www-form-urlencoded", "application/json",
                                                          "text/plain", "multipart/form-data"])
def unsubscribe():
    return html(reminders.unsubscribe(query().get("token"), header("accept-language")))
