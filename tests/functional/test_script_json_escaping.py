"""Seller text inside the JSON a page embeds in <script> can neither end the element nor open a
comment in it (issue 13, case 7: a title with "<!--<script>" swallowed the widget's own script)."""
import json
import re

import pytest
from markupsafe import escape

TITLES = ["Mug <!--<script> edition", "Mug </script><b>x</b>", "Mug & co \u2028 line"]


def script_bodies(html: str, attribute: str) -> list[str]:
    return re.findall(r"<script[^>]*" + re.escape(attribute) + r"[^>]*>(.*?)</script>", html, re.S)


@pytest.mark.parametrize("title", TITLES)
def test_the_widget_shows_the_title_escaped_and_its_settings_cannot_break_out(client, make_card, title):
    card = make_card(title=title)
    html = client.http.get(f"/cards/{card.card_id}/widget").body.decode()

    [settings] = script_bodies(html, 'id="tc-settings"')
    assert "<" not in settings and ">" not in settings and "\u2028" not in settings
    assert json.loads(settings)["card_id"] == card.card_id  # the live card comes as JSON (GET /cards/{card_id})
    assert f"<h1>{escape(title)}</h1>" in html
    # The widget's own script still follows, as a script element of its own.
    assert html.count("<script") == html.count("</script>")


@pytest.mark.parametrize("title", TITLES)
def test_the_product_page_json_ld_still_parses(client, make_card, title):
    card = make_card(title=title)
    html = client.http.get(f"/p/{card.card_id}").body.decode()

    [json_ld] = script_bodies(html, 'type="application/ld+json"')
    assert "<" not in json_ld
    assert json.loads(json_ld)["name"] == title
