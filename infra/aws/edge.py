"""The edge in front of the API, for infra/aws/template.py's merge template: a CloudFront
distribution that answers the readers' polling from its cache, and an AWS WAF web ACL on it.

Why: a flash-sale card is polled by every reader every 4-6 s (its JSON and its feed): 100,000
readers are ~40,000 requests/s, four times API Gateway's Region-wide 10,000/s, every one a Lambda
invocation. Through a one-second shared cache (Origin Shield: every edge location behind one
cache) the origin is asked about twice a second per card, however many readers there are
(`python bench/readers.py cache` prints the figures).

What is cached is decided by the origin's own Cache-Control (every cache policy below has a
default TTL of 0: an answer without Cache-Control is never kept); each cached route's key holds
only the query strings and headers its answer varies by, so `?x=<random>` cannot walk around the
cache. Everything else (POST, /api, /webhooks, /orders, /o, /health, ...) goes through
uncached with the viewer's headers (CachingDisabled + AllViewerExceptHostHeader, which keeps
API Gateway's own Host and adds CloudFront's viewer headers).

The origin custom header CLOUDFRONT_ORIGIN_HEADER carries the stage's origin secret (SSM
<SECRETS_SSM_PATH>/cloudfront_origin_secret): with it set, the API answers only requests that
carry it (chalicelib/api/middleware.only_through_our_cloudfront) and only then believes the
CloudFront-Viewer-* headers. CloudFront overwrites a viewer's header of the same name.

    python -m infra.aws.edge STAGE      the edge resources alone, as JSON (template.py merges them)
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from chalicelib.config import CLOUDFRONT_ORIGIN_HEADER

CHALICE_CONFIG = Path(__file__).resolve().parents[2] / ".chalice" / "config.json"
REST_API = "RestAPI"  # chalice's name for the API Gateway REST API
DISTRIBUTION = "EdgeDistribution"
WEB_ACL = "EdgeWebAcl"
ORIGIN = "api"

# AWS's managed policies (the same IDs in every account).
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"

# The widget's display options (chalicelib/pages._OPTION_PATTERNS, "sheet" only on the dev stage)
# and the dashboard's ?preview=1; the pages take the reader's link's ref and code, and a reminder's reservation
# pass (its answers are never kept: chalicelib/api/buyer.py), and a group link's ?group= (the card invites to it).
WIDGET_QUERY = ("locale", "theme", "accent", "ref", "code", "o", "sheet", "preview", "reservation", "group")
PAGE_QUERY = ("locale", "theme", "accent", "ref", "code", "o", "reservation", "group")

# Cache policies by name: the query strings and headers in the key (and so sent to the origin).
# Accept-Language: the pages and the widget speak the reader's language when no ?locale= says.
CACHE_KEYS = {
    "EdgeCardDataCachePolicy": {"query": ("cursor",), "headers": ()},  # card JSON, feed, reviews
    "EdgeWidgetCachePolicy": {"query": WIDGET_QUERY, "headers": ("Accept-Language",)},
    "EdgePageCachePolicy": {"query": PAGE_QUERY, "headers": ("Accept-Language",)},  # /p, QR, /s
    "EdgeAssetCachePolicy": {"query": (), "headers": ()},  # embed.js
}

# Path patterns in CloudFront's order (first match wins; "*" matches "/" too), each either cached
# with a policy above (GET and HEAD only) or never cached (every method). The default behaviour
# ("*", never cached) takes the rest. tests/deploy/test_edge.py walks every app route through them.
NEVER_CACHED = None
BEHAVIOURS = (
    ("/cards/*/checkout", NEVER_CACHED),
    ("/cards/*/reservations", NEVER_CACHED),
    ("/cards/*/views", NEVER_CACHED),
    ("/cards/*/groups*", NEVER_CACHED),  # starting a group (a hold), and a group's live count
    ("/cards/*/widget", "EdgeWidgetCachePolicy"),
    ("/cards/*", "EdgeCardDataCachePolicy"),
    ("/p/*", "EdgePageCachePolicy"),
    ("/s/*", "EdgePageCachePolicy"),
    ("/embed.js", "EdgeAssetCachePolicy"),
)

# The WAF's rate-based rule: requests from one viewer address to the routes that write (a hold, a
# reservation) in RATE_WINDOW_SECONDS; past it, 429 for that address until it slows down. High
# enough for a carrier NAT with many buyers behind one IPv4 address (the app's per-client cap on
# open holds is the finer limit); low enough that one machine cannot flood the stock table.
RATE_LIMIT = 300
RATE_WINDOW_SECONDS = 60
# /cards/{card_id}/checkout, /cards/{card_id}/reservations, /cards/{card_id}/groups (a group's start holds units)
RATE_LIMITED_PATHS = ("/checkout", "/reservations", "/groups")
TOO_MANY_REQUESTS = {"error": {"code": "too_many_requests",
                               "message": "Too many taps from your network: wait a minute and try again."}}


def stage_settings(stage: str) -> dict:
    """The API Gateway stage name and the SSM path of the stage's secrets, from .chalice/config.json."""
    config = json.loads(CHALICE_CONFIG.read_text())
    settings = {**config, **config["stages"][stage]}
    environment = {**config.get("environment_variables", {}), **settings.get("environment_variables", {})}
    return {"api_stage": settings.get("api_gateway_stage", "api"), "ssm_path": environment.get("SECRETS_SSM_PATH")}


