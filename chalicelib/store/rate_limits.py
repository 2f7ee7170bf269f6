"""The rate-limits table: what one client did in one fixed window, counted against a limit and
gone (TTL) once the window is over. The only module that writes it. A caller takes its turn inside
its own transaction, so a request refused for another reason (a repeat) uses none."""
from __future__ import annotations

from chalicelib.store.social_models import RateLimitModel
from chalicelib.store.transactions import Refused, Transaction

LABEL = "rate_limit"


def take_item(tx: Transaction, kind: str, client: str, window_start: int, window_seconds: int, limit: int) -> None:
    """One more request of this kind in the client's window; the transaction is refused (see
    refused) when the window already holds `limit`."""
    tx.update(LABEL, RateLimitModel(f"{kind}#{client}#{window_start}"),
              actions=[RateLimitModel.taken.add(1), RateLimitModel.expires_at.set(window_start + window_seconds)],
              condition=RateLimitModel.taken.does_not_exist() | (RateLimitModel.taken < limit))


def refused(refusal: Refused) -> bool:
    """Whether a transaction was refused because the client's window was full."""
    return refusal.failed(LABEL)
