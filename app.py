"""tapcard's Chalice app: the blueprints and middlewares of chalicelib/api, wired. The work lives in chalicelib."""
import logging
import os

from chalice import Chalice
# Every route needs pynamodb (and botocore under it). Imported first, at the shallowest depth, it
# costs what it costs alone; reached deep inside chalicelib/api's imports, the same work (mostly
# urllib3's regexes) measured ~10 ms slower on CPython 3.11. bench/cold_start.py shows the ratio.
import pynamodb.models  # noqa: F401

from chalicelib import config, startup
from chalicelib.api import buyer, dev, events, middleware, seller
# Lambda's handlers for the stream and schedule functions are app.<name> (see chalicelib/api/events.py).
from chalicelib.api.events import (on_group_change, on_order_change, on_reservation_change,  # noqa: F401
                                   sweep_expired_holds)

app = Chalice(app_name="tapcard")
app.log.setLevel(logging.INFO)
if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):  # on Lambda: a missing secret or table stops it here, in one line
    startup.check_or_exit()

app.register_middleware(middleware.chalice_errors_in_contract_shape, "http")
app.register_middleware(middleware.kept_only_when_said, "http")
app.register_middleware(middleware.end_invocation, "all")
app.register_middleware(middleware.only_through_our_cloudfront, "http")

app.register_blueprint(buyer.bp)
app.register_blueprint(seller.bp)
app.register_blueprint(events.bp)
if config.DEV_ROUTES:  # the dev stage: the TEST MODE payment sheet pays through the fake Stripe
    app.register_blueprint(dev.bp)
