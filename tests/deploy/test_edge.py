"""The edge (infra/aws/edge.py): which of the app's routes CloudFront keeps, by which key, and what
the packaged template creates for it (the distribution, its cache policies, the WAF web ACL)."""
import json
import re
import subprocess
from fnmatch import fnmatchcase
from pathlib import Path

import pytest

from chalicelib import config, pages
from infra.aws import edge

ROOT = Path(__file__).resolve().parents[2]
STAGE = pytest.mark.parametrize("stage", ("dev", "prod"))
# Where nothing may ever be kept: a buyer's order, a seller's API, Stripe's calls.
PRIVATE_PREFIXES = ("/api/", "/webhooks/", "/orders/", "/o/")


def app_routes() -> list[tuple[str, str]]:
    from app import app

    return [(path, method) for path, methods in app.routes.items() for method in methods]


def behaviour_of(path: str) -> tuple[str, str | None]:
    """The path pattern and cache policy CloudFront picks for a viewer path: the first that matches
    ("*" matches any characters, "/" too), else the default behaviour (never cached)."""
    sample = re.sub(r"\{\w+\}", "x1", path)
    return next(((pattern, policy) for pattern, policy in edge.BEHAVIOURS if fnmatchcase(sample, pattern)),
                ("*", edge.NEVER_CACHED))


@pytest.mark.parametrize("path, method", app_routes())
def test_every_route_goes_to_a_behaviour_that_takes_its_method_and_private_ones_are_never_kept(path, method):
    pattern, policy = behaviour_of(path)
    if method not in ("GET", "HEAD"):
        assert policy is edge.NEVER_CACHED, f"{method} {path} would meet {pattern}, which answers only GET"
    if path.startswith(PRIVATE_PREFIXES) or path in ("/health", "/dashboard"):
        assert policy is edge.NEVER_CACHED, f"{path} would be kept under {pattern}"


@pytest.mark.parametrize("path, policy", [
    ("/cards/{card_id}", "EdgeCardDataCachePolicy"), ("/cards/{card_id}/feed", "EdgeCardDataCachePolicy"),
    ("/cards/{card_id}/reviews", "EdgeCardDataCachePolicy"), ("/cards/{card_id}/widget", "EdgeWidgetCachePolicy"),
    ("/p/{card_id}", "EdgePageCachePolicy"), ("/p/{card_id}/qr.svg", "EdgePageCachePolicy"),
    ("/s/{shop_id}", "EdgePageCachePolicy"), ("/s/{shop_id}/frame", "EdgePageCachePolicy"),
    ("/embed.js", "EdgeAssetCachePolicy"),
    ("/cards/{card_id}/groups/{group_id}", None),  # a group's count, polled live: never kept
])
def test_each_public_get_is_kept_under_its_own_key(path, policy):
    assert behaviour_of(path)[1] == policy


def test_each_key_holds_every_option_its_answer_varies_by():
    widget, page = edge.CACHE_KEYS["EdgeWidgetCachePolicy"], edge.CACHE_KEYS["EdgePageCachePolicy"]
    # Every display option the widget reads (sheet only where config.DEV_ROUTES lets it), and ?preview=1.
    assert set(pages._OPTION_PATTERNS) | {"sheet", "preview"} <= set(widget["query"])
    assert {"ref", "code", "locale", "theme", "accent", "o", "reservation", "group"} <= set(page["query"])  # /p, its QR, /s and its frame
    assert "cursor" in edge.CACHE_KEYS["EdgeCardDataCachePolicy"]["query"]  # the reviews' pages
    assert widget["headers"] == page["headers"] == ("Accept-Language",)  # the reader's language, without ?locale=


def edge_alone(stage: str) -> dict:
    """The edge's resources with a stand-in for the REST API chalice writes."""
    return {"AWSTemplateFormatVersion": "2010-09-09",
            "Resources": {edge.REST_API: {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "tapcard"}},
                          **edge.resources(stage)},
            "Outputs": edge.outputs()}


@STAGE
def test_the_edge_passes_cfn_lint(stage, tmp_path):
    template = tmp_path / "edge.json"
    template.write_text(json.dumps(edge_alone(stage)))
    lint = subprocess.run([str(ROOT / ".venv/bin/cfn-lint"), str(template)], capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr


@STAGE
def test_the_package_puts_the_distribution_in_front_of_the_api_stage(packages, stage):
    template = packages[stage].template
    config_ = template["Resources"][edge.DISTRIBUTION]["Properties"]["DistributionConfig"]
    [origin] = config_["Origins"]
    assert origin["DomainName"] == {"Fn::Sub": "${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}"}
    assert origin["OriginPath"] == "/api"
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert config_["DefaultCacheBehavior"]["CachePolicyId"] == edge.CACHING_DISABLED
    assert config_["DefaultCacheBehavior"]["OriginRequestPolicyId"] == edge.ALL_VIEWER_EXCEPT_HOST_HEADER
    assert config_["WebACLId"] == {"Fn::GetAtt": [edge.WEB_ACL, "Arn"]}
    for name in edge.CACHE_KEYS:
        policy = template["Resources"][name]["Properties"]["CachePolicyConfig"]
        assert policy["DefaultTTL"] == 0, "an answer without Cache-Control is never kept"
    assert template["Outputs"]["EdgeDomainName"]["Value"] == {"Fn::GetAtt": [edge.DISTRIBUTION, "DomainName"]}
    assert template["Outputs"]["StripeWebhookURL"]["Value"] == {
        "Fn::Sub": "https://${EdgeDistribution.DomainName}/webhooks/stripe"}


def test_prods_origin_carries_the_stages_secret_and_dev_none(packages):
    def headers(stage):
        [origin] = packages[stage].resources[edge.DISTRIBUTION]["Properties"]["DistributionConfig"]["Origins"]
        return origin.get("OriginCustomHeaders")

    assert headers("prod") == [{"HeaderName": config.CLOUDFRONT_ORIGIN_HEADER,
                                "HeaderValue": "{{resolve:ssm:/tapcard/prod/cloudfront_origin_secret}}"}]
    assert headers("dev") is None  # dev reads no SSM: it has no secret, and believes no viewer header


@STAGE
def test_the_waf_limits_taps_and_reservations_per_viewer_address_at_the_edge(packages, stage):
    acl = packages[stage].resources[edge.WEB_ACL]["Properties"]
    assert acl["Scope"] == "CLOUDFRONT" and acl["DefaultAction"] == {"Allow": {}}
    [rule] = acl["Rules"]
    rate = rule["Statement"]["RateBasedStatement"]
    assert rate["AggregateKeyType"] == "IP" and rate["Limit"] == edge.RATE_LIMIT
    scope = rate["ScopeDownStatement"]["AndStatement"]["Statements"]
    assert scope[0]["ByteMatchStatement"]["SearchString"] == "POST"
    assert [s["ByteMatchStatement"]["SearchString"] for s in scope[1]["OrStatement"]["Statements"]] == [
        "/checkout", "/reservations", "/groups"]
    block = rule["Action"]["Block"]["CustomResponse"]
    assert block["ResponseCode"] == 429
    body = json.loads(acl["CustomResponseBodies"][block["CustomResponseBodyKey"]]["Content"])
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}  # the contract's error shape
