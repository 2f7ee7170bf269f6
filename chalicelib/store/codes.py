"""The codes table: a card's discount codes and their redemption counts, and each buyer's count of
one code. The only module that writes it; the orders store adds its items to the hold's (and the
releases') transactions, so a redemption is taken and given back with the order's own move.

A code is one item: every tap that redeems it writes that item (a hot code takes about 500
redemptions a second, DynamoDB's rate for one item in transactions; a code used up is answered
from the read before any write).
"""
from __future__ import annotations

import time

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from chalicelib import config
from chalicelib.domain import CODE, MAX_CODES_PER_CARD, Code, CodeExists, Conflict, NotFound, Order
from chalicelib.recent import Recent
from chalicelib.store.offer_models import CodeModel
from chalicelib.store.transactions import Refused, Transaction

# Transaction labels of a code's item and of the buyer's count of it.
CODE_ITEM, CODE_BUYER = "code", "code_buyer"


# Codes as taps read them: at most about a second old, like the stock levels, so a storm of taps
# on a code costs a read a second per container; a code this container saw used up is refused
# without a write until then. The hold's transaction decides.
_for_taps = Recent(config.STOCK_CACHE_SECONDS)

# Range keys: a code's own item, and one buyer's count of it (so the codes are read without the
# counts, which a busy code has thousands of).
_CODE, _BUYER = "c#", "b#"


def _code_key(code: str) -> str:
    return _CODE + code


def _buyer_key(code: str, buyer: str) -> str:
    return f"{_BUYER}{code}#{buyer}"


def _to_code(model: CodeModel) -> Code:
    def number(value):
        return None if value is None else int(value)

    return Code(card_id=model.card_id, code=model.code_key[len(_CODE):], percent_off=number(model.percent_off),
                amount_off=number(model.amount_off), max_redemptions=number(model.max_redemptions),
                per_buyer=number(model.per_buyer), starts_at=number(model.starts_at), ends_at=number(model.ends_at),
                redeemed=int(model.redeemed or 0), created_at=int(model.created_at or 0),
                deleted=model.deleted_at is not None)


def create(code: Code) -> None:
    """A new code of the card; a code the card has (or had: a removed code's name stays taken, its
    holds may still give redemptions back) is CodeExists."""
    if len(of_card(code.card_id, include_deleted=True)) >= MAX_CODES_PER_CARD:
        raise Conflict(f"A card has at most {MAX_CODES_PER_CARD} codes.", "code")
    try:
        CodeModel(code.card_id, _code_key(code.code), redeemed=0, percent_off=code.percent_off, amount_off=code.amount_off,
                  max_redemptions=code.max_redemptions, per_buyer=code.per_buyer, starts_at=code.starts_at,
                  ends_at=code.ends_at, created_at=code.created_at).save(condition=CodeModel.code_key.does_not_exist())
    except PutError:
        raise CodeExists("This card has (or had) a code of that name.", "code") from None


def get(card_id: str, code: str, consistent: bool = False) -> Code | None:
    """The code of the card, removed or not; None when the card has none of that name."""
    if "#" in code:
        return None
    try:
        return _to_code(CodeModel.get(card_id, _code_key(code), consistent_read=consistent))
    except DoesNotExist:
        return None


def for_tap(card_id: str, code: str) -> Code | None:
    """The code as this container remembers it (a second at most), for a buyer's tap."""
    return _for_taps.get(f"{card_id}#{code}", lambda: get(card_id, code))


def refused(refusal: Refused, code: Code) -> bool:
    """Whether the hold's transaction was refused for the code (no redemptions left for all, or
    for this buyer); the first is remembered so the next taps here are answered without a write."""
    if refusal.failed(CODE_ITEM):
        _for_taps.change(f"{code.card_id}#{code.code}",
                         lambda known: known and setattr(known, "redeemed", max(known.redeemed, known.max_redemptions or 0)))
        return True
    return refusal.failed(CODE_BUYER)


