"""The cards table: create, read (remembered for a few seconds per container), edit, publish,
social settings, the sweeper's "sale opened" marks. The only module that writes it."""
from __future__ import annotations

import time

from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError

from chalicelib import config
from chalicelib.domain.cards import DEFAULT_RETURN_DAYS, PUBLISHED, Card, check_visible
from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.domain.groups import GroupSetting
from chalicelib.domain.shipping import NO_SHIPPING, Shipping
from chalicelib.recent import Recent
from chalicelib.store import stock
from chalicelib.store.models import CardModel
from chalicelib.store.transactions import Refused, Transaction

CARD = "card"
_FIELDS = (
    "card_id", "seller_id", "title", "description", "image_url", "price_amount", "currency",
    "stock", "starts_at", "ends_at", "limit_per_buyer", "hold_seconds", "share_text",
    "shard_count", "created_at", "status", "compare_at_amount", "return_days",
)
# What a seller's edit may change (shards and the social settings have their own ways).
_EDITABLE = ("title", "description", "image_url", "price_amount", "currency", "stock", "starts_at",
             "ends_at", "limit_per_buyer", "hold_seconds", "share_text", "compare_at_amount",
             "return_days")
# The social loop's settings; a card stored before them reads as the defaults.
_SOCIAL_FIELDS = ("locale", "shares_enabled", "reservation_mode", "reservers_minutes", "rebate_percent",
                  "referral_discount_percent", "reminder_minutes")
_SOCIAL_DEFAULTS = {"locale": "en", "shares_enabled": True}
_OPENING = "open"  # the sparse index's one key: cards whose sale start is not announced yet

_cards = Recent(config.CARD_CACHE_SECONDS)


def _to_card(model: CardModel) -> Card:
    values = {name: getattr(model, name) for name in _FIELDS}
    for name in ("price_amount", "stock", "hold_seconds", "shard_count", "created_at"):
        values[name] = int(values[name])
    for name in ("starts_at", "ends_at", "limit_per_buyer", "compare_at_amount"):
        values[name] = None if values[name] is None else int(values[name])
    for name in _SOCIAL_FIELDS:
        value = getattr(model, name)
        values[name] = _SOCIAL_DEFAULTS.get(name) if value is None else value
    for name in ("reservers_minutes", "rebate_percent", "referral_discount_percent", "reminder_minutes"):
        values[name] = None if values[name] is None else int(values[name])
    values["status"] = values["status"] or PUBLISHED
    values["return_days"] = DEFAULT_RETURN_DAYS if values["return_days"] is None else int(values["return_days"])
    values["shipping"] = Shipping(True, tuple(model.shipping_countries or ()), int(model.shipping_fee or 0)) \
        if model.shipping_required else NO_SHIPPING
    group = model.group.as_dict() if model.group is not None else None
    values["group"] = GroupSetting(int(group["size"]), int(group["price_amount"]), int(group["window_minutes"]),
                                   bool(group.get("only"))) if group else None
    return Card(**values)


def _group_value(card: Card) -> dict | None:
    """The card's group buying setting as the item's map (None: none)."""
    group = card.group
    return None if group is None else {"size": group.size, "price_amount": group.price_amount,
                                       "window_minutes": group.window_minutes, "only": group.only}


def _shipping_values(card: Card) -> dict:
    """The card's shipping as the item's attributes (None: removed, as on digital goods)."""
    shipping = card.shipping
    return {"shipping_required": True if shipping.required else None,
            "shipping_countries": list(shipping.countries) if shipping.required else None,
            "shipping_fee": shipping.fee if shipping.required else None}


def forget(card_id: str) -> None:
    """Drop this container's memory of the card and its stock (after a change of either)."""
    _cards.forget(card_id)
    stock.forget(card_id)


# --- reading ----------------------------------------------------------------------------------


def get(card_id: str) -> Card:
    """Any card, as this container remembers it; NotFound when there is none."""
    return _cards.get(card_id, lambda: get_fresh(card_id, consistent=False))


def get_fresh(card_id: str, consistent: bool = True) -> Card:
    try:
        return _to_card(CardModel.get(card_id, consistent_read=consistent))
    except DoesNotExist:
        raise NotFound("No card has this id.") from None


def get_for_buyer(card_id: str) -> Card:
    """The card as buyers see it: an unpublished or archived card is not there for them."""
    return check_visible(get(card_id))


def get_owned(seller_id: str, card_id: str, fresh: bool = False) -> Card:
    """The seller's card; another seller's answers exactly like one that does not exist."""
    try:
        card = get_fresh(card_id) if fresh else get(card_id)
    except NotFound:
        card = None
    if card is None or card.seller_id != seller_id:
        raise NotFound("No card of yours has this id.")
    return card


def of_seller(seller_id: str, limit: int, after: dict | None) -> tuple[list[Card], dict | None]:
    """The seller's cards, newest first, and the key to continue after (None on the last page)."""
    pages = CardModel.by_seller.query(seller_id, scan_index_forward=False, limit=limit, last_evaluated_key=after)
    found = [_to_card(model) for model in pages]
    return found, pages.last_evaluated_key if len(found) == limit else None


