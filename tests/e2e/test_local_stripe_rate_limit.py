"""localstripe at Stripe's rate limit (TAPCARD_STRIPE_RATE_LIMIT), as `make run` serves it: a burst
of secret-key requests gets one second's worth through and Stripe's 429 for the rest, what Stripe.js
sends with the publishable key always passes, and /_tapcard/requests counts by endpoint."""
import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
import stripe

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 5
SECRET = {"Authorization": "Bearer sk_test_local", "Connection": "close"}
STRIPE_429 = {"error": {
    "type": "invalid_request_error",
    "code": "rate_limit",
    "message": "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.",
    "doc_url": "https://stripe.com/docs/error-codes/rate-limit",
}}
# What Stripe.js sends to tokenize a card: the publishable key in the body, no Authorization header.
CARD_TOKEN = {"key": "pk_test_local", "card[number]": "4242424242424242", "card[exp_month]": "12",
              "card[exp_year]": "2034", "card[cvc]": "123"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(*args: str):
    """infra/local/stripe_server.py on a free port, with TAPCARD_STRIPE_RATE_LIMIT=5 in its environment."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "infra/local/stripe_server.py", "--port", str(port), *args], cwd=ROOT,
        env={**os.environ, "TAPCARD_STRIPE_RATE_LIMIT": str(LIMIT)},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 30
    while True:
        try:
            if requests.get(f"{url}/_tapcard/requests", headers={"Connection": "close"}, timeout=2).ok:
                return url, process
        except requests.ConnectionError:
            pass
        if process.poll() is not None or time.time() > deadline:
            process.kill()
            raise RuntimeError(f"stripe_server.py did not start:\n{process.communicate()[0]}")
        time.sleep(0.1)


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def limited_server():
    url, process = _serve()
    yield url
    _stop(process)


@pytest.fixture(scope="module")
def unlimited_server():
    url, process = _serve("--rate-limit", "0")  # the option overrides the environment
    yield url
    _stop(process)


@pytest.fixture
def limited(limited_server):
    """The limited server with a full bucket (a second to refill) and its counts reset."""
    time.sleep(1.05)
    requests.delete(f"{limited_server}/_tapcard/requests", headers={"Connection": "close"}, timeout=5)
    return limited_server


def burst(url: str, n: int = 20, path: str = "/v1/payment_intents") -> list[requests.Response]:
    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(lambda _: requests.get(url + path, headers=SECRET, timeout=10), range(n)))


def counts(url: str) -> dict:
    return requests.get(f"{url}/_tapcard/requests", headers={"Connection": "close"}, timeout=5).json()


def client(url: str, **options) -> stripe.StripeClient:
    return stripe.StripeClient("sk_test_local", base_addresses={"api": url}, **options)


def test_a_burst_past_the_limit_gets_one_seconds_worth_and_stripes_429_for_the_rest(limited):
    responses = burst(limited)
    passed = [r for r in responses if r.status_code == 200]
    refused = [r for r in responses if r.status_code == 429]
    assert LIMIT <= len(passed) <= LIMIT + 1
    assert len(passed) + len(refused) == 20
    for r in refused:
        assert r.json() == STRIPE_429
        assert r.headers["Content-Type"] == "application/json"
        assert r.headers["Request-Id"].startswith("req_")


def test_the_stripe_sdk_raises_rate_limit_error(limited):
    burst(limited)
    with pytest.raises(stripe.RateLimitError) as refused:
        client(limited, max_network_retries=0).v1.customers.create({"email": "ada@example.test"})
    assert refused.value.http_status == 429
    assert refused.value.error.code == "rate_limit"  # `.code` stays None: the SDK does not pass it for a 429
    assert refused.value.request_id.startswith("req_")


def test_the_sdk_does_not_retry_a_429_even_with_retries_on(limited):
    burst(limited)
    with pytest.raises(stripe.RateLimitError):
        client(limited, max_network_retries=2).v1.customers.create({"email": "ada@example.test"})
    assert counts(limited)["refused"]["POST /v1/customers"] == 1


def test_requests_pass_again_after_a_second(limited):
    assert any(r.status_code == 429 for r in burst(limited))
    time.sleep(1.05)
    assert [r.status_code for r in burst(limited, n=LIMIT)] == [200] * LIMIT


def test_publishable_key_requests_are_never_refused(limited):
    assert any(r.status_code == 429 for r in burst(limited))  # the server's budget is spent
    with ThreadPoolExecutor(max_workers=20) as pool:
        tokens = list(pool.map(lambda _: requests.post(f"{limited}/v1/tokens", data=CARD_TOKEN,
                                                       headers={"Connection": "close"}, timeout=10), range(20)))
    assert [r.status_code for r in tokens] == [200] * 20
    assert counts(limited)["requests"]["POST /v1/tokens"] == 20
    assert counts(limited)["refused"]["POST /v1/tokens"] == 0


def test_with_the_limit_off_nothing_is_refused(unlimited_server):
    assert [r.status_code for r in burst(unlimited_server, n=40)] == [200] * 40
    seen = counts(unlimited_server)
    assert seen["limit"] == 0
    assert seen["refused"]["GET /v1/payment_intents"] == 0


def test_requests_are_counted_by_endpoint_and_delete_resets_them(limited):
    stripe_client = client(limited, max_network_retries=0)
    for _ in range(2):
        intent = stripe_client.v1.payment_intents.create(
            {"amount": 1800, "currency": "eur", "payment_method_types": ["card"]})
        stripe_client.v1.payment_intents.cancel(intent.id)
    assert counts(limited) == {
        "limit": LIMIT,
        "requests": {"POST /v1/payment_intents": 2, "POST /v1/payment_intents/{id}/cancel": 2},
        "refused": {"POST /v1/payment_intents": 0, "POST /v1/payment_intents/{id}/cancel": 0},
    }

    responses = burst(limited, n=10, path=f"/v1/payment_intents/{intent.id}")
    seen = counts(limited)
    assert seen["requests"]["GET /v1/payment_intents/{id}"] == 10
    assert seen["refused"]["GET /v1/payment_intents/{id}"] == sum(r.status_code == 429 for r in responses) >= 8

    requests.delete(f"{limited}/_tapcard/requests", headers={"Connection": "close"}, timeout=5)
    assert counts(limited) == {"limit": LIMIT, "requests": {}, "refused": {}}
