"""Reservation reminders on moto (issue 15): exactly one mail per reservation although three sweeps
run at once, a throttled send retried once by the sweeper, and a sale whose start moved reminds no
one twice. Mail goes to the capture file (config.MAIL_CAPTURE_FILE), as on the local stack."""
import threading
import time
from collections import Counter

from chalicelib import mail, reminders
from chalicelib.social import reservations, stream
from chalicelib.store import cards
from chalicelib.store import notices as stored_notices
from chalicelib.store.models import CardModel
from test_code_storm import serialized_moto  # noqa: F401 -- a fixture: moto's writes one at a time
from test_reservations import reservation_record

READERS = 12


def reserved_card(make_card, readers: int, starts_in: int = 5 * 60):
    card = make_card(starts_at=int(time.time()) + starts_in, reservation_mode="required")
    ids = []
    for n in range(readers):
        answer, _ = reservations.reserve(card.card_id, {"buyer": f"buyer-token-{n:04d}",
                                                        "email": f"reader{n}@example.com"}, f"203.0.113.{n + 1}")
        ids.append(answer["reservation_id"])
    return card, ids


def test_three_sweeps_at_once_send_each_reservation_one_reminder(make_card, outbox, serialized_moto):
    card, ids = reserved_card(make_card, READERS)
    start = threading.Barrier(3)
    sent = []

    def sweeper():
        start.wait()
        sent.append(reminders.send_due())

    threads = [threading.Thread(target=sweeper) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    per_address = Counter(m["to"] for m in outbox())
    assert per_address == Counter({f"reader{n}@example.com": 1 for n in range(READERS)})
    assert sum(sent) == READERS
    assert {stored_notices.status_of(rid, reminders.REMINDER) for rid in ids} == {stored_notices.SENT}
    assert reminders.send_due() == 0


def test_a_throttled_reminder_is_sent_again_by_the_sweeper_once(make_card, outbox, monkeypatch):
    card, [reservation_id] = reserved_card(make_card, 1)
    real_send = mail.send
    monkeypatch.setattr(mail, "send", lambda *args: (_ for _ in ()).throw(mail.MailError("Throttling")))

    assert reminders.send_due() == 0
    assert reminders.retry_due() == 0  # not due yet: backoff
    monkeypatch.setattr(mail, "send", real_send)
    later = time.time() + 120  # past the first backoff, before the sale opens
    assert reminders.retry_due(now=later) == 1
    assert reminders.retry_due(now=later) == 0

    [reminder] = outbox()
    assert reminder["to"] == "reader0@example.com"
    assert stored_notices.status_of(reservation_id, reminders.REMINDER) == stored_notices.SENT


def test_a_reminder_due_again_after_the_sale_opened_is_given_up(make_card, outbox, monkeypatch):
    card, [reservation_id] = reserved_card(make_card, 1, starts_in=90)
    monkeypatch.setattr(mail, "send", lambda *args: (_ for _ in ()).throw(mail.MailError("Throttling")))
    reminders.send_due()

    assert reminders.retry_due(now=time.time() + 3600) == 0

    assert outbox() == []
    assert stored_notices.status_of(reservation_id, reminders.REMINDER) == stored_notices.FAILED


def test_moving_the_sales_start_reminds_no_one_twice(make_card, outbox):
    card, ids = reserved_card(make_card, 3)
    assert reminders.send_due() == 3

    CardModel(card.card_id).update(actions=[CardModel.starts_at.set(card.starts_at + 120)])
    cards.forget(card.card_id)
    assert reminders.send_due() == 0

    assert len(outbox()) == 3


def test_a_reader_who_reserves_after_the_cards_reminders_went_gets_one_at_once(make_card, outbox):
    card, _ = reserved_card(make_card, 0)
    assert reminders.send_due() == 0  # the card's reminder time came with no reserver yet: its reminders are done

    late, _ = reservations.reserve(card.card_id, {"buyer": "buyer-token-late", "email": "late@example.com"},
                                   "203.0.113.99")
    stream.handle_batch(reservation_record(late["reservation_id"]))
    stream.handle_batch(reservation_record(late["reservation_id"]))  # the stream delivers it again
    assert reminders.send_due() == 0

    assert [m["to"] for m in outbox()] == ["late@example.com"]


def test_a_reservation_before_the_reminder_time_waits_for_the_sweep(make_card, outbox):
    card, [reservation_id] = reserved_card(make_card, 1, starts_in=3600)
    stream.handle_batch(reservation_record(reservation_id))
    assert outbox() == []
