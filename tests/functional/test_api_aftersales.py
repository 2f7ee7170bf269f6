"""After-sales requests through the routes (issue 15): the buyer opens one on a paid order with the
order's token, writes in its thread and gets photo upload forms; the seller lists, approves,
declines, refunds and closes; request.opened reaches the seller's webhook once; the buyer is mailed
each step once. Bad input: the field named, nothing stored, nothing sent."""
import base64
import json
import time
from urllib.parse import quote

import pytest

from chalicelib import mail, pages
from chalicelib.store import aftersales as stored
from chalicelib.store import orders
from fixtures import (SHIPS, Seller, assert_documented, assert_error, create_card, hold, paid_with_address,
                      post_json)
from chalicelib.store import sellers

DOCUMENT = pages.openapi()


def shipped_order(client, seller, card_id, buyer="buyer-token-0001") -> dict:
    """A paid order with the buyer's address (their email), fulfilled by the seller."""
    order = paid_with_address(client, card_id, buyer)
    fulfilled = post_json(client, f"/api/orders/{order['order_id']}/fulfil",
                          {"carrier": "Colissimo", "tracking_number": "6A1"}, seller.auth)
    assert fulfilled.status_code == 200, fulfilled.body
    return order


def buyer_path(order, tail="", token=None) -> str:
    return f"/orders/{order['order_id']}/requests{tail}?token={quote(order['order_token'] if token is None else token)}"


def open_request(client, order, body=None, token=None):
    return post_json(client, buyer_path(order, token=token), body or {"type": "return", "message": "Cracked handle."})


def seller_act(client, seller, request_id, action, body):
    return post_json(client, f"/api/requests/{request_id}/{action}", body, seller.auth)


def body_of(response) -> dict:
    return json.loads(response.body)


def subjects(outbox) -> list[str]:
    return [message["subject"] for message in outbox()]


def test_a_return_is_opened_approved_and_refunded_and_the_buyer_is_mailed_each_step_once(
        client, seller, fake_stripe, outbox):
    card = create_card(client, seller, title="Speckled mug", shipping=SHIPS)
    order = shipped_order(client, seller, card["id"])

    response = open_request(client, order)

    assert response.status_code == 201, response.body
    opened = body_of(response)
    assert (opened["status"], opened["order_id"]) == ("open", order["order_id"])
    assert_documented(DOCUMENT, "/orders/{order_id}/requests", "POST", response)
    request_id = opened["request_id"]
    listed = client.http.get(buyer_path(order))
    assert_documented(DOCUMENT, "/orders/{order_id}/requests", "GET", listed)
    [mine] = body_of(listed)["items"]
    assert [(m["author"], m["text"]) for m in mine["messages"]] == [("buyer", "Cracked handle.")]

    approved = seller_act(client, seller, request_id, "approve", {"instructions": "Post it to 1 rue X, Lyon."})
    assert approved.status_code == 200, approved.body
    assert_documented(DOCUMENT, "/api/requests/{request_id}/approve", "POST", approved)
    assert body_of(approved)["status"] == "approved"
    refunded = seller_act(client, seller, request_id, "refund", {"restock": False})
    assert refunded.status_code == 200, refunded.body
    assert (body_of(refunded)["status"], body_of(refunded)["restock"]) == ("refunded", False)
    assert orders.get(order["order_id"]).status == "refunded"
    assert len(fake_stripe.calls_to("refund")) == 1
    closed = seller_act(client, seller, request_id, "close", {"text": "Thanks, all settled."})
    assert body_of(closed)["status"] == "closed"

    assert subjects(outbox) == [
        "Shipped: Speckled mug", "We received your request: Speckled mug", "Request approved: Speckled mug",
        "Refunded: Speckled mug", "Request closed: Speckled mug"]
    approved_mail = outbox()[2]
    assert "Post it to 1 rue X, Lyon." in approved_mail["text"] and f"/o/{order['order_id']}?token=" in approved_mail["text"]


