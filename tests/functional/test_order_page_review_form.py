"""Issue 17: the buyer reviews from the order page (/o/{order_id}?token=). The page's CSP allows one
nonced external script (GET /assets/order_review.js) that posts JSON to this origin, and nothing
else; the form shows only while the order may be reviewed. The shipped mail links to the form."""
import json
import re
from urllib.parse import quote

import pytest

from chalicelib import config, mail
from fixtures import assert_error, create_card, paid, post_json
from test_api_notices import SHIPS, paid_with_address



def order_page(client, order, language="en"):
    response = client.http.get(f"/o/{order['order_id']}?token={quote(order['order_token'])}",
                               headers={"Accept-Language": language})
    assert response.status_code == 200, response.body
    return response


def test_a_paid_order_page_has_the_review_form_and_its_script_under_the_nonce(client, seller, fake_stripe):
    card = create_card(client, seller)
    order = paid(client, card["id"])

    page = order_page(client, order)
    html = page.body.decode()
    policy = page.headers["Content-Security-Policy"]
    [nonce] = set(re.findall(r'nonce="([^"]+)"', html))

    assert f"script-src 'nonce-{nonce}';" in policy and "connect-src 'self'" in policy
    assert "form-action 'none'" in policy and "'unsafe-inline'" not in policy
    assert f'<script src="../assets/order_review.js" nonce="{nonce}" defer></script>' in html
    action = re.search(r'data-action="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert action == f"/orders/{order['order_id']}/review?token={order['order_token']}"
    assert html.count('type="radio" name="rating"') == 5 and 'maxlength="500"' in html
    # What the script sends, on the path it reads from the form: the review is taken.
    assert post_json(client, action, {"rating": 4, "text": "Sturdy", "name": "Ada"}).status_code == 201
    after = order_page(client, order).body.decode()
    assert 'id="review-form"' not in after and "data-reviewed" in after and "order_review.js" not in after


def test_the_form_speaks_chinese_on_a_chinese_browser(client, seller, fake_stripe):
    order = paid(client, create_card(client, seller)["id"])

    html = order_page(client, order, "zh-CN,zh;q=0.9").body.decode()

    assert "发表评价" in html and "4 星（满分 5）" in html


def test_a_held_order_has_no_form_and_a_shipped_card_waits_for_shipping(client, seller, fake_stripe, tmp_path,
                                                                       monkeypatch):
    monkeypatch.setattr(config, "MAIL_CAPTURE_FILE", str(tmp_path / "mail.jsonl"))
    digital = create_card(client, seller)
    held = json.loads(post_json(client, f"/cards/{digital['id']}/checkout", {"quantity": 1, "buyer": "buyer-token-0009"},
                                {"Idempotency-Key": "tap-key-held"}).body)
    assert 'id="review"' not in order_page(client, held).body.decode()

    shipped_card = create_card(client, seller, shipping=SHIPS)
    order = paid_with_address(client, shipped_card["id"])
    waiting = order_page(client, order).body.decode()
    assert "data-review-later" in waiting and 'id="review-form"' not in waiting
    post_json(client, f"/api/orders/{order['order_id']}/fulfil", {"carrier": "La Poste", "tracking_number": "6A1"},
              seller.auth)
    assert 'id="review-form"' in order_page(client, order).body.decode()

    [shipped] = mail.captured(str(tmp_path / "mail.jsonl"))
    invitation = f"/o/{order['order_id']}?token={order['order_token']}#review"
    assert invitation in shipped["text"] and invitation in shipped["html"]


def test_the_script_is_served_and_no_other_name_is(client):
    script = client.http.get("/assets/order_review.js")

    assert script.status_code == 200 and script.headers["Content-Type"].startswith("application/javascript")
    assert "review-form" in script.body.decode()
    assert_error(client.http.get("/assets/card.js"), 404, "not_found")
    assert_error(client.http.get("/assets/..%2Fapp.py"), 404, "not_found")


@pytest.mark.parametrize("body, field", [({"rating": 0}, "rating"), ({"rating": 6}, "rating"),
                                         ({"rating": 3, "text": "x" * 501}, "text")])
def test_what_the_form_may_send_wrong_is_refused_naming_the_field(client, seller, fake_stripe, body, field):
    order = paid(client, create_card(client, seller)["id"])
    action = f"/orders/{order['order_id']}/review?token={quote(order['order_token'])}"

    assert_error(post_json(client, action, body), 400, "invalid_request", field)
    assert 'id="review-form"' in order_page(client, order).body.decode()  # nothing stored: still open