def cache_policy(stage: str, name: str) -> dict:
    key = CACHE_KEYS[name]
    return {"Type": "AWS::CloudFront::CachePolicy", "Properties": {"CachePolicyConfig": {
        "Name": f"tapcard-{stage}-{name.removeprefix('Edge').removesuffix('CachePolicy')}",
        "MinTTL": 0, "DefaultTTL": 0, "MaxTTL": 31536000,  # the origin's Cache-Control decides
        "ParametersInCacheKeyAndForwardedToOrigin": {
            "EnableAcceptEncodingGzip": True, "EnableAcceptEncodingBrotli": True,
            "CookiesConfig": {"CookieBehavior": "none"},
            "HeadersConfig": ({"HeaderBehavior": "whitelist", "Headers": list(key["headers"])} if key["headers"]
                              else {"HeaderBehavior": "none"}),
            "QueryStringsConfig": ({"QueryStringBehavior": "whitelist", "QueryStrings": list(key["query"])}
                                   if key["query"] else {"QueryStringBehavior": "none"}),
        },
    }}}


def behaviour(policy: str | None) -> dict:
    common = {"TargetOriginId": ORIGIN, "ViewerProtocolPolicy": "redirect-to-https", "Compress": True}
    if policy is NEVER_CACHED:
        return {**common, "AllowedMethods": ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"],
                "CachedMethods": ["GET", "HEAD"], "CachePolicyId": CACHING_DISABLED,
                "OriginRequestPolicyId": ALL_VIEWER_EXCEPT_HOST_HEADER}
    return {**common, "AllowedMethods": ["GET", "HEAD"], "CachedMethods": ["GET", "HEAD"],
            "CachePolicyId": {"Ref": policy}}


def origin(stage: str) -> dict:
    settings = stage_settings(stage)
    api = {"Id": ORIGIN, "DomainName": {"Fn::Sub": f"${{{REST_API}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}"},
           "OriginPath": f"/{settings['api_stage']}",
           "CustomOriginConfig": {"OriginProtocolPolicy": "https-only", "OriginSSLProtocols": ["TLSv1.2"]},
           # Every edge location asks one cache in the API's Region, not the API: a card's JSON is
           # fetched about once a second in all, not once a second per edge (bench/readers.py).
           "OriginShield": {"Enabled": True, "OriginShieldRegion": {"Ref": "AWS::Region"}}}
    if settings["ssm_path"]:
        # A plain String parameter: CloudFormation resolves `ssm` references, not `ssm-secure`
        # ones, in a distribution; the value is in the distribution's configuration anyway.
        secret = f"{settings['ssm_path'].rstrip('/')}/cloudfront_origin_secret"
        api["OriginCustomHeaders"] = [{"HeaderName": CLOUDFRONT_ORIGIN_HEADER, "HeaderValue": f"{{{{resolve:ssm:{secret}}}}}"}]
    return api


