"""Buyer side, read-only: the card JSON, the widget, the product page, embed.js, the feed, /health."""
import html
import json
import re
import time

import pytest
from moto import mock_aws

from chalicelib.social import shares
from chalicelib.store import orders
from fixtures import assert_error, card_view, mark_paid, request_checkout


def json_ld(page: str) -> dict:
    match = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    assert match, "no JSON-LD block"
    return json.loads(match.group(1))


def meta(page: str, prop: str) -> str:
    match = re.search(rf'<meta property="{re.escape(prop)}" content="([^"]*)">', page)
    assert match, f"no {prop} meta tag"
    return html.unescape(match.group(1))


# --- GET /cards/{card_id} ------------------------------------------------------------------------


def test_the_card_json_has_what_the_contract_promises(client, make_card):
    card = make_card(stock=5, price_amount=1800, currency="EUR", limit_per_buyer=2)

    view = card_view(client, card.card_id)

    assert view["id"] == card.card_id
    assert view["title"] == "Speckled mug"
    assert view["description"] == "Hand-thrown stoneware, 350 ml."
    assert view["image_url"] == "https://img.example.com/mug.jpg"
    assert view["price"] == {"amount": 1800, "currency": "EUR"}
    assert view["stock"]["available"] == 5 and view["stock"]["sold"] == 0
    assert view["sale"] == {"starts_at": None, "ends_at": None, "state": "live"}
    assert view["limit_per_buyer"] == 2


@pytest.mark.parametrize("window, state", [
    ({"starts_at": +3600}, "upcoming"),
    ({"starts_at": -3600, "ends_at": +3600}, "live"),
    ({"starts_at": -7200, "ends_at": -3600}, "ended"),
])
def test_the_card_shows_its_sale_state(client, make_card, window, state):
    now = int(time.time())
    card = make_card(**{name: now + offset for name, offset in window.items()})

    assert card_view(client, card.card_id)["sale"]["state"] == state


def test_the_card_shows_sold_out_once_everything_is_taken(client, make_card, fake_stripe):
    card = make_card(stock=1)
    request_checkout(client, card.card_id)

    view = card_view(client, card.card_id)

    assert view["stock"]["available"] == 0
    assert view["sale"]["state"] == "sold_out"


def test_an_unknown_card_is_a_404(client):
    assert_error(client.http.get("/cards/card_doesnotexist"), 404, "not_found")


# --- GET /cards/{card_id}/widget ------------------------------------------------------------------


def test_the_widget_shows_the_card(client, make_card):
    card = make_card(stock=5, title="Speckled mug", price_amount=1800, currency="EUR")

    response = client.http.get(f"/cards/{card.card_id}/widget")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    page = response.body.decode()
    assert "<h1>Speckled mug</h1>" in page
    assert "€18.00" in page
    assert "5 left" not in page  # the stock is live: the page fetches it (GET /cards/{card_id}), it is not kept
    assert "TEST MODE" in page  # the dev stage pays with test cards


def test_the_widget_passes_its_settings_to_the_script(client, make_card):
    card = make_card(stock=5, currency="JPY")

    page = client.http.get(f"/cards/{card.card_id}/widget?ref=abc123&o=https://blog.example.com&locale=zh-CN").body.decode()

    settings = json.loads(re.search(r'<script id="tc-settings" type="application/json">(.*?)</script>', page, re.S).group(1))
    assert settings["card_id"] == card.card_id and "card" not in settings  # no live data in a kept page
    assert settings["ref"] == "abc123"
    assert settings["parent_origin"] == "https://blog.example.com"
    assert settings["locale"] == "zh-CN"
    assert settings["minor_unit_exponent"] == 0
    assert settings["payment_sheet"] == "test"


@pytest.mark.parametrize("query", [
    "accent=red;background:url(x)",
    "o=javascript:alert(1)",
    "locale=%22%3E%3Cimg%20src=x%3E",
    "ref=%3Cscript%3E",
])
def test_unsafe_display_options_are_dropped(client, make_card, query):
    card = make_card(stock=5)

    page = client.http.get(f"/cards/{card.card_id}/widget?{query}").body.decode()

    assert "alert(1)" not in page
    assert "<img src=x>" not in page
    assert 'data-theme="auto"' in page


