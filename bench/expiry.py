"""Expiry at a flash sale's scale: N holds expire at once; how long until all are back on sale, with
the sweep at AWS's cadence (one run a minute, each run a Lambda of 55 s).

For each N it starts a fresh moto server (infra/local/dynamodb_server.py, the local stack's
DynamoDB) with the tables, makes a card of N units and N held orders through the store (8 threads;
one unit per buyer, the card's per-buyer limit 2, so each release also uncounts a buyer), all
ended a minute ago. Then it calls the sweep's Lambda handler, app.sweep_expired_holds, with a
Lambda context of 55 s, run after run, until the card's units are all available again. It prints,
and writes as JSON (bench/results/expiry.json): sweep runs needed, seconds of sweep work per run,
seconds until all N are back on sale ((runs - 1) x 60 + the last run's seconds), the sweep's CPU
seconds (in this process; the moto server is another), its DynamoDB requests, and the audit.
--old N runs the sweep as it was before (at most 100 holds per index shard a run, a transaction
per order) for contrast.

    .venv/bin/python bench/expiry.py [--holds 1000 5000 10000] [--old 10000]   # about 7 minutes
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LAMBDA_SECONDS = 55  # sweep_expired_holds' lambda_timeout in .chalice/config.json
INTERVAL_SECONDS = 60  # the schedule: rate(1 minute)
MAX_RUNS = 40
APP_ID = "tapcard-bench-expiry"  # how the moto server tells this process's requests apart
SCHEDULED_EVENT = {
    "version": "0", "id": "bench", "detail-type": "Scheduled Event", "source": "aws.events",
    "account": "000000000000", "time": "", "region": "us-east-1", "resources": [], "detail": {},
}


class LambdaContext:
    """What the sweep reads of Lambda's context: the time left before the timeout."""

    def __init__(self, seconds: float):
        self.ends = time.monotonic() + seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.ends - time.monotonic()) * 1000))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def use_endpoint(endpoint: str) -> None:
    """The dev stage's settings against this moto server; set before chalicelib is imported."""
    stage = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]["dev"]
    os.environ.update(stage["environment_variables"])
    os.environ.update({"DYNAMODB_ENDPOINT": endpoint, "AWS_DEFAULT_REGION": "us-east-1",
                       "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
                       "AWS_SDK_UA_APP_ID": APP_ID, "STRIPE_RATE_LIMIT": "0"})
    os.environ.pop("AWS_LAMBDA_FUNCTION_NAME", None)


class MotoServer:
    """A fresh moto server with every tapcard table, for one measurement (a new server each time:
    moto's queries slow down with the table's size, DynamoDB's do not)."""

    def __init__(self, port: int):
        self.port, self.endpoint = port, f"http://127.0.0.1:{port}"

    def __enter__(self) -> "MotoServer":
        import boto3

        from infra.tables import create_all

        self.process = subprocess.Popen([sys.executable, "infra/local/dynamodb_server.py", "--port", str(self.port)],
                                        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError("the moto server did not start") from None
                time.sleep(0.2)
        create_all(boto3.client("dynamodb", endpoint_url=self.endpoint), os.environ["TABLE_PREFIX"])
        return self

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)

    def requests(self, method: str = "GET") -> dict:
        request = urllib.request.Request(f"{self.endpoint}/_tapcard/requests", method=method)
        with urllib.request.urlopen(request, timeout=10) as response:
            counts = json.loads(response.read())
        return {key.split(":", 1)[1]: n for key, n in sorted(counts.items()) if key.startswith(APP_ID + ":")}


def new_card(units: int):
    from chalicelib.domain import Card, shard_count_for
    from chalicelib.store import cards

    card = Card(card_id="card_" + uuid.uuid4().hex[:12], seller_id="seller_bench", title="Bench router",
                description="", image_url="https://img.example/router.png", price_amount=9900, currency="CNY",
                stock=units, limit_per_buyer=2, hold_seconds=600, shard_count=shard_count_for(units),
                created_at=int(time.time()))
    cards.create(card)
    return card


def abandon(card, count: int) -> float:
    """count holds of one unit, each by another buyer, all ended a minute ago; seconds taken."""
    from chalicelib.domain import HELD, Order, order_id_for
    from chalicelib.store import orders

    ended, began = int(time.time()) - 60, time.perf_counter()

    def tap(n: int) -> None:
        buyer = f"buyer-{n:06d}"
        orders.hold(card, Order(order_id=order_id_for(card.card_id, buyer, f"bench-{n}"), card_id=card.card_id,
                                seller_id=card.seller_id, buyer=buyer, quantity=1, amount=card.price_amount,
                                currency=card.currency, status=HELD, created_at=ended - 600, expires_at=ended))

    # Powertools prints each full set of 100 "holds" counts as an EMF line, even off Lambda: not figures.
    with ThreadPoolExecutor(8) as pool, contextlib.redirect_stdout(io.StringIO()):
        list(tqdm(pool.map(tap, range(count)), total=count, desc=f"{count} holds", unit="hold", file=sys.stderr,
                  mininterval=2))
    return time.perf_counter() - began


