"""The blogger's shop: seller use cases (create, rename, reorder, list) and what its hosted page
and frame show (the shop's published cards, in the seller's order)."""
from __future__ import annotations

from chalicelib import checkout, views
from chalicelib.domain import Card, InvalidRequest, NotFound, Shop, shop_fields_from_request
from chalicelib.store import cards, shops


def _check_owned(seller_id: str, card_ids) -> None:
    """Every card must be the seller's own: another seller's card answers like an unknown one."""
    for card_id in card_ids:
        try:
            owner = cards.get(card_id).seller_id
        except NotFound:
            owner = None
        if owner != seller_id:
            raise InvalidRequest(f"'card_ids' names {card_id}, which is not one of your cards.", "card_ids")


def create_shop(seller_id: str, payload) -> dict:
    fields = shop_fields_from_request(payload, partial=False)
    _check_owned(seller_id, fields["card_ids"])
    return views.shop_json(shops.create(seller_id, fields["name"], fields["card_ids"], checkout.now()))


def update_shop(seller_id: str, shop_id: str, payload) -> dict:
    shop = shops.get_owned(seller_id, shop_id)
    fields = shop_fields_from_request(payload, partial=True)
    if "card_ids" in fields:
        _check_owned(seller_id, fields["card_ids"])
    return views.shop_json(shops.update(shop, fields))


def list_shops(seller_id: str) -> dict:
    return {"items": [views.shop_json(shop) for shop in shops.of_seller(seller_id)]}


def for_readers(shop_id: str) -> tuple[Shop, list[tuple[Card, dict]]]:
    """The shop and its cards readers may see (published ones), each with its JSON view, in the
    seller's order; NotFound for an unknown shop."""
    shop = shops.get(shop_id)
    shown = []
    for card_id in shop.card_ids:
        try:
            card = cards.get_for_buyer(card_id)
        except NotFound:
            continue  # unpublished, archived or gone
        view = checkout.card_view(card)
        if view["sale"]["state"] != "ended":
            shown.append((card, view))
    return shop, shown