@pytest.mark.parametrize("theme", ["%22%3E%3Cscript%3Ealert(1)%3C/script%3E", "neon", "", "Dark"])
def test_a_theme_openapi_json_does_not_list_is_refused_naming_it(client, make_card, theme):
    # embed.js sends only light, dark or auto: another theme is a hand-made URL (issue 13).
    card = make_card(stock=5)

    response = client.http.get(f"/cards/{card.card_id}/widget?theme={theme}")

    assert_error(response, 400, "invalid_request", "theme")
    assert "alert(1)" not in response.body.decode()


def test_safe_display_options_are_applied(client, make_card):
    card = make_card(stock=5)

    page = client.http.get(f"/cards/{card.card_id}/widget?theme=dark&accent=0a84ff").body.decode()

    assert 'data-theme="dark"' in page
    assert "--tc-accent:#0a84ff" in page


def test_a_title_with_html_cannot_break_out_of_the_widget(client, make_card):
    card = make_card(stock=5, title="</script><script>alert(1)</script>")

    page = client.http.get(f"/cards/{card.card_id}/widget").body.decode()

    assert "</script><script>alert(1)" not in page  # escaped in the HTML and in the settings JSON
    assert "<h1>&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;</h1>" in page


def test_the_widget_speaks_the_readers_language(client, make_card):
    card = make_card(stock=5, price_amount=9900, currency="CNY")

    page = client.http.get(f"/cards/{card.card_id}/widget",
                           headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}).body.decode()

    assert '<html lang="zh-CN"' in page
    assert "立即购买" in page and "仅剩 {n} 件" in page  # the stock's words; the count comes with the live card
    assert "¥99.00" in page


def test_data_locale_wins_over_the_browser_language(client, make_card):
    card = make_card(stock=5, price_amount=500, currency="JPY")

    page = client.http.get(f"/cards/{card.card_id}/widget?locale=en-US",
                           headers={"Accept-Language": "zh-CN"}).body.decode()

    assert "Buy now" in page and "立即购买" not in page
    assert "¥500" in page  # JPY has no minor unit


@pytest.mark.parametrize("accent, text", [("0a84ff", "#111111"), ("1d3557", "#ffffff"), (None, "#ffffff")])
def test_button_text_stays_readable_on_the_sellers_accent(client, make_card, accent, text):
    card = make_card(stock=5)

    page = client.http.get(f"/cards/{card.card_id}/widget" + (f"?accent={accent}" if accent else "")).body.decode()

    assert f"--tc-on-accent:{text}" in page


def test_the_widget_of_an_unknown_card_says_it_is_not_available(client):
    response = client.http.get("/cards/card_doesnotexist/widget", headers={"Accept-Language": "zh-CN"})

    assert response.status_code == 404
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "Content-Security-Policy" in response.headers
    assert "该商品暂不可售" in response.body.decode()
    assert "tapcard:unavailable" in response.body.decode()  # the embedding page shows its own link again


# --- GET /p/{card_id} ---------------------------------------------------------------------------


def test_the_product_page_is_shareable_and_works_without_js(client, make_card):
    card = make_card(stock=5, title="Speckled mug", price_amount=1800, currency="EUR")

    response = client.http.get(f"/p/{card.card_id}")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.headers["Cache-Control"] == "public, max-age=30, s-maxage=30"
    page = response.body.decode()
    assert "<title>Speckled mug · €18.00</title>" in page
    assert meta(page, "og:type") == "product"
    assert meta(page, "og:title") == "Speckled mug"
    assert meta(page, "og:image") == "https://img.example.com/mug.jpg"
    assert meta(page, "og:url") == f"http://tapcard.test/p/{card.card_id}"
    assert meta(page, "product:price:amount") == "18.00"
    noscript = re.search(r"<noscript>(.*?)</noscript>", page, re.S).group(1)
    assert "Speckled mug" in noscript and "€18.00" in noscript and "5 left" in noscript


def test_the_product_page_describes_the_product_for_search_engines(client, make_card):
    card = make_card(stock=5, title="Speckled mug", price_amount=1800, currency="EUR")

    product = json_ld(client.http.get(f"/p/{card.card_id}").body.decode())

    assert product["@context"] == "https://schema.org"
    assert product["@type"] == "Product"
    assert product["name"] == "Speckled mug"
    assert product["image"] == "https://img.example.com/mug.jpg"
    assert product["offers"] == {
        "@type": "Offer", "price": "18.00", "priceCurrency": "EUR",
        "availability": "https://schema.org/InStock", "url": f"http://tapcard.test/p/{card.card_id}",
    }


