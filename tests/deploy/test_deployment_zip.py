"""What Lambda gets: deployment.zip as `make package` writes it. It carries widgets/ (through the
vendor/widgets link) next to chalicelib/, every module compiled for the pinned runtime, one SDK
trimmed to the services the app calls and Babel trimmed to tapcard's locales, within 20 MB.

The packaged app runs as Lambda runs it: the zip unpacked into a read-only directory, a fresh
interpreter of the pinned runtime (pyenv's python3.13, `-I`: nothing from the venv) with the
unpacked zip first on sys.path, API Gateway events into the handler. It is the package built for
this machine's CPU (`make package ARCH=host`; the shipped arm64 one differs only in compiled wheels).
DynamoDB is a local moto server (infra/local/dynamodb_server.py) whose tables come from infra/tables.py.
"""
import json
import re
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import boto3
import pytest

from chalicelib import pages, views
from infra.aws import bundle
from infra.tables import create_all

ROOT = Path(__file__).resolve().parents[2]
WIDGETS = ROOT / "widgets"
BUDGET_BYTES = 20_000_000
RUNTIME = bundle.pinned_runtime("prod")
TAG = "cpython-" + RUNTIME.removeprefix("python").replace(".", "")  # cpython-313
# Prices for readers of tapcard's locales, then some of locales it does not serve (English, as in the venv
# when Babel has no such locale; zh-TW and en-GB also go through the trimmed likely subtags).
UNSERVED = ("fr", "zh-TW", "en-GB")
MONEY = [(1250, "USD", "en"), (999, "CNY", "zh-CN"), (500, "JPY", "zh-CN"), (1800, "EUR", "en"), (1800, "EUR", "fr"),
         (123456789, "GBP", "en"), (-4250, "HKD", "zh-CN"), (1000, "KWD", "en"), (99, "CHF", "zh-CN"),
         (1800, "EUR", "zh-TW"), (1800, "EUR", "en-GB")]
COUNTRIES = (["FR", "DE", "CN", "HK", "TW", "US", "GB", "JP", "XK"], ["en", "zh-CN", *UNSERVED])

# What every run of the packaged app starts with: the zip first on sys.path, Lambda's context, call().
PACKAGED_APP = r'''
import json
import os
import sys

extracted = sys.argv[1]
sys.path.insert(0, extracted)
for name in ("STRIPE_API_BASE", "AWS_LAMBDA_FUNCTION_NAME", "TAPCARD_STAGE"):
    os.environ.pop(name, None)

import app as app_module
from chalicelib import pages, views


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


app = app_module.app
'''

