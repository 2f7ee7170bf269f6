"""On Lambda, every invocation publishes its counters as one EMF line CloudWatch turns into
metrics, and log lines written while an order is handled carry its id as correlation id."""
import io
import json
import logging
import time

import pytest

from chalicelib import observability, payment_events
from chalicelib.store import orders
from fakes import signed_webhook, stripe_event
from fixtures import pay_order, request_checkout


@pytest.fixture
def on_lambda(monkeypatch):
    observability.end_invocation()  # what earlier tests counted outside an invocation is dropped
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "tapcard-dev-APIHandler-1A2B3C")


def published(capsys) -> dict[str, float]:
    """Counter name -> total, from the EMF lines printed since the last call."""
    totals = {}
    for line in capsys.readouterr().out.splitlines():
        if '"_aws"' not in line:
            continue
        emf = json.loads(line)
        assert emf["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "tapcard"
        for metric in emf["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
            values = emf[metric["Name"]]
            totals[metric["Name"]] = totals.get(metric["Name"], 0) + sum(values if isinstance(values, list) else [values])
    return totals


@pytest.fixture
def app_log():
    """What the app logs through Powertools, as parsed JSON lines."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(observability.logger().registered_formatter)
    logging.getLogger(observability.SERVICE).addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logging.getLogger(observability.SERVICE).removeHandler(handler)


def test_a_hold_and_a_sold_out_tap_are_counted_per_invocation(on_lambda, client, make_card, fake_stripe, capsys):
    card = make_card(stock=1)
    capsys.readouterr()
    assert request_checkout(client, card.card_id, buyer="buyer-token-0001", key="tap-key-0001").status_code == 201
    assert published(capsys) == {"holds": 1}
    assert request_checkout(client, card.card_id, buyer="buyer-token-0002", key="tap-key-0002").status_code == 409
    assert published(capsys) == {"sold_out_taps": 1}


def test_a_payment_is_counted_and_logged_with_the_order_id(on_lambda, client, make_card, fake_stripe, capsys, app_log):
    card = make_card(stock=3)
    order = json.loads(request_checkout(client, card.card_id).body)
    capsys.readouterr()
    assert json.loads(pay_order(client, order).body)["status"] == "succeeded"
    assert published(capsys) == {"paid": 1}
    intent = orders.get(order["order_id"]).payment_intent_id
    body, headers = signed_webhook(stripe_event("payment_intent.succeeded", intent, order["order_id"]))
    assert client.http.post("/webhooks/stripe", headers=headers, body=body).status_code == 200
    assert published(capsys) == {}  # the pay call counted it; its webhook changes nothing
    [line] = [entry for entry in app_log() if entry["message"].startswith("stripe event")]
    assert line["correlation_id"] == order["order_id"]
    assert line["level"] == "INFO"


def test_the_sweeper_counts_the_holds_it_expired(on_lambda, make_card, buy, capsys):
    card = make_card(stock=2, hold_seconds=60)
    buy(card)
    assert payment_events.expire_holds(at=int(time.time()) + 61) == 1
    observability.end_invocation()
    assert published(capsys)["expired_holds"] == 1


def test_off_lambda_counters_are_dropped_quietly(make_card, buy, capsys, monkeypatch):
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    buy(make_card(stock=2))
    observability.end_invocation()
    assert published(capsys) == {}


def test_an_unknown_counter_is_a_programming_error():
    with pytest.raises(ValueError):
        observability.count("hols")
