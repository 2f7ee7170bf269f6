"""A storm of taps on a discount code never over-redeems it: the redemption is counted in the hold's
own transaction, conditional on redemptions being left, and comes back when the holds expire.

moto's backend has no lock (README, "DynamoDB mutations are serialized"): two transactions could
both pass their conditions before either writes. Like the local stack's DynamoDB server, the
backend's writes here take one lock each, so moto behaves as DynamoDB does (each transaction
all-or-nothing, serializable), and the threads still race for the code as real Lambdas would.
"""
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from moto.dynamodb.models import DynamoDBBackend

from chalicelib import audit, checkout, payment_events
from chalicelib.domain import CodeUsedUp, DomainError, new_code_from_request
from chalicelib.store import codes

TAPS = 50
MAX_REDEMPTIONS = 10


@pytest.fixture
def serialized_moto(monkeypatch):
    lock = threading.RLock()
    for name in ("transact_write_items", "update_item", "put_item", "delete_item", "batch_write_item"):
        original = getattr(DynamoDBBackend, name)

        def locked(self, *args, __original=original, **kwargs):
            with lock:
                return __original(self, *args, **kwargs)
        monkeypatch.setattr(DynamoDBBackend, name, locked)


def storm(card_id: str, buyers: list[str], code: str) -> Counter:
    start = threading.Barrier(len(buyers))

    def one_tap(buyer: str) -> str:
        start.wait()
        try:
            order = checkout.checkout(card_id, {"quantity": 1, "buyer": buyer, "code": code}, f"key-{buyer}",
                                      client=None)
        except CodeUsedUp:
            return "code_used_up"
        except DomainError as error:  # anything else is a failure of the test
            return error.code
        return "held with code" if (order["discount"] or {}).get("code") == code.upper() else "held without code"

    with ThreadPoolExecutor(max_workers=len(buyers)) as pool:
        return Counter(pool.map(one_tap, buyers))


def test_fifty_concurrent_taps_redeem_a_ten_use_code_exactly_ten_times_and_get_them_back(
        aws, make_card, serialized_moto, monkeypatch):
    refused_by_the_write = []
    real_refused = codes.refused
    monkeypatch.setattr(codes, "refused", lambda refusal, code: refused_by_the_write.append(1) or real_refused(refusal, code))
    # Every tap reads the code before any writes (on a busy machine the threads would otherwise
    # straggle, and the read alone would turn the late ones away): the write's condition must hold.
    all_read = threading.Barrier(TAPS, timeout=60)
    real_for_tap = codes.for_tap

    def read_then_wait(*args):
        code = real_for_tap(*args)
        all_read.wait()
        return code
    monkeypatch.setattr(codes, "for_tap", read_then_wait)
    card = make_card(stock=100, hold_seconds=60)
    codes.create(new_code_from_request({"code": "STORM", "percent_off": 25, "max_redemptions": MAX_REDEMPTIONS},
                                       card.card_id, int(time.time())))
    buyers = [f"storm-buyer-{n:04d}" for n in range(TAPS)]

    outcome = storm(card.card_id, buyers, "storm")

    assert outcome == {"held with code": MAX_REDEMPTIONS, "code_used_up": TAPS - MAX_REDEMPTIONS}
    # The taps raced past the read (the code looked unused to them): the transaction's condition refused them.
    assert len(refused_by_the_write) >= TAPS - MAX_REDEMPTIONS
    assert codes.get(card.card_id, "STORM", consistent=True).redeemed == MAX_REDEMPTIONS
    report = audit.run(card.card_id)
    assert report.clean, report.problems
    assert report.held == MAX_REDEMPTIONS  # a refused redemption took no unit either

    # The holds run out unpaid: the sweeper's batched release gives every redemption back.
    assert payment_events.expire_holds(int(time.time()) + 120) == MAX_REDEMPTIONS
    assert codes.get(card.card_id, "STORM", consistent=True).redeemed == 0
    buyer_counts = codes.buyer_counts(card.card_id)
    assert len(buyer_counts) == MAX_REDEMPTIONS and set(buyer_counts.values()) == {0}
    report = audit.run(card.card_id)
    assert report.clean, report.problems

    # And the next storm finds ten redemptions again.
    second = storm(card.card_id, [f"second-buyer-{n:04d}" for n in range(TAPS)], "STORM")
    assert second == {"held with code": MAX_REDEMPTIONS, "code_used_up": TAPS - MAX_REDEMPTIONS}
    assert audit.run(card.card_id).clean
