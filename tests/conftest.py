"""Settings every tier shares. They are set before chalicelib is imported: it reads them once."""
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

os.environ.update({
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    # botocore 1.44 with moto's in-process mock needs this for DynamoDB Streams calls.
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    "TABLE_PREFIX": "test-",
    "STRIPE_WEBHOOK_SECRET": "whsec_test_secret",
    "PAYMENT_SHEET": "test",
    "PUBLIC_BASE_URL": "http://tapcard.test",
})
os.environ.pop("DYNAMODB_ENDPOINT", None)
os.environ.pop("STRIPE_API_BASE", None)


# --- the real local stack, for the e2e and browser tiers -----------------------------------

import json  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402

import pytest  # noqa: E402

ARTIFACTS = ROOT / "test-artifacts"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def live_stack(tmp_path_factory):
    """`make run`'s stack on free ports; yields what it writes to .tapcard-dev.json."""
    workdir = tmp_path_factory.mktemp("stack")
    dev_json = workdir / "tapcard-dev.json"
    log_path = ARTIFACTS / "local-stack.log"
    ARTIFACTS.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items()
           if k not in ("TABLE_PREFIX", "STRIPE_WEBHOOK_SECRET", "PAYMENT_SHEET", "PUBLIC_BASE_URL")}
    env.update({
        "TAPCARD_API_PORT": str(_free_port()), "TAPCARD_MOTO_PORT": str(_free_port()),
        "TAPCARD_STRIPE_PORT": str(_free_port()), "TAPCARD_BLOG_PORT": str(_free_port()),
        "TAPCARD_SOCIAL_PORT": str(_free_port()), "TAPCARD_MAIL_PORT": str(_free_port()),
        "TAPCARD_DEV_JSON": str(dev_json), "TAPCARD_SWEEP_SECONDS": "1",
    })
    with open(log_path, "w") as log:
        process = subprocess.Popen([sys.executable, "infra/local/stack.py"], cwd=ROOT, env=env,
                                   stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.time() + 90
            while not dev_json.exists():
                if process.poll() is not None or time.time() > deadline:
                    raise RuntimeError(f"the local stack did not start; see {log_path}:\n{log_path.read_text()[-3000:]}")
                time.sleep(0.3)
            yield json.loads(dev_json.read_text())
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
