"""localstripe bound to 127.0.0.1 with its store in memory, optionally at Stripe's rate limit.

Its own CLI binds every interface and pickles the whole store to /tmp on each write.

With TAPCARD_STRIPE_RATE_LIMIT (or --rate-limit) above 0, requests per second, API requests
(/v1/…) made with a secret key past that rate get the 429 Stripe answers at its limit.
A POST repeated with the same Idempotency-Key gets the first answer again, as from Stripe.
GET /_tapcard/requests counts every API request by endpoint (`"POST /v1/payment_intents/{id}/cancel"`)
and the refused ones; DELETE /_tapcard/requests resets the counts.
A PaymentIntent reports `amount_received` and `amount_capturable`, as from Stripe. localstripe
authorises and captures manual-capture intents but sends no `payment_intent.amount_capturable_updated`.
Each refund sends `charge.refunded` (as Stripe does for a refund made through the API or its
dashboard), and refunding a charge refunded in full is refused with `charge_already_refunded`.
POST /_config/disputes {"payment_intent", "reason"?} stands in for a buyer's bank: it sends
`charge.dispute.created` about that payment's charge.
"""
import argparse
import base64
import json
import logging
import os
import re
import secrets
import time
from collections import Counter

from aiohttp import web
from localstripe import resources

resources.Store.dump_to_disk = lambda self: None  # keep the store in memory only
# Stripe reports what an intent took in `amount_received` (its webhooks too); localstripe leaves it
# out, and tapcard marks an order paid only when that is the order's amount.
resources.PaymentIntent.amount_received = property(lambda self: self.amount if self.status == "succeeded" else 0)
# Likewise what an authorised payment (capture_method=manual) set aside, until it is captured.
resources.PaymentIntent.amount_capturable = property(
    lambda self: self.amount if self.status == "requires_capture" else 0)

from localstripe.errors import UserError  # noqa: E402
from localstripe.webhooks import schedule_webhook  # noqa: E402

_create_refund = resources.Refund.__init__


def _refund_as_stripe_does(self, charge=None, payment_intent=None, amount=None, **kwargs):
    """Stripe refuses to refund a charge refunded in full, and announces every refund."""
    charge_id = charge or (resources.PaymentIntent._api_retrieve(payment_intent).latest_charge.id
                           if isinstance(payment_intent, str) and payment_intent.startswith("pi_") else None)
    if charge_id and resources.Charge._api_retrieve(charge_id).refunded:
        raise UserError(400, "Charge has already been refunded.", {"code": "charge_already_refunded"})
    _create_refund(self, charge=charge, payment_intent=payment_intent, amount=amount, **kwargs)
    schedule_webhook(resources.Event("charge.refunded", resources.Charge._api_retrieve(self.charge)))


resources.Refund.__init__ = _refund_as_stripe_does


class _Exported:
    """What an event carries, already in Stripe's shape."""

    def __init__(self, body: dict):
        self.body = body

    def _export(self, expand=None):
        return self.body


async def dispute(request: web.Request) -> web.Response:
    """A buyer's bank disputes a payment: charge.dispute.created about its charge."""
    body = await request.json()
    intent = resources.PaymentIntent._api_retrieve(body["payment_intent"])
    charge = intent.latest_charge
    schedule_webhook(resources.Event("charge.dispute.created", _Exported({
        "id": "dp_" + secrets.token_hex(12), "object": "dispute", "amount": charge.amount, "currency": charge.currency,
        "charge": charge.id, "payment_intent": intent.id, "reason": body.get("reason", "fraudulent"),
        "status": "needs_response", "metadata": {}, "created": int(time.time()), "livemode": False,
    })))
    return web.json_response({"disputed": charge.id})


from localstripe.server import app  # noqa: E402  (after the store is patched)

app.router.add_post("/_config/disputes", dispute)

RATE_LIMITED = json.dumps({"error": {
    "type": "invalid_request_error",
    "code": "rate_limit",
    "message": "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.",
    "doc_url": "https://stripe.com/docs/error-codes/rate-limit",
}}).encode()


class TokenBucket:
    """Holds one second of the rate and refills continuously, as Stripe's limiter does."""

    def __init__(self, rate: float):
        self.rate = rate
        self.capacity = max(rate, 1.0)
        self.tokens = self.capacity
        self.at = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


def _secret_key(request: web.Request) -> bool:
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme == "Basic":
        try:
            credentials = base64.b64decode(credentials).decode().split(":")[0]
        except ValueError:
            return False
    elif scheme != "Bearer":
        return False
    return credentials.startswith("sk_")


def _endpoint(request: web.Request) -> str:
    """`POST /v1/payment_intents/{id}/cancel`: the route, so requests on different ids group."""
    resource = request.match_info.route.resource
    path = resource.canonical if resource is not None else request.path
    return f"{request.method} {re.sub(r'{[^}]*}', '{id}', path)}"


def rate_limiter(rate: float):
    bucket = TokenBucket(rate) if rate > 0 else None
    requests, refused = Counter(), Counter()

    @web.middleware
    async def middleware(request, handler):
        if request.path == "/_tapcard/requests":
            if request.method == "DELETE":
                requests.clear()
                refused.clear()
            return web.json_response({"limit": rate, "requests": dict(requests),
                                      "refused": {key: refused[key] for key in requests}})
        if not request.path.startswith("/v1/"):
            return await handler(request)
        endpoint = _endpoint(request)
        requests[endpoint] += 1
        # The limit stands for the server's budget: calls made with the secret key. What Stripe.js
        # sends carries the publishable key (`key=pk_…` in the body) and comes from each buyer's
        # browser, not from the server, so it is counted but never refused here.
        if bucket is not None and _secret_key(request) and not bucket.take():
            refused[endpoint] += 1
            return web.Response(status=429, body=RATE_LIMITED, headers={
                "Content-Type": "application/json", "Request-Id": "req_" + secrets.token_hex(7)})
        return await handler(request)

    return middleware


def idempotent_replays():
    """Stripe answers a POST repeated with the same Idempotency-Key with the first answer (for 24 h);
    localstripe does not, so an SDK retry after a lost answer would make a second payment."""
    answers: dict[str, web.Response] = {}

    @web.middleware
    async def middleware(request, handler):
        key = request.headers.get("Idempotency-Key")
        if request.method != "POST" or not key or not request.path.startswith("/v1/"):
            return await handler(request)
        key = f"{request.path} {key}"
        if key not in answers:
            response = await handler(request)
            if response.status < 500 and response.status != 429:  # Stripe runs a retry of these again
                answers[key] = response
            return response
        first = answers[key]
        return web.Response(status=first.status, body=first.body, headers={
            "Content-Type": first.headers.get("Content-Type", "application/json"), "Idempotent-Replayed": "true"})

    return middleware


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8420)
    parser.add_argument("--rate-limit", type=float,
                        default=float(os.environ.get("TAPCARD_STRIPE_RATE_LIMIT") or 0),
                        help="secret-key API requests per second; 0 = no limit")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    app.middlewares.insert(0, idempotent_replays())
    app.middlewares.insert(0, rate_limiter(args.rate_limit))  # outermost: before localstripe's auth
    limit = f", at most {args.rate_limit:g} API requests/s" if args.rate_limit > 0 else ""
    print(f"localstripe on http://127.0.0.1:{args.port}{limit}", flush=True)
    web.run_app(app, host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
