"""Schemathesis over the document GET /openapi.json serves (issue 13, "A flash sale under attack"):
generated requests, valid and invalid, against the app in-process, each answer checked against the
document. A request the document allows must be taken, one it forbids must be refused (4xx), no
answer may be a 5xx or say what the document does not, and no HTML page may carry seller text
unescaped.

Two kinds of run: every operation on its own (25 generated examples each, plus schemathesis'
boundary cases), naming real resources of a seller's (a card with hostile HTML in its title and
description, a channel, a held and a paid order); and workflows that follow the document's links,
the purchase (a card made through POST /api/cards, its checkout, the order, the pay call, fulfil,
refund) and every link (channels, keys), 25 scenarios of up to 6 steps each.
"""
import json

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import positive_data_acceptance

from app import app
from chalice_wsgi import ChaliceWSGI
from chalicelib import pages, secrets
from chalicelib.domain import unsubscribe_token
from fixtures import create_card, hold, paid, post_json

# Seller text that must never reach an HTML page as markup.
HOSTILE_TITLE = '<script>x</script>"><img src=x onerror=1>'
HOSTILE_DESCRIPTION = "</p><script>alert(1)</script><b onmouseover=alert(1)>"
HOSTILE = ("<script>x</script>", "<img src=x onerror=1>", "<script>alert(1)</script>", "<b onmouseover=alert(1)>")


@pytest.fixture
def no_network(monkeypatch):
    """A channel's test post (POST .../channels/{id}/test) never leaves the machine: the fuzzer
    names any host."""
    from chalicelib.social import senders

    def unreachable(host, port):
        raise senders.ChannelError("unreachable: the schema tier sends nothing out")

    monkeypatch.setattr(senders, "_checked_address", unreachable)


@pytest.fixture
def dev_settings_restored():
    """PUT /dev/settings is fuzzed too: what it changes is put back for the tests after."""
    from chalicelib import checkout, config

    yield
    checkout.dev_settings({"stock_cache_seconds": config.STOCK_CACHE_SECONDS, "stripe_at_tap": False})


@pytest.fixture
def world(client, seller, fake_stripe, no_network, dev_settings_restored):
    """Real resources for the generated requests to name: a card whose title and description are
    hostile HTML, a share channel on it, a held order and a paid one, a shop of it named in hostile HTML."""
    card = create_card(client, seller, title=HOSTILE_TITLE, description=HOSTILE_DESCRIPTION, stock=50)
    channel = json.loads(post_json(client, f"/api/cards/{card['id']}/channels",
                                   {"type": "webhook", "url": "https://hooks.example.com/tapcard"}, seller.auth).body)
    held = hold(client, card["id"], buyer="buyer-token-held")
    bought = paid(client, card["id"], buyer="buyer-token-paid")
    shop = json.loads(post_json(client, "/api/shops", {"name": HOSTILE_TITLE, "card_ids": [card["id"]]}, seller.auth).body)
    # A reminder's genuine unsubscribe link, for GET and POST /unsubscribe.
    unsubscribe = unsubscribe_token(secrets.get("ORDER_TOKEN_SECRET"), "reader@example.com")
    return {"seller": seller, "card": card, "channel": channel, "held": held, "paid": bought, "shop": shop,
            "unsubscribe": unsubscribe}


EXAMPLES = 25
SETTINGS = settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.filter_too_much])

CONFIG = schemathesis.Config.from_dict({
    "seed": 13,
    "checks": {
        # API Gateway answers a method a path does not have, and OPTIONS, before any code of ours
        # runs (403 "Missing Authentication Token"); chalice's local gateway answers them its own
        # way (405, or a CORS preflight). Nothing in chalicelib decides either answer.
        "unsupported_method": {"enabled": False},
        "allow_header_conformance": {"enabled": False},
        # It needs two sellers' credentials to swap; every seller route is already 404 for another
        # seller's card or order (tests/functional/test_api_seller_routes.py).
        "object_level_authorization": {"enabled": False},
    },
    # A query parameter or header the document does not name is ignored, as by any web server.
    "generation": {"max-examples": EXAMPLES, "deterministic": True, "database": "none", "allow-extra-parameters": False},
})

# The document the app serves at GET /openapi.json (pages.openapi() is that route's body).
schema = schemathesis.openapi.from_dict(pages.openapi(), config=CONFIG)
schema.app = ChaliceWSGI(app)


