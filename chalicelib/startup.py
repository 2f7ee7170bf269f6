"""What a Lambda container checks once, at start-up: every secret is set. Anything missing stops the
container with one log line naming it and how to set it, instead of a stack trace deep inside the
first request that needs it. Tables are not checked here: asking DynamoDB for each (DescribeTable)
on every cold start would spend the account's control-plane rate on a burst of new containers, and
the tables come with the functions in one stack; /health reads the cards table."""
from __future__ import annotations

import logging
import sys

from chalicelib import secrets

log = logging.getLogger(__name__)


def problems() -> list[str]:
    return secrets.missing()


def check_or_exit() -> None:
    found = problems()
    if found:
        log.critical("tapcard cannot start: %s", "; ".join(found))
        sys.exit(1)
