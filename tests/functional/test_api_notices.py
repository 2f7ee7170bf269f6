"""Notices by email through the routes (issue 15): fulfil and refund each mail the buyer once;
a card's locale picks the words. Mail lands in the capture file (config.MAIL_CAPTURE_FILE)."""
from chalicelib.social import stream
from chalicelib.store import orders
from fixtures import SHIPS, create_card, paid_with_address, post_json, stream_event


def test_fulfil_twice_mails_shipped_once_and_refund_mails_refunded_once(client, seller, fake_stripe, outbox):
    card = create_card(client, seller, title="Speckled <mug>", shipping=SHIPS)
    order = paid_with_address(client, card["id"])
    fulfil = f"/api/orders/{order['order_id']}/fulfil"

    assert post_json(client, fulfil, {"carrier": "Colissimo", "tracking_number": "6A1"}, seller.auth).status_code == 200
    assert post_json(client, fulfil, {"carrier": "Colissimo", "tracking_number": "6A2"}, seller.auth).status_code == 200
    other = paid_with_address(client, card["id"], buyer="buyer-token-0002")
    refund = f"/api/orders/{other['order_id']}/refund"
    assert post_json(client, refund, {"restock": True}, seller.auth).status_code == 200

    sent = outbox()
    assert [(m["to"], m["subject"]) for m in sent] == [
        ("ada@example.com", "Shipped: Speckled <mug>"), ("ada@example.com", "Refunded: Speckled <mug>")]
    assert "Colissimo" in sent[0]["text"] and "6A1" in sent[0]["text"]
    assert "Speckled &lt;mug&gt;" in sent[0]["html"] and "<mug>" not in sent[0]["html"]


def test_a_chinese_card_sends_its_receipt_in_chinese_once(client, seller, fake_stripe, outbox):
    card = create_card(client, seller, shipping=SHIPS, locale="zh-CN")
    order = paid_with_address(client, card["id"])
    event = stream_event("orders_stream_paid.json", [orders.get(order["order_id"])])

    stream.handle_batch(event)
    stream.handle_batch(event)

    [receipt] = outbox()
    assert receipt["subject"].startswith("您的订单：")
    assert "谢谢！您已付款成功。" in receipt["text"] and f"/o/{order['order_id']}?token=" in receipt["text"]
