"""What every route shares: the contract's error shape for domain errors, the request parsers
(JSON body, query string, the seller behind the Authorization header) and the responses that are
more than JSON (HTML pages, CSV downloads).

Routes are declared on a `Routes` blueprint; its `route` answers a DomainError in the contract's
shape, `{"error": {"code", "message", "field"?}}`, with the status STATUS_OF gives its code.
"""
from __future__ import annotations

import functools
import hmac
import json

from chalice import Blueprint, Chalice, Response
from chalice.app import Request

from chalicelib import config, counters, pages, secrets
from chalicelib.store import sellers
from chalicelib.domain.clients import client_key
from chalicelib.domain.errors import DomainError, InvalidRequest

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
    "too_many_holds": 429,
    "invalid_template": 400,
    "reservers_only": 409,
    "reservations_off": 409,
    "too_many_reservations": 429,
    "payments_unavailable": 503,
    "payments_busy": 503,
    "refund_pending": 503,
    "hold_expired": 409,
    "already_paid": 409,
    "payment_in_progress": 409,
    "amount_mismatch": 409,
    "shipping_address_required": 409,
    "shipping_not_required": 409,
    "code_invalid": 409,
    "code_expired": 409,
    "code_used_up": 409,
    "code_exists": 409,
    "not_reviewable": 409,
    "already_reviewed": 409,
    "group_full": 409,
    "group_closed": 409,
    "already_in_group": 409,
    "group_buying_off": 409,
    "group_only": 409,
    "request_not_allowed": 409,
    "return_window_closed": 409,
    "request_already_open": 409,
    "wrong_request_state": 409,
    "too_many_photos": 409,
    "too_many_messages": 409,
}

_app: Chalice | None = None  # the app the Routes blueprints were registered to: its current request


def error_response(code: str, message: str, status: int, field: str | None = None,
                   retry_after: int | None = None, expires_at: str | None = None) -> Response:
    error = {"code": code, "message": message}
    if field:
        error["field"] = field
    if expires_at:
        error["expires_at"] = expires_at
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return Response(body={"error": error}, status_code=status, headers=headers)


class Routes(Blueprint):
    """A Blueprint whose routes answer domain errors in the contract's error shape."""

    def register(self, app: Chalice, options: dict) -> None:
        global _app
        _app = app
        super().register(app, options)

    def route(self, path: str, **options):
        register = super().route(path, **options)

        def answering_domain_errors(view):
            @functools.wraps(view)
            def answered(*args, **kwargs):
                try:
                    return view(*args, **kwargs)
                except DomainError as error:
                    return error_response(error.code, error.message, STATUS_OF.get(error.code, 400),
                                          getattr(error, "field", None), getattr(error, "retry_after", None),
                                          getattr(error, "hold_ends_at", None))
            return register(answered)
        return answering_domain_errors


def request() -> Request:
    """The request being answered (Chalice's app.current_request)."""
    if _app is None or _app.current_request is None:
        raise RuntimeError("No request: the Routes blueprints are not registered to an app, or none is being answered.")
    return _app.current_request


def json_body() -> dict:
    raw = request().raw_body or b""
    try:
        body = json.loads(raw) if raw.strip() else {}
    except (ValueError, UnicodeDecodeError):
        raise InvalidRequest("The body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise InvalidRequest("The body must be a JSON object.")
    return body


def seller_body() -> dict:
    """A seller's JSON body, every field of it documented for this route in openapi.json: a
    misspelt or unsupported field is refused, naming it, rather than dropped without a word."""
    body = json_body()
    current = request()
    operation = _openapi()["paths"][current.context["resourcePath"]][current.method.lower()]
    unknown = unknown_field(body, operation["requestBody"]["content"]["application/json"]["schema"])
    if unknown:
        raise InvalidRequest(f"Unknown field '{unknown}': this route does not take it (see /openapi.json).", unknown)
    return body


@functools.lru_cache(maxsize=1)
def _openapi() -> dict:
    return pages.openapi()


def unknown_field(value, schema: dict, path: str = "") -> str | None:
    """The first field of value (dotted, for nested objects) that schema does not name."""
    if "$ref" in schema:
        schema = _openapi()["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    properties = schema.get("properties")
    if not isinstance(value, dict) or properties is None:
        return None
    for name, item in value.items():
        if name not in properties:
            return path + name
        unknown = unknown_field(item, properties[name], f"{path}{name}.")
        if unknown:
            return unknown
    return None


def query() -> dict:
    return request().query_params or {}


def header(name: str) -> str | None:
    return request().headers.get(name)


def client(of: Request | None = None) -> str:
    """The caller of `of` (default: the request being answered): its TCP peer as API Gateway saw
    it, or, through our CloudFront (whose address that peer then is), the viewer's address
    CloudFront wrote in CloudFront-Viewer-Address ("198.51.100.10:46532", "2001:db8::1:46532");
    never a header the caller could set."""
    of = of or request()
    viewer = viewer_headers(of).get("cloudfront-viewer-address")
    if viewer:
        return client_key(viewer.rpartition(":")[0])
    return client_key((of.context.get("identity") or {}).get("sourceIp"))


def from_our_cloudfront(headers) -> bool:
    """Whether our CloudFront distribution forwarded this request: only then are its viewer headers
    CloudFront's and not the caller's (config.CLOUDFRONT_ORIGIN_SECRET)."""
    expected = secrets.optional("CLOUDFRONT_ORIGIN_SECRET")
    sent = headers.get(config.CLOUDFRONT_ORIGIN_HEADER)
    return bool(expected and sent) and hmac.compare_digest(sent.encode(), expected.encode())


def origin_refused(of: Request) -> Response | None:
    """403 for a request that came around our CloudFront (and so around its cache and WAF), on a
    stage that has an origin secret; a stage without one answers everyone, as before."""
    if secrets.optional("CLOUDFRONT_ORIGIN_SECRET") and not from_our_cloudfront(of.headers):
        return error_response("forbidden", "Use the public address: this one answers only tapcard's CDN.", 403)
    return None


def viewer_headers(of: Request | None = None) -> dict:
    """The request's CloudFront-Viewer-* headers when our CloudFront wrote them, else none."""
    headers = (of or request()).headers
    if not from_our_cloudfront(headers):
        return {}
    return {name.lower(): value for name, value in headers.items() if name.lower().startswith("cloudfront-viewer-")}


def place(of: Request | None = None) -> str | None:
    """Where the reader is, for the funnel's map (counters.place_of)."""
    return counters.place_of(viewer_headers(of), (of or request()).headers.get("accept-language"))


def viewer_city() -> str | None:
    """CloudFront-Viewer-City, still raw: rules.viewer_city says whether it reads as a city."""
    return viewer_headers().get("cloudfront-viewer-city")


def seller_id() -> str:
    return sellers.seller_for_authorization(header("authorization"))


def html(page: pages.Page, cache_control: str = "no-store") -> Response:
    """A page; only a 200 is ever kept (a card not yet published must not stay "not available").
    A cacheable page varies by the reader's language when no ?locale= says."""
    headers = {"Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": page.content_security_policy,
               "Cache-Control": cache_control if page.status == 200 else "no-store"}
    if headers["Cache-Control"] != "no-store":
        headers["Vary"] = "Accept-Language"
    return Response(body=page.html, status_code=page.status, headers=headers)


def attachment(csv_text: str, filename: str) -> Response:
    return Response(body=csv_text, headers={"Content-Type": "text/csv; charset=utf-8",
                                            "Content-Disposition": f'attachment; filename="{filename}"'})


def created(body) -> Response:
    return Response(body=body, status_code=201)
