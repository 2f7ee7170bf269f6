"""Fixtures for the integration and functional tiers (loaded with pytest_plugins = ["fixtures"]).

Every test gets fresh tables in moto's in-process DynamoDB, created from infra/tables.py with the
prefix tests/conftest.py sets ("test-").
"""
from __future__ import annotations

import http.server
import threading
import time
import uuid
from dataclasses import dataclass

import boto3
import pytest
from moto import mock_aws

from chalicelib import checkout, config, inventory, sellers
from chalicelib.domain import Card, DEFAULT_SHARE_TEXT, shard_count_for
from fakes import FakeStripe
from infra.tables import create_all

assert config.TABLE_PREFIX == "test-", "tests/conftest.py must set TABLE_PREFIX before chalicelib is imported"


@pytest.fixture
def aws():
    """moto's in-process AWS with every tapcard table created."""
    with mock_aws():
        create_all(boto3.client("dynamodb", region_name=config.AWS_REGION), config.TABLE_PREFIX)
        yield


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
    """Store a card straight through inventory (so tests may also make sales that already ended)."""
    def make(stock: int = 5, *, title: str = "Speckled mug", price_amount: int = 1800,
             currency: str = "EUR", starts_at: int | None = None, ends_at: int | None = None,
             limit_per_buyer: int | None = None, hold_seconds: int = 600,
             share_text: str = DEFAULT_SHARE_TEXT, shard_count: int | None = None,
             seller_id: str | None = None) -> Card:
        card = Card(
            card_id="card_" + uuid.uuid4().hex[:12], seller_id=seller_id or seller.seller_id,
            title=title, description="Hand-thrown stoneware, 350 ml.",
            image_url="https://img.example.com/mug.jpg", price_amount=price_amount,
            currency=currency, stock=stock, starts_at=starts_at, ends_at=ends_at,
            limit_per_buyer=limit_per_buyer, hold_seconds=hold_seconds, share_text=share_text,
            shard_count=shard_count or shard_count_for(stock), created_at=int(time.time()),
        )
        inventory.create_card(card)
        return card

    return make


@pytest.fixture
def buy(fake_stripe):
    """A checkout through the use case, as the route makes it; returns the response dict."""
    counter = iter(range(1, 1_000_000))

    def checkout_(card: Card, quantity: int = 1, buyer: str = "buyer-token-0001", key: str | None = None,
                  ref: str | None = None) -> dict:
        payload = {"quantity": quantity, "buyer": buyer}
        if ref:
            payload["ref"] = ref
        return checkout.checkout(card.card_id, payload, key or f"tap-key-{next(counter):06d}")

    return checkout_


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
                receiver.requests.append(ReceivedRequest(self.path, dict(self.headers.items()), body))
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
def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens: connecting is refused."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hooks/tapcard"