def test_the_seller_lists_reads_and_answers_in_the_thread_and_the_buyer_replies(client, seller, fake_stripe, outbox):
    card = create_card(client, seller, shipping=SHIPS)
    order = shipped_order(client, seller, card["id"])
    request_id = body_of(open_request(client, order, {"type": "damaged", "message": "The glaze {is} chipped."}))["request_id"]

    page = client.http.get("/api/requests?status=open", headers=seller.auth)
    assert_documented(DOCUMENT, "/api/requests", "GET", page)
    assert [item["request_id"] for item in body_of(page)["items"]] == [request_id]
    assert body_of(client.http.get("/api/requests?status=closed", headers=seller.auth))["items"] == []
    answered = post_json(client, f"/api/requests/{request_id}/messages", {"text": "Could you send a photo?"}, seller.auth)
    assert answered.status_code == 200, answered.body
    replied = post_json(client, buyer_path(order, f"/{request_id}/messages"), {"text": "Here it is."})
    assert replied.status_code == 200, replied.body
    assert [m["author"] for m in body_of(replied)["messages"]] == ["buyer", "seller", "buyer"]
    one = client.http.get(f"/api/requests/{request_id}", headers=seller.auth)
    assert_documented(DOCUMENT, "/api/requests/{request_id}", "GET", one)
    assert body_of(one)["messages"][-1]["text"] == "Here it is."
    assert subjects(outbox)[1:] == ["We received your request: Speckled mug",
                                    "The seller wrote about your request: Speckled mug"]
    assert "The glaze {is} chipped." in outbox()[1]["text"]


def test_request_opened_reaches_the_sellers_webhook_once(client, seller, fake_stripe, webhook_receiver):
    assert client.http.put("/api/channels/webhook", headers={**seller.auth, "Content-Type": "application/json"},
                           body=json.dumps({"url": webhook_receiver.url})).status_code == 200
    card = create_card(client, seller, shipping=SHIPS)
    order = shipped_order(client, seller, card["id"])

    request_id = body_of(open_request(client, order, {"type": "not_received", "message": "Nothing yet."}))["request_id"]
    assert_error(open_request(client, order), 409, "request_already_open", "order_id")

    events = [json.loads(r.body) for r in webhook_receiver.requests if json.loads(r.body)["type"] == "request.opened"]
    assert len(events) == 1
    assert events[0]["data"]["request_id"] == request_id and events[0]["data"]["request_type"] == "not_received"


def test_a_declined_request_lets_the_buyer_open_another_and_states_move_only_forward(client, seller, fake_stripe):
    card = create_card(client, seller, shipping=SHIPS)
    order = shipped_order(client, seller, card["id"])
    first = body_of(open_request(client, order))["request_id"]

    assert_error(seller_act(client, seller, first, "decline", {"reason": "  "}), 400, "invalid_request", "reason")
    declined = seller_act(client, seller, first, "decline", {"reason": "Past the return window."})
    assert body_of(declined)["status"] == "declined"
    assert_error(seller_act(client, seller, first, "approve", {"instructions": "x"}), 409, "wrong_request_state", "status")
    assert_error(seller_act(client, seller, first, "refund", {}), 409, "wrong_request_state", "status")

    second = open_request(client, order, {"type": "refund", "message": "Please refund instead."})
    assert second.status_code == 201, second.body
    assert [item["status"] for item in body_of(client.http.get(buyer_path(order)))["items"]] == ["open", "declined"]


