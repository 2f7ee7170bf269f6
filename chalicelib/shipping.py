"""A buyer's shipping address at rest: sealed (encrypted JSON, with the same helper as share
channels' secrets, chalicelib/secrets.py) before it reaches the orders table, opened only for the
order's seller and for the buyer who holds the order's token. Never logged."""
from __future__ import annotations

import json
import logging

from chalicelib import secrets
from chalicelib.domain import Order

log = logging.getLogger(__name__)


def seal(address: dict | None) -> str | None:
    return None if address is None else secrets.encrypt(json.dumps(address, ensure_ascii=False, sort_keys=True))


def address_of(order: Order) -> dict | None:
    """The order's address in the clear; None when it has none (or it was sealed under a key
    since rotated: the order id is logged, never the address)."""
    if not order.shipping_address:
        return None
    try:
        return json.loads(secrets.decrypt(order.shipping_address))
    except Exception:  # cryptography's InvalidToken, or a value that is not ours
        log.warning("the shipping address of %s cannot be read with the current key", order.order_id)
        return None
