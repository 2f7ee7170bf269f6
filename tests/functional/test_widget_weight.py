"""The card must load faster than the post around it: byte budgets, measured gzipped."""
import gzip

EMBED_BUDGET = 1_400  # Gumroad's overlay loader is about 1,390 B, Stripe's 1,388 B
PAINT_BUDGET = 15_000  # loader + card HTML with its CSS and JS + card JSON


def gzipped(body) -> int:
    return len(gzip.compress(body if isinstance(body, bytes) else body.encode(), compresslevel=9))


def test_the_loader_stays_under_budget(client):
    assert gzipped(client.http.get("/embed.js").body) <= EMBED_BUDGET


def test_everything_that_paints_a_live_card_stays_under_budget(client, make_card):
    card = make_card(stock=5, title="Speckled mug " * 5)
    total = sum(gzipped(client.http.get(path).body) for path in
                ("/embed.js", f"/cards/{card.card_id}/widget", f"/cards/{card.card_id}"))
    assert total <= PAINT_BUDGET


def test_a_card_that_ships_goods_with_its_address_form_stays_under_budget(client, seller):
    from fixtures import create_card

    card = create_card(client, seller, title="Speckled mug " * 5,
                       shipping={"required": True, "countries": ["FR", "DE", "HK", "US", "CN", "JP"], "fee": {"amount": 450}})
    total = sum(gzipped(client.http.get(path).body) for path in
                ("/embed.js", f"/cards/{card['id']}/widget", f"/cards/{card['id']}"))
    assert total <= PAINT_BUDGET


def test_a_group_card_with_its_buttons_script_and_words_stays_under_budget(client, seller):
    from fixtures import create_card

    card = create_card(client, seller, title="Speckled mug " * 5,
                       group={"size": 3, "price": {"amount": 1200}, "window_minutes": 30})
    total = sum(gzipped(client.http.get(path).body) for path in
                ("/embed.js", f"/cards/{card['id']}/widget?group=grp_abcdefghijklmnop", f"/cards/{card['id']}"))
    assert total <= PAINT_BUDGET
