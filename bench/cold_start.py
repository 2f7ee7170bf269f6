"""Cold start as it ships: what a new Lambda container pays before it answers a widget or a checkout.

It builds deployment.zip the way `make package` does (infra/aws/bundle.py: the pinned runtime,
bytecode, trimmed SDK and Babel) for this machine's CPU (the shipped arm64 zip differs only in its
compiled wheels; its size is printed too), unpacks it into a read-only directory, and starts a fresh
process of the runtime's interpreter (pyenv's python3.13) in it for every sample: `-I`, the
unpacked zip first on sys.path, nothing from the venv. Each sample times `import app` (the Lambda
entry point) and then the first response to one API Gateway event, a widget GET or a checkout POST,
and counts the botocore clients made. DynamoDB is a local moto server (infra/local/dynamodb_server.py)
on 127.0.0.1; neither route calls Stripe (a hold never waits on it).

The baseline is a minimal chalice + pynamodb app (one model; a widget route that reads its item, a
checkout route that takes a unit with a conditional update), packaged and run the same way. The
target: the first widget response (import + first answer) at most 1.3x the minimal app's, judged
without the time spent waiting for the stand-in DynamoDB (timed around botocore's HTTP send and
printed beside): moto on a busy machine answers in tens of milliseconds where DynamoDB answers in a
few, and tapcard's widget makes 5 calls (card, stock, reviews, the view count) to the baseline's 1.

Timing-sensitive: run it on a quiet machine.

    .venv/bin/python bench/cold_start.py [--runs 15]

The last line printed is JSON with every figure.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from expiry import MotoServer, free_port  # noqa: E402  (the local stack's DynamoDB, tables created)
from infra.aws import bundle  # noqa: E402

TABLE_PREFIX = "bench-cold-"
TARGET = 1.3

MINIMAL_APP = '''"""The baseline: chalice + pynamodb, nothing else."""
import os

from chalice import Chalice, Response
from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.models import Model


class Card(Model):
    class Meta:
        table_name = os.environ.get("TABLE_PREFIX", "minimal-") + "minimal_cards"
        region = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
        host = os.environ.get("DYNAMODB_ENDPOINT")

    card_id = UnicodeAttribute(hash_key=True)
    title = UnicodeAttribute()
    available = NumberAttribute()


app = Chalice(app_name="minimal")


@app.route("/cards/{card_id}/widget")
def widget(card_id):
    card = Card.get(card_id)
    return Response(body=f"<h1>{card.title}</h1><p>{card.available} left</p>",
                    headers={"Content-Type": "text/html; charset=utf-8"})


@app.route("/cards/{card_id}/checkout", methods=["POST"])
def checkout(card_id):
    Card(card_id).update(actions=[Card.available.add(-1)], condition=Card.available >= 1)
    return Response(body={"status": "held"}, status_code=201)
'''

# Runs in the fresh process: argv = the event (JSON). Prints the figures as JSON.
PROBE = r'''
import time
started, cpu_started = time.perf_counter(), time.process_time()
import json, sys
sys.path.insert(0, ".")
import app
imported = time.perf_counter()
import botocore.endpoint, botocore.session
made, waited = [], [0.0]
send = botocore.endpoint.Endpoint._send
def timed_send(self, request):  # the round trip to the stand-in: its speed is not the app's
    sent = time.perf_counter()
    try:
        return send(self, request)
    finally:
        waited[0] += time.perf_counter() - sent
botocore.endpoint.Endpoint._send = timed_send
create_client = botocore.session.Session.create_client
def counting(self, service_name, *args, **kwargs):
    made.append(service_name)
    return create_client(self, service_name, *args, **kwargs)
botocore.session.Session.create_client = counting

class Context:
    function_name = "bench-api_handler"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench-api_handler"
    aws_request_id = "bench"
    def get_remaining_time_in_millis(self):
        return 25_000

response = app.app(json.loads(sys.argv[1]), Context())
answered, cpu_answered = time.perf_counter(), time.process_time()
print(json.dumps({"cpu_ms": (cpu_answered - cpu_started) * 1000, "import_ms": (imported - started) * 1000, "first_response_ms": (answered - started) * 1000,
                  "aws_wait_ms": waited[0] * 1000, "status": response["statusCode"], "clients": made,
                  "from_zip": app.__file__.startswith(sys.path[0]) or not app.__file__.startswith("/")}))
'''


def event(method: str, resource: str, card_id: str, body: dict | None = None, source_ip: str = "192.0.2.1",
          headers: dict | None = None) -> dict:
    """An API Gateway (REST, proxy) event, as Lambda hands it to the handler."""
    path = resource.replace("{card_id}", card_id)
    headers = {"host": "tapcard.test", "accept-language": "en", **(headers or {})}
    return {
        "resource": resource, "path": path, "httpMethod": method, "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None, "multiValueQueryStringParameters": None,
        "pathParameters": {"card_id": card_id}, "stageVariables": None,
        "requestContext": {"resourcePath": resource, "httpMethod": method, "path": "/api" + path, "stage": "api",
                           "apiId": "bench", "requestId": "bench", "identity": {"sourceIp": source_ip}},
        "body": None if body is None else json.dumps(body), "isBase64Encoded": False,
    }


def minimal_project(directory: Path) -> Path:
    """The baseline as a chalice project: same runtime, architecture and pins of pynamodb and boto3."""
    (directory / ".chalice").mkdir(parents=True)
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    (directory / ".chalice" / "config.json").write_text(json.dumps({
        "version": "2.0", "app_name": "minimal", "lambda_python_version": config["lambda_python_version"],
        "lambda_architecture": config["lambda_architecture"], "stages": {"dev": {"api_gateway_stage": "api"}}}))
    pins = [line for line in (ROOT / "requirements.txt").read_text().splitlines()
            if line.startswith(("pynamodb==", "boto3=="))]
    (directory / "requirements.txt").write_text("\n".join(pins) + "\n")
    (directory / "app.py").write_text(MINIMAL_APP)
    return directory


def unpack_read_only(zip_path: Path, directory: Path) -> Path:
    with zipfile.ZipFile(zip_path) as package:
        package.extractall(directory)
    for path in sorted(directory.rglob("*"), reverse=True) + [directory]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    return directory


def unpacked_size(zip_path: Path) -> int:
    with zipfile.ZipFile(zip_path) as package:
        return sum(info.file_size for info in package.infolist())


def app_environment(endpoint: str) -> dict:
    """The prod stage's settings (from .chalice/config.json), secrets from the environment, DynamoDB local."""
    stage = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]["prod"]["environment_variables"]
    env = {k: v for k, v in stage.items() if k != "SECRETS_SSM_PATH"}
    env.update({
        "PATH": "/usr/bin:/bin", "TABLE_PREFIX": TABLE_PREFIX, "DYNAMODB_ENDPOINT": endpoint,
        "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
        "PUBLIC_BASE_URL": "http://tapcard.test", "STRIPE_PUBLISHABLE_KEY": "pk_test_bench",
        "STRIPE_SECRET_KEY": "sk_test_bench", "STRIPE_WEBHOOK_SECRET": "whsec_bench",
        "ORDER_TOKEN_SECRET": "bench-order-token-secret", "OPEN_HOLDS_WITHOUT_LIMIT": "1000000",
    })
    return env


