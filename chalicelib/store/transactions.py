"""DynamoDB transactions whose items carry labels, so a refusal is read by name ("order",
"shard:2", "buyer"), never by the position an item happened to get."""
from __future__ import annotations

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.store.model_base import connection

CONDITION_FAILED = "ConditionalCheckFailed"
# pynamodb sends a transaction's items grouped by operation, in this order, whatever order they
# were added in; DynamoDB's cancellation reasons follow the items as sent.
_SENT_ORDER = {"condition_check": 0, "delete": 1, "save": 2, "update": 3}
TRANSACTION_CONFLICT = "TransactionConflict"


class Refused(Exception):
    """DynamoDB cancelled the transaction; reasons maps each item's label to its reason code
    (None for an item that was fine)."""

    def __init__(self, reasons: dict[str, str | None]):
        super().__init__(", ".join(f"{label}: {code}" for label, code in reasons.items() if code))
        self.reasons = reasons

    def failed(self, label: str) -> bool:
        """Whether this item's condition failed."""
        return self.reasons.get(label) == CONDITION_FAILED

    def failed_any(self, prefix: str) -> bool:
        """Whether the condition of any item labelled prefix… failed."""
        return any(label.startswith(prefix) and code == CONDITION_FAILED for label, code in self.reasons.items())

    @property
    def conflicted(self) -> bool:
        """Another transaction touched the same items at the same moment: worth another try."""
        return TRANSACTION_CONFLICT in self.reasons.values()


class Transaction:
    """Collect labelled items, then commit them all or none: Refused when DynamoDB cancels."""

    def __init__(self):
        self._items: list[tuple[str, str, object, dict]] = []

    def _add(self, label: str, operation: str, model, **options) -> None:
        if any(item[0] == label for item in self._items):
            raise ValueError(f"two transaction items are labelled {label!r}")
        self._items.append((label, operation, model, options))

    def save(self, label: str, model, condition=None) -> None:
        self._add(label, "save", model, condition=condition)

    def update(self, label: str, model, actions: list, condition=None) -> None:
        self._add(label, "update", model, actions=actions, condition=condition)

    def delete(self, label: str, model, condition=None) -> None:
        self._add(label, "delete", model, condition=condition)

    def commit(self) -> None:
        try:
            with TransactWrite(connection=connection()) as tx:
                for _, operation, model, options in self._items:
                    getattr(tx, operation)(model, **options)
        except TransactWriteError as error:
            codes = [reason.code if reason else None for reason in error.cancellation_reasons or ()]
            if not codes:
                raise  # not a cancellation (throttled, unreachable): the caller's retry policy decides
            sent = sorted(self._items, key=lambda item: _SENT_ORDER[item[1]])  # stable: same-kind order kept
            raise Refused(dict(zip((item[0] for item in sent), codes))) from None
