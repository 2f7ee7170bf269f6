"""The middlewares app.py registers, in this order: Chalice's own errors in the contract's shape
(http), the end of every invocation (all), the widget's view count (http)."""
import re

from chalicelib import counters, observability
from chalicelib.api.buyer import WIDGET_PATH
from chalicelib.api.http import client, place


def chalice_errors_in_contract_shape(event, get_response):
    """Errors Chalice answers itself (415, 500, ...) get the contract's error shape too."""
    response = get_response(event)
    body = response.body
    if response.status_code >= 400 and isinstance(body, dict) and set(body) == {"Code", "Message"}:
        code = re.sub(r"(?<!^)(?=[A-Z])", "_", body["Code"]).lower().removesuffix("_error")
        response.body = {"error": {"code": code, "message": body["Message"]}}
    return response


def end_invocation(event, get_response):
    """After every invocation (route, stream batch, sweep): write the funnel's counts when a few
    seconds have passed since the last write (a Lambda container may be frozen right after it
    answers), then publish the invocation's metrics and drop its order id."""
    try:
        return get_response(event)
    finally:
        try:
            counters.flush_if_due()
        finally:
            observability.end_invocation()


def count_card_views(event, get_response):
    """A widget served is a view of its card, once per client a minute (counters.count_view);
    counted here so the buyer routes stay as they are. The dashboard's preview (?preview=1) is
    not a view. Referral visits: referrals.record_visit."""
    response = get_response(event)
    query_params = event.query_params or {}
    if (response.status_code == 200 and event.context.get("resourcePath") == WIDGET_PATH
            and "preview" not in query_params):
        card_id = event.uri_params["card_id"]
        counters.count_view(card_id, client(event), place=place(event))
    return response
