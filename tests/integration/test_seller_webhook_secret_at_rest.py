"""The seller-wide share webhook's secret is stored encrypted like every channel's (issue 13,
case 8); a secret saved in plain text before still signs."""
import boto3

from chalicelib import config
from chalicelib.social import channels
from chalicelib.store import sellers


def stored_seller(seller_id: str) -> dict:
    table = boto3.resource("dynamodb", region_name=config.AWS_REGION).Table(f"{config.TABLE_PREFIX}sellers")
    return table.get_item(Key={"seller_id": seller_id})["Item"]


def test_the_secret_is_shown_once_and_never_stored_readable(seller):
    secret = channels.set_seller_webhook(seller.seller_id, {"url": "https://hooks.example.com/shares"})["secret"]

    stored = stored_seller(seller.seller_id)["webhook_secret"]
    assert secret.startswith("whsec_") and secret not in stored
    assert channels.channel_of("card_x", seller.seller_id, channels.SELLER_WEBHOOK).secret == secret


def test_a_secret_stored_before_encryption_still_signs(seller):
    sellers.set_webhook(seller.seller_id, "https://hooks.example.com/shares", "whsec_legacyplaintextsecret")

    assert channels.channel_of("card_x", seller.seller_id, channels.SELLER_WEBHOOK).secret == "whsec_legacyplaintextsecret"
