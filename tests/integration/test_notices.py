"""Notices by email on moto (issue 15): the receipt once per paid order although the stream
delivers twice, one shipped mail, one refunded mail, the card's words, the seller's text escaped.
Mail goes to the capture file (config.MAIL_CAPTURE_FILE), as on the local stack."""
import time
import uuid

import pytest

from chalicelib import backoffice, checkout, config, mail, notices
from chalicelib.domain import Card, Shipping
from chalicelib.social import stream
from chalicelib.store import cards, orders
from chalicelib.store import notices as stored_notices
from fixtures import mark_paid, stream_event

ADDRESS = {"name": "Ada Lovelace", "line1": "7 impasse Secrète", "city": "Lyon", "postal_code": "69001",
           "country": "FR"}
EMAIL = "ada@example.com"


def shipped_card(seller, title="Speckled mug", locale="en") -> Card:
    card = Card(card_id="card_" + uuid.uuid4().hex[:12], seller_id=seller.seller_id, title=title,
                description="", image_url="https://img.example.com/mug.jpg", price_amount=1800, currency="EUR",
                stock=5, created_at=int(time.time()), shipping=Shipping(True, ("FR", "DE"), 450), locale=locale)
    cards.create(card)
    return card


def paid_order(card, fake_stripe, buyer="buyer-token-0001"):
    payload = {"quantity": 1, "buyer": buyer, "shipping": ADDRESS, "email": EMAIL}
    answer = checkout.checkout(card.card_id, payload, "tap-key-" + uuid.uuid4().hex[:8])
    mark_paid(answer["order_id"])
    return orders.get(answer["order_id"])


def test_a_paid_order_gets_one_receipt_although_the_batch_comes_twice(aws, seller, fake_stripe, outbox):
    card = shipped_card(seller)
    order = paid_order(card, fake_stripe)
    event = stream_event("orders_stream_paid.json", [order])

    assert stream.handle_batch(event) == {"batchItemFailures": []}
    assert stream.handle_batch(event) == {"batchItemFailures": []}

    sent = outbox()
    assert [(m["to"], m["subject"]) for m in sent] == [(EMAIL, "Your order: Speckled mug")]
    assert f"/o/{order.order_id}?token=" in sent[0]["text"]
    assert f"/o/{order.order_id}?token=" in sent[0]["html"]
    assert "€22.50" in sent[0]["text"]  # the order's amount: price and shipping fee
    assert stored_notices.status_of(order.order_id, notices.RECEIPT) == stored_notices.SENT


def test_an_order_without_an_address_gets_no_mail(make_card, buy, outbox):
    answer = buy(make_card(stock=5))  # digital goods: no address, so no email
    mark_paid(answer["order_id"])

    stream.handle_batch(stream_event("orders_stream_paid.json", [orders.get(answer["order_id"])]))

    assert outbox() == []


def test_a_failed_send_is_retried_by_the_sweeper_and_sent_once(aws, seller, fake_stripe, outbox, monkeypatch):
    order = paid_order(shipped_card(seller), fake_stripe)
    event = stream_event("orders_stream_paid.json", [order])
    real_send = mail.send
    monkeypatch.setattr(mail, "send", lambda *args: (_ for _ in ()).throw(mail.MailError("Throttling")))

    assert stream.handle_batch(event) == {"batchItemFailures": []}  # the share stands; the mail waits
    assert notices.retry_due() == 0  # not due yet: backoff

    monkeypatch.setattr(mail, "send", real_send)
    later = time.time() + 3600
    assert stream.handle_batch(event) == {"batchItemFailures": []}  # redelivered: not due, nothing sent
    assert outbox() == []
    assert notices.retry_due(later) == 1
    assert notices.retry_due(later) == 0  # sent: two sweeps send it once
    assert len(outbox()) == 1
    assert stored_notices.status_of(order.order_id, notices.RECEIPT) == stored_notices.SENT


def test_a_sender_that_died_mid_send_is_taken_over_after_its_lease(aws, seller, fake_stripe, outbox):
    order = paid_order(shipped_card(seller), fake_stripe)
    assert stored_notices.claim(order.order_id, notices.RECEIPT) == 0  # claimed, then the sender died

    assert stream.handle_batch(stream_event("orders_stream_paid.json", [order])) == {"batchItemFailures": []}
    assert outbox() == []
    assert notices.retry_due(time.time() + stored_notices.LEASE_SECONDS + 1) == 1
    assert len(outbox()) == 1