# --- writing ----------------------------------------------------------------------------------


def create(card: Card) -> None:
    """The card and its stock shards appear together or not at all."""
    tx = Transaction()
    tx.save(CARD, CardModel(**{name: getattr(card, name) for name in _FIELDS + _SOCIAL_FIELDS},
                            # the sweeper announces the sale's start (sale.opened) once it comes
                            opening_shard=_OPENING if card.starts_at is not None else None,
                            group=_group_value(card), **_shipping_values(card)),
            condition=CardModel.card_id.does_not_exist())
    stock.add_shards(tx, card)
    tx.commit()


def update(before: Card, after: Card, stock_change: int) -> None:
    """Save the edited card; added units go to the shards' available counts, removed units come
    from them only while each shard still has them (what is sold or held never shrinks)."""
    actions = [getattr(CardModel, name).set(getattr(after, name)) if getattr(after, name) is not None
               else getattr(CardModel, name).remove() for name in _EDITABLE]
    actions += [getattr(CardModel, name).set(value) if value is not None else getattr(CardModel, name).remove()
                for name, value in _shipping_values(after).items()]
    actions.append(CardModel.group.set(_group_value(after)) if after.group else CardModel.group.remove())
    actions.append(CardModel.updated_at.set(int(time.time())))
    if after.starts_at != before.starts_at and after.starts_at is not None and after.starts_at > time.time():
        actions.append(CardModel.opening_shard.set(_OPENING))  # the new start gets its sale.opened
    spread = stock.plan_spread(before, stock_change)
    if spread is None:
        raise Conflict("Those units are held by buyers paying now; try again in a few minutes.", "stock")
    tx = Transaction()
    # The stock the change was computed from must still be the stock: two edits never race.
    tx.update(CARD, CardModel(before.card_id), actions=actions, condition=CardModel.stock == before.stock)
    stock.change_available(tx, before.card_id, spread)
    try:
        tx.commit()
    except (Refused, TransactWriteError):
        raise Conflict("The stock changed while this edit was made (units were held); try again.",
                       "stock") from None
    forget(before.card_id)


def set_status(card_id: str, status: str, expected: tuple[str, ...]) -> None:
    try:
        CardModel(card_id).update(
            actions=[CardModel.status.set(status), CardModel.updated_at.set(int(time.time()))],
            condition=CardModel.status.is_in(*expected) | CardModel.status.does_not_exist(),
        )
    except UpdateError:
        raise Conflict(f"This card cannot become {status} now (archived cards stay archived).", "status") from None
    forget(card_id)


def update_social_settings(card_id: str, values: dict) -> Card:
    """Change a card's social settings (chalicelib.social.rules.SETTINGS), then read it back fresh."""
    if values:
        actions = [getattr(CardModel, name).remove() if value is None else getattr(CardModel, name).set(value)
                   for name, value in values.items()]
        CardModel(card_id).update(actions=actions, condition=CardModel.card_id.exists())
    _cards.forget(card_id)
    return get_fresh(card_id)


def remove_units(tx: Transaction, card_id: str, quantity: int) -> None:
    """Units that leave the card's stock for good (refunded, not restocked)."""
    tx.update(CARD, CardModel(card_id), actions=[CardModel.stock.add(-quantity)])


# --- sales that open --------------------------------------------------------------------------


def opening_due(now: int) -> list[str]:
    """Ids of cards whose sale start has come and is not announced yet."""
    return [item.card_id for item in CardModel.opening.query(_OPENING, CardModel.starts_at <= now)]


def mark_opened(card_id: str) -> bool:
    """Clear the card's opening mark; False when another sweeper cleared it first."""
    try:
        CardModel(card_id).update(actions=[CardModel.opening_shard.remove()],
                                  condition=CardModel.opening_shard.exists())
        return True
    except UpdateError:
        return False


# --- reservation reminders --------------------------------------------------------------------

REMINDERS_DONE = "done"


def reminding(now: int, horizon: int) -> list[tuple[str, str | None]]:
    """(card id, where its reminders stopped: None to start) of the cards whose sale opens within
    `horizon` seconds, not announced yet, whose reminders for that start are not all sent. The
    opening index finds them; the card says how far its reminders went."""
    found = []
    for key in CardModel.opening.query(_OPENING, CardModel.starts_at <= now + horizon):
        try:
            item = CardModel.get(key.card_id, attributes_to_get=["starts_at", "reminders_for", "reminders_after"])
        except DoesNotExist:
            continue
        same_start = item.reminders_for is not None and item.reminders_for == item.starts_at
        after = item.reminders_after if same_start else None
        if after != REMINDERS_DONE:
            found.append((key.card_id, after))
    return found


def note_reminders(card_id: str, starts_at: int, after: str | None) -> None:
    """How far the card's reminders for the sale starting at starts_at went (REMINDERS_DONE: all)."""
    CardModel(card_id).update(actions=[CardModel.reminders_for.set(starts_at),
                                       CardModel.reminders_after.set(after) if after else CardModel.reminders_after.remove()])