def sweep_before(at: int) -> int:
    """The sweep before issue 13, for contrast: at most 100 holds per index shard a run, each
    read, then released in a transaction of its own."""
    from chalicelib import config
    from chalicelib.domain import EXPIRED, HELD
    from chalicelib.store import orders
    from chalicelib.store.order_models import OrderModel

    expired = 0
    for shard in range(config.HOLD_SHARDS):
        for item in OrderModel.held_by_expiry.query(f"h{shard}", OrderModel.hold_expires_at <= at, limit=100):
            order = orders.get(item.order_id)
            if order and order.status == HELD:
                orders.release(order, EXPIRED, "hold_expired")
                expired += 1
    return expired


def measure(server: MotoServer, holds: int, before: bool) -> dict:
    import app
    from chalicelib import audit

    card = new_card(holds)
    setup_seconds = abandon(card, holds)
    server.requests("DELETE")
    runs: list[dict] = []
    cpu_began = time.process_time()
    while len(runs) < MAX_RUNS:
        began = time.perf_counter()
        if before:
            expired = sweep_before(int(time.time()))
        else:
            expired = app.sweep_expired_holds(SCHEDULED_EVENT, LambdaContext(LAMBDA_SECONDS))["expired"]
        runs.append({"expired": expired, "seconds": round(time.perf_counter() - began, 2)})
        print(f"  run {len(runs)}: {expired} released in {runs[-1]['seconds']} s", file=sys.stderr)
        if sum(run["expired"] for run in runs) >= holds:
            break  # the audit below checks the card's stock
    cpu_seconds = time.process_time() - cpu_began
    requests = server.requests()
    report = audit.run(card.card_id)
    last, longest = runs[-1]["seconds"], max(run["seconds"] for run in runs)
    return {
        "sweep": "before: 100 per index shard, a transaction per order" if before else "batched, to a deadline",
        "holds": holds,
        "released": sum(run["expired"] for run in runs),
        "runs": len(runs),
        "seconds_per_run": [run["seconds"] for run in runs],
        "released_per_run": [run["expired"] for run in runs],
        "seconds_until_all_back_on_sale": round((len(runs) - 1) * INTERVAL_SECONDS + last, 1),
        "longest_run_within_lambda_timeout": longest < LAMBDA_SECONDS,
        "sweep_cpu_seconds": round(cpu_seconds, 2),
        "dynamodb_requests": requests,
        "holds_setup_seconds": round(setup_seconds, 1),
        "stock_after": {"available": report.available, "held": report.held, "sold": report.sold},
        "audit": {"clean": report.clean, "problems": report.problems[:5]},
    }


def table(results: list[dict]) -> str:
    lines = [f"{'sweep':8}{'holds':>8}{'runs':>6}{'s/run (longest)':>17}{'s until all on sale':>21}"
             f"{'CPU s':>8}{'transactions':>14}{'audit':>7}"]
    for r in results:
        name = "before" if r["sweep"].startswith("before") else "batched"
        transactions = r["dynamodb_requests"].get("TransactWriteItems", 0)
        lines.append(f"{name:8}{r['holds']:>8,}{r['runs']:>6}{max(r['seconds_per_run']):>17.2f}"
                     f"{r['seconds_until_all_back_on_sale']:>21,.1f}{r['sweep_cpu_seconds']:>8.1f}"
                     f"{transactions:>14,}{'clean' if r['audit']['clean'] else 'DIRTY':>7}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--holds", type=int, nargs="+", default=[1_000, 5_000, 10_000],
                        help="N: holds that expire at once, one measurement each")
    parser.add_argument("--old", type=int, nargs="*", default=[10_000],
                        help="N for the sweep as it was before, for contrast (--old alone: none)")
    parser.add_argument("--json", default=str(ROOT / "bench" / "results" / "expiry.json"))
    args = parser.parse_args()
    port = free_port()
    use_endpoint(f"http://127.0.0.1:{port}")

    began, results = time.perf_counter(), []
    load_before = [round(load, 2) for load in os.getloadavg()]  # the figures are only as quiet as the machine
    for holds, before in [(n, False) for n in args.holds] + [(n, True) for n in args.old]:
        print(f"{'before' if before else 'batched'}: {holds} holds expire at once", file=sys.stderr)
        with MotoServer(port) as server:
            results.append(measure(server, holds, before))
        print(json.dumps({k: v for k, v in results[-1].items() if k != "dynamodb_requests"}))
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps({"interval_seconds": INTERVAL_SECONDS, "lambda_seconds": LAMBDA_SECONDS,
                                           "wall_seconds": round(time.perf_counter() - began, 1),
                                           "load_average_before": load_before, "results": results}, indent=2) + "\n")
    print("\n" + table(results))
    print(f"\nwall time {time.perf_counter() - began:.0f} s; written to {args.json}")
    return 0 if all(r["audit"]["clean"] and r["released"] == r["holds"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
