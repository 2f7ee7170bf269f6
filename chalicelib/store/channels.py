"""The channels table: where a card's shares go besides its feed. Secrets arrive here already
encrypted (chalicelib/social/channels.py holds the key). The only module that writes it."""
from __future__ import annotations

import time
import uuid

from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib.store.social_models import ChannelModel


def count_of_card(card_id: str) -> int:
    return ChannelModel.count(card_id)


def create(card_id: str, seller_id: str, kind: str, url: str, identifier: str | None,
           encrypted_secret: str) -> ChannelModel:
    model = ChannelModel(card_id, "ch_" + uuid.uuid4().hex[:12], seller_id=seller_id, type=kind, url=url,
                         identifier=identifier, secret=encrypted_secret, created_at=int(time.time()))
    model.save(condition=ChannelModel.channel_id.does_not_exist())
    return model


def of_card(card_id: str) -> list[ChannelModel]:
    return list(ChannelModel.query(card_id))


def get(card_id: str, channel_id: str) -> ChannelModel | None:
    try:
        return ChannelModel.get(card_id, channel_id)
    except DoesNotExist:
        return None


def delete(card_id: str, channel_id: str) -> bool:
    """False when the card has no such channel."""
    model = get(card_id, channel_id)
    if model is None:
        return False
    model.delete()
    return True


def save_session(card_id: str, channel_id: str, encrypted_session: str) -> None:
    try:
        ChannelModel(card_id, channel_id).update(actions=[ChannelModel.session.set(encrypted_session)],
                                                 condition=ChannelModel.channel_id.exists())
    except UpdateError:
        pass  # the seller removed the channel meanwhile
