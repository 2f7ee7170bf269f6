"""The groups table (group buying): a group is started and joined inside its member's hold
transaction (store/orders.py `hold(also=...)`), each condition on the group item; a member's
authorisation is recorded on its order and counted on the group in one transaction; the sweeper
fails groups whose window closed. The only module that writes the groups table, and the one
that marks a group order authorised on the orders table."""
from __future__ import annotations

import random

from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib.domain import COMPLETE, FAILED, HELD, OPEN, Group, Order
from chalicelib.store.group_models import GroupModel
from chalicelib.store.order_models import OrderModel, StripeEventModel
from chalicelib.store.transactions import Refused, Transaction
from chalicelib import config

GROUP, MEMBER, ORDER, EVENT = "group", "member", "order", "event"
GROUP_ITEM = "group"
SWEEP_SHARDS = 4  # the sweeper's index spread over a few keys, read one after another


class NotAuthorised(Exception):
    """The authorisation could not be counted: reason says why ("order" moved, "group" closed)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _member_item(buyer: str) -> str:
    return f"m#{buyer}"


def _to_group(model: GroupModel) -> Group:
    return Group(group_id=model.group_id, card_id=model.card_id, size=int(model.size), members=int(model.members),
                 authorised=int(model.authorised or 0), price_amount=int(model.price_amount),
                 currency=model.currency, closes_at=int(model.closes_at), state=model.state,
                 starter_order_id=model.order_id, created_at=int(model.created_at),
                 starter_name=model.starter_name, settled=model.sweep_shard is None)


def get(group_id: str) -> Group | None:
    try:
        return _to_group(GroupModel.get(group_id, GROUP_ITEM, consistent_read=True))
    except DoesNotExist:
        return None


def get_many(group_ids: list[str]) -> list[Group]:
    return [_to_group(model) for model in GroupModel.batch_get([(gid, GROUP_ITEM) for gid in group_ids],
                                                                       consistent_read=True)]


def member_order_ids(group_id: str) -> list[str]:
    """The orders of everyone who ever joined the group (starter included)."""
    return [item.order_id for item in GroupModel.query(group_id, GroupModel.item.startswith("m#"),
                                                       consistent_read=True)]


# --- inside the hold's transaction ------------------------------------------------------------


def starting(group: Group, buyer: str):
    """The items a start adds to its starter's hold: the group (one member) and the starter's place."""
    def add(tx: Transaction) -> None:
        tx.save(GROUP, GroupModel(
            group.group_id, GROUP_ITEM, card_id=group.card_id, order_id=group.starter_order_id, size=group.size,
            members=1, authorised=0, price_amount=group.price_amount, currency=group.currency,
            closes_at=group.closes_at, state=OPEN, created_at=group.created_at, starter_name=group.starter_name,
            sweep_shard=f"s{random.randrange(SWEEP_SHARDS)}"), condition=GroupModel.group_id.does_not_exist())
        tx.save(MEMBER, GroupModel(group.group_id, _member_item(buyer), card_id=group.card_id,
                                   order_id=group.starter_order_id), condition=GroupModel.item.does_not_exist())
    return add


def joining(group: Group, buyer: str, order_id: str, at: int):
    """The items a join adds to its member's hold: one more member, only while the group is open,
    has room and its window has not closed; and the member's place, once per buyer."""
    def add(tx: Transaction) -> None:
        tx.update(GROUP, GroupModel(group.group_id, GROUP_ITEM), actions=[GroupModel.members.add(1)],
                  condition=(GroupModel.state == OPEN) & (GroupModel.members < GroupModel.size)
                  & (GroupModel.closes_at > at))
        tx.save(MEMBER, GroupModel(group.group_id, _member_item(buyer), card_id=group.card_id, order_id=order_id),
                condition=GroupModel.item.does_not_exist())
    return add


# --- authorisations ---------------------------------------------------------------------------


def authorise(order: Order, group: Group, payment_intent_id: str, payer_ids: tuple[str, ...], at: int,
              event_id: str | None = None) -> bool:
    """Count the order's authorised payment on its group, in one transaction with the order's mark
    (once per order) and the Stripe event (once per event). The authorisation that makes the group
    full makes it complete. Returns whether the group became complete. Raises NotAuthorised
    ("order": not held or authorised already; "group": closed or failed; "event": seen) or
    Refused on a conflict with another member's authorisation (read the group again, retry)."""
    tx = Transaction()
    if event_id:
        tx.save(EVENT, StripeEventModel(event_id, type="group_authorised",
                                        expires_at=at + config.STRIPE_EVENT_TTL_SECONDS),
                condition=StripeEventModel.event_id.does_not_exist())
    actions = [OrderModel.authorised_at.set(at), OrderModel.payment_intent_id.set(payment_intent_id),
               OrderModel.updated_at.set(at)]
    if payer_ids:
        actions.append(OrderModel.payer_ids.set(list(payer_ids)))
    tx.update(ORDER, OrderModel(order.order_id), actions=actions,
              condition=(OrderModel.status == HELD) & OrderModel.authorised_at.does_not_exist())
    complete = group.authorised + 1 >= group.size
    tx.update(GROUP, GroupModel(group.group_id, GROUP_ITEM),
              actions=[GroupModel.authorised.set(group.authorised + 1)] + ([GroupModel.state.set(COMPLETE)]
                                                                           if complete else []),
              condition=(GroupModel.state == OPEN) & (GroupModel.authorised == group.authorised)
              & (GroupModel.closes_at > at))
    tx.update(MEMBER, GroupModel(group.group_id, _member_item(order.buyer)),
              actions=[GroupModel.authorised_at.set(at)], condition=GroupModel.item.exists())
    try:
        tx.commit()
    except Refused as refused:
        for label in (EVENT, ORDER):
            if refused.failed(label):
                raise NotAuthorised(label) from None
        fresh = get(group.group_id)
        if fresh is None or fresh.state != OPEN or fresh.closes_at <= at:
            raise NotAuthorised(GROUP) from None
        raise
    return complete


# --- the window closes ------------------------------------------------------------------------


def fail(group_id: str, at: int) -> bool:
    """open → failed once its window closed short of its size; False when it is not open (any more)."""
    try:
        GroupModel(group_id, GROUP_ITEM).update(actions=[GroupModel.state.set(FAILED)],
                                                condition=(GroupModel.state == OPEN) & (GroupModel.closes_at <= at))
        return True
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise


def mark_settled(group_id: str) -> None:
    """Every member order is paid or given back: the group leaves the sweeper's index."""
    GroupModel(group_id, GROUP_ITEM).update(actions=[GroupModel.sweep_shard.remove()])


def due(at: int, limit: int = 50) -> list[str]:
    """Groups whose window closed and whose members are not all settled yet."""
    found = []
    for shard in range(SWEEP_SHARDS):
        found += [item.group_id for item in GroupModel.to_sweep.query(f"s{shard}", GroupModel.closes_at <= at,
                                                                     limit=limit)]
    return found
