"""The middlewares app.py registers, in this order: Chalice's own errors in the contract's shape
(http), no-store on an answer that does not say how long it may be kept (http), the end of every
invocation (all), only requests through our CloudFront (http)."""
import re

from chalicelib import counters, observability
from chalicelib.api.http import origin_refused


def chalice_errors_in_contract_shape(event, get_response):
    """Errors Chalice answers itself (415, 500, ...) get the contract's error shape too."""
    response = get_response(event)
    body = response.body
    if response.status_code >= 400 and isinstance(body, dict) and set(body) == {"Code", "Message"}:
        code = re.sub(r"(?<!^)(?=[A-Z])", "_", body["Code"]).lower().removesuffix("_error")
        response.body = {"error": {"code": code, "message": body["Message"]}}
    return response


def kept_only_when_said(event, get_response):
    """An answer without Cache-Control is kept by no one: an order's answer is its buyer's alone,
    and CloudFront would keep even a 404 for 10 s when the origin says nothing. The public GETs
    say what they allow (chalicelib/api/buyer.py)."""
    response = get_response(event)
    if not any(name.lower() == "cache-control" for name in response.headers):
        response.headers["Cache-Control"] = "no-store"
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


def only_through_our_cloudfront(event, get_response):
    """With the stage's CloudFront origin secret set, a request without it (someone calling the API
    Gateway URL directly, past the cache and the WAF's rate limit) gets 403 and runs nothing."""
    return origin_refused(event) or get_response(event)
