"""Starts the whole local stack, seeds a demo, and stops every child on Ctrl-C.

moto server (DynamoDB + Streams) → tables → localstripe + its webhook → the API (chalice local)
→ demo seller, card and share webhook → demo blog + share receiver, stream poller, hold sweeper.
Ports come from TAPCARD_API_PORT, TAPCARD_MOTO_PORT, TAPCARD_STRIPE_PORT, TAPCARD_BLOG_PORT,
TAPCARD_SOCIAL_PORT (the Mastodon and Bluesky stand-ins), TAPCARD_MAIL_PORT (the captured mail:
every process appends what it sends to one file, MAIL_CAPTURE_FILE, served at mail_url).
TAPCARD_STRIPE_RATE_LIMIT (requests per second, default 0 = off) puts localstripe at Stripe's rate limit and gives the API, stream and sweeper
the same STRIPE_RATE_LIMIT.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import tempfile
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from infra.tables import create_all, table_name  # noqa: E402

DEMO_CARD = {
    "title": "Tapcard Demo Mug",
    "description": "A 350 ml stoneware mug, glazed by hand. Small batch for readers of this blog.",
    "price": {"amount": 1800, "currency": "EUR"},
    "stock": 50,
    "limit_per_buyer": 2,
    "hold_seconds": 600,
    "share_text": "{buyer} just got the {title} for {price}. Only {left} left: {link}",
}


def _port(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _http(method: str, url: str, body: dict | None = None, headers: dict | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={
        "Content-Type": "application/json", "Connection": "close", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw.strip() else {}
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def _wait_for(url: str, timeout: float = 60.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status < 500:
                    return
        except urllib.error.HTTPError as error:
            if error.code < 500:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f}s")


class Stack:
    def __init__(self):
        self.children: list[tuple[str, subprocess.Popen]] = []
        self.stopping = False

    def start(self, name: str, args: list[str], env: dict) -> None:
        # Children ignore Ctrl-C: the stack stops them in order (SIGTERM), without tracebacks.
        process = subprocess.Popen(
            [sys.executable, *args], cwd=ROOT, env=env, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, bufsize=1,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
        )
        self.children.append((name, process))
        threading.Thread(target=self._relay, args=(name, process), daemon=True).start()

    @staticmethod
    def _relay(name: str, process: subprocess.Popen) -> None:
        for line in process.stdout:
            print(f"[{name}] {line.rstrip()}", flush=True)

    def stop(self) -> None:
        self.stopping = True
        for _, process in reversed(self.children):
            if process.poll() is None:
                process.terminate()
        for name, process in self.children:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                print(f"[stack] {name} did not stop; killing it", flush=True)
                process.kill()

    def watch(self) -> int:
        """Block until a child dies (then stop the rest) or until stop() is called."""
        while not self.stopping:
            for name, process in self.children:
                if process.poll() is not None:
                    print(f"[stack] {name} exited with {process.returncode}; stopping the stack", flush=True)
                    self.stop()
                    return 1
            time.sleep(0.5)
        return 0


def stack_env(api_url: str, moto_url: str, stripe_url: str) -> dict:
    stage = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]["dev"]
    return {
        **os.environ,
        **stage["environment_variables"],
        "PYTHONUNBUFFERED": "1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "DYNAMODB_ENDPOINT": moto_url,
        "S3_ENDPOINT": moto_url,  # the same moto server serves the after-sales photos' bucket
        "PHOTOS_BUCKET": "tapcard-dev-photos",
        "STRIPE_API_BASE": stripe_url,
        "STRIPE_SECRET_KEY": "sk_test_local",
        "STRIPE_PUBLISHABLE_KEY": "pk_test_local",
        "STRIPE_WEBHOOK_SECRET": "whsec_" + secrets.token_hex(16),
        # localstripe refuses automatic_payment_methods; real Stripe does not need this.
        "STRIPE_PAYMENT_METHOD_TYPES": "card",
        "PUBLIC_BASE_URL": api_url,
    }


def run() -> int:
    api_port, moto_port = _port("TAPCARD_API_PORT", 8000), _port("TAPCARD_MOTO_PORT", 5005)
    stripe_port, blog_port = _port("TAPCARD_STRIPE_PORT", 8420), _port("TAPCARD_BLOG_PORT", 8001)
    social_port, mail_port = _port("TAPCARD_SOCIAL_PORT", 8430), _port("TAPCARD_MAIL_PORT", 8440)
    sweep_seconds = os.environ.get("TAPCARD_SWEEP_SECONDS", "5")
    stripe_rate_limit = float(os.environ.get("TAPCARD_STRIPE_RATE_LIMIT") or 0)
    api_url, blog_url = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{blog_port}"
    moto_url, stripe_url = f"http://127.0.0.1:{moto_port}", f"http://127.0.0.1:{stripe_port}"
    dev_json = Path(os.environ.get("TAPCARD_DEV_JSON", ROOT / ".tapcard-dev.json"))
    env = stack_env(api_url, moto_url, stripe_url)
    mail_dir = Path(tempfile.mkdtemp(prefix="tapcard-mail-"))
    env["MAIL_CAPTURE_FILE"] = str(mail_dir / "outbox.jsonl")
    os.environ.update(env)
    # the server's Stripe budget reads STRIPE_RATE_LIMIT
    stripe_budget = {"STRIPE_RATE_LIMIT": f"{stripe_rate_limit:g}"} if stripe_rate_limit > 0 else {}

    stack = Stack()
    signal.signal(signal.SIGTERM, lambda *_: stack.stop())
    # Ctrl-C stops everything even where the shell started us with SIGINT ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        stack.start("dynamodb", ["infra/local/dynamodb_server.py", "--port", str(moto_port)], env)
        stack.start("social", ["infra/local/social_servers.py", "--port", str(social_port)], env)
        stack.start("mail", ["infra/local/mail_server.py", "--port", str(mail_port),
                             "--file", env["MAIL_CAPTURE_FILE"]], env)
        stack.start("stripe", ["infra/local/stripe_server.py", "--port", str(stripe_port),
                               "--rate-limit", f"{stripe_rate_limit:g}"], env)
        _wait_for(moto_url)
        _wait_for(f"{stripe_url}/js.stripe.com/v3/")

        import boto3

        dynamodb = boto3.client("dynamodb", endpoint_url=moto_url)
        create_all(dynamodb, env["TABLE_PREFIX"])
        boto3.client("s3", endpoint_url=moto_url).create_bucket(Bucket=env["PHOTOS_BUCKET"])
        stream_arn = dynamodb.describe_table(TableName=table_name(env["TABLE_PREFIX"], "orders"))["Table"]["LatestStreamArn"]
        env["ORDERS_STREAM_ARN"] = os.environ["ORDERS_STREAM_ARN"] = stream_arn
        reservations_arn = dynamodb.describe_table(
            TableName=table_name(env["TABLE_PREFIX"], "reservations"))["Table"]["LatestStreamArn"]
        env["RESERVATIONS_STREAM_ARN"] = os.environ["RESERVATIONS_STREAM_ARN"] = reservations_arn
        groups_arn = dynamodb.describe_table(TableName=table_name(env["TABLE_PREFIX"], "groups"))["Table"]["LatestStreamArn"]
        env["GROUPS_STREAM_ARN"] = os.environ["GROUPS_STREAM_ARN"] = groups_arn
        status, _ = _http("POST", f"{stripe_url}/_config/webhooks/tapcard",
                          {"url": f"{api_url}/webhooks/stripe", "secret": env["STRIPE_WEBHOOK_SECRET"]})
        if status != 200:
            raise RuntimeError(f"localstripe refused the webhook registration ({status})")

        stack.start("api", ["infra/local/api.py", "--port", str(api_port)],
                    {**env, **stripe_budget, "AWS_SDK_UA_APP_ID": "tapcard-api"})
        _wait_for(f"{api_url}/health")

        from chalicelib.store import sellers

        _, api_key = sellers.create_seller("Demo Blogger", "demo@blog.example")
        auth = {"Authorization": f"Bearer {api_key}"}
        now = datetime.now(timezone.utc)
        card_body = {**DEMO_CARD, "image_url": f"{blog_url}/mug.svg",
                     "sale": {"starts_at": (now - timedelta(minutes=1)).isoformat(),
                              "ends_at": (now + timedelta(days=7)).isoformat()}}
        status, card = _http("POST", f"{api_url}/api/cards", card_body, auth)
        if status != 201:
            raise RuntimeError(f"could not create the demo card: {status} {card}")
        status, hook = _http("PUT", f"{api_url}/api/channels/webhook", {"url": f"{blog_url}/hooks/shares"}, auth)
        if status != 200:
            raise RuntimeError(f"could not set the share webhook: {status} {hook}")

        stack.start("blog", ["infra/local/demo_site.py", "--port", str(blog_port)],
                    {**env, "DEMO_SNIPPET": card["snippet"], "DEMO_CARD_TITLE": card["title"],
                     "SHARE_WEBHOOK_SECRET": hook["secret"]})
        stack.start("stream", ["infra/local/stream_poller.py"],
                    {**env, **stripe_budget, "AWS_SDK_UA_APP_ID": "tapcard-stream"})
        stack.start("sweeper", ["infra/local/sweeper.py", "--every", sweep_seconds],
                    {**env, **stripe_budget, "AWS_SDK_UA_APP_ID": "tapcard-sweeper"})
        _wait_for(f"{blog_url}/")

        dev = {"api_url": api_url, "blog_url": f"{blog_url}/", "seller_api_key": api_key,
               "stripe_api_base": stripe_url, "demo_card_id": card["id"],
               "dynamodb_endpoint": moto_url, "share_receiver_url": f"{blog_url}/hooks/shares",
               # Mastodon (token mastodon-token-ok) and Bluesky (ada.test / app-pass-1234) stand-ins
               "social_url": f"http://127.0.0.1:{social_port}",
               "mail_url": f"http://127.0.0.1:{mail_port}/mail",  # ?format=json: the list as JSON
               "stripe_rate_limit": stripe_rate_limit}  # requests per second; 0 = no limit
        partial = dev_json.with_suffix(".partial")
        partial.write_text(json.dumps(dev, indent=2) + "\n")
        partial.replace(dev_json)  # readers never see half a file
        limit_line = (f"  Stripe limit    {stripe_rate_limit:g} requests/s   (counts: {stripe_url}/_tapcard/requests)\n"
                      if stripe_rate_limit > 0 else "")
        print(
            "\n"
            "tapcard local stack is up\n"
            f"  demo blog       {blog_url}/\n"
            f"  seller API key  {api_key}\n"
            f"  API             {api_url}   (health: {api_url}/health)\n"
            f"  demo card       {card['id']}\n"
            f"  localstripe     {stripe_url}\n"
            f"  mail sent       http://127.0.0.1:{mail_port}/mail\n"
            f"{limit_line}"
            f"  details in      {dev_json}\n"
            "Press Ctrl-C to stop everything.\n",
            flush=True,
        )
        return stack.watch()
    except KeyboardInterrupt:
        return 0
    except Exception as error:
        print(f"[stack] failed to start: {error}", flush=True)
        return 1
    finally:
        stack.stop()
        if dev_json.exists():
            dev_json.unlink()
        shutil.rmtree(mail_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(run())
