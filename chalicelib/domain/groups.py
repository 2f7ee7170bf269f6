"""Group buying (拼团): a card's group price, a group's life (open → complete or failed) and the
checks of starting, joining and auditing one. Plain Python.

Money is only authorised while a group is open (PaymentIntents with manual capture): captured
when the last member authorises, cancelled when the window closes first. Card networks keep an
online card authorisation for at least 7 days (Stripe: "authorized charges ... must be captured
within 7 days"), so MAX_WINDOW_MINUTES (24 h) keeps every capture well inside it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.domain.errors import DomainError, InvalidRequest, NotFound
from chalicelib.domain.fields import MAX_AMOUNT, int_field, require

__all__ = ["MIN_GROUP_SIZE", "MAX_GROUP_SIZE", "MIN_WINDOW_MINUTES", "MAX_WINDOW_MINUTES", "OPEN", "COMPLETE",
           "FAILED", "GROUP_FAILED", "GROUP_CAPTURE_FAILED", "GroupSetting", "Group", "group_setting_from",
           "group_setting_json", "group_id_for", "check_joinable", "check_solo_allowed", "GroupFull", "GroupClosed",
           "AlreadyInGroup", "GroupBuyingOff", "GroupOnly", "group_problems"]

MIN_GROUP_SIZE, MAX_GROUP_SIZE = 2, 50
MIN_WINDOW_MINUTES, MAX_WINDOW_MINUTES = 1, 1440
OPEN, COMPLETE, FAILED = "open", "complete", "failed"
# Why a group order was canceled (its status_reason): the window closed first; its capture failed.
GROUP_FAILED, GROUP_CAPTURE_FAILED = "group_failed", "group_capture_failed"


class GroupFull(DomainError):
    code = "group_full"


class GroupClosed(DomainError):
    code = "group_closed"


class AlreadyInGroup(DomainError):
    """This buyer is a member of the group already (one place per buyer token)."""
    code = "already_in_group"


class GroupBuyingOff(DomainError):
    code = "group_buying_off"


class GroupOnly(DomainError):
    """The card sells at its group price only: start or join a group."""
    code = "group_only"


@dataclass(frozen=True)
class GroupSetting:
    """A card's group buying: how many buyers make a group, at what price, within how long."""
    size: int
    price_amount: int
    window_minutes: int
    only: bool = False


@dataclass
class Group:
    """One group of buyers: its members so far, those whose payment is authorised, and its state."""
    group_id: str
    card_id: str
    size: int
    members: int
    authorised: int
    price_amount: int
    currency: str
    closes_at: int
    state: str
    starter_order_id: str
    created_at: int
    starter_name: str | None = None
    settled: bool = False  # every member order is paid or given back: nothing left to do


def group_setting_from(value: Any, price_amount: int) -> GroupSetting | None:
    """The card's `group` ({size, price: {amount}, window_minutes, only?}) or None (null/absent).
    The group price is below the card's price: it is what friends unlock together."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidRequest("'group' must be an object with 'size', 'price' and 'window_minutes' (or null).", "group")
    size = int_field(require(value, "size", "group.size"), "group.size", MIN_GROUP_SIZE, MAX_GROUP_SIZE)
    price = require(value, "price", "group.price")
    if not isinstance(price, dict):
        raise InvalidRequest("'group.price' must be an object with 'amount'.", "group.price")
    amount = int_field(require(price, "amount", "group.price.amount"), "group.price.amount", 1, MAX_AMOUNT)
    if amount >= price_amount:
        raise InvalidRequest("'group.price.amount' must be below the card's price.", "group.price.amount")
    window = int_field(require(value, "window_minutes", "group.window_minutes"), "group.window_minutes",
                       MIN_WINDOW_MINUTES, MAX_WINDOW_MINUTES)
    only = value.get("only", False)
    if not isinstance(only, bool):
        raise InvalidRequest("'group.only' must be true or false.", "group.only")
    return GroupSetting(size, amount, window, only)


def group_setting_json(setting: GroupSetting | None, currency: str) -> dict | None:
    if setting is None:
        return None
    return {"size": setting.size, "price": {"amount": setting.price_amount, "currency": currency},
            "window_minutes": setting.window_minutes, "only": setting.only}


def group_id_for(order_id: str) -> str:
    """A group is named after its starter's order, so a retried start names the same group."""
    return "grp_" + order_id.removeprefix("ord_")


def check_solo_allowed(setting: GroupSetting | None) -> None:
    if setting is not None and setting.only:
        raise GroupOnly("This item sells at its group price only: start a group or join one.")


def check_joinable(group: Group | None, card_id: str, at: int) -> Group:
    """A group of this card that takes members now. Another card's group reads as unknown."""
    if group is None or group.card_id != card_id:
        raise NotFound("This card has no group with this id.")
    if group.state != OPEN or group.closes_at <= at:
        raise GroupClosed("This group has closed; start a new one.")
    if group.members >= group.size:
        raise GroupFull("This group is full; start a new one.")
    return group


def group_problems(group: Group, orders: list) -> list[str]:
    """The audit of one group against its member orders (every order that ever joined it).

    members and authorised count those orders; money is taken (paid) only from a group that
    reached its size; a settled group holds nothing; a failed group charged no one."""
    name = group.group_id
    problems = []
    if group.members != len(orders):
        problems.append(f"group {name}: members {group.members}, orders {len(orders)}")
    if group.members > group.size:
        problems.append(f"group {name}: {group.members} member(s) in a group of {group.size}")
    authorised = sum(1 for order in orders if order.authorised_at)
    if group.authorised != authorised:
        problems.append(f"group {name}: authorised {group.authorised}, orders authorised {authorised}")
    paid = [order for order in orders if order.status in ("paid", "refunded") and order.payment_intent_id]
    if paid and group.state != COMPLETE:
        problems.append(f"group {name}: {len(paid)} member(s) charged in a {group.state} group")
    if group.state == COMPLETE and group.authorised != group.size:
        problems.append(f"group {name}: complete with {group.authorised} of {group.size} authorised")
    if group.settled and any(order.status == "held" for order in orders):
        problems.append(f"group {name}: settled but an order is still held (an authorisation left over)")
    return problems
