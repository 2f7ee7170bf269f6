"""The seller's routes, `Authorization: Bearer <api key>`: everything under /api/ (documented in
GET /openapi.json) and the dashboard page that drives them."""
from chalice import Response

from chalicelib import later
from chalicelib.api.http import Routes, attachment, created, html, query, request, seller_body, seller_id

# Imported on first use (chalicelib.later): a container answering a widget loads none of them.
aftersales = later("chalicelib.aftersales")
backoffice = later("chalicelib.backoffice")
dashboard = later("chalicelib.dashboard")
pages = later("chalicelib.pages")
reviewing = later("chalicelib.reviewing")
shops = later("chalicelib.shops")
channels = later("chalicelib.social.channels")
seller_api = later("chalicelib.social.seller_api")
shares = later("chalicelib.social.shares")

bp = Routes(__name__)


@bp.route("/openapi.json")
def openapi():
    return pages.openapi()


@bp.route("/dashboard")
def dashboard_page():
    return html(dashboard.page())


# --- account: sign-up, API keys, the share webhook -------------------------------------------


@bp.route("/api/sellers", methods=["POST"])
def sign_up():
    return created(backoffice.sign_up(seller_body()))


@bp.route("/api/keys")
def list_keys():
    return backoffice.keys(seller_id())


@bp.route("/api/keys", methods=["POST"])
def create_key():
    return created(backoffice.new_key(seller_id()))


@bp.route("/api/keys/{prefix}", methods=["DELETE"])
def revoke_key(prefix):
    return backoffice.revoke_key(seller_id(), prefix)


@bp.route("/api/channels/webhook", methods=["PUT"])
def set_share_webhook():
    return channels.set_seller_webhook(seller_id(), seller_body())  # who asks comes first: no key, no word about the body


# --- cards -------------------------------------------------------------------------------------


@bp.route("/api/cards", methods=["POST"])
def create_card():
    return created(backoffice.create_card(seller_id(), seller_body()))


@bp.route("/api/cards")
def list_cards():
    return backoffice.list_cards(seller_id(), query())


@bp.route("/api/cards/{card_id}")
def seller_card(card_id):
    return backoffice.get_card(seller_id(), card_id)


@bp.route("/api/cards/{card_id}", methods=["PATCH"])
def update_card(card_id):
    return backoffice.update_card(seller_id(), card_id, seller_body())


@bp.route("/api/cards/{card_id}/publish", methods=["POST"])
def publish_card(card_id):
    return backoffice.set_card_status(seller_id(), card_id, "publish")


@bp.route("/api/cards/{card_id}/unpublish", methods=["POST"])
def unpublish_card(card_id):
    return backoffice.set_card_status(seller_id(), card_id, "unpublish")


@bp.route("/api/cards/{card_id}/archive", methods=["POST"])
def archive_card(card_id):
    return backoffice.set_card_status(seller_id(), card_id, "archive")


@bp.route("/api/cards/{card_id}/stats")
def card_stats(card_id):
    return backoffice.stats(seller_id(), card_id, query())


# --- discount codes ---------------------------------------------------------------------------


@bp.route("/api/cards/{card_id}/codes", methods=["POST"])
def create_code(card_id):
    return created(backoffice.create_code(seller_id(), card_id, seller_body()))


@bp.route("/api/cards/{card_id}/codes", methods=["GET"])
def list_codes(card_id):
    return backoffice.list_codes(seller_id(), card_id)


@bp.route("/api/cards/{card_id}/codes/{code}", methods=["DELETE"])
def remove_code(card_id, code):
    backoffice.remove_code(seller_id(), card_id, code)
    return Response(body="", status_code=204)


# --- reviews ----------------------------------------------------------------------------------


@bp.route("/api/cards/{card_id}/reviews")
def seller_reviews(card_id):
    return reviewing.seller_reviews(seller_id(), card_id, query())


@bp.route("/api/cards/{card_id}/reviews/{order_id}/reply", methods=["POST"])
def reply_to_review(card_id, order_id):
    return reviewing.reply(seller_id(), card_id, order_id, seller_body())


