"""Flash-sale storm against the running local stack (`make run`), over HTTP.

N buyers tap a card of S units at concurrency C, each tap with its own Idempotency-Key and some
double taps. It prints, and writes as JSON: units held, oversold, wall time until the stock is all
held, taps per second, checkout latency percentiles, and DynamoDB requests per successful
checkout and per sold-out tap, counted at the moto server. Then it runs the same storm with one
shard and no sold-out short-circuit, and prints both side by side with their ratio.

    .venv/bin/python bench/flash_sale.py [--buyers 50000] [--stock 5000] [--concurrency 48]

With --stripe-rate R (the stack started with TAPCARD_STRIPE_RATE_LIMIT=R) it runs the sale at
Stripe's rate limit instead (bench/stripe_sale.py): the storm, then every holder pays, with the pay
call and with today's design (the PaymentIntent opened at the tap) side by side.

    .venv/bin/python bench/flash_sale.py --stripe-rate 25 [--buyers 8000] [--stock 5000]
        [--pay-concurrency 100] [--abandon 0.05] [--same-card 0.01] [--hold-seconds 900]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

import aiohttp
from tqdm import tqdm

from readers import Readers

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


class Storm:
    def __init__(self, dev: dict, run: str, card_id: str, stock: int):
        self.dev, self.run, self.card_id, self.stock = dev, run, card_id, stock
        self.latencies: list[float] = []
        self.statuses: dict[int, int] = {}
        self.orders: set[str] = set()
        self.double_tap_mismatches = 0
        self.successes = self.successes_when_all_held = 0
        self.sold_out_taps_after_settle = 0
        self.started = self.all_held_at = 0.0
        self.requests_at: dict[str, dict] = {}

    async def dynamodb_requests(self, session) -> dict:
        async with session.get(f"{self.dev['dynamodb_endpoint']}/_tapcard/requests") as response:
            counts = await response.json()
        return {k.split(":", 1)[1]: v for k, v in counts.items() if k.startswith("tapcard-api:")}

    async def tap(self, session, index: int) -> tuple[int, str | None, float]:
        body = {"quantity": 1, "buyer": f"buyer_{self.run}_{index:06d}"}
        headers = {"Idempotency-Key": f"bench-{self.run}-{index:06d}"}
        began = time.perf_counter()
        async with session.post(f"{self.dev['api_url']}/cards/{self.card_id}/checkout", json=body,
                                headers=headers) as response:
            payload = await response.json(content_type=None)
        latency = time.perf_counter() - began
        return response.status, payload.get("order_id"), latency

    async def settle_marker(self, session):
        """Counts at the moment the stock is all held, and one second later."""
        self.requests_at["all_held"] = await self.dynamodb_requests(session)
        self.all_held_at = time.perf_counter()
        self.successes_when_all_held = self.successes
        await asyncio.sleep(1.0)
        self.requests_at["settled"] = await self.dynamodb_requests(session)
        self.settled_at = time.perf_counter()

    async def go(self, buyers: int, concurrency: int, double_rate: float) -> dict:
        connector = aiohttp.TCPConnector(limit=concurrency, force_close=True)
        timeout = aiohttp.ClientTimeout(total=60)
        readers = Readers(self.stock, timeout)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            async with session.delete(f"{self.dev['dynamodb_endpoint']}/_tapcard/requests"):
                pass
            indices = iter(range(buyers))
            progress = tqdm(total=buyers, desc=f"storm {self.run}", unit="tap", file=sys.stderr)
            marker: list[asyncio.Task] = []
            self.started = time.perf_counter()

            async def worker():
                for index in indices:
                    taps = 2 if random.random() < double_rate else 1
                    first_order = None
                    for attempt in range(taps):
                        status, order_id, latency = await self.tap(readers.session(index), index)
                        self.latencies.append(latency)
                        self.statuses[status] = self.statuses.get(status, 0) + 1
                        if status == 201:
                            self.successes += 1
                            if attempt == 0:
                                first_order = order_id
                            elif order_id != first_order:
                                self.double_tap_mismatches += 1
                            self.orders.add(order_id)
                            if len(self.orders) == self.stock and not marker:
                                marker.append(asyncio.create_task(self.settle_marker(session)))
                        elif status == 409 and "settled" in self.requests_at:
                            self.sold_out_taps_after_settle += 1
                    progress.update(1)

            await asyncio.gather(*(worker() for _ in range(concurrency)))
            finished = time.perf_counter()
            progress.close()
            if marker:
                await marker[0]
            self.requests_at["end"] = await self.dynamodb_requests(session)
            async with session.get(f"{self.dev['api_url']}/cards/{self.card_id}") as response:
                card = await response.json()
        await readers.close()
        return self.figures(buyers, finished, card)

    def figures(self, buyers: int, finished: float, card: dict) -> dict:
        total = lambda counts: sum(counts.values())  # noqa: E731
        held_phase = total(self.requests_at.get("all_held", self.requests_at["end"]))
        after_settle = total(self.requests_at["end"]) - total(self.requests_at.get("settled", self.requests_at["end"]))
        cuts = statistics.quantiles(self.latencies, n=100)
        return {
            "buyers": buyers,
            "taps": len(self.latencies),
            "stock": self.stock,
            "units_held": len(self.orders),
            "oversold": max(0, len(self.orders) - self.stock),
            "card_stock_after": card["stock"],
            "double_taps_that_made_another_order": self.double_tap_mismatches,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "seconds_until_all_held": round(self.all_held_at - self.started, 2) if self.all_held_at else None,
            "seconds_total": round(finished - self.started, 2),
            "taps_per_second": round(len(self.latencies) / (finished - self.started), 1),
            "latency_ms": {"p50": round(cuts[49] * 1000, 1), "p95": round(cuts[94] * 1000, 1),
                           "p99": round(cuts[98] * 1000, 1)},
            # Every 201 until the stock was all held, double taps answered with their order included.
            "dynamodb_requests_per_successful_checkout":
                round(held_phase / max(1, self.successes_when_all_held or self.successes), 2),
            "dynamodb_requests_per_sold_out_tap_after_first_second":
                round(after_settle / self.sold_out_taps_after_settle, 4) if self.sold_out_taps_after_settle else None,
            "sold_out_taps_after_first_second": self.sold_out_taps_after_settle,
            "dynamodb_requests_by_operation": self.requests_at["end"],
        }


def api_call(dev: dict, method: str, path: str, body: dict, auth: bool = False) -> dict:
    import urllib.request

    headers = {"Content-Type": "application/json", "Connection": "close"}
    if auth:
        headers["Authorization"] = f"Bearer {dev['seller_api_key']}"
    request = urllib.request.Request(dev["api_url"] + path, data=json.dumps(body).encode(), method=method,
                                     headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def audit(dev: dict, card_id: str) -> dict:
    import ops

    ops.use_local_stack()
    from chalicelib import audit as audit_module

    report = audit_module.run(card_id)
    return {"clean": report.clean, "problems": report.problems[:5]}


def run_storm(dev: dict, name: str, args, shards: int | None, stock_cache_seconds: float) -> dict:
    api_call(dev, "PUT", "/dev/settings", {"stock_cache_seconds": stock_cache_seconds})
    card_body = {"title": f"Bench router {name}", "image_url": "https://img.example/router.png",
                 "price": {"amount": 9900, "currency": "CNY"}, "stock": args.stock, "hold_seconds": 3600}
    if shards:
        card_body["shards"] = shards
    card = api_call(dev, "POST", "/api/cards", card_body, auth=True)
    storm = Storm(dev, name, card["id"], args.stock)
    result = asyncio.run(storm.go(args.buyers, args.concurrency, args.double_taps))
    result["shards"] = shards or "auto"
    result["stock_cache_seconds"] = stock_cache_seconds
    result["audit"] = audit(dev, card["id"])
    return result


def side_by_side(fast: dict, slow: dict) -> str:
    rows = [
        ("units held", "units_held"), ("oversold", "oversold"),
        ("s until all held", "seconds_until_all_held"), ("taps/s", "taps_per_second"),
        ("p50 ms", ("latency_ms", "p50")), ("p95 ms", ("latency_ms", "p95")), ("p99 ms", ("latency_ms", "p99")),
        ("DynamoDB req / checkout", "dynamodb_requests_per_successful_checkout"),
        ("DynamoDB req / sold-out tap (after 1 s)", "dynamodb_requests_per_sold_out_tap_after_first_second"),
    ]
    lines = [f"{'':42}{'sharded + short-circuit':>24}{'1 shard, no cache':>20}{'ratio':>10}"]
    for label, key in rows:
        a = fast[key[0]][key[1]] if isinstance(key, tuple) else fast[key]
        b = slow[key[0]][key[1]] if isinstance(key, tuple) else slow[key]
        ratio = f"{a / b:.2f}" if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b else "-"
        lines.append(f"{label:42}{str(a):>24}{str(b):>20}{ratio:>10}")
    return "\n".join(lines)


def stripe_sale_main(args, dev: dict) -> int:
    import stripe_sale

    if float(dev.get("stripe_rate_limit") or 0) != args.stripe_rate:
        print(f"The local stack runs with a Stripe limit of {dev.get('stripe_rate_limit') or 0:g} requests/s, "
              f"not {args.stripe_rate:g}. Restart it with:\n\n    TAPCARD_STRIPE_RATE_LIMIT={args.stripe_rate:g} make run",
              file=sys.stderr)
        return 2
    args.buyers = args.buyers or 8_000
    args.json = args.json or str(ROOT / "bench" / "results" / "flash_sale_stripe.json")
    began = time.perf_counter()
    results = stripe_sale.main(args, dev)
    results["wall_seconds"] = round(time.perf_counter() - began, 1)
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    print("\n" + stripe_sale.side_by_side(results["pay_call"], results["today"]))
    print(f"\nwall time {results['wall_seconds']:.0f} s; written to {args.json}")
    return 0 if all(results[k]["oversold"] == 0 and results[k]["audit"]["clean"] for k in ("pay_call", "today")) else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--buyers", type=int, help="default 50,000 (8,000 with --stripe-rate)")
    parser.add_argument("--stock", type=int, default=5_000)
    parser.add_argument("--concurrency", type=int, default=48)
    parser.add_argument("--double-taps", type=float, default=0.05, help="share of buyers who tap twice")
    parser.add_argument("--no-compare", action="store_true", help="skip the one-shard, no-cache run")
    stripe = parser.add_argument_group("the sale at Stripe's rate limit")
    stripe.add_argument("--stripe-rate", type=float, help="requests/s the stack's Stripe takes; runs that sale")
    stripe.add_argument("--pay-concurrency", type=int, default=100)
    stripe.add_argument("--abandon", type=float, default=0.05, help="share of holders who never pay")
    stripe.add_argument("--same-card", type=float, default=0.01, help="share of payers with a card another payer used")
    stripe.add_argument("--hold-seconds", type=int, default=900)
    stripe.add_argument("--abandoned-holds", type=int, default=100, help="holds in the abandoned-holds phase")
    stripe.add_argument("--settle-timeout", type=float, default=60.0,
                        help="seconds without a settlement, once all have paid, before giving up on the rest")
    parser.add_argument("--json", help="default bench/results/flash_sale.json (flash_sale_stripe.json with --stripe-rate)")
    parser.add_argument("--dev-json", default=os.environ.get("TAPCARD_DEV_JSON", str(ROOT / ".tapcard-dev.json")))
    args = parser.parse_args()
    os.environ["TAPCARD_DEV_JSON"] = args.dev_json  # for audit()
    dev = json.loads(Path(args.dev_json).read_text())
    if args.stripe_rate is not None:
        return stripe_sale_main(args, dev)
    args.buyers = args.buyers or 50_000
    args.json = args.json or str(ROOT / "bench" / "results" / "flash_sale.json")

    results = {"sharded_short_circuit": run_storm(dev, "fast", args, None, 1.0)}
    if not args.no_compare:
        results["one_shard_no_cache"] = run_storm(dev, "slow", args, 1, 0.0)
    api_call(dev, "PUT", "/dev/settings", {"stock_cache_seconds": 1.0})

    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    for name, result in results.items():
        print(f"\n{name}: " + json.dumps({k: v for k, v in result.items() if k != "dynamodb_requests_by_operation"}))
    if "one_shard_no_cache" in results:
        print("\n" + side_by_side(results["sharded_short_circuit"], results["one_shard_no_cache"]))
    print(f"\nwritten to {args.json}")
    return 0 if all(r["oversold"] == 0 and r["audit"]["clean"] for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
