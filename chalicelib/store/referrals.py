"""The referrals table: one item per paid order that came through another buyer's link. The put
is what credits it once; a partial refund lowers it to what was paid; a full refund takes it
back. The only module that writes it."""
from __future__ import annotations

import time

from pynamodb.exceptions import PutError, UpdateError

from chalicelib.store.social_models import ReferralModel
from chalicelib.store.transactions import Transaction

REFERRAL = "referral"


def credit(card_id: str, order_id: str, *, referrer_code: str, referrer_order_id: str,
           amount: int, currency: str, rebate: int) -> bool:
    """Credit the order to its referrer; False when an earlier delivery already did."""
    try:
        ReferralModel(card_id, order_id, referrer_code=referrer_code, referrer_order_id=referrer_order_id,
                      amount=amount, currency=currency, rebate=rebate,
                      created_at=int(time.time())).save(condition=ReferralModel.order_id.does_not_exist())
    except PutError:
        return False
    return True


def uncredit(tx: Transaction, card_id: str, order_id: str) -> None:
    """In a refund's transaction: the order's credit goes, if it had one."""
    tx.delete(REFERRAL, ReferralModel(card_id, order_id))


def of_order(card_id: str, order_id: str) -> ReferralModel | None:
    """The order's credit, if it has one (a query: no read permission beyond the reports')."""
    return next(iter(ReferralModel.query(card_id, ReferralModel.order_id == order_id)), None)


def lower(card_id: str, order_id: str, *, amount: int, rebate: int) -> bool:
    """Part of the order's money went back: its credit counts what was paid. Only ever down, so a
    redelivered or late older refund event changes nothing, and a credit a full refund took back
    never comes back. False when there was nothing to lower."""
    try:
        ReferralModel(card_id, order_id).update(
            actions=[ReferralModel.amount.set(amount), ReferralModel.rebate.set(rebate)],
            condition=ReferralModel.order_id.exists() & (ReferralModel.amount > amount))
    except UpdateError as error:
        if getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def of_card(card_id: str) -> list[ReferralModel]:
    return list(ReferralModel.query(card_id))


def of_referrer(card_id: str, referrer_code: str) -> list[ReferralModel]:
    """The orders one buyer's link brought to a card."""
    return list(ReferralModel.query(card_id, filter_condition=ReferralModel.referrer_code == referrer_code))
