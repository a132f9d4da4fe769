"""The one error tree of Lockgate; every layer raises these and only the edges translate them.

    LockgateError
    ├── NotFoundError           a named object does not exist
    │   └── GoneError               it existed, but its bytes were purged by retention
    ├── AlreadyExistsError      a create collided with an existing name
    ├── InvalidInputError       input breaks a rule; `field` names the part at fault
    │   ├── PayloadTooLargeError    a body or upload exceeds a configured limit
    │   ├── UnsupportedMediaTypeError   a body is not of the media type the route takes
    │   └── DestinationNotAllowedError  an outbound URL points where the server may not go
    ├── ConflictError           a stale write or an illegal state transition
    ├── PolicyViolationError    a gate denied the action
    ├── PermissionDeniedError   the actor may not do this
    ├── UnauthenticatedError    no valid credentials came with the request
    ├── RateLimitedError        too many attempts; try again later
    ├── SchemaOutdatedError     the metadata schema is behind the code (run `lockgate db upgrade`)
    ├── PackageIntegrityError   a model package is not byte for byte what the registry signed
    └── UserCodeError           user-supplied code failed; the cause is chained

Each class has a stable `code`; no class knows about HTTP.
"""

from __future__ import annotations

__all__ = [
    "AlreadyExistsError",
    "ConflictError",
    "DestinationNotAllowedError",
    "GoneError",
    "InvalidInputError",
    "LockgateError",
    "NotFoundError",
    "PackageIntegrityError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "PolicyViolationError",
    "RateLimitedError",
    "SchemaOutdatedError",
    "UnauthenticatedError",
    "UnsupportedMediaTypeError",
    "UserCodeError",
    "error_class_for_code",
]


class LockgateError(Exception):
    """Base of every error Lockgate raises on purpose."""

    code = "lockgate_error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFoundError(LockgateError):
    """A named object does not exist."""

    code = "not_found"


class GoneError(NotFoundError):
    """An object's bytes existed but were deliberately deleted (artifact retention purged
    them after the versions holding them were retired); the message says when and why."""

    code = "gone"


class AlreadyExistsError(LockgateError):
    """A create collided with an object that already has that name."""

    code = "already_exists"


class InvalidInputError(LockgateError):
    """Input breaks a rule; `field` names the part at fault."""

    code = "invalid_input"


class PayloadTooLargeError(InvalidInputError):
    """A body or an upload is larger than the configured limit."""

    code = "payload_too_large"


class UnsupportedMediaTypeError(InvalidInputError):
    """A body is not of the media type the route takes (JSON routes take application/json)."""

    code = "unsupported_media_type"


class DestinationNotAllowedError(InvalidInputError):
    """An outbound URL (a webhook, a notifier) resolves to an address the egress policy
    refuses: loopback, link-local, private or otherwise not allow-listed."""

    code = "destination_not_allowed"


class ConflictError(LockgateError):
    """A stale write, or a transition the state machine does not allow."""

    code = "conflict"


class PolicyViolationError(LockgateError):
    """A gate denied the action."""

    code = "policy_violation"


class PermissionDeniedError(LockgateError):
    """The actor may not perform this action."""

    code = "permission_denied"


class UnauthenticatedError(LockgateError):
    """The request carries no valid credentials (missing, unknown, expired or revoked)."""

    code = "unauthenticated"


class RateLimitedError(LockgateError):
    """Too many attempts in a window; `retry_after` says when to try again, in seconds."""

    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int = 1, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.retry_after = retry_after


class SchemaOutdatedError(LockgateError):
    """The metadata schema is behind the code."""

    code = "schema_outdated"


class PackageIntegrityError(LockgateError):
    """A model package's signature or a file's digest does not match what the registry
    signed; nothing of it was loaded. The message names each problem."""

    code = "package_integrity"


class UserCodeError(LockgateError):
    """User-supplied code (a model, a transform, a plugin) failed; the cause is chained."""

    code = "user_code_error"


_BY_CODE: dict[str, type[LockgateError]] = {
    cls.code: cls
    for cls in (
        LockgateError,
        NotFoundError,
        GoneError,
        AlreadyExistsError,
        InvalidInputError,
        PayloadTooLargeError,
        UnsupportedMediaTypeError,
        DestinationNotAllowedError,
        ConflictError,
        PolicyViolationError,
        PermissionDeniedError,
        UnauthenticatedError,
        RateLimitedError,
        SchemaOutdatedError,
        PackageIntegrityError,
        UserCodeError,
    )
}


def error_class_for_code(code: str) -> type[LockgateError]:
    """Map a stable error code back to its class (a fixed registry, never a dynamic import)."""
    return _BY_CODE.get(code, LockgateError)
