"""Dev stage only (config.DEV_ROUTES; app.py registers this blueprint only then): the TEST MODE
payment sheet pays through the fake Stripe, and the flash-sale benchmark tunes the stock cache."""
from chalicelib import checkout
from chalicelib.api.http import Routes, json_body

bp = Routes(__name__)


@bp.route("/dev/orders/{order_id}/pay", methods=["POST"])
def dev_pay(order_id):
    return checkout.pay_with_test_card(order_id, json_body())


@bp.route("/dev/settings", methods=["PUT"])
def dev_settings():
    """The flash-sale benchmark turns the sold-out short-circuit off for its comparison run."""
    return checkout.set_stock_cache(json_body())