def seed(endpoint: str) -> tuple[str, str]:
    """A live card of tapcard's (through its store) and the minimal app's item; returns their ids."""
    import boto3

    os.environ["DYNAMODB_ENDPOINT"] = endpoint  # before chalicelib is imported
    from chalicelib.domain import Card, shard_count_for
    from chalicelib.store import cards

    units = 100_000
    card = Card(card_id="card_" + uuid.uuid4().hex[:12], seller_id="seller_bench", title="Bench router",
                description="Wi-Fi 7", image_url="https://img.example/router.png", price_amount=9900,
                currency="CNY", stock=units, hold_seconds=600, shard_count=shard_count_for(units),
                created_at=int(time.time()))
    cards.create(card)
    dynamodb = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
    dynamodb.create_table(TableName=TABLE_PREFIX + "minimal_cards", BillingMode="PAY_PER_REQUEST",
                          AttributeDefinitions=[{"AttributeName": "card_id", "AttributeType": "S"}],
                          KeySchema=[{"AttributeName": "card_id", "KeyType": "HASH"}])
    dynamodb.put_item(TableName=TABLE_PREFIX + "minimal_cards",
                      Item={"card_id": {"S": card.card_id}, "title": {"S": "Bench router"}, "available": {"N": str(units)}})
    return card.card_id, card.card_id


