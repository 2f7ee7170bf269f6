"""The reservations table: one item per reservation, its card's count raised and its client's rate
taken in the same transaction. The only module that writes it."""
from __future__ import annotations

import random
import time

from pynamodb.exceptions import DoesNotExist

from chalicelib import config
from chalicelib.domain import TooManyReservations, rate_window
from chalicelib.store import counts, rate_limits
from chalicelib.store.social_models import ReservationModel
from chalicelib.store.transactions import Refused, Transaction

RESERVATION = "reservation"
ATTEMPTS = 3


def create(reservation_id: str, card_id: str, seller_id: str, created_at: int, email: str | None,
           client: str, forget_at: int) -> bool:
    """Store the reservation (DynamoDB's TTL deletes it, email and all, at forget_at), count it on
    the card and in its client's window, all or nothing; False when it was made before (same id:
    a repeat uses none of the client's rate).
    TooManyReservations when the client's window is full."""
    window_start, seconds_left = rate_window(created_at, config.RESERVATION_RATE_SECONDS)
    attempt = 0
    while True:
        tx = Transaction()
        tx.save(RESERVATION, ReservationModel(reservation_id, card_id=card_id, seller_id=seller_id,
                                              created_at=created_at, email=email, expires_at=forget_at),
                condition=ReservationModel.reservation_id.does_not_exist())
        counts.add_item(tx, card_id, counts.RESERVATIONS)
        rate_limits.take_item(tx, "reservations", client, window_start, config.RESERVATION_RATE_SECONDS,
                              config.RESERVATIONS_PER_CLIENT)
        try:
            tx.commit()
            return True
        except Refused as refused:
            if refused.failed(RESERVATION):
                return False
            if rate_limits.refused(refused):
                raise TooManyReservations("Too many reservations from this network just now; try again "
                                          "in a minute.", seconds_left) from None
            # Readers behind one address (or on one count shard) reserving at the same moment.
            attempt += 1
            if not refused.conflicted or attempt == ATTEMPTS:
                raise
            time.sleep(random.uniform(0, 0.02 * 2**attempt))
        finally:
            counts.forget(card_id)


def get(reservation_id: str) -> ReservationModel | None:
    try:
        return ReservationModel.get(reservation_id, consistent_read=True)
    except DoesNotExist:
        return None


def page_of_card(card_id: str, limit: int, after: tuple[str, int] | None) -> tuple[list[ReservationModel], tuple[str, int] | None]:
    """The card's reservations, oldest first, from after (reservation id, created at); with the
    position to continue from when the page is full."""
    start = None if after is None else {"reservation_id": {"S": after[0]}, "card_id": {"S": card_id},
                                        "created_at": {"N": str(after[1])}}
    page = ReservationModel.by_card.query(card_id, limit=limit, last_evaluated_key=start)
    items = list(page)
    last = page.last_evaluated_key
    more = (last["reservation_id"]["S"], int(last["created_at"]["N"])) if last and len(items) == limit else None
    return items, more