def test_photos_get_a_presigned_post_limited_in_type_and_size_and_three_at_most(client, seller, fake_stripe):
    card = create_card(client, seller, shipping=SHIPS)
    order = shipped_order(client, seller, card["id"])
    request_id = body_of(open_request(client, order, {"type": "damaged", "message": "Broken."}))["request_id"]
    photos_path = buyer_path(order, f"/{request_id}/photos")

    assert_error(post_json(client, photos_path, {"content_type": "image/gif", "size": 10}), 400, "invalid_request", "content_type")
    assert_error(post_json(client, photos_path, {"content_type": "image/png", "size": 5 * 1024 * 1024 + 1}),
                 400, "invalid_request", "size")
    assert_error(post_json(client, photos_path, {"content_type": "image/png", "size": 0}), 400, "invalid_request", "size")
    forms = [post_json(client, photos_path, {"content_type": kind, "size": 2000})
             for kind in ("image/jpeg", "image/png", "image/webp")]
    assert [f.status_code for f in forms] == [201, 201, 201]
    assert_documented(DOCUMENT, "/orders/{order_id}/requests/{request_id}/photos", "POST", forms[0])
    assert_error(post_json(client, photos_path, {"content_type": "image/png", "size": 10}), 409, "too_many_photos", "photos")

    upload = body_of(forms[1])
    policy = json.loads(base64.b64decode(upload["fields"]["policy"]))
    assert {"Content-Type": "image/png"} in policy["conditions"]
    assert ["content-length-range", 1, 2000] in policy["conditions"]  # the size given, not just the limit
    assert upload["fields"]["key"].startswith(f"requests/{request_id}/") and upload["fields"]["key"].endswith(".png")
    seen = body_of(client.http.get(f"/api/requests/{request_id}", headers=seller.auth))["photos"]
    assert [p["content_type"] for p in seen] == ["image/jpeg", "image/png", "image/webp"]
    assert all("X-Amz-Signature=" in p["url"] and "X-Amz-Expires=300" in p["url"] for p in seen)
    assert body_of(client.http.get(buyer_path(order)))["items"][0]["photos"] == 3  # the buyer sees a count, no links


@pytest.mark.parametrize("body, field", [
    ({"type": "exchange", "message": "x"}, "type"),
    ({"message": "x"}, "type"),
    ({"type": "return"}, "message"),
    ({"type": "return", "message": "   "}, "message"),
    ({"type": "return", "message": "x" * 2001}, "message"),
    ({"type": "return", "message": "x", "photos": []}, "photos"),
])
def test_bad_requests_name_the_field_and_store_and_send_nothing(client, seller, fake_stripe, outbox, body, field):
    card = create_card(client, seller, shipping=SHIPS)
    order = shipped_order(client, seller, card["id"])
    before = len(outbox())

    assert_error(open_request(client, order, body), 400, "invalid_request", field)

    assert stored.of_order(order["order_id"]) == [] and len(outbox()) == before


def test_only_a_paid_order_of_that_token_within_its_return_window_takes_a_request(client, seller, fake_stripe, outbox):
    card = create_card(client, seller, shipping=SHIPS, return_days=0)
    held = hold(client, card["id"], buyer="buyer-token-held")
    assert_error(open_request(client, held), 409, "request_not_allowed", "order_id")
    not_shipped = paid_with_address(client, card["id"], buyer="buyer-token-paid")
    assert_error(open_request(client, not_shipped), 409, "request_not_allowed", "type")
    assert open_request(client, not_shipped, {"type": "not_received", "message": "Where is it?"}).status_code == 201
    order = shipped_order(client, seller, card["id"], buyer="buyer-token-2")
    stored_order = orders.get(order["order_id"])
    assert stored_order.fulfilled_at <= time.time()
    time.sleep(1.1)  # return_days 0: the window closed at the fulfilment
    assert_error(open_request(client, order), 409, "return_window_closed", "type")
    assert_error(open_request(client, order, token="not-the-token"), 404, "not_found")
    other = body_of(open_request(client, order, {"type": "refund", "message": "Refund please."}))
    assert other["status"] == "open"  # a refund is asked for while the order is paid
    assert len(stored.of_order(held["order_id"])) == 0