def sample(python: str, directory: Path, env: dict, request: dict) -> dict:
    run = subprocess.run([python, "-I", "-c", PROBE, json.dumps(request)], cwd=directory, env=env,
                         capture_output=True, text=True, timeout=120)
    if run.returncode != 0:
        raise RuntimeError(f"the probe failed in {directory}:\n{run.stderr[-3000:]}")
    result = json.loads(run.stdout.strip().splitlines()[-1])
    if result["status"] not in (200, 201):
        raise RuntimeError(f"{request['httpMethod']} {request['path']} answered {result['status']}: {run.stdout[-2000:]}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    python = bundle.runtime_python(bundle.pinned_runtime("dev"))
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())

    with tempfile.TemporaryDirectory(prefix="cold-start-") as scratch:
        scratch = Path(scratch)
        print("building the packages (app and minimal app, for this CPU; the app for", config["lambda_architecture"], ")",
              file=sys.stderr)
        shipped = bundle.build("prod", scratch / "shipped")
        zips = {"app": bundle.build("prod", scratch / "app", arch="host"),
                "minimal": bundle.build("dev", scratch / "minimal-out", arch="host",
                                        project_dir=minimal_project(scratch / "minimal"))}
        dirs = {name: unpack_read_only(path, scratch / f"{name}-task") for name, path in zips.items()}
        try:
            os.environ.update({"TABLE_PREFIX": TABLE_PREFIX, "AWS_DEFAULT_REGION": "us-east-1",
                               "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"})
            with MotoServer(free_port()) as moto:
                tapcard_card, minimal_card = seed(moto.endpoint)
                env = app_environment(moto.endpoint)
                figures = measure(python, dirs, env, tapcard_card, minimal_card, args.runs)
        finally:
            for path in scratch.rglob("*"):  # writable again, so the temporary directory can go
                path.chmod(0o755 if path.is_dir() else 0o644)
        report(figures, shipped, zips, config, python, args.runs)


def measure(python, dirs, env, tapcard_card, minimal_card, runs) -> dict:
    probes = {
        ("app", "widget"): lambda i: event("GET", "/cards/{card_id}/widget", tapcard_card),
        ("app", "checkout"): lambda i: event("POST", "/cards/{card_id}/checkout", tapcard_card,
                                             {"quantity": 1, "buyer": f"bench-buyer-{i:06d}"}, f"198.51.100.{i % 250}",
                                             {"idempotency-key": f"bench-key-{uuid.uuid4().hex}",
                                              "content-type": "application/json"}),
        ("minimal", "widget"): lambda i: event("GET", "/cards/{card_id}/widget", minimal_card),
        ("minimal", "checkout"): lambda i: event("POST", "/cards/{card_id}/checkout", minimal_card),
    }
    for (name, _), make in probes.items():  # warm the OS file cache once
        sample(python, dirs[name], env, make(0))
    samples = {key: [] for key in probes}
    for i in range(1, runs + 1):  # interleaved, so a noisy moment hurts every figure alike
        for (name, route), make in probes.items():
            samples[(name, route)].append(sample(python, dirs[name], env, make(i)))
    return {f"{name}_{route}": {
        "import_ms": statistics.median(s["import_ms"] for s in values),
        "first_response_ms": statistics.median(s["first_response_ms"] for s in values),
        "own_ms": statistics.median(s["first_response_ms"] - s["aws_wait_ms"] for s in values),
        "aws_wait_ms": statistics.median(s["aws_wait_ms"] for s in values),
        "cpu_ms": statistics.median(s["cpu_ms"] for s in values),
        "clients": values[-1]["clients"],
    } for (name, route), values in samples.items()}


