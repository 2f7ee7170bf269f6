"""After-sales photos in S3, one place: a presigned POST for the buyer's browser to upload one photo
(the policy holds it to the key, its content type and a size range: S3 refuses anything else) and
short-lived presigned GETs for the seller. The bucket (config.PHOTOS_BUCKET, one per stage, private)
is never public; nothing here calls S3: signing is local. On the local stack the moto server
serves S3 (config.S3_ENDPOINT).
"""
from __future__ import annotations

import functools
import time
from urllib.parse import urlsplit

from chalicelib import config

UPLOAD_SECONDS = 600


@functools.lru_cache(maxsize=1)
def get_s3():
    import boto3
    from botocore.config import Config

    # Path-style on a local endpoint (moto on 127.0.0.1); virtual-hosted on AWS.
    style = "path" if config.S3_ENDPOINT else "virtual"
    return boto3.client("s3", region_name=config.AWS_REGION, endpoint_url=config.S3_ENDPOINT,
                        config=Config(signature_version="s3v4", s3={"addressing_style": style}))


def upload_form(key: str, content_type: str, max_bytes: int) -> dict:
    """{url, fields, expires_at}: POST the fields and then the file (as `file`) to url as
    multipart/form-data, within UPLOAD_SECONDS."""
    post = get_s3().generate_presigned_post(
        config.PHOTOS_BUCKET, key, Fields={"Content-Type": content_type},
        Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_bytes]],
        ExpiresIn=UPLOAD_SECONDS)
    return {"url": post["url"], "fields": post["fields"], "expires_at": int(time.time()) + UPLOAD_SECONDS}


def view_url(key: str) -> str:
    """A GET of one photo that works for config.PHOTO_VIEW_SECONDS."""
    return get_s3().generate_presigned_url("get_object", Params={"Bucket": config.PHOTOS_BUCKET, "Key": key},
                                           ExpiresIn=config.PHOTO_VIEW_SECONDS)


@functools.lru_cache(maxsize=1)
def upload_origin() -> str:
    """The origin uploads go to, for the order page's Content-Security-Policy (connect-src)."""
    url = urlsplit(upload_form("probe", "image/jpeg", 1)["url"])
    return f"{url.scheme}://{url.netloc}"