def test_a_seller_cannot_see_or_act_on_another_sellers_request(client, seller, fake_stripe):
    card = create_card(client, seller, shipping=SHIPS)
    order = shipped_order(client, seller, card["id"])
    request_id = body_of(open_request(client, order))["request_id"]
    other = Seller(*sellers.create_seller("Bo's Glass", "bo@example.com"))

    assert_error(client.http.get(f"/api/requests/{request_id}", headers=other.auth), 404, "not_found")
    assert_error(seller_act(client, other, request_id, "approve", {"instructions": "Mine now"}), 404, "not_found")
    assert_error(seller_act(client, other, request_id, "refund", {"restock": True}), 404, "not_found")
    assert body_of(client.http.get("/api/requests", headers=other.auth))["items"] == []
    assert stored.get(request_id).status == "open" and orders.get(order["order_id"]).status == "paid"
    assert_error(client.http.get("/api/requests", headers={"Authorization": "Bearer tc_wrong"}), 401, "unauthorized")
    assert_error(client.http.get("/api/requests?status=pending", headers=seller.auth), 400, "invalid_request", "status")
    assert_error(seller_act(client, seller, request_id, "approve", {"instructions": "x", "extra": 1}),
                 400, "invalid_request", "extra")


def test_return_days_is_a_card_setting_shown_to_buyers(client, seller, fake_stripe):
    card = create_card(client, seller, shipping=SHIPS, return_days=30)
    assert card["return_days"] == 30
    assert create_card(client, seller)["return_days"] == 14
    assert_error(post_json(client, "/api/cards", {"title": "x", "image_url": "https://img.example.com/a.jpg",
                                                  "price": {"amount": 100, "currency": "EUR"}, "stock": 1,
                                                  "return_days": 366}, seller.auth), 400, "invalid_request", "return_days")
    patched = client.http.patch(f"/api/cards/{card['id']}", headers={**seller.auth, "Content-Type": "application/json"},
                                body=json.dumps({"return_days": 7}))
    assert json.loads(patched.body)["return_days"] == 7


def test_the_order_page_shows_the_request_form_and_thread_under_a_csp_with_its_script(client, seller, fake_stripe):
    card = create_card(client, seller, shipping=SHIPS)
    order = shipped_order(client, seller, card["id"])
    page = client.http.get(f"/o/{order['order_id']}?token={quote(order['order_token'])}")
    assert 'id="request-form"' in page.body.decode()
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'nonce-" in csp and "form-action 'none'" in csp and "connect-src 'self' https://" in csp

    open_request(client, order, {"type": "return", "message": "<b>too small</b>"})
    html = client.http.get(f"/o/{order['order_id']}?token={quote(order['order_token'])}",
                           headers={"Accept-Language": "zh-CN"}).body.decode()
    assert "&lt;b&gt;too small&lt;/b&gt;" in html and "<b>too small" not in html
    assert 'id="request-form"' not in html and "退货" in html  # one unsettled request at a time
    script = client.http.get("/assets/order_requests.js")
    assert script.status_code == 200 and script.headers["Content-Type"].startswith("application/javascript")


def test_a_step_mailed_again_by_a_retry_or_the_sweeper_is_still_mailed_once(client, seller, fake_stripe, outbox):
    from chalicelib import notices

    card = create_card(client, seller, shipping=SHIPS)
    order = shipped_order(client, seller, card["id"])
    request_id = body_of(open_request(client, order))["request_id"]
    kind = notices.request_kind("opened", request_id)

    assert notices.notify(orders.get(order["order_id"]), kind) is False  # a second delivery
    notices.retry_due(time.time() + 3600)  # the sweeper, long after every lease ran out

    assert subjects(outbox).count("We received your request: Speckled mug") == 1


def test_an_approval_mail_that_ses_throttles_is_sent_by_the_sweeper_with_its_instructions(
        client, seller, fake_stripe, outbox, monkeypatch):
    from chalicelib import notices

    card = create_card(client, seller, shipping=SHIPS)
    order = shipped_order(client, seller, card["id"])
    request_id = body_of(open_request(client, order))["request_id"]
    real_send = mail.send

    def throttled(*args):
        raise mail.MailError("Throttling")
    monkeypatch.setattr(mail, "send", throttled)
    approved = seller_act(client, seller, request_id, "approve", {"instructions": "Use the prepaid label."})
    assert approved.status_code == 200, approved.body  # the seller's step stands
    monkeypatch.setattr(mail, "send", real_send)

    assert notices.retry_due(time.time() + 3600) >= 1
    [approval] = [m for m in outbox() if m["subject"] == "Request approved: Speckled mug"]
    assert "Use the prepaid label." in approval["text"]
