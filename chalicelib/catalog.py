"""The seller's side of the tables: their cards and orders, page by page; card edits, visibility,
fulfilment and refunds. Every change of stock is a conditional transaction, as in inventory.py."""
from __future__ import annotations

import time

from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from chalicelib import inventory
from chalicelib.domain import PAID, REFUNDED, Card, Conflict, Order
from chalicelib.inventory import StaleOrder
from chalicelib.models import BuyerLimitModel, CardModel, OrderModel, ReferralModel, StockShardModel, connection


def cards_of(seller_id: str, limit: int, after: dict | None) -> tuple[list[Card], dict | None]:
    """The seller's cards, newest first, and the key to continue after (None on the last page)."""
    pages = CardModel.by_seller.query(seller_id, scan_index_forward=False, limit=limit, last_evaluated_key=after)
    cards = [inventory._to_card(model) for model in pages]
    return cards, pages.last_evaluated_key if len(cards) == limit else None


def fresh_card(card_id: str) -> Card:
    return inventory._read_card(card_id, consistent=True)


def has_orders(card_id: str) -> bool:
    return any(True for _ in OrderModel.by_card.query(card_id, limit=1))


def orders_of(card_id: str, status: str | None, since: int | None, until: int | None, limit: int | None,
              after: dict | None = None) -> tuple[list[Order], dict | None]:
    """A card's orders, newest first, filtered by status and creation time."""
    if since is not None and until is not None:
        range_condition = OrderModel.created_at.between(since, until)
    elif since is not None:
        range_condition = OrderModel.created_at >= since
    elif until is not None:
        range_condition = OrderModel.created_at <= until
    else:
        range_condition = None
    pages = OrderModel.by_card.query(
        card_id, range_key_condition=range_condition, scan_index_forward=False, limit=limit,
        filter_condition=(OrderModel.status == status) if status else None, last_evaluated_key=after,
    )
    orders = [inventory._to_order(model) for model in pages]
    more = limit is not None and len(orders) == limit
    return orders, pages.last_evaluated_key if more else None


def update_card(before: Card, after: Card, stock_change: int) -> None:
    """Save the edited card; added units go to the shards' available counts, removed units come
    from them only while each shard still has them (what is sold or held never shrinks)."""
    fields = ("title", "description", "image_url", "price_amount", "currency", "stock", "starts_at",
              "ends_at", "limit_per_buyer", "hold_seconds", "share_text")
    actions = [getattr(CardModel, name).set(getattr(after, name)) if getattr(after, name) is not None
               else getattr(CardModel, name).remove() for name in fields]
    actions.append(CardModel.updated_at.set(int(time.time())))
    if after.starts_at != before.starts_at and after.starts_at is not None and after.starts_at > time.time():
        actions.append(CardModel.opening_shard.set("open"))  # the new start gets its sale.opened
    shards = _spread(before, stock_change)
    try:
        with TransactWrite(connection=connection()) as tx:
            # The stock the change was computed from must still be the stock: two edits never race.
            tx.update(CardModel(before.card_id), actions=actions, condition=CardModel.stock == before.stock)
            for shard, units in shards.items():
                tx.update(StockShardModel(StockShardModel.key(before.card_id, shard)),
                          actions=[StockShardModel.available.add(units)],
                          condition=(StockShardModel.available >= -units) if units < 0 else None)
    except TransactWriteError:
        raise Conflict("The stock changed while this edit was made (units were held); try again.",
                       "stock") from None
    _forget(before.card_id)


def _spread(card: Card, stock_change: int) -> dict[int, int]:
    """Units to add to each shard (negative: to remove), evenly, from the shards' fresh levels."""
    if stock_change == 0:
        return {}
    levels = inventory._read_shards(card.card_id, consistent=True)
    if stock_change > 0:
        per_shard, extra = divmod(stock_change, card.shard_count)
        return {shard: per_shard + (1 if shard < extra else 0) for shard in range(card.shard_count)
                if per_shard + (1 if shard < extra else 0)}
    take, remaining = {}, -stock_change
    for shard, (available, _, _) in sorted(levels.items(), key=lambda item: -item[1][0]):
        if remaining and available:
            take[shard] = -min(available, remaining)
            remaining += take[shard]
    if remaining:
        raise Conflict("Those units are held by buyers paying now; try again in a few minutes.", "stock")
    return take


def set_status(card_id: str, status: str, expected: tuple[str, ...]) -> None:
    try:
        CardModel(card_id).update(
            actions=[CardModel.status.set(status), CardModel.updated_at.set(int(time.time()))],
            condition=CardModel.status.is_in(*expected) | CardModel.status.does_not_exist(),
        )
    except UpdateError:
        raise Conflict(f"This card cannot become {status} now (archived cards stay archived).", "status") from None
    _forget(card_id)


def _forget(card_id: str) -> None:
    inventory._cards.forget(card_id)
    inventory.forget_stock(card_id)


def fulfil(order: Order, carrier: str, tracking_number: str) -> int:
    at = int(time.time())
    try:
        OrderModel(order.order_id).update(
            actions=[OrderModel.carrier.set(carrier), OrderModel.tracking_number.set(tracking_number),
                     OrderModel.fulfilled_at.set(at), OrderModel.updated_at.set(at)],
            condition=OrderModel.status == PAID,
        )
    except UpdateError:
        raise Conflict("Only a paid order can be fulfilled.", "order_id") from None
    return at


def refund_paid(order: Order, refund_id: str, restock: bool) -> None:
    """paid → refunded. Restocked units go back on sale; others leave the card's stock (damaged,
    kept by the buyer). Either way they leave the buyer's and the payer's counts, so the buyer may
    buy again. A referral credit for the order is taken back."""
    at = int(time.time())
    try:
        with TransactWrite(connection=connection()) as tx:
            tx.update(OrderModel(order.order_id), condition=OrderModel.status == PAID, actions=[
                OrderModel.status.set(REFUNDED), OrderModel.refund_id.set(refund_id),
                OrderModel.status_reason.set("refunded_by_seller" if restock else "refunded_by_seller_not_restocked"),
                OrderModel.updated_at.set(at),
            ])
            for shard, units in order.stock_take.items():
                moves = [StockShardModel.sold.add(-units)]
                if restock:
                    moves.append(StockShardModel.available.add(units))
                tx.update(StockShardModel(StockShardModel.key(order.card_id, shard)), actions=moves)
            if not restock:
                tx.update(CardModel(order.card_id), actions=[CardModel.stock.add(-order.quantity)])
            # A refunded order earns its referrer nothing: its referral credit goes (if it had one).
            tx.delete(ReferralModel(order.card_id, order.order_id))
            counted = ([order.buyer] if order.counted else []) + list(order.payer_ids)
            for who in counted:
                tx.update(BuyerLimitModel(inventory._buyer_key(order.card_id, who)),
                          actions=[BuyerLimitModel.units.add(-order.quantity)])
    except TransactWriteError:
        raise StaleOrder() from None
    _forget(order.card_id)
