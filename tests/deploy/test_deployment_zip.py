"""What Lambda gets: deployment.zip carries widgets/ (through the vendor/widgets link) next to
chalicelib/, and the app packaged in it serves a card from those files.

The packaged app runs in a fresh interpreter whose sys.path starts with the extracted zip: app.py,
chalicelib/, chalice's runtime and the app's dependencies all come from the zip. Only what the
Lambda runtime or the test itself brings comes from the venv (boto3, moto), and the tables are
created from infra/tables.py, loaded by file path (infra/ is not packaged). Requests go in as
API Gateway events, the way Lambda calls the handler.
"""
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WIDGETS = ROOT / "widgets"

RUN_PACKAGED_APP = r'''
import importlib.util
import json
import os
import sys

extracted, tables_py = sys.argv[1], sys.argv[2]
sys.path.insert(0, extracted)
os.environ.update({
    "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled", "TABLE_PREFIX": "zip-", "PAYMENT_SHEET": "test",
    "PUBLIC_BASE_URL": "http://tapcard.test", "STRIPE_WEBHOOK_SECRET": "whsec_zip",
})
for name in ("DYNAMODB_ENDPOINT", "STRIPE_API_BASE", "AWS_LAMBDA_FUNCTION_NAME", "TAPCARD_STAGE"):
    os.environ.pop(name, None)

import boto3
from moto import mock_aws

spec = importlib.util.spec_from_file_location("tables", tables_py)
tables = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tables)


class Context:
    function_name = "tapcard-dev-api_handler"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:tapcard-dev-api_handler"
    aws_request_id = "zip-test"

    def get_remaining_time_in_millis(self):
        return 25_000


def call(app, method, resource, params=None, body=None, headers=None):
    """One API Gateway (REST, proxy) event into the handler, as Lambda would deliver it."""
    path = resource.format(**(params or {}))
    headers = {"host": "tapcard.test", "accept-language": "en", **(headers or {})}
    event = {
        "resource": resource, "path": path, "httpMethod": method, "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None, "multiValueQueryStringParameters": None,
        "pathParameters": params or None, "stageVariables": None,
        "requestContext": {"resourcePath": resource, "httpMethod": method, "path": "/api" + path, "stage": "api",
                           "apiId": "zip", "requestId": "zip-test", "identity": {"sourceIp": "192.0.2.1"}},
        "body": None if body is None else json.dumps(body), "isBase64Encoded": False,
    }
    return app(event, Context())


with mock_aws():
    from chalicelib import config

    tables.create_all(boto3.client("dynamodb", region_name=config.AWS_REGION), config.TABLE_PREFIX)
    import app as app_module
    from chalicelib import pages

    app = app_module.app
    json_headers = {"content-type": "application/json"}
    seller = json.loads(call(app, "POST", "/api/sellers", body={"name": "Ada", "email": "ada@example.com"},
                             headers=json_headers)["body"])
    created = call(app, "POST", "/api/cards", headers={**json_headers, "authorization": "Bearer " + seller["api_key"]},
                   body={"title": "Zip-packed mug", "image_url": "https://img.example.com/mug.jpg",
                         "price": {"amount": 1800, "currency": "EUR"}, "stock": 5})
    card = json.loads(created["body"])
    widget = call(app, "GET", "/cards/{card_id}/widget", params={"card_id": card["id"]})
    embed = call(app, "GET", "/embed.js")
    print(json.dumps({
        "created": created["statusCode"], "card": card,
        "widget": {"status": widget["statusCode"], "body": widget["body"]},
        "embed": {"status": embed["statusCode"], "body": embed["body"]},
        "files": {"app": app_module.__file__, "pages": pages.__file__, "widgets": str(pages.WIDGETS),
                  "template": pages.templates().get_template("widget.html").filename,
                  "jinja2": sys.modules["jinja2"].__file__, "chalice": sys.modules["chalice"].__file__},
    }))
'''


def widget_files() -> list[str]:
    return sorted(path.relative_to(WIDGETS).as_posix() for path in WIDGETS.rglob("*") if path.is_file())


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_the_package_carries_every_widget_file_at_the_zip_root(packages, stage):
    with zipfile.ZipFile(packages[stage].directory / "deployment.zip") as package:
        names = set(package.namelist())
        assert "chalicelib/pages.py" in names and "app.py" in names
        missing = [name for name in widget_files() if f"widgets/{name}" not in names]
        assert missing == [], f"deployment.zip lacks widgets/{missing}"
        for name in widget_files():
            assert package.read(f"widgets/{name}") == (WIDGETS / name).read_bytes(), name


@pytest.fixture(scope="module")
def packaged_run(packages, tmp_path_factory) -> tuple[Path, dict]:
    extracted = tmp_path_factory.mktemp("lambda") / "task"
    with zipfile.ZipFile(packages["dev"].directory / "deployment.zip") as package:
        package.extractall(extracted)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    run = subprocess.run([sys.executable, "-I", "-c", RUN_PACKAGED_APP, str(extracted), str(ROOT / "infra" / "tables.py")],
                         cwd=extracted, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, f"the packaged app failed:\n{run.stdout[-3000:]}\n{run.stderr[-5000:]}"
    return extracted, json.loads(run.stdout.strip().splitlines()[-1])


def test_the_packaged_app_loads_its_code_and_widgets_from_the_zip(packaged_run):
    extracted, result = packaged_run
    for name, path in result["files"].items():
        assert Path(path).resolve().is_relative_to(extracted.resolve()), f"{name} came from {path}, not the zip"
    assert Path(result["files"]["widgets"]).resolve() == (extracted / "widgets").resolve()


def test_the_packaged_app_renders_a_card_from_the_packaged_widget(packaged_run):
    extracted, result = packaged_run
    widget = result["widget"]

    assert result["created"] == 201
    assert widget["status"] == 200
    assert "<h1>Zip-packed mug</h1>" in widget["body"]
    script = (extracted / "widgets" / "card.js").read_text()
    assert script.strip().splitlines()[0] in widget["body"] and script.strip().splitlines()[-1] in widget["body"]
    english = json.loads((extracted / "widgets" / "words" / "en.json").read_text())["card"]
    assert f'>{english["buy"]}</button>' in widget["body"]


def test_the_packaged_app_serves_the_packaged_embed_loader(packaged_run):
    extracted, result = packaged_run

    assert result["embed"]["status"] == 200
    assert result["embed"]["body"] == (extracted / "widgets" / "embed.js").read_text()
