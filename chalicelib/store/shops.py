"""The shops table: a blogger's shops. The only module that writes it."""
from __future__ import annotations

import uuid

from pynamodb.exceptions import DoesNotExist

from chalicelib.domain import MAX_SHOPS, SHOP_ID_PATTERN, NotFound, Shop
from chalicelib.store.offer_models import ShopModel


def _to_shop(model: ShopModel) -> Shop:
    return Shop(shop_id=model.shop_id, seller_id=model.seller_id, name=model.name,
                card_ids=tuple(model.card_ids or ()), created_at=int(model.created_at))


def create(seller_id: str, name: str, card_ids: tuple[str, ...], now: int) -> Shop:
    model = ShopModel("shop_" + uuid.uuid4().hex[:12], seller_id=seller_id, name=name, card_ids=list(card_ids),
                      created_at=now)
    model.save(condition=ShopModel.shop_id.does_not_exist())
    return _to_shop(model)


def get(shop_id: str) -> Shop:
    """Any shop; NotFound when there is none (an id of another shape is not looked up)."""
    if not isinstance(shop_id, str) or not SHOP_ID_PATTERN.match(shop_id):
        raise NotFound("No shop has this id.")
    try:
        return _to_shop(ShopModel.get(shop_id))
    except DoesNotExist:
        raise NotFound("No shop has this id.") from None


def get_owned(seller_id: str, shop_id: str) -> Shop:
    """The seller's shop; another seller's answers exactly like one that does not exist."""
    shop = get(shop_id)
    if shop.seller_id != seller_id:
        raise NotFound("No shop has this id.")
    return shop


def update(shop: Shop, fields: dict) -> Shop:
    actions = [getattr(ShopModel, name).set(list(value) if name == "card_ids" else value)
               for name, value in fields.items()]
    ShopModel(shop.shop_id).update(actions=actions, condition=ShopModel.seller_id == shop.seller_id)
    return get(shop.shop_id)


def of_seller(seller_id: str) -> list[Shop]:
    """The seller's shops, newest first."""
    return [_to_shop(m) for m in ShopModel.by_seller.query(seller_id, scan_index_forward=False, limit=MAX_SHOPS)]