RUN_PACKAGED_APP = PACKAGED_APP + r'''
json_headers = {"content-type": "application/json"}
seller = json.loads(call(app, "POST", "/api/sellers", body={"name": "Ada", "email": "ada@example.com"},
                         headers=json_headers)["body"])
created = call(app, "POST", "/api/cards", headers={**json_headers, "authorization": "Bearer " + seller["api_key"]},
               body={"title": "Zip-packed mug", "image_url": "https://img.example.com/mug.jpg",
                     "price": {"amount": 1800, "currency": "EUR"}, "stock": 5})
card = json.loads(created["body"])
widget = call(app, "GET", "/cards/{card_id}/widget", params={"card_id": card["id"]})
embed = call(app, "GET", "/embed.js")
money = [views.format_money(*args) for args in json.loads(sys.argv[2])]
codes, locales = json.loads(sys.argv[3])
countries = [pages.country_names(codes, locale) for locale in locales]
inside = [m for m in list(sys.modules.values()) if (getattr(m, "__file__", None) or "").startswith(extracted)]
print(json.dumps({
    "created": created["statusCode"], "card": card,
    "widget": {"status": widget["statusCode"], "body": widget["body"]},
    "embed": {"status": embed["statusCode"], "body": embed["body"]},
    "money": money, "countries": countries, "python": list(sys.version_info[:2]),
    "modules_from_zip": len(inside),
    "compiled_on_import": sorted(m.__name__ for m in inside
                                 if m.__file__.endswith(".py") and not os.path.exists(m.__cached__)),
    "files": {"app": app_module.__file__, "pages": pages.__file__, "widgets": str(pages.WIDGETS),
              "template": pages.templates().get_template("widget.html").filename,
              "jinja2": sys.modules["jinja2"].__file__, "chalice": sys.modules["chalice"].__file__,
              "botocore": sys.modules["botocore"].__file__, "babel": sys.modules["babel"].__file__},
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
def host_package(tmp_path_factory) -> Path:
    """deployment.zip of the dev stage, built by `make package` for this machine's CPU."""
    directory = tmp_path_factory.mktemp("build") / "host"
    run = subprocess.run(["make", "-s", "package", "STAGE=dev", f"BUILD={directory}", "ARCH=host"],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, f"make package ARCH=host failed:\n{run.stdout}\n{run.stderr}"
    return directory / "deployment.zip"


@pytest.fixture(scope="module")
def dynamodb_endpoint():
    """The local stack's moto server on a free port, with every table (prefix zip-)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen([sys.executable, "infra/local/dynamodb_server.py", "--port", str(port)], cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "the moto server did not start"
                time.sleep(0.2)
        create_all(boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1"), "zip-")
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=10)


def run_packaged(extracted: Path, dynamodb_endpoint: str, script: str, *args: str) -> dict:
    """script in a fresh interpreter of the runtime, in the unpacked zip made read-only; its last line, read as JSON."""
    for path in [*extracted.rglob("*"), extracted]:  # /var/task is read-only
        path.chmod(0o555 if path.is_dir() else 0o444)
    env = {"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "TABLE_PREFIX": "zip-", "PAYMENT_SHEET": "test",
           "DYNAMODB_ENDPOINT": dynamodb_endpoint, "PUBLIC_BASE_URL": "http://tapcard.test",
           "STRIPE_WEBHOOK_SECRET": "whsec_zip", "NO_PROXY": "127.0.0.1"}
    try:
        run = subprocess.run([bundle.runtime_python(RUNTIME), "-I", "-c", script, str(extracted), *args], cwd=extracted,
                             env=env, capture_output=True, text=True, timeout=300)
    finally:
        for path in [*extracted.rglob("*"), extracted]:
            path.chmod(0o755 if path.is_dir() else 0o644)
    assert run.returncode == 0, f"the packaged app failed:\n{run.stdout[-3000:]}\n{run.stderr[-5000:]}"
    return json.loads(run.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def packaged_run(host_package, dynamodb_endpoint, tmp_path_factory) -> tuple[Path, dict]:
    extracted = tmp_path_factory.mktemp("lambda") / "task"
    with zipfile.ZipFile(host_package) as package:
        package.extractall(extracted)
    return extracted, run_packaged(extracted, dynamodb_endpoint, RUN_PACKAGED_APP, json.dumps(MONEY), json.dumps(COUNTRIES))


# A container whose first request is a widget (the first a reader's page makes): what it loads.
COLD_WIDGET = PACKAGED_APP + r'''
widget = call(app, "GET", "/cards/{card_id}/widget", params={"card_id": sys.argv[2]})
print(json.dumps({"status": widget["statusCode"], "loaded": sorted(sys.modules)}))
'''
# What only orders, payments, groups, offers, after-sales and the social loop use (bench/cold_start.py
# times the difference): a widget's cold start loads none of it.
NOT_FOR_A_WIDGET = {"stripe", "csv", "babel.dates", "chalicelib.checkout", "chalicelib.payments", "chalicelib.paying",
                    "chalicelib.grouping", "chalicelib.aftersales", "chalicelib.social.rules",
                    "chalicelib.social.referrals", "chalicelib.domain.orders", "chalicelib.domain.offers",
                    "chalicelib.domain.aftersales", "chalicelib.domain.shops", "chalicelib.domain.reminders",
                    "chalicelib.store.order_models", "chalicelib.store.offer_models",
                    "chalicelib.store.social_models", "chalicelib.store.aftersales_models",
                    "chalicelib.store.group_models"}


def test_a_container_whose_first_request_is_a_widget_loads_only_what_a_widget_needs(packaged_run, dynamodb_endpoint):
    extracted, result = packaged_run
    cold = run_packaged(extracted, dynamodb_endpoint, COLD_WIDGET, result["card"]["id"])

    assert cold["status"] == 200
    assert {"chalicelib.pages", "chalicelib.store.cards", "jinja2", "babel.numbers"} <= set(cold["loaded"])
    assert sorted(NOT_FOR_A_WIDGET & set(cold["loaded"])) == []


def test_the_packaged_app_loads_its_code_and_widgets_from_the_zip(packaged_run):
    extracted, result = packaged_run
    for name, path in result["files"].items():
        assert Path(path).resolve().is_relative_to(extracted.resolve()), f"{name} came from {path}, not the zip"
    assert Path(result["files"]["widgets"]).resolve() == (extracted / "widgets").resolve()
    assert result["python"] == [int(part) for part in RUNTIME.removeprefix("python").split(".")]


def test_the_packaged_app_compiles_nothing_on_a_cold_start(packaged_run):
    extracted, result = packaged_run
    assert result["modules_from_zip"] > 100
    assert result["compiled_on_import"] == []


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


def test_the_trimmed_babel_formats_money_as_the_full_one_does(packaged_run):
    extracted, result = packaged_run
    money = result["money"]
    served = [money for money, (_, _, locale) in zip(money, MONEY) if locale not in UNSERVED]
    assert served == [views.format_money(*args) for args in MONEY if args[2] not in UNSERVED]
    assert served[:2] == ["$12.50", "¥9.99"]
    for locale in UNSERVED:  # a locale it lacks: English
        assert money[MONEY.index((1800, "EUR", locale))] == "€18.00", locale


def test_the_trimmed_babel_names_countries_as_the_full_one_does(packaged_run):
    extracted, result = packaged_run
    codes, locales = COUNTRIES
    served = {locale: [list(pair) for pair in pages.country_names(codes, locale)] for locale in locales}
    assert dict(zip(locales, result["countries"])) == {**served, **dict.fromkeys(UNSERVED, served["en"])}
    assert ["CN", "中国"] in served["zh-CN"]


# --- what the zip holds -------------------------------------------------------------------------


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_the_package_is_within_its_size_budget(packages, stage):
    size = (packages[stage].directory / "deployment.zip").stat().st_size
    assert size <= BUDGET_BYTES, f"deployment.zip is {size / 1e6:.1f} MB"


def runtime_magic() -> bytes:
    code = "import importlib.util, sys; sys.stdout.write(importlib.util.MAGIC_NUMBER.hex())"
    return bytes.fromhex(subprocess.run([bundle.runtime_python(RUNTIME), "-I", "-c", code],
                                        capture_output=True, text=True, check=True).stdout)


def test_every_module_ships_compiled_for_the_pinned_runtime_unchecked(packages):
    magic = runtime_magic()
    with zipfile.ZipFile(packages["prod"].directory / "deployment.zip") as package:
        names = set(package.namelist())
        sources = [name for name in names if name.endswith(".py")]
        assert len(sources) > 1000 and "app.py" in sources
        for source in sources:
            folder, _, file = source.rpartition("/")
            compiled = f"{folder + '/' if folder else ''}__pycache__/{file[:-3]}.{TAG}.pyc"
            assert compiled in names, f"{source} ships without {compiled}"
            header = package.read(compiled)[:8]
            assert header[:4] == magic, f"{compiled} is not {RUNTIME}'s bytecode"
            assert int.from_bytes(header[4:8], "little") == 0b01, f"{compiled} is not unchecked-hash"
        assert not [name for name in names if name.endswith(".pyc") and f".{TAG}." not in name]


def test_the_template_pins_the_runtime_and_architecture_the_zip_was_built_for(packages):
    for stage in ("dev", "prod"):
        functions = {name: resource["Properties"] for name, resource in packages[stage].resources.items()
                     if resource["Type"] == "AWS::Serverless::Function"}
        assert functions and {(p["Runtime"], tuple(p["Architectures"])) for p in functions.values()} == {
            (RUNTIME, ("arm64",))}
    with zipfile.ZipFile(packages["prod"].directory / "deployment.zip") as package:
        libraries = [name for name in package.namelist() if name.endswith(".so")]
        assert libraries
        for name in libraries:
            header = package.read(name)[:20]
            assert header[:4] == b"\x7fELF" and int.from_bytes(header[18:20], "little") == 183, f"{name} is not arm64"
            assert re.search(r"\.(abi3|cpython-313-aarch64-linux-gnu)\.so$", name), name


def services_the_app_calls() -> set[str]:
    """DynamoDB (pynamodb) and every boto3 client the code makes."""
    sources = [*ROOT.joinpath("chalicelib").rglob("*.py"), ROOT / "app.py"]
    named = {match for path in sources for match in re.findall(r"""boto3\.client\(\s*["']([a-z0-9-]+)["']""",
                                                                path.read_text())}
    return {"dynamodb"} | named


def test_one_sdk_ships_trimmed_to_the_services_the_app_calls(packages):
    with zipfile.ZipFile(packages["prod"].directory / "deployment.zip") as package:
        names = package.namelist()
    versions = {name.split("-")[0]: name.split("-")[1].removesuffix(".dist-info/METADATA")
                for name in names if re.fullmatch(r"(boto3|botocore)-[0-9.]+\.dist-info/METADATA", name)}
    assert versions.keys() == {"boto3", "botocore"} and versions["boto3"] == versions["botocore"], versions
    shipped = {name.split("/")[2] for name in names if name.startswith("botocore/data/") and name.count("/") > 3}
    assert shipped == set(bundle.SERVICES) == services_the_app_calls()


def test_babel_ships_only_the_locales_tapcard_speaks(packages):
    with zipfile.ZipFile(packages["prod"].directory / "deployment.zip") as package:
        locales = {name.removeprefix("babel/locale-data/").removesuffix(".dat")
                   for name in package.namelist() if name.startswith("babel/locale-data/") and name.endswith(".dat")}
    assert locales == {"root", "en", "zh", "zh_Hans", "zh_Hans_CN"}
