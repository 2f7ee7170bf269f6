"""Email out, one place: Amazon SES (sesv2 SendEmail from config.MAIL_FROM, retried with backoff
while SES throttles) on AWS; on the local stack and in tests, a capture: every message appended
as one JSON line {to, subject, text, html, sent_at} to config.MAIL_CAPTURE_FILE, which the local
stack serves at .tapcard-dev.json's mail_url. Addresses and bodies are never logged.
"""
from __future__ import annotations

import fcntl
import functools
import json
import logging
import random
import time

from chalicelib import config

log = logging.getLogger(__name__)

THROTTLED = ("Throttling", "ThrottlingException", "TooManyRequestsException", "LimitExceededException")
BACKOFF_SECONDS = 0.2


class MailError(Exception):
    """The message was not sent: SES kept throttling (final False: try again later) or refused it
    (final True: a rejected address or sender; trying again cannot help)."""

    def __init__(self, code: str, final: bool = False):
        super().__init__(code)
        self.code, self.final = code, final


def send(to: str, subject: str, text: str, html: str, headers: dict[str, str] | None = None) -> None:
    """headers: extra message headers (a reminder's List-Unsubscribe and List-Unsubscribe-Post)."""
    if config.MAIL_CAPTURE_FILE:
        message = {"to": to, "subject": subject, "text": text, "html": html, "sent_at": int(time.time())}
        if headers:
            message["headers"] = headers
        capture(config.MAIL_CAPTURE_FILE, message)
        return
    _send_with_ses(to, subject, text, html, headers)


def capture(path: str, message: dict) -> None:
    """Append one message; a lock keeps lines whole when the API, stream and sweeper all write."""
    line = json.dumps(message, ensure_ascii=False) + "\n"
    with open(path, "a", encoding="utf-8") as file:
        fcntl.flock(file, fcntl.LOCK_EX)
        try:
            file.write(line)
        finally:
            fcntl.flock(file, fcntl.LOCK_UN)


def captured(path: str) -> list[dict]:
    """Every captured message, oldest first (the local stack's mail page and tests)."""
    try:
        with open(path, encoding="utf-8") as file:
            return [json.loads(line) for line in file if line.strip()]
    except FileNotFoundError:
        return []


@functools.lru_cache(maxsize=1)
def get_ses():
    import boto3

    return boto3.client("sesv2", region_name=config.AWS_REGION)


def _send_with_ses(to: str, subject: str, text: str, html: str, headers: dict[str, str] | None = None) -> None:
    from botocore.exceptions import ClientError

    content = {"Simple": {"Subject": {"Data": subject, "Charset": "UTF-8"},
                          "Body": {"Text": {"Data": text, "Charset": "UTF-8"},
                                   "Html": {"Data": html, "Charset": "UTF-8"}}}}
    if headers:
        content["Simple"]["Headers"] = [{"Name": name, "Value": value} for name, value in headers.items()]
    for attempt in range(config.MAIL_SEND_ATTEMPTS):
        try:
            get_ses().send_email(FromEmailAddress=config.MAIL_FROM, Destination={"ToAddresses": [to]},
                                 Content=content)
            return
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code not in THROTTLED or attempt + 1 >= config.MAIL_SEND_ATTEMPTS:
                log.warning("SES refused a message: %s", code)
                raise MailError(code, final=code not in THROTTLED) from None
            time.sleep(BACKOFF_SECONDS * 2 ** attempt * random.uniform(0.8, 1.2))
