"""The stock audit: every unit of a card is available, held or sold, and every order is in a
state it can be in. `python ops.py audit CARD_ID` runs it; the tests run it after every step."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from chalicelib.domain import HELD, ORDER_STATUSES, PAID, REFUNDED, Group, Order, group_problems, holds_redemption


@dataclass
class AuditReport:
    card_id: str
    stock: int
    available: int
    held: int
    sold: int
    orders_by_status: dict[str, int]
    problems: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.problems


def check(card_id: str, stock: int, shards: dict[int, list[int]], orders: list[Order],
          buyer_units: dict[str, int], limit: int | None, open_holds: dict[str, int] | None = None,
          code_counts: dict[str, int] | None = None, code_buyers: dict[tuple[str, str], int] | None = None,
          groups: list[Group] | None = None) -> AuditReport:
    """shards: {shard: [available, held, sold]}; buyer_units: the per-buyer counters by buyer;
    open_holds: each client's counter of units held unpaid; code_counts: each discount code's
    redeemed count, code_buyers: each (code, buyer)'s; groups: the groups the orders joined."""
    available = sum(s[0] for s in shards.values())
    held = sum(s[1] for s in shards.values())
    sold = sum(s[2] for s in shards.values())
    problems = []
    if available + held + sold != stock:
        problems.append(f"units: available {available} + held {held} + sold {sold} != stock {stock}")
    for shard, (s_available, s_held, s_sold) in sorted(shards.items()):
        if min(s_available, s_held, s_sold) < 0:
            problems.append(f"shard {shard} went negative: {s_available}/{s_held}/{s_sold}")

    by_status: dict[str, int] = defaultdict(int)
    units = {HELD: 0, PAID: 0}
    per_buyer: dict[str, int] = defaultdict(int)
    per_client: dict[str, int] = defaultdict(int)
    for order in orders:
        by_status[order.status] += 1
        if order.status not in ORDER_STATUSES:
            problems.append(f"{order.order_id}: unknown status {order.status!r}")
            continue
        if order.status in units:
            units[order.status] += order.quantity
            if order.counted:
                per_buyer[order.buyer] += order.quantity
            if order.status == HELD and order.client:
                per_client[order.client] += order.quantity
            if sum(order.stock_take.values()) != order.quantity:
                problems.append(f"{order.order_id}: took {order.stock_take} for {order.quantity} unit(s)")
        if order.status == PAID and not order.referral_code:
            problems.append(f"{order.order_id}: paid without a referral code")
        if order.status == REFUNDED and not order.refund_id:
            problems.append(f"{order.order_id}: refunded without a refund id")
    if units[HELD] != held:
        problems.append(f"held orders hold {units[HELD]} unit(s) but the shards say {held}")
    if units[PAID] != sold:
        problems.append(f"paid orders bought {units[PAID]} unit(s) but the shards say {sold}")
    for buyer, counted in sorted(buyer_units.items()):
        if counted != per_buyer.get(buyer, 0):
            problems.append(f"buyer {buyer}: counter says {counted}, orders say {per_buyer.get(buyer, 0)}")
    for client, counted in sorted((open_holds or {}).items()):
        if counted != per_client.get(client, 0):
            problems.append(f"client {client}: open holds counter says {counted}, held orders say {per_client.get(client, 0)}")
    problems += _code_problems(orders, code_counts or {}, code_buyers or {})
    for group in groups or ():
        problems += group_problems(group, [order for order in orders if order.group_id == group.group_id])
    if {order.group_id for order in orders if order.group_id} - {group.group_id for group in groups or ()}:
        problems.append("orders joined a group that does not exist")
    if limit is not None:
        for buyer, bought in sorted(per_buyer.items()):
            if bought > limit:
                problems.append(f"buyer {buyer}: {bought} unit(s), over the limit of {limit}")
    return AuditReport(card_id, stock, available, held, sold, dict(by_status), problems)


def _code_problems(orders: list[Order], code_counts: dict[str, int],
                   code_buyers: dict[tuple[str, str], int]) -> list[str]:
    """Each code's redeemed count (and each buyer's) against the orders that hold one of its
    redemptions (domain.holds_redemption); a count past max_redemptions shows as more orders than
    the code allows only through the counts themselves, which the hold's condition bounds."""
    per_code: dict[str, int] = defaultdict(int)
    per_code_buyer: dict[tuple[str, str], int] = defaultdict(int)
    for order in orders:
        if holds_redemption(order.status, order.discount_kind, order.code, order.status_reason):
            per_code[order.code] += 1
            per_code_buyer[(order.code, order.buyer)] += 1
    problems = []
    for code in sorted(set(code_counts) | set(per_code)):
        if code_counts.get(code, 0) != per_code.get(code, 0):
            problems.append(f"code {code}: redeemed {code_counts.get(code, 0)}, orders holding it {per_code.get(code, 0)}")
    for key in sorted(set(code_buyers) | set(per_code_buyer)):
        if code_buyers.get(key, 0) != per_code_buyer.get(key, 0):
            problems.append(f"code {key[0]}, buyer {key[1]}: counter says {code_buyers.get(key, 0)}, "
                            f"orders say {per_code_buyer.get(key, 0)}")
    return problems


def run(card_id: str) -> AuditReport:
    """The audit of the card as stored now (read fresh, not from this container's memory)."""
    from chalicelib.store import cards, codes, groups, orders, stock

    card = cards.get_fresh(card_id)
    all_orders, _ = orders.of_card(card_id)
    counted = {order.buyer for order in all_orders if order.counted}
    clients = {order.client for order in all_orders if order.client}
    return check(card_id, card.stock, stock.read_fresh(card), all_orders, stock.buyer_units(card_id, counted),
                 card.limit_per_buyer, stock.open_holds(card_id, clients),
                 {code.code: code.redeemed for code in codes.of_card(card_id, include_deleted=True)},
                 codes.buyer_counts(card_id), groups.get_many(sorted({o.group_id for o in all_orders if o.group_id})))
