"""The reservations table: one item per reservation, its card's count raised in the same
transaction. The only module that writes it."""
from __future__ import annotations

from pynamodb.exceptions import DoesNotExist

from chalicelib.store import counts
from chalicelib.store.models import ReservationModel
from chalicelib.store.transactions import Refused, Transaction

RESERVATION = "reservation"


def create(reservation_id: str, card_id: str, seller_id: str, created_at: int, email: str | None,
           city: str | None) -> bool:
    """Store the reservation and count it on the card; False when it was made before (same id)."""
    tx = Transaction()
    tx.save(RESERVATION, ReservationModel(reservation_id, card_id=card_id, seller_id=seller_id,
                                          created_at=created_at, email=email, city=city),
            condition=ReservationModel.reservation_id.does_not_exist())
    counts.add_item(tx, card_id, counts.RESERVATIONS)
    try:
        tx.commit()
    except Refused as refused:
        if not refused.failed(RESERVATION):
            raise
        return False
    finally:
        counts.forget(card_id)
    return True


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
