"""Dev stage only (config.DEV_ROUTES; app.py registers this blueprint only then): the flash-sale
benchmark's comparison settings. (The TEST MODE payment sheet pays through the buyer's own pay
route, with a test payment method.)"""
from chalicelib import later
from chalicelib.api.http import Routes, json_body

bp = Routes(__name__)
checkout = later("chalicelib.checkout")


@bp.route("/dev/settings", methods=["PUT"])
def dev_settings():
    return checkout.dev_settings(json_body())
