"""Fixtures and helpers for the integration and functional tiers (their conftest.py star-imports this).

Every test gets fresh tables in moto's in-process DynamoDB, created from infra/tables.py with the
prefix tests/conftest.py sets ("test-").
"""
from __future__ import annotations

import http.server
import json
import os
import re
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import boto3
import pytest
from moto import mock_aws

from chalicelib import checkout, config, counters, mail
from chalicelib.store import cards, orders, sellers
from chalicelib.domain import Card, DEFAULT_SHARE_TEXT, shard_count_for
from fakes import CARD_OK, FakeStripe
from infra.aws.template import tables_only
from infra.tables import create_all

assert config.TABLE_PREFIX == "test-", "tests/conftest.py must set TABLE_PREFIX before chalicelib is imported"


# tests/deploy runs the integration tier again against the tables a packaged template deploys.
TABLES_FROM = os.environ.get("TAPCARD_TABLES_FROM")  # a packaged sam.json


def deploy_tables(sam_json: str) -> None:
    template = tables_only(json.loads(Path(sam_json).read_text()), config.TABLE_PREFIX)
    cloudformation = boto3.client("cloudformation", region_name=config.AWS_REGION)
    cloudformation.create_stack(StackName="tapcard-tables", TemplateBody=json.dumps(template))
    status = cloudformation.describe_stacks(StackName="tapcard-tables")["Stacks"][0]["StackStatus"]
    assert status == "CREATE_COMPLETE", status


@pytest.fixture
def aws():
    """moto's in-process AWS with every tapcard table created."""
    with mock_aws():
        if TABLES_FROM:
            deploy_tables(TABLES_FROM)
        else:
            create_all(boto3.client("dynamodb", region_name=config.AWS_REGION), config.TABLE_PREFIX)
        counters.discard_pending()  # counts an earlier test made never reach this one's tables
        yield


@pytest.fixture
def client(aws):
    """chalice's test client around the app, over moto."""
    from chalice.test import Client

    from app import app

    with Client(app) as test_client:
        yield test_client


@pytest.fixture
def fake_stripe(monkeypatch) -> FakeStripe:
    return FakeStripe().install(monkeypatch)


@dataclass
class Seller:
    seller_id: str
    api_key: str

    @property
    def auth(self) -> dict:
        return {"Authorization": f"Bearer {self.api_key}"}


@pytest.fixture
def seller(aws) -> Seller:
    return Seller(*sellers.create_seller("Ada's Ceramics", "ada@example.com"))


@pytest.fixture
def make_card(aws, seller):
    """Store a card straight through the store (so tests may also make sales that already ended)."""
    def make(stock: int = 5, *, title: str = "Speckled mug", price_amount: int = 1800,
             currency: str = "EUR", starts_at: int | None = None, ends_at: int | None = None,
             limit_per_buyer: int | None = None, hold_seconds: int = 600,
             share_text: str = DEFAULT_SHARE_TEXT, shard_count: int | None = None,
             seller_id: str | None = None, reservation_mode: str | None = None, **fields) -> Card:
        card = Card(
            card_id="card_" + uuid.uuid4().hex[:12], seller_id=seller_id or seller.seller_id,
            title=title, description="Hand-thrown stoneware, 350 ml.",
            image_url="https://img.example.com/mug.jpg", price_amount=price_amount,
            currency=currency, stock=stock, starts_at=starts_at, ends_at=ends_at,
            limit_per_buyer=limit_per_buyer, hold_seconds=hold_seconds, share_text=share_text,
            shard_count=shard_count or shard_count_for(stock), created_at=int(time.time()),
            reservation_mode=reservation_mode, **fields,
        )
        cards.create(card)
        return card

    return make


@pytest.fixture
def buy(fake_stripe):
    """A checkout through the use case, as the route makes it: it only holds (no Stripe call, so
    client_secret is None); returns the response dict."""
    counter = iter(range(1, 1_000_000))

    def checkout_(card: Card, quantity: int = 1, buyer: str = "buyer-token-0001", key: str | None = None,
                  ref: str | None = None) -> dict:
        payload = {"quantity": quantity, "buyer": buyer}
        if ref:
            payload["ref"] = ref
        return checkout.checkout(card.card_id, payload, key or f"tap-key-{next(counter):06d}")

    return checkout_


@pytest.fixture
def pay(fake_stripe):
    """The buyer's pay call through the use case (POST /orders/{id}/pay as the route makes it),
    with a test payment method (FakeStripe's outcomes say what it comes to); returns its answer."""
    def pay_(order: dict, method: str = CARD_OK, token: str | None = None, **fields) -> dict:
        payload = {"payment_method": method, **fields}
        return checkout.pay(order["order_id"], order["order_token"] if token is None else token, payload)

    return pay_