def report(figures: dict, shipped: Path, zips: dict, config: dict, python: str, runs: int) -> None:
    ratio = {route: figures[f"app_{route}"]["own_ms"] / figures[f"minimal_{route}"]["own_ms"]
             for route in ("widget", "checkout")}
    raw = {route: figures[f"app_{route}"]["first_response_ms"] / figures[f"minimal_{route}"]["first_response_ms"]
           for route in ("widget", "checkout")}
    import_ratio = figures["app_widget"]["import_ms"] / figures["minimal_widget"]["import_ms"]
    print(f"runtime {config['lambda_python_version']} ({python}), medians of {runs} fresh processes each, "
          f"read-only unpacked deployment.zip")
    print(f"{'':34}{'tapcard':>10}{'minimal':>10}{'ratio':>8}")
    print(f"{'import app (ms)':34}{figures['app_widget']['import_ms']:10.1f}{figures['minimal_widget']['import_ms']:10.1f}"
          f"{import_ratio:8.2f}")
    for route in ("widget", "checkout"):
        app, minimal = figures[f"app_{route}"], figures[f"minimal_{route}"]
        target = f"  (target <= {TARGET})" if route == "widget" else ""
        print(f"{'first ' + route + ' response (ms)':34}{app['first_response_ms']:10.1f}"
              f"{minimal['first_response_ms']:10.1f}{raw[route]:8.2f}")
        print(f"{'  of it waiting for DynamoDB (moto)':34}{app['aws_wait_ms']:10.1f}{minimal['aws_wait_ms']:10.1f}")
        print(f"{'  the rest: import + own work':34}{app['own_ms']:10.1f}{minimal['own_ms']:10.1f}{ratio[route]:8.2f}{target}")
        print(f"{'  CPU time of the process':34}{app['cpu_ms']:10.1f}{minimal['cpu_ms']:10.1f}"
              f"{app['cpu_ms'] / minimal['cpu_ms']:8.2f}")
        print(f"{'  botocore clients made':34}{len(app['clients']):10}{len(minimal['clients']):10}")
    sizes = {"shipped_zip_bytes": shipped.stat().st_size, "shipped_unpacked_bytes": unpacked_size(shipped),
             "minimal_zip_bytes": zips["minimal"].stat().st_size}
    print(f"deployment.zip ({config['lambda_architecture']}): {sizes['shipped_zip_bytes'] / 1e6:.1f} MB "
          f"({sizes['shipped_unpacked_bytes'] / 1e6:.1f} MB unpacked; target <= 20 MB); "
          f"the minimal app's: {sizes['minimal_zip_bytes'] / 1e6:.1f} MB")
    print(json.dumps({"runs": runs, "runtime": config["lambda_python_version"], **figures,
                      "widget_ratio": round(ratio["widget"], 3), "checkout_ratio": round(ratio["checkout"], 3),
                      "widget_ratio_with_moto_wait": round(raw["widget"], 3),
                      "checkout_ratio_with_moto_wait": round(raw["checkout"], 3),
                      "import_ratio": round(import_ratio, 3), **sizes,
                      "ok": ratio["widget"] <= TARGET and sizes["shipped_zip_bytes"] <= 20e6}))


if __name__ == "__main__":
    main()