@bp.route("/api/cards/{card_id}/reviews/{order_id}/hide", methods=["POST"])
def hide_review(card_id, order_id):
    return reviewing.hide(seller_id(), card_id, order_id, seller_body())


# --- orders ------------------------------------------------------------------------------------


@bp.route("/api/cards/{card_id}/orders")
def card_orders(card_id):
    seller = seller_id()  # who asks comes first: no key, no word about the query
    if backoffice.orders_format(query()) == "csv":
        return attachment(backoffice.export_orders(seller, card_id, query()), f"orders-{card_id}.csv")
    return backoffice.list_orders(seller, card_id, query())


@bp.route("/api/orders/{order_id}/fulfil", methods=["POST"])
def fulfil_order(order_id):
    return backoffice.fulfil(seller_id(), order_id, seller_body())


@bp.route("/api/orders/{order_id}/refund", methods=["POST"])
def refund_order(order_id):
    return backoffice.refund(seller_id(), order_id, seller_body())


# --- the social loop: share channels, settings, shares, referrals, reservations ----------------


@bp.route("/api/cards/{card_id}/channels", methods=["POST"])
def add_channel(card_id):
    return created(channels.add_channel(seller_id(), card_id, seller_body()))


@bp.route("/api/cards/{card_id}/channels", methods=["GET"])
def list_channels(card_id):
    return {"items": channels.list_channels(seller_id(), card_id)}


@bp.route("/api/cards/{card_id}/channels/{channel_id}", methods=["DELETE"])
def remove_channel(card_id, channel_id):
    channels.remove_channel(seller_id(), card_id, channel_id)
    return Response(body="", status_code=204)


@bp.route("/api/cards/{card_id}/channels/{channel_id}/test", methods=["POST"])
def test_channel(card_id, channel_id):
    return shares.test_send(seller_id(), card_id, channel_id)


@bp.route("/api/cards/{card_id}/social", methods=["GET", "PATCH"])
def card_social_settings(card_id):
    return seller_api.settings(seller_id(), card_id, seller_body() if request().method == "PATCH" else None)


@bp.route("/api/cards/{card_id}/shares")
def card_shares(card_id):
    return seller_api.share_report(seller_id(), card_id)


@bp.route("/api/cards/{card_id}/referrals")
def card_referrals(card_id):
    report = seller_api.referral_report(seller_id(), card_id, query().get("format"))
    return attachment(report, f"{card_id}-referrals.csv") if isinstance(report, str) else report


@bp.route("/api/cards/{card_id}/reservations")
def card_reservations(card_id):
    return seller_api.reservers(seller_id(), card_id, query().get("after"))


# --- shops -------------------------------------------------------------------------------------


@bp.route("/api/shops", methods=["POST"])
def create_shop():
    return created(shops.create_shop(seller_id(), seller_body()))


@bp.route("/api/shops")
def list_shops():
    return shops.list_shops(seller_id())


@bp.route("/api/shops/{shop_id}", methods=["PATCH"])
def update_shop(shop_id):
    return shops.update_shop(seller_id(), shop_id, seller_body())


# --- after-sales requests ----------------------------------------------------------------------


@bp.route("/api/requests")
def list_requests():
    return aftersales.seller_requests(seller_id(), query())


@bp.route("/api/requests/{request_id}")
def get_request(request_id):
    return aftersales.seller_request(seller_id(), request_id)


@bp.route("/api/requests/{request_id}/approve", methods=["POST"])
def approve_request(request_id):
    return aftersales.approve(seller_id(), request_id, seller_body())


@bp.route("/api/requests/{request_id}/decline", methods=["POST"])
def decline_request(request_id):
    return aftersales.decline(seller_id(), request_id, seller_body())


@bp.route("/api/requests/{request_id}/refund", methods=["POST"])
def refund_request(request_id):
    return aftersales.refund(seller_id(), request_id, seller_body())


@bp.route("/api/requests/{request_id}/close", methods=["POST"])
def close_request(request_id):
    return aftersales.close(seller_id(), request_id, seller_body())


@bp.route("/api/requests/{request_id}/messages", methods=["POST"])
def seller_message(request_id):
    return aftersales.seller_message(seller_id(), request_id, seller_body())