def test_a_sold_out_product_says_so_to_search_engines(client, make_card, fake_stripe):
    card = make_card(stock=1, price_amount=500, currency="JPY")
    request_checkout(client, card.card_id)

    product = json_ld(client.http.get(f"/p/{card.card_id}").body.decode())

    assert product["offers"]["availability"] == "https://schema.org/SoldOut"
    assert product["offers"]["price"] == "500"


@pytest.mark.parametrize("window, availability", [
    ({"starts_at": int(time.time()) + 3600}, "PreOrder"),
    ({"starts_at": int(time.time()) - 7200, "ends_at": int(time.time()) - 3600}, "Discontinued"),
])
def test_the_offer_follows_the_sale_window(client, make_card, window, availability):
    card = make_card(stock=5, **window)

    product = json_ld(client.http.get(f"/p/{card.card_id}").body.decode())

    assert product["offers"]["availability"] == "https://schema.org/" + availability


def test_the_product_page_frames_the_widget_with_the_referral(client, make_card):
    card = make_card(stock=5)

    page = client.http.get(f"/p/{card.card_id}?ref=abc123").body.decode()

    assert f'src="http://tapcard.test/cards/{card.card_id}/widget?ref=abc123"' in page


def test_a_title_cannot_break_out_of_the_json_ld(client, make_card):
    card = make_card(stock=5, title='</script><script>alert("x")</script>')

    page = client.http.get(f"/p/{card.card_id}").body.decode()

    assert "</script><script>alert(" not in page
    assert json_ld(page)["name"] == '</script><script>alert("x")</script>'


def test_the_product_page_of_an_unknown_card_is_a_friendly_404(client):
    response = client.http.get("/p/card_doesnotexist")

    assert response.status_code == 404
    assert "This product is not available." in response.body.decode()
    assert response.headers["Cache-Control"] == "no-store"


def test_the_share_qr_code_encodes_the_referral_link(client, make_card):
    card = make_card(stock=5)

    response = client.http.get(f"/p/{card.card_id}/qr.svg?ref=abc123")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/svg+xml"
    assert response.body.decode().lstrip().startswith("<svg")


# --- GET /embed.js -------------------------------------------------------------------------------


def test_the_embed_loader_is_served_as_cacheable_javascript(client):
    response = client.http.get("/embed.js")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/javascript; charset=utf-8"
    assert response.headers["Cache-Control"] == "public, max-age=300"
    script = response.body.decode()
    assert "[data-tapcard]" in script
    assert "/widget?" in script
    assert len(response.body) < 4096  # the loader bloggers paste stays tiny


# --- GET /cards/{card_id}/feed ---------------------------------------------------------------------


def test_the_feed_lists_the_automatic_shares(client, make_card, fake_stripe):
    card = make_card(stock=5)
    assert json.loads(client.http.get(f"/cards/{card.card_id}/feed").body) == {"items": []}
    order_id = json.loads(request_checkout(client, card.card_id).body)["order_id"]
    mark_paid(order_id)
    shares.post_order_shares(orders.get(order_id))

    items = json.loads(client.http.get(f"/cards/{card.card_id}/feed").body)["items"]

    assert len(items) == 1
    assert items[0]["text"].startswith("Someone just got Speckled mug for €18.00. 4 left: ")
    assert items[0]["link"].startswith(f"http://tapcard.test/p/{card.card_id}?ref=")


def test_the_feed_of_an_unknown_card_is_a_404(client):
    assert_error(client.http.get("/cards/card_doesnotexist/feed"), 404, "not_found")


# --- GET /health ---------------------------------------------------------------------------------


def test_health_is_ok_when_the_tables_are_there(client):
    response = client.http.get("/health")

    assert response.status_code == 200
    assert json.loads(response.body) == {"status": "ok", "stage": "dev"}


def test_health_is_503_while_the_tables_are_missing():
    from chalice.test import Client

    from app import app

    with mock_aws(), Client(app) as bare:
        assert_error(bare.http.get("/health"), 503, "unavailable")