def of_card(card_id: str, include_deleted: bool = False) -> list[Code]:
    """The card's codes, oldest first (buyers' counts are left out)."""
    found = [_to_code(model) for model in CodeModel.query(card_id, CodeModel.code_key.startswith(_CODE),
                                                          consistent_read=True)]
    found = [code for code in found if include_deleted or not code.deleted]
    return sorted(found, key=lambda code: (code.created_at, code.code))


def remove(card_id: str, code: str) -> None:
    """Buyers can no longer use it; holds that use it keep their price."""
    try:
        CodeModel(card_id, _code_key(code)).update(actions=[CodeModel.deleted_at.set(int(time.time()))],
                                        condition=CodeModel.code_key.exists() & CodeModel.deleted_at.does_not_exist())
    except UpdateError:
        raise NotFound("This card has no code of that name.") from None
    _for_taps.forget(f"{card_id}#{code}")


def buyer_counts(card_id: str) -> dict[tuple[str, str], int]:
    """{(code, buyer): redeemed} of every buyer count of the card (the audit)."""
    counts = {}
    for model in CodeModel.query(card_id, CodeModel.code_key.startswith(_BUYER), consistent_read=True):
        code, _, buyer = model.code_key[len(_BUYER):].partition("#")
        counts[(code, buyer)] = int(model.redeemed or 0)
    return counts


# --- transaction items ------------------------------------------------------------------------


def redeem(tx: Transaction, code: Code, buyer: str) -> None:
    """One redemption, conditional on the code being there, not removed, with redemptions left
    (max_redemptions) and this buyer below per_buyer. Labels CODE_ITEM and CODE_BUYER."""
    condition = CodeModel.code_key.exists() & CodeModel.deleted_at.does_not_exist()
    if code.max_redemptions is not None:
        condition &= CodeModel.redeemed < code.max_redemptions
    tx.update(CODE_ITEM, CodeModel(code.card_id, _code_key(code.code)), actions=[CodeModel.redeemed.add(1)],
              condition=condition)
    buyer_condition = None
    if code.per_buyer is not None:
        buyer_condition = CodeModel.redeemed.does_not_exist() | (CodeModel.redeemed < code.per_buyer)
    tx.update(CODE_BUYER, CodeModel(code.card_id, _buyer_key(code.code, buyer)),
              actions=[CodeModel.redeemed.add(1)], condition=buyer_condition)


def give_back(tx: Transaction, card_id: str, code: str, redemptions: int, buyers: dict[str, int]) -> None:
    """Redemptions that come back (holds released, refunds restocked): off the code's count and
    off each buyer's. This container forgets the code, so its taps see them at once."""
    _for_taps.forget(f"{card_id}#{code}")
    tx.update(f"{CODE_ITEM}:{code}", CodeModel(card_id, _code_key(code)), actions=[CodeModel.redeemed.add(-redemptions)])
    for buyer, count in buyers.items():
        tx.update(f"{CODE_BUYER}:{code}#{buyer}", CodeModel(card_id, _buyer_key(code, buyer)),
                  actions=[CodeModel.redeemed.add(-count)])


def redeems(order: Order) -> bool:
    """Whether the order's price came from a code: it holds one of the code's redemptions while
    it is held, paid, or refunded without its units coming back on sale."""
    return order.discount_kind == CODE and bool(order.code)


def give_back_order(tx: Transaction, order: Order) -> None:
    """A hold released (expired, canceled, refunded unpaid) or a refund whose units go back on
    sale gives its code's redemption back, to everyone and to the buyer."""
    if redeems(order):
        give_back(tx, order.card_id, order.code, 1, {order.buyer: 1})


def redeem_again(tx: Transaction, order: Order) -> bool:
    """A payment that arrived after its hold ended (and gave its redemption back) takes it again,
    on the same conditions as a new hold; False when the code is gone. True for an order without one."""
    if not redeems(order):
        return True
    code = get(order.card_id, order.code, consistent=True)
    if code is None:
        return False
    redeem(tx, code, order.buyer)
    return True
