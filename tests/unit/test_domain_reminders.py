"""Reservation reminders' rules (issue 15): when they are due, the pass a reminder's link carries,
and the unsubscribe token: each genuine one is taken, anything else refused."""
import pytest

from chalicelib.domain import (
    DEFAULT_REMINDER_MINUTES,
    InvalidRequest,
    address_key,
    address_key_of_unsubscribe_token,
    remind_at,
    reminder_minutes_from,
    reminder_pass,
    reservation_of_pass,
    unsubscribe_token,
)
from chalicelib.social.rules import reservation_of_token, reservation_token

SECRET = "order-token-secret"
RESERVATION = "rsv_abcdefghijklmnopqrst"


def test_a_reminder_is_due_its_minutes_before_the_start_ten_by_default():
    assert DEFAULT_REMINDER_MINUTES == 10
    assert remind_at(10_000, None) == 10_000 - 600
    assert remind_at(10_000, 90) == 10_000 - 5400


@pytest.mark.parametrize("value", [0, 1441, "10", 2.5, True, -1])
def test_a_reminder_time_outside_a_day_is_refused_naming_it(value):
    with pytest.raises(InvalidRequest) as refused:
        reminder_minutes_from(value)
    assert refused.value.field == "reservations.reminder_minutes"


def test_null_reminder_minutes_mean_the_default():
    assert reminder_minutes_from(None) is None and reminder_minutes_from(1440) == 1440


def test_the_reminders_pass_proves_its_reservation_on_its_card_only():
    passed = reminder_pass(SECRET, "card_a", RESERVATION)

    assert reservation_of_pass(SECRET, "card_a", passed) == RESERVATION
    assert reservation_of_pass(SECRET, "card_b", passed) is None
    assert reservation_of_pass("another-secret", "card_a", passed) is None
    forged = passed[:-1] + ("b" if passed[-1] == "a" else "a")
    assert reservation_of_pass(SECRET, "card_a", forged) is None
    # At checkout it counts for any buyer token; the widget's own token only for its buyer.
    assert reservation_of_token(SECRET, "card_a", "buyer-on-a-phone", passed) == RESERVATION
    own = reservation_token(SECRET, "card_a", RESERVATION, "buyer-at-home")
    assert reservation_of_token(SECRET, "card_a", "buyer-on-a-phone", own) is None


def test_an_unsubscribe_token_names_its_address_whatever_its_case():
    token = unsubscribe_token(SECRET, "Ada@Example.com ")

    assert address_key_of_unsubscribe_token(SECRET, token) == address_key(SECRET, "ada@example.com")
    assert address_key(SECRET, "ada@example.com") != address_key(SECRET, "bo@example.com")


@pytest.mark.parametrize("token", [None, "", 42, "nope", "a" * 32 + "." + "b" * 24, "A" * 32 + "." + "B" * 24])
def test_an_unsubscribe_token_that_is_not_genuine_is_refused_naming_it(token):
    with pytest.raises(InvalidRequest) as refused:
        address_key_of_unsubscribe_token(SECRET, token)
    assert refused.value.field == "token"


def test_a_forged_unsubscribe_token_for_a_known_address_key_is_refused():
    key = address_key(SECRET, "ada@example.com")
    with pytest.raises(InvalidRequest):
        address_key_of_unsubscribe_token(SECRET, f"{key}.{'a' * 24}")
