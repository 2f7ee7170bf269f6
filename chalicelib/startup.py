"""What a Lambda container checks once, at start-up: every secret is set and every table exists.
Anything missing stops the container with one log line naming it and how to set it, instead of a
stack trace deep inside the first request that needs it."""
from __future__ import annotations

import logging
import sys

from chalicelib import config, secrets

log = logging.getLogger(__name__)


def problems() -> list[str]:
    from chalicelib.store import models

    return secrets.missing() + [
        f"table {table} is missing: deploy the stack with `make deploy STAGE={config.STAGE}` "
        f"(or check TABLE_PREFIX={config.TABLE_PREFIX})" for table in models.missing_tables()]


def check_or_exit() -> None:
    found = problems()
    if found:
        log.critical("tapcard cannot start: %s", "; ".join(found))
        sys.exit(1)