def test_fulfil_sends_one_shipped_mail_and_refund_one_refunded_mail(aws, seller, fake_stripe, outbox):
    card = shipped_card(seller)
    order = paid_order(card, fake_stripe)

    backoffice.fulfil(seller.seller_id, order.order_id, {"carrier": "La Poste", "tracking_number": "6A123456789"})
    backoffice.fulfil(seller.seller_id, order.order_id, {"carrier": "La Poste", "tracking_number": "6A987654321"})
    shipped = outbox()
    assert [m["subject"] for m in shipped] == ["Shipped: Speckled mug"]
    assert "La Poste" in shipped[0]["text"] and "6A123456789" in shipped[0]["text"]

    other = paid_order(card, fake_stripe, buyer="buyer-token-0002")
    backoffice.refund(seller.seller_id, other.order_id, {})
    assert notices.refunded(orders.get(other.order_id)) is False  # claimed: never twice
    assert [m["subject"] for m in outbox()][1:] == ["Refunded: Speckled mug"]


def test_a_chinese_card_mails_in_chinese_and_the_title_is_escaped(aws, seller, fake_stripe, outbox):
    card = shipped_card(seller, title='<b>马克杯</b> & "co"', locale="zh-CN")
    order = paid_order(card, fake_stripe)

    stream.handle_batch(stream_event("orders_stream_paid.json", [order]))

    [sent] = outbox()
    assert sent["subject"] == '您的订单：<b>马克杯</b> & "co"'
    assert "谢谢！您已付款成功。" in sent["text"]
    assert "&lt;b&gt;马克杯&lt;/b&gt; &amp; &#34;co&#34;" in sent["html"]
    assert "<b>马克杯</b>" not in sent["html"]
    assert '<html lang="zh-CN">' in sent["html"]


SENDER_DOMAIN = "dev.tapcard.example"


@pytest.fixture
def ses(aws, monkeypatch):
    """The AWS path: SES (moto's), the sender's domain verified as ops verify it."""
    import boto3

    monkeypatch.setattr(config, "MAIL_CAPTURE_FILE", None)
    monkeypatch.setattr(config, "MAIL_FROM", f"tapcard <no-reply@{SENDER_DOMAIN}>")
    mail.get_ses.cache_clear()
    boto3.client("ses", region_name=config.AWS_REGION).verify_domain_identity(Domain=SENDER_DOMAIN)
    yield
    mail.get_ses.cache_clear()


def ses_sent() -> list:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return ses_backends[DEFAULT_ACCOUNT_ID][config.AWS_REGION].sent_messages


def test_on_aws_the_receipt_goes_through_ses_once(seller, fake_stripe, ses):
    order = paid_order(shipped_card(seller), fake_stripe)
    event = stream_event("orders_stream_paid.json", [order])

    stream.handle_batch(event)
    stream.handle_batch(event)

    [message] = ses_sent()
    assert message.destinations["ToAddresses"] == [EMAIL]
    assert message.subject == "Your order: Speckled mug"


def test_ses_throttling_is_retried_with_backoff(monkeypatch):
    from botocore.exceptions import ClientError

    calls = []

    class Throttled:
        def send_email(self, **kwargs):
            calls.append(kwargs["Destination"])
            if len(calls) < 3:
                raise ClientError({"Error": {"Code": "TooManyRequestsException"}}, "SendEmail")

    monkeypatch.setattr(config, "MAIL_CAPTURE_FILE", None)
    monkeypatch.setattr(mail, "get_ses", lambda: Throttled())
    monkeypatch.setattr(mail, "BACKOFF_SECONDS", 0)

    mail.send(EMAIL, "s", "t", "<p>h</p>")

    assert len(calls) == 3


def test_a_rejected_address_fails_for_good_without_failing_the_record(seller, fake_stripe, ses, monkeypatch):
    order = paid_order(shipped_card(seller), fake_stripe)
    monkeypatch.setattr(config, "MAIL_FROM", "tapcard <no-reply@unverified.example>")

    assert stream.handle_batch(stream_event("orders_stream_paid.json", [order])) == {"batchItemFailures": []}

    assert stored_notices.status_of(order.order_id, notices.RECEIPT) == stored_notices.FAILED
    assert ses_sent() == []
