"""The aftersales table on moto: an order has one unsettled request however many taps race for it
(the request and the order's open mark in one transaction), a settled request gives the mark back,
a request moves once from a state, its photos stop at three and its thread at fifty, and the
seller's list is theirs, newest first, filtered by status."""
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from moto.dynamodb.models import DynamoDBBackend

from chalicelib.domain import (
    MAX_MESSAGES,
    AftersalesRequest,
    RequestAlreadyOpen,
    RequestMessage,
    RequestPhoto,
    TooManyMessages,
    TooManyPhotos,
    WrongRequestState,
)
from chalicelib.store import aftersales as stored


@pytest.fixture
def serialized_moto(monkeypatch):
    """moto's backend has no lock: each write takes one here, as DynamoDB's items would."""
    lock = threading.RLock()
    for name in ("transact_write_items", "update_item", "put_item", "delete_item"):
        original = getattr(DynamoDBBackend, name)

        def locked(self, *args, __original=original, **kwargs):
            with lock:
                return __original(self, *args, **kwargs)
        monkeypatch.setattr(DynamoDBBackend, name, locked)


def request(n: int, order_id: str = "ord_1", seller_id: str = "sel_1", status: str = "open") -> AftersalesRequest:
    at = int(time.time())
    return AftersalesRequest(f"req_{order_id}_{n}", order_id, "card_1", seller_id, "return", status, at, at,
                             [RequestMessage("buyer", f"message {n}", at)])


def test_racing_requests_on_one_order_open_exactly_one(aws, serialized_moto):
    start = threading.Barrier(12)

    def one(n):
        start.wait()
        try:
            stored.create(request(n))
            return "opened"
        except RequestAlreadyOpen:
            return "refused"

    with ThreadPoolExecutor(12) as pool:
        outcomes = list(pool.map(one, range(12)))

    assert outcomes.count("opened") == 1 and outcomes.count("refused") == 11
    assert len(stored.of_order("ord_1")) == 1


def test_a_settled_request_gives_the_order_back_and_a_request_moves_once(aws):
    first = request(1)
    stored.create(first)
    with pytest.raises(RequestAlreadyOpen):
        stored.create(request(2))
    stored.move(first, "approved", ("open",), first.created_at, instructions="Post it back.")
    with pytest.raises(RequestAlreadyOpen):  # approved is still unsettled
        stored.create(request(2))
    approved = stored.require(first.request_id)
    with pytest.raises(WrongRequestState):
        stored.move(first, "declined", ("open",), first.created_at, reason="late")
    stored.move(approved, "refunded", ("open", "approved"), first.created_at, restock=True)

    stored.create(request(2))
    assert [(r.request_id, r.status) for r in stored.of_order("ord_1")] == [
        ("req_ord_1_2", "open"), ("req_ord_1_1", "refunded")]
    refunded = stored.require(first.request_id)
    assert (refunded.instructions, refunded.restock) == ("Post it back.", True)


def test_photos_stop_at_three_and_the_thread_at_its_limit_and_closed_takes_no_message(aws):
    req = request(1)
    stored.create(req)
    for n in range(3):
        stored.add_photo(req, RequestPhoto(f"p{n}", f"requests/{req.request_id}/p{n}.jpg", "image/jpeg", 10, 1))
    with pytest.raises(TooManyPhotos):
        stored.add_photo(req, RequestPhoto("p4", "k", "image/jpeg", 10, 1))
    for n in range(MAX_MESSAGES - 1):
        stored.add_message(req, RequestMessage("seller" if n % 2 else "buyer", f"m{n}", 2))
    with pytest.raises(TooManyMessages):
        stored.add_message(req, RequestMessage("buyer", "one too many", 3))
    found = stored.require(req.request_id)
    assert len(found.photos) == 3 and len(found.messages) == MAX_MESSAGES

    other = request(1, order_id="ord_2")
    stored.create(other)
    stored.move(other, "closed", ("open",), 4)
    with pytest.raises(TooManyMessages):
        stored.add_message(other, RequestMessage("buyer", "hello?", 5))


def test_the_sellers_list_is_theirs_newest_first_by_status(aws):
    for n, order_id in enumerate(("ord_a", "ord_b", "ord_c")):
        stored.create(request(n, order_id=order_id))
    stored.create(request(9, order_id="ord_x", seller_id="sel_2"))
    oldest = stored.of_order("ord_a")[0]
    stored.move(oldest, "declined", ("open",), 1, reason="no")

    everything, _ = stored.of_seller("sel_1", None, 10, None)
    assert [r.order_id for r in everything] == ["ord_c", "ord_b", "ord_a"]
    declined, _ = stored.of_seller("sel_1", "declined", 10, None)
    assert [r.order_id for r in declined] == ["ord_a"]
    first_page, after = stored.of_seller("sel_1", None, 2, None)
    second_page, _ = stored.of_seller("sel_1", None, 2, after)
    assert [r.order_id for r in first_page + second_page] == ["ord_c", "ord_b", "ord_a"]
    assert stored.get("open#ord_b") is None  # an order's mark is never read as a request
