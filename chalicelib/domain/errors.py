"""What can go wrong, as the API tells it: each error has the code clients see."""
from __future__ import annotations

__all__ = ["DomainError", "InvalidRequest", "Unauthorized", "NotFound", "NotStarted", "Ended", "SoldOut",
           "LimitReached", "TooManyHolds", "PaymentsUnavailable", "PaymentsBusy", "HoldExpired", "AlreadyPaid",
           "PaymentInProgress", "AmountMismatch", "IdempotencyMismatch", "InvalidSignature",
           "InvalidTemplate", "ReserversOnly", "ReservationsOff", "TooManyReservations", "SignupClosed",
           "Conflict", "RefundPending", "CodeInvalid", "CodeExpired", "CodeUsedUp", "CodeExists"]


class DomainError(Exception):
    code = "error"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidRequest(DomainError):
    code = "invalid_request"

    def __init__(self, message: str, field_name: str | None = None):
        super().__init__(message)
        self.field = field_name


class Unauthorized(DomainError):
    code = "unauthorized"


class NotFound(DomainError):
    code = "not_found"


class NotStarted(DomainError):
    code = "not_started"


class Ended(DomainError):
    code = "ended"


class SoldOut(DomainError):
    code = "sold_out"


class LimitReached(DomainError):
    code = "limit_reached"


class _RetryLater:
    """An error whose answer says, in Retry-After, how many seconds to wait before trying again."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class TooManyHolds(_RetryLater, DomainError):
    """One client holds, unpaid, as many units of the card as a person would: pay or wait."""
    code = "too_many_holds"


class PaymentsUnavailable(DomainError):
    code = "payments_unavailable"


class PaymentsBusy(_RetryLater, PaymentsUnavailable):
    """Stripe's budget is spent for now: the units stay held and the pay call may be retried.
    hold_ends_at (ISO time, set by the pay call): the hold's end, which paying may have moved."""
    code = "payments_busy"
    hold_ends_at: str | None = None


class HoldExpired(DomainError):
    code = "hold_expired"


class AlreadyPaid(DomainError):
    code = "already_paid"


class PaymentInProgress(DomainError):
    code = "payment_in_progress"


class AmountMismatch(DomainError):
    code = "amount_mismatch"


class IdempotencyMismatch(DomainError):
    code = "idempotency_mismatch"


class InvalidSignature(DomainError):
    code = "invalid_signature"


class InvalidTemplate(InvalidRequest):
    code = "invalid_template"


class ReserversOnly(DomainError):
    code = "reservers_only"


class ReservationsOff(DomainError):
    """The card takes no reservations (its seller did not turn them on)."""
    code = "reservations_off"


class TooManyReservations(_RetryLater, DomainError):
    """This address made its share of reservations for now; retry_after: seconds until it may again."""
    code = "too_many_reservations"


class SignupClosed(DomainError):
    code = "signup_closed"


class Conflict(DomainError):
    """The request is well formed but the thing's state refuses it (a locked field, a paid order)."""
    code = "conflict"

    def __init__(self, message: str, field_name: str | None = None):
        super().__init__(message)
        self.field = field_name


class RefundPending(_RetryLater, DomainError):
    """The seller's refund is under way but not finished (Stripe busy or down, or our write failed
    after Stripe refunded): the sweeper finishes it; asking again is safe and never pays twice."""
    code = "refund_pending"


class CodeInvalid(DomainError):
    """A discount code this card does not take: unknown, another card's, removed, or not yet valid.
    All read alike, so codes cannot be probed."""
    code = "code_invalid"


class CodeExpired(DomainError):
    code = "code_expired"


class CodeUsedUp(DomainError):
    """Every redemption of the code is taken (or this buyer used their share of it)."""
    code = "code_used_up"


class CodeExists(Conflict):
    code = "code_exists"