def distribution(stage: str) -> dict:
    return {"Type": "AWS::CloudFront::Distribution", "Properties": {"DistributionConfig": {
        "Comment": f"tapcard {stage}: the API, its public GETs cached by their Cache-Control",
        "Enabled": True, "HttpVersion": "http2and3", "IPV6Enabled": True, "PriceClass": "PriceClass_All",
        "Origins": [origin(stage)],
        "DefaultCacheBehavior": behaviour(NEVER_CACHED),
        "CacheBehaviors": [{"PathPattern": pattern, **behaviour(policy)} for pattern, policy in BEHAVIOURS],
        "WebACLId": {"Fn::GetAtt": [WEB_ACL, "Arn"]},
    }}}


def web_acl(stage: str) -> dict:
    """CLOUDFRONT scope, not REGIONAL on the API stage: behind CloudFront a regional ACL sees
    CloudFront's addresses, and the X-Forwarded-For it could count by starts with whatever the
    caller wrote (CloudFront appends the real address), so a flood could pick its own key. At
    the edge the ACL counts the viewer's own address and blocks before the cache or the origin
    pays. The price: a CLOUDFRONT-scope ACL exists only in us-east-1, so the stack is deployed
    there (the Makefile's default Region; see README, "The edge")."""
    name = f"tapcard-{stage}-edge"
    paths = [{"ByteMatchStatement": {"FieldToMatch": {"UriPath": {}}, "PositionalConstraint": "ENDS_WITH",
                                     "SearchString": path, "TextTransformations": [{"Priority": 0, "Type": "NONE"}]}}
             for path in RATE_LIMITED_PATHS]
    return {"Type": "AWS::WAFv2::WebACL", "Properties": {
        "Name": name, "Scope": "CLOUDFRONT", "DefaultAction": {"Allow": {}},
        "Description": "Taps and reservations per viewer address",
        "CustomResponseBodies": {"too_many_requests": {"ContentType": "APPLICATION_JSON",
                                                       "Content": json.dumps(TOO_MANY_REQUESTS)}},
        "Rules": [{
            "Name": "taps-per-address", "Priority": 0,
            "Statement": {"RateBasedStatement": {
                "Limit": RATE_LIMIT, "EvaluationWindowSec": RATE_WINDOW_SECONDS, "AggregateKeyType": "IP",
                "ScopeDownStatement": {"AndStatement": {"Statements": [
                    {"ByteMatchStatement": {"FieldToMatch": {"Method": {}}, "PositionalConstraint": "EXACTLY",
                                            "SearchString": "POST",
                                            "TextTransformations": [{"Priority": 0, "Type": "NONE"}]}},
                    {"OrStatement": {"Statements": paths}},
                ]}},
            }},
            # The widget backs off on a 429 that is not limit_reached, as it does on API Gateway's.
            "Action": {"Block": {"CustomResponse": {
                "ResponseCode": 429, "CustomResponseBodyKey": "too_many_requests",
                "ResponseHeaders": [{"Name": "Retry-After", "Value": str(RATE_WINDOW_SECONDS)}]}}},
            "VisibilityConfig": {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True,
                                 "MetricName": f"{name}-taps-per-address"},
        }],
        "VisibilityConfig": {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True, "MetricName": name},
    }}


def resources(stage: str) -> dict:
    return {DISTRIBUTION: distribution(stage), WEB_ACL: web_acl(stage),
            **{name: cache_policy(stage, name) for name in CACHE_KEYS}}


def outputs() -> dict:
    edge = f"https://${{{DISTRIBUTION}.DomainName}}"
    return {
        "EdgeDomainName": {"Description": "The distribution's domain: PUBLIC_BASE_URL is https:// and this "
                                          "(or your own domain pointed at it)",
                           "Value": {"Fn::GetAtt": [DISTRIBUTION, "DomainName"]}},
        # Through the distribution: with the origin secret set, the API answers nothing else.
        "StripeWebhookURL": {"Value": {"Fn::Sub": f"{edge}/webhooks/stripe"}},
    }


def add_to(template: dict, stage: str) -> dict:
    """Merge the edge into a merge template (infra/aws/template.merge_template)."""
    template["Resources"].update(resources(stage))
    template.setdefault("Outputs", {}).update(outputs())
    return template


if __name__ == "__main__":
    json.dump({"Resources": resources(sys.argv[1] if len(sys.argv) > 1 else "dev"), "Outputs": outputs()},
              sys.stdout, indent=2)
    sys.stdout.write("\n")
