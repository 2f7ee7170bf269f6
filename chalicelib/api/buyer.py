"""The reader's routes, no auth: the embed loader, the card and its widget, the hosted product
page and its QR code, the blogger's shop page and its frame, the activity feed, checkout, groups, the order, its shipping address, its pay call and its page,
reservations."""
from chalice import Response

from chalicelib import checkout, config, grouping, pages, reviewing
from chalicelib.api.http import (Routes, client, created, error_response, header, html, json_body, place, query,
                                 request, viewer_city)
from chalicelib.social import reservations, shares
from chalicelib.store import models

bp = Routes(__name__)

WIDGET_PATH = "/cards/{card_id}/widget"  # a 200 from it is a view of the card (middleware.count_card_views)


@bp.route("/health")
def health():
    if not models.tables_reachable():
        return error_response("unavailable", "The database is not reachable yet.", 503)
    return {"status": "ok", "stage": config.STAGE}


@bp.route("/embed.js")
def embed_js():
    return Response(body=pages.embed_js(), headers={
        "Content-Type": "application/javascript; charset=utf-8",
        "Cache-Control": "public, max-age=300",
    })


@bp.route("/cards/{card_id}")
def get_card(card_id):
    return Response(body=checkout.buyer_card(card_id), headers={"Cache-Control": "public, max-age=1"})


@bp.route(WIDGET_PATH)
def card_widget(card_id):
    return html(pages.widget(card_id, query(), header("accept-language")))


@bp.route("/cards/{card_id}/feed")
def card_feed(card_id):
    return {"items": shares.feed(card_id)}


@bp.route("/p/{card_id}")
def product_page(card_id):
    return html(pages.product_page(card_id, query(), header("accept-language")), max_age=30)


@bp.route("/s/{shop_id}")
def shop_page(shop_id):
    return html(pages.shop_page(shop_id, query(), header("accept-language")), max_age=30)


@bp.route("/s/{shop_id}/frame")
def shop_frame(shop_id):
    return html(pages.shop_page(shop_id, query(), header("accept-language"), compact=True))


@bp.route("/p/{card_id}/qr.svg")
def share_qr_code(card_id):
    return Response(body=pages.qr_svg(card_id, query().get("ref")), headers={
        "Content-Type": "image/svg+xml", "Cache-Control": "public, max-age=86400"})


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
    return Response(body=reviewing.card_reviews(card_id, query()), headers={"Cache-Control": "public, max-age=5"})
