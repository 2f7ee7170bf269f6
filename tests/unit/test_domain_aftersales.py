"""After-sales rules without I/O: what a request may say, when an order takes one (the return
window from fulfilment, or from the order for digital goods), and which seller moves are allowed."""
import pytest

from chalicelib.domain import (
    DEFAULT_RETURN_DAYS,
    InvalidRequest,
    RequestNotAllowed,
    ReturnWindowClosed,
    WrongRequestState,
    check_can_open,
    check_move,
    decline_reason_from,
    new_request_from,
    photo_from,
    request_status_filter,
    return_days_from,
    return_window_ends,
)

DAY = 24 * 3600
NOW = 1_800_000_000


def field_of(call) -> str:
    with pytest.raises(InvalidRequest) as error:
        call()
    return error.value.field


def test_a_new_request_takes_a_known_type_and_a_message_trimmed():
    assert new_request_from({"type": "damaged", "message": "  Chipped.  "}) == ("damaged", "Chipped.")
    assert field_of(lambda: new_request_from({"type": "swap", "message": "x"})) == "type"
    assert field_of(lambda: new_request_from({"type": "return", "message": ""})) == "message"
    assert field_of(lambda: new_request_from({"type": "return", "message": "x" * 2001})) == "message"
    assert field_of(lambda: new_request_from({"type": "return", "message": "x", "photo": "a"})) == "photo"
    assert field_of(lambda: new_request_from(["return"])) is None


def test_photos_are_jpeg_png_or_webp_up_to_five_megabytes():
    assert photo_from({"content_type": "image/webp", "size": 5 * 1024 * 1024}) == ("image/webp", 5 * 1024 * 1024)
    assert field_of(lambda: photo_from({"content_type": "image/svg+xml", "size": 10})) == "content_type"
    assert field_of(lambda: photo_from({"content_type": "image/png", "size": 5 * 1024 * 1024 + 1})) == "size"
    assert field_of(lambda: photo_from({"content_type": "image/png", "size": True})) == "size"


def test_return_days_default_and_bounds():
    assert return_days_from(None) == DEFAULT_RETURN_DAYS == 14
    assert return_days_from(0) == 0
    assert field_of(lambda: return_days_from(366)) == "return_days"
    assert field_of(lambda: return_days_from("7")) == "return_days"


def test_the_window_counts_from_fulfilment_for_goods_and_from_the_order_for_digital_goods():
    assert return_window_ends(True, NOW, NOW - 5 * DAY, 14) == NOW + 14 * DAY
    assert return_window_ends(True, None, NOW, 14) is None
    assert return_window_ends(False, None, NOW, 14) == NOW + 14 * DAY


def test_returns_wait_for_shipping_and_close_with_the_window_refunds_do_not():
    check_can_open("return", "paid", True, NOW - 14 * DAY, NOW - 20 * DAY, 14, NOW)
    with pytest.raises(ReturnWindowClosed):
        check_can_open("damaged", "paid", True, NOW - 14 * DAY - 1, NOW - 20 * DAY, 14, NOW)
    with pytest.raises(RequestNotAllowed) as error:
        check_can_open("return", "paid", True, None, NOW, 14, NOW)
    assert error.value.field == "type"
    check_can_open("refund", "paid", True, None, NOW - 400 * DAY, 14, NOW)
    check_can_open("not_received", "paid", True, None, NOW - 400 * DAY, 14, NOW)
    with pytest.raises(ReturnWindowClosed):
        check_can_open("return", "paid", False, None, NOW - 15 * DAY, 14, NOW)


@pytest.mark.parametrize("status", ["held", "expired", "refunded", "canceled"])
def test_only_a_paid_order_takes_a_request(status):
    with pytest.raises(RequestNotAllowed) as error:
        check_can_open("refund", status, False, None, NOW, 14, NOW)
    assert error.value.field == "order_id"


@pytest.mark.parametrize("action, status, target", [
    ("approve", "open", "approved"), ("decline", "open", "declined"), ("refund", "open", "refunded"),
    ("refund", "approved", "refunded"), ("close", "declined", "closed"), ("close", "refunded", "closed"),
])
def test_allowed_moves(action, status, target):
    assert check_move(action, status) == target


@pytest.mark.parametrize("action, status", [
    ("approve", "approved"), ("approve", "declined"), ("decline", "approved"), ("refund", "declined"),
    ("refund", "refunded"), ("close", "closed"), ("approve", "closed"),
])
def test_other_moves_are_refused_naming_the_status(action, status):
    with pytest.raises(WrongRequestState) as error:
        check_move(action, status)
    assert error.value.field == "status"


def test_a_decline_needs_a_reason_and_the_list_filter_a_known_status():
    assert decline_reason_from({"reason": " Used. "}) == "Used."
    assert field_of(lambda: decline_reason_from({"reason": "x" * 501})) == "reason"
    assert request_status_filter("") is None and request_status_filter("approved") == "approved"
    assert field_of(lambda: request_status_filter("pending")) == "status"