# --- a seller's webhook endpoint --------------------------------------------------------------


@dataclass
class ReceivedRequest:
    path: str
    headers: dict
    body: bytes


class WebhookReceiver:
    """A real HTTP server on 127.0.0.1 (ephemeral port) that records what it is sent."""

    def __init__(self):
        self.requests: list[ReceivedRequest] = []
        self.status = 204
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                headers = {name.lower(): value for name, value in self.headers.items()}
                receiver.requests.append(ReceivedRequest(self.path, headers, body))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):  # keep pytest's output clean
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hooks/tapcard"

    def start(self) -> "WebhookReceiver":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def webhook_receiver(monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def social(monkeypatch):
    """The local Mastodon and Bluesky stand-ins (infra/local/social_servers.py) on an ephemeral port."""
    from infra.local.social_servers import SocialStandIn

    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    standin = SocialStandIn().start()
    yield standin
    standin.stop()


def sweep_shares(after_seconds: float = 7 * 3600) -> int:
    """Run the sweeper's share retries as if after_seconds had passed (past any backoff)."""
    from chalicelib.social import shares

    return shares.retry_due(now=time.time() + after_seconds)


@pytest.fixture
def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens: connecting is refused."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hooks/tapcard"


# --- helpers the tests import -------------------------------------------------------------------


def mark_paid(order_id: str, event_id: str | None = None, payment_intent_id: str | None = None,
              payer_ids: tuple[str, ...] = ()) -> None:
    """held → paid straight in the store, as a settled payment leaves it (no Stripe, no counters);
    payer_ids: who paid (card fingerprint, email)."""
    from chalicelib.domain import referral_code_for

    order = orders.get(order_id)
    orders.mark_paid(order, payment_intent_id or f"pi_paid_{order_id}", referral_code_for(order_id),
                     event_id or f"evt_paid_{order_id}", payer_ids=payer_ids)


def stream_event(template: str, orders: list) -> dict:
    """A saved DynamoDB Streams event (tests/events/) about the given stored orders, record by record."""
    from fakes import load_event

    event = load_event(template)
    for record, order in zip(event["Records"], orders, strict=True):
        change = record["dynamodb"]
        change["Keys"]["order_id"]["S"] = order.order_id
        for image in ("NewImage", "OldImage"):
            if image in change:
                change[image]["order_id"]["S"] = order.order_id
                change[image]["card_id"]["S"] = order.card_id
                change[image]["seller_id"]["S"] = order.seller_id
    return event


def shares_of(order_id: str) -> dict:
    """The stored share records of an order, by channel."""
    from chalicelib.store.social_models import ShareModel

    return {share.channel: share for share in ShareModel.scan(ShareModel.order_id == order_id)}


# --- HTTP helpers for the functional tier -----------------------------------------------------

SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


def assert_error(response, status: int, code: str, field: str | None = None) -> dict:
    """The response is `status` with exactly {"error": {"code", "message", optional "field" (and
    "expires_at": payments_busy)}}."""
    assert response.status_code == status, (response.status_code, response.body)
    body = json.loads(response.body)
    assert set(body) == {"error"}, body
    error = body["error"]
    assert {"code", "message"} <= set(error) <= {"code", "message", "field", "expires_at"}, error
    assert SNAKE_CASE.match(error["code"]), error
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"].strip(), error
    if field is not None:
        assert error.get("field") == field, error
    return error


def card_request(**overrides) -> dict:
    """A seller's POST /api/cards body."""
    body = {
        "title": "Speckled mug",
        "description": "Hand-thrown stoneware, 350 ml.",
        "image_url": "https://img.example.com/mug.jpg",
        "price": {"amount": 1800, "currency": "EUR"},
        "stock": 5,
    }
    body.update(overrides)
    return body


def post_json(client, path: str, payload, headers: dict | None = None):
    return client.http.post(path, headers={"Content-Type": "application/json", **(headers or {})},
                            body=payload if isinstance(payload, (str, bytes)) else json.dumps(payload))


def request_checkout(client, card_id: str, quantity=1, buyer="buyer-token-0001", key: str | None = "tap-key-0001",
                     ref: str | None = None, retry: int = 0):
    payload = {"quantity": quantity, "buyer": buyer}
    if ref is not None:
        payload["ref"] = ref
    headers = {"Idempotency-Key": key} if key else {}
    if retry:
        headers["Tapcard-Retry"] = str(retry)
    return post_json(client, f"/cards/{card_id}/checkout", payload, headers)


# --- the seller's side over HTTP: a card made through the API, orders paid through the pay call -----


def from_address(client, address: str) -> None:
    """The client's next requests come from this address, as API Gateway reports the caller
    (requestContext.identity.sourceIp; chalice's test client always says 127.0.0.1)."""
    client.http._local_gateway.event_converter.LOCAL_SOURCE_IP = address


ORIGIN_SECRET = "origin-secret"


def through_our_cloudfront(client, monkeypatch, secret: str = ORIGIN_SECRET) -> None:
    """The stage sets a CloudFront origin secret and the client's requests come through our
    distribution, which adds it (infra/aws/edge.py). A header the test writes itself wins: a caller
    reaching the API directly can send any."""
    monkeypatch.setattr(config, "CLOUDFRONT_ORIGIN_SECRET", secret)
    send = client.http.request

    def request(method, path, headers=None, body=b""):
        return send(method, path, headers={config.CLOUDFRONT_ORIGIN_HEADER: secret, **(headers or {})}, body=body)
    monkeypatch.setattr(client.http, "request", request)


def view(client, card_id: str, headers: dict | None = None, **body):
    """The widget on a reader's screen says so (card_live.js): POST /cards/{card_id}/views."""
    response = post_json(client, f"/cards/{card_id}/views", body, headers)
    assert response.status_code == 204, response.body
    return response


def create_card(client, seller, **overrides) -> dict:
    response = post_json(client, "/api/cards", card_request(**overrides), seller.auth)
    assert response.status_code == 201, response.body
    return json.loads(response.body)


def hold(client, card_id, buyer="buyer-token-0001", quantity=1, ref=None, headers=None) -> dict:
    payload = {"quantity": quantity, "buyer": buyer, **({"ref": ref} if ref else {})}
    response = post_json(client, f"/cards/{card_id}/checkout", payload,
                         {"Idempotency-Key": f"tap-{buyer}-{quantity}-{ref}", **(headers or {})})
    assert response.status_code == 201, response.body
    return json.loads(response.body)


def pay_order(client, order: dict, payload=None, token: str | None = None, headers: dict | None = None):
    """POST /orders/{order_id}/pay?token= (the order's own token unless given), by default with a
    test card that succeeds."""
    token = order["order_token"] if token is None else token
    payload = {"payment_method": CARD_OK} if payload is None else payload
    return post_json(client, f"/orders/{order['order_id']}/pay?token={quote(token)}", payload, headers)


def paid(client, card_id, method: str = CARD_OK, **kwargs) -> dict:
    """A hold paid at once by the pay call (FakeStripe must be installed); returns the hold's answer."""
    order = hold(client, card_id, **kwargs)
    response = pay_order(client, order, {"payment_method": method})
    assert response.status_code == 200, response.body
    assert json.loads(response.body)["status"] == "succeeded", response.body
    return order


# A card's group buying: three buyers, 12.00 instead of 18.00, within half an hour.
GROUP = {"size": 3, "price": {"amount": 1200}, "window_minutes": 30}
# A card that ships to France, and a buyer's address there (with the email mail goes to).
SHIPS = {"required": True, "countries": ["FR"], "fee": {"amount": 450}}
ADDRESS = {"name": "Ada Lovelace", "line1": "12 rue des Potiers", "city": "Lyon", "postal_code": "69001",
           "country": "FR", "email": "ada@example.com"}


def paid_with_address(client, card_id, buyer="buyer-token-0001") -> dict:
    """A hold given ADDRESS, then paid; returns the hold's answer."""
    order = hold(client, card_id, buyer=buyer)
    response = client.http.put(f"/orders/{order['order_id']}/shipping?token={order['order_token']}",
                               headers={"Content-Type": "application/json"}, body=json.dumps(ADDRESS))
    assert response.status_code == 200, response.body
    assert pay_order(client, order).status_code == 200
    return order


@pytest.fixture
def outbox(tmp_path, monkeypatch):
    """The mails sent during the test (the capture file, config.MAIL_CAPTURE_FILE), oldest first."""
    path = tmp_path / "mail.jsonl"
    monkeypatch.setattr(config, "MAIL_CAPTURE_FILE", str(path))
    return lambda: mail.captured(str(path))


def card_view(client, card_id: str) -> dict:
    response = client.http.get(f"/cards/{card_id}")
    assert response.status_code == 200, response.body
    return json.loads(response.body)


__all__ = ["aws", "fake_stripe", "seller", "make_card", "buy", "pay", "webhook_receiver", "closed_port_url",
           "client", "social", "outbox"]


def assert_documented(document, route: str, method: str, response) -> None:
    """The response is what GET /openapi.json documents for this route, method and status."""
    from jsonschema import Draft202012Validator

    spec = document["paths"][route][method.lower()]["responses"][str(response.status_code)]
    if "$ref" in spec:
        spec = document["components"]["responses"][spec["$ref"].rsplit("/", 1)[1]]
    schema = spec["content"]["application/json"]["schema"]
    validator = Draft202012Validator({**schema, "components": document["components"]})
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(json.loads(response.body))]
    assert not errors, (route, method, response.status_code, errors)