@schemathesis.check  # registered: it runs with the built-in checks on every response below
def seller_text_is_escaped_in_html(ctx, response, case):
    """A seller's title and description reach the widget, the product page and the order page:
    as text, never as markup. (The world's card carries HOSTILE; the cards the workflows make carry
    generated text.)"""
    if "text/html" in (response.headers.get("content-type") or [""])[0]:
        page = response.text
        found = [text for text in HOSTILE if text in page]
        assert not found, f"{case.method} {case.formatted_path} answers HTML with unescaped seller text {found}"


def unstateable(case) -> bool:
    """Whether the request may be refused for a rule JSON Schema cannot state (each is described in
    the document and tested in tests/functional), so positive_data_acceptance cannot judge it."""
    body = case.body if isinstance(case.body, dict) else {}
    query = case.query or {}
    return (case.path == "/webhooks/stripe"                          # the signature: an HMAC of the body with our secret
            or isinstance(body.get("sale"), dict)                     # a sale ends after it starts, and after now
            or body.get("shards") is not None                         # at most one shard per unit of stock
            or any(query.get(name) for name in ("cursor", "after"))   # only a cursor the server gave out
            or any(query.get(name) for name in ("from", "to"))        # to not before from; stats: at most 92 days
            or "shipping" in body or case.path.endswith("/shipping")  # the card's countries; fee needs required
            or "compare_at" in body                                   # above the card's price
            or "group" in body                                        # its price below the card's price
            or "card_ids" in body                                     # a shop holds only the seller's own cards
            or (case.path.endswith("/codes") and body.get("ends_at") is not None))  # a code ends after it starts


def exclusions(case) -> dict:
    return {"excluded_checks": [positive_data_acceptance] if unstateable(case) else []}


def name_real_resources(case, world) -> None:
    """Point the generated request at the seller's real card, channel and order (the order's token
    too), but where the path or the query is what is being made invalid."""
    def made_invalid(location) -> bool:
        return case.meta is not None and case.meta.is_negative_at(location)

    order = world["paid"] if case.path.startswith("/api/orders/") else world["held"]
    real = {"card_id": world["card"]["id"], "channel_id": world["channel"]["id"], "order_id": order["order_id"],
            "shop_id": world["shop"]["id"]}
    if not made_invalid(ParameterLocation.PATH):
        for name in case.path_parameters or {}:
            if name in real:
                case.path_parameters[name] = real[name]
    if case.query and isinstance(case.query.get("token"), str) and not made_invalid(ParameterLocation.QUERY):
        case.query["token"] = world["unsubscribe"] if case.path == "/unsubscribe" else order["order_token"]


@schema.parametrize()
@SETTINGS
def test_each_operation_keeps_the_document(case, world):
    name_real_resources(case, world)
    case.call_and_validate(headers=world["seller"].auth, **exclusions(case))


# The purchase, link by link: every other link of the document is followed too, but among 40
# operations a bounded run would seldom get from a new card to a paid order.
PURCHASE = schema.include(name=[
    "POST /api/cards", "GET /cards/{card_id}", "GET /cards/{card_id}/widget", "GET /p/{card_id}",
    "POST /cards/{card_id}/checkout", "GET /orders/{order_id}", "POST /orders/{order_id}/pay", "GET /o/{order_id}",
    "POST /api/orders/{order_id}/fulfil", "POST /api/orders/{order_id}/refund",
])


@pytest.mark.parametrize("workflows", [PURCHASE, schema], ids=["purchase", "every link"])
def test_workflows_that_follow_the_documents_links_keep_it(world, workflows):
    """Scenarios schemathesis chains through the document's links: a card made by POST /api/cards,
    then its pages and checkout, the order, its pay call, the seller's fulfilment and refund of it;
    channels and keys made and removed again."""
    class Workflows(workflows.as_state_machine()):
        def get_call_kwargs(self, case):
            return {"headers": world["seller"].auth}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            # headers: the seller's key was sent, so ignored_auth knows the auth is real (as call_and_validate tells it)
            case.validate_response(response, headers=kwargs["headers"], transport_kwargs=kwargs, recorder=self.recorder,
                                   **exclusions(case))

    Workflows.run(settings=settings(SETTINGS, stateful_step_count=6))
