"""Gate exceptions: a waiver of one named gate for one version in one environment, with a
justification, an approver who is not the requester, and an expiry.

A stored exception is `requested`, `active` or `revoked`; `expired` is never stored, it is
what a requested or active exception becomes when its time is up (`as_of`). Only an active,
unexpired exception waives a gate, and only a gate that failed: an errored gate stays blocking.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import NewType

from lockgate.domain.errors import ConflictError, InvalidInputError
from lockgate.domain.governance.decisions import PolicyDecision
from lockgate.domain.identity import Actor
from lockgate.domain.names import check_text
from lockgate.domain.registry import ModelId
from lockgate.domain.tracking import ProjectId

__all__ = [
    "MAX_JUSTIFICATION_LENGTH",
    "ExceptionStatus",
    "GateException",
    "GateExceptionId",
    "apply_exceptions",
    "check_expiry",
    "check_gate",
    "check_justification",
]

GateExceptionId = NewType("GateExceptionId", str)

MAX_JUSTIFICATION_LENGTH = 4000
# A gate is the last segment of its Rego package `lockgate.gates.<gate>`.
_GATE = re.compile(r"[a-z][a-z0-9_]{0,63}")


class ExceptionStatus(StrEnum):
    """Where an exception stands; `expired` is derived from the time, never stored."""

    REQUESTED = "requested"
    ACTIVE = "active"
    REVOKED = "revoked"
    EXPIRED = "expired"


def check_gate(gate: str, *, field: str = "gate") -> str:
    """A gate name: the last segment of a Rego package, e.g. `evaluation`."""
    if not _GATE.fullmatch(gate):
        raise InvalidInputError(
            f"{field} {gate!r} must be a gate name: a lowercase letter, then up to 63 "
            "lowercase letters, digits or '_' (the package lockgate.gates.<gate>)",
            field=field,
        )
    return gate


def check_justification(text: str, *, field: str = "justification") -> str:
    """Why a gate may be waived: required, bounded free text."""
    if not text.strip():
        raise InvalidInputError(f"{field} is required: say why the gate may be waived", field=field)
    return check_text(text, field=field, max_length=MAX_JUSTIFICATION_LENGTH)


def check_expiry(expires_at: datetime, *, now: datetime, longest: timedelta) -> datetime:
    """An expiry in the future and at most `longest` ahead of `now`."""
    if expires_at.tzinfo is None:
        raise InvalidInputError("expires_at must carry a timezone", field="expires_at")
    if expires_at <= now:
        raise InvalidInputError("expires_at must be in the future", field="expires_at")
    if expires_at > now + longest:
        raise InvalidInputError(
            f"an exception expires at most {longest.days} days ahead "
            f"(by {(now + longest).isoformat()})",
            field="expires_at",
        )
    return expires_at


@dataclass(frozen=True, slots=True)
class GateException:
    """A waiver of gate `gate` for version `version` of a model in `environment`."""

    id: GateExceptionId
    project_id: ProjectId
    model_id: ModelId
    model_name: str
    version: int
    environment: str
    gate: str
    justification: str
    requested_by: Actor
    requested_at: datetime
    expires_at: datetime
    status: ExceptionStatus = ExceptionStatus.REQUESTED
    approved_by: Actor | None = None
    approved_at: datetime | None = None
    revoked_by: Actor | None = None
    revoked_at: datetime | None = None
    revoke_reason: str = ""
    row_version: int = 1

    @property
    def subject(self) -> str:
        """The audit subject id of the version: `name/version`."""
        return f"{self.model_name}/{self.version}"

    def status_at(self, moment: datetime) -> ExceptionStatus:
        if self.status is ExceptionStatus.REVOKED:
            return self.status
        if moment >= self.expires_at:
            return ExceptionStatus.EXPIRED
        return self.status

    def as_of(self, moment: datetime) -> GateException:
        """This exception as it stands at `moment` (its status `expired` when time is up)."""
        return replace(self, status=self.status_at(moment))

    def is_active_at(self, moment: datetime) -> bool:
        return self.status_at(moment) is ExceptionStatus.ACTIVE

    def approve(self, *, by: Actor, at: datetime) -> GateException:
        """Approved: active until it expires. ConflictError unless it is still requested."""
        status = self.status_at(at)
        if status is not ExceptionStatus.REQUESTED:
            raise ConflictError(
                f"exception {self.id} is {status}; only a requested one is approved"
            )
        return replace(self, status=ExceptionStatus.ACTIVE, approved_by=by, approved_at=at)

    def revoke(self, *, by: Actor, at: datetime, reason: str) -> GateException:
        """Revoked (a requested one is withdrawn). ConflictError once revoked or expired."""
        status = self.status_at(at)
        if status not in {ExceptionStatus.REQUESTED, ExceptionStatus.ACTIVE}:
            raise ConflictError(f"exception {self.id} is {status} already")
        return replace(
            self,
            status=ExceptionStatus.REVOKED,
            revoked_by=by,
            revoked_at=at,
            revoke_reason=reason,
        )


def apply_exceptions(
    decision: PolicyDecision, exceptions: Iterable[GateException], at: datetime
) -> PolicyDecision:
    """The decision with each failed gate that an active exception names waived by it; an
    errored gate stays blocking, and the hashes stay those of the evaluation."""
    waivers: dict[str, GateException] = {}
    for exception in exceptions:
        if exception.is_active_at(at):
            waivers.setdefault(exception.gate, exception)
    results = tuple(
        result.waive(waivers[result.gate].id) if result.gate in waivers else result
        for result in decision.results
    )
    return replace(decision, results=results)
