"""What a tap costs on Lambda: the app's own CPU time per sold-out tap, per hold, per payment
webhook and per stream record, and what 1,000,000 taps of a flash sale come to.

In one process, through the Lambda handlers as Lambda calls them (API Gateway events into
app.app, a DynamoDB Streams event into app.on_order_change), with DynamoDB answered by moto's
in-process mock and Stripe by the tests' fake (tests/fakes.py; the webhook's signature is still
verified by the real SDK). The time the stand-ins take is measured around them (moto's botocore
hook, each fake Stripe call) and taken out: what is left is tapcard's code, botocore's request
building and response parsing included. Beside it, the same figure for the minimal chalice +
pynamodb app of bench/cold_start.py answering its one-GetItem route.

The cost: Lambda bills wall time, so a tap's billed duration is its CPU time stretched to the
function's CPU share (memory / 1769 MB is the share of one vCPU, AWS's documented point of a full
vCPU) plus the time it waits for DynamoDB (DYNAMODB_MS a call, an in-region figure, assumed),
rounded up to the millisecond, at the memory and architecture of .chalice/config.json's prod stage.
It assumes a Graviton core runs this code as fast as this machine's; measure on Lambda to be sure.

    .venv/bin/python bench/lambda_cost.py [--taps 300]

The last line printed is JSON with every figure.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "tests", ROOT / "bench"):
    sys.path.insert(0, str(path))

# Prices, US East (N. Virginia), from https://aws.amazon.com/lambda/pricing/ (read 2025-12; the
# first tier of duration pricing, which a flash sale never leaves).
PRICE_PER_REQUEST = 0.20 / 1_000_000
PRICE_PER_GB_SECOND = {"arm64": 0.0000133334, "x86_64": 0.0000166667}
# For scale, not Lambda: API Gateway REST APIs, $3.50 per million requests (first 333 million,
# https://aws.amazon.com/api-gateway/pricing/, read 2025-12), which every tap and webhook also is.
API_GATEWAY_PER_REQUEST = 3.50 / 1_000_000
FULL_VCPU_MB = 1769
DYNAMODB_MS = 4.0  # an in-region GetItem/UpdateItem round trip, assumed

# The flash sale: a million taps at a card of 10,000 units. Each unit sold is one hold, one payment
# webhook and two order stream records (the hold's insert, its change to paid); the rest are sold out.
TAPS, UNITS = 1_000_000, 10_000
THREE_D_SECURE = "ctoken_bench_3ds"  # a confirmation token the fake Stripe answers with requires_action

os.environ.update({
    "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled", "TABLE_PREFIX": "cost-", "TAPCARD_STAGE": "prod",
    "PAYMENT_SHEET": "stripe", "PUBLIC_BASE_URL": "http://tapcard.test", "STRIPE_WEBHOOK_SECRET": "whsec_test_secret",
    "ORDER_TOKEN_SECRET": "bench-order-token-secret", "OPEN_HOLDS_WITHOUT_LIMIT": "1000000",
})
for name in ("DYNAMODB_ENDPOINT", "STRIPE_API_BASE", "AWS_LAMBDA_FUNCTION_NAME", "SECRETS_SSM_PATH"):
    os.environ.pop(name, None)


class StandIns:
    """CPU time spent inside the stand-ins (moto, the fake Stripe), and the AWS calls they answered."""

    def __init__(self):
        self.cpu, self.aws_calls = 0.0, 0

    def timed(self, function, counts_as_aws=False):
        stand_ins = self

        def wrapper(*args, **kwargs):
            started = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                stand_ins.cpu += time.process_time() - started
                stand_ins.aws_calls += counts_as_aws

        return wrapper


class Context:
    function_name = "tapcard-prod-api_handler"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:tapcard-prod-api_handler"
    aws_request_id = "cost"

    def get_remaining_time_in_millis(self):
        return 25_000


def measure(stand_ins: StandIns, calls: list) -> dict:
    """Own CPU ms and AWS calls per call of each callable in calls (each checked by its own assert)."""
    cpu_before, stand_in_before, aws_before = time.process_time(), stand_ins.cpu, stand_ins.aws_calls
    for call in calls:
        call()
    own = (time.process_time() - cpu_before) - (stand_ins.cpu - stand_in_before)
    return {"cpu_ms": own * 1000 / len(calls), "aws_calls": (stand_ins.aws_calls - aws_before) / len(calls)}


def stream_event(order) -> dict:
    """The saved DynamoDB Streams event of an order turning paid (tests/events/), about this order."""
    import fakes

    event = fakes.load_event("orders_stream_paid.json")
    [record] = event["Records"]
    change = record["dynamodb"]
    change["Keys"]["order_id"]["S"] = order.order_id
    for image in ("NewImage", "OldImage"):
        change[image].update(order_id={"S": order.order_id}, card_id={"S": order.card_id},
                             seller_id={"S": order.seller_id})
    return event


def billed_ms(figure: dict, memory_mb: int) -> int:
    share = min(1.0, memory_mb / FULL_VCPU_MB)
    return math.ceil(figure["cpu_ms"] / share + figure["aws_calls"] * DYNAMODB_MS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--taps", type=int, default=300, help="calls measured of each kind")
    args = parser.parse_args()
    n = args.taps

    import boto3
    import pytest
    from moto import mock_aws
    from moto.core.botocore_stubber import BotocoreStubber

    import fakes
    from cold_start import MINIMAL_APP, event
    from infra.tables import create_all

    stand_ins = StandIns()
    patch = pytest.MonkeyPatch()
    patch.setattr(BotocoreStubber, "__call__", stand_ins.timed(BotocoreStubber.__call__, counts_as_aws=True))
    fake_stripe = fakes.FakeStripe()
    fake_stripe.outcomes[THREE_D_SECURE] = "requires_action"  # paid once the webhook says so
    for name in ("pay", "payer_identities_of", "payer_identities", "retrieve_paid", "cancel_payment_intent",
                 "refund", "create_payment_intent"):
        patch.setattr(fake_stripe, name, stand_ins.timed(getattr(fake_stripe, name)))
    fake_stripe.install(patch)

    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    prod = config["stages"]["prod"]["lambda_functions"]
    arch = config["stages"]["prod"].get("lambda_architecture", config["lambda_architecture"])

    sys.stdout = open(os.devnull, "w")  # the app's log lines: formatted (their CPU counts), not shown
    with mock_aws(), tempfile.TemporaryDirectory() as scratch:
        from chalicelib import checkout, config as app_config
        from chalicelib.domain import Card, shard_count_for
        from chalicelib.store import cards, orders

        create_all(boto3.client("dynamodb", region_name="us-east-1"), app_config.TABLE_PREFIX)
        import app as tapcard

        def new_card(units: int) -> Card:
            card = Card(card_id="card_" + uuid.uuid4().hex[:12], seller_id="seller_cost", title="Router",
                        description="", image_url="https://img.example/router.png", price_amount=1800,
                        currency="EUR", stock=units, hold_seconds=600, shard_count=shard_count_for(units),
                        created_at=int(time.time()))
            cards.create(card)
            return card

        counter = iter(range(10**9))

        def tap(card: Card, expect: int):
            i = next(counter)
            request = event("POST", "/cards/{card_id}/checkout", card.card_id,
                            {"quantity": 1, "buyer": f"cost-buyer-{i:08d}"}, f"198.51.{i // 250 % 250}.{i % 250}",
                            {"idempotency-key": f"cost-key-{i:08d}", "content-type": "application/json"})
            response = tapcard.app(request, Context())
            assert response["statusCode"] == expect, response
            return json.loads(response["body"])

        sold_out, live = new_card(1), new_card(100_000)
        tap(sold_out, 201)
        tap(sold_out, 409), tap(live, 201)  # first calls: imports and clients, not what a warm tap costs
        figures = {
            "sold_out_tap": measure(stand_ins, [lambda: tap(sold_out, 409)] * n),
            "hold": measure(stand_ins, [lambda: tap(live, 201)] * n),
        }

        held = []  # orders whose payment Stripe has yet to confirm: the webhook settles them
        for _ in range(n + 1):
            order = tap(live, 201)
            checkout.pay(order["order_id"], order["order_token"], {"confirmation_token": THREE_D_SECURE})
            held.append(orders.get(order["order_id"]))

        def webhook(order):
            body, headers = fakes.signed_webhook(
                fakes.stripe_event("payment_intent.succeeded", order.payment_intent_id, order.order_id))
            request = event("POST", "/webhooks/stripe", "", None, headers={**headers, "content-type": "application/json"})
            request.update(path="/webhooks/stripe", resource="/webhooks/stripe", pathParameters=None, body=body)
            response = tapcard.app(request, Context())
            assert response["statusCode"] == 200, response

        webhook(held.pop())
        figures["payment_webhook"] = measure(stand_ins, [lambda o=o: webhook(o) for o in held])

        def record(order):
            answer = tapcard.on_order_change(stream_event(orders.get(order.order_id)),
                                             Context())
            assert not (answer or {}).get("batchItemFailures"), answer

        paid = held
        record(paid[0])
        figures["stream_record"] = measure(stand_ins, [lambda o=o: record(o) for o in paid[1:]])

        minimal_path = Path(scratch) / "minimal_app.py"
        minimal_path.write_text(MINIMAL_APP)
        sys.path.insert(0, scratch)
        import minimal_app

        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        minimal_app.Card.create_table(billing_mode="PAY_PER_REQUEST", wait=False)
        dynamodb.put_item(TableName=minimal_app.Card.Meta.table_name,
                          Item={"card_id": {"S": "card_min"}, "title": {"S": "Router"}, "available": {"N": "5"}})

        def trivial():
            response = minimal_app.app(event("GET", "/cards/{card_id}/widget", "card_min"), Context())
            assert response["statusCode"] == 200, response

        trivial()
        figures["minimal_trivial_route"] = measure(stand_ins, [trivial] * n)
    patch.undo()
    sys.stdout = sys.__stdout__
    report(figures, prod, arch, n)


def report(figures: dict, functions: dict, arch: str, n: int) -> None:
    api_mb, stream_mb = functions["api_handler"]["lambda_memory_size"], functions["on_order_change"]["lambda_memory_size"]
    memory = {"sold_out_tap": api_mb, "hold": api_mb, "payment_webhook": api_mb, "stream_record": stream_mb,
              "minimal_trivial_route": api_mb}
    per_sale = {"sold_out_tap": TAPS - UNITS, "hold": UNITS, "payment_webhook": UNITS, "stream_record": 2 * UNITS}
    print(f"own CPU per call (means of {n}), DynamoDB and Stripe answered by in-process stand-ins (their time taken out)")
    print(f"{'':28}{'CPU ms':>8}{'AWS calls':>11}{'memory':>8}{'billed ms':>11}{'per 1M ($)':>12}")
    cost = {}
    for name, figure in figures.items():
        billed = billed_ms(figure, memory[name])
        per_million = 1_000_000 * (PRICE_PER_REQUEST + billed / 1000 * memory[name] / 1024 * PRICE_PER_GB_SECOND[arch])
        cost[name] = {"billed_ms": billed, "usd_per_million": round(per_million, 2)}
        print(f"{name.replace('_', ' '):28}{figure['cpu_ms']:8.2f}{figure['aws_calls']:11.1f}{memory[name]:6} MB"
              f"{billed:11}{per_million:12.2f}")
    total = sum(per_sale[name] * cost[name]["usd_per_million"] / 1_000_000 for name in per_sale)
    print(f"a flash sale of {TAPS:,} taps at {UNITS:,} units ({arch}; {TAPS - UNITS:,} sold out, {UNITS:,} holds, "
          f"webhooks and 2 stream records each): ${total:.2f} of Lambda "
          f"(requests ${PRICE_PER_REQUEST * 1e6:.2f}/M, {arch} ${PRICE_PER_GB_SECOND[arch]}/GB-s, "
          f"DynamoDB {DYNAMODB_MS} ms a call assumed)")
    api_gateway = (TAPS + UNITS) * API_GATEWAY_PER_REQUEST
    print(f"for scale: API Gateway's price for the same requests (REST, $3.50/M): ${api_gateway:.2f}")
    print(json.dumps({"runs": n, "architecture": arch, "figures": figures, "cost": cost,
                      "flash_sale": {"taps": TAPS, "units": UNITS, "lambda_usd": round(total, 2),
                                     "api_gateway_usd": round(api_gateway, 2)}}))


if __name__ == "__main__":
    main()
