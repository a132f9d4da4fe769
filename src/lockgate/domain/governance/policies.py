"""A project's own gate policies: versioned Rego modules that a second person reviews.

A project policy named `n` is the Rego package `lockgate.gates.n`, a gate of its own next to
the built-in ones. Each change is a new version that starts `proposed`; a reviewer who is not
the proposer approves it (`active`, and the previously active version of the same name becomes
`superseded`) or rejects it with a comment. Only active versions take part in gate decisions.

    proposed ──approve──> active ──(a newer version approved)──> superseded
        └─────reject────> rejected
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import NewType

from lockgate.domain.errors import ConflictError, InvalidInputError
from lockgate.domain.identity import Actor
from lockgate.domain.names import check_text
from lockgate.domain.tracking import ProjectId

__all__ = [
    "MAX_COMMENT_LENGTH",
    "MAX_POLICY_SOURCE_LENGTH",
    "POLICY_TRANSITIONS",
    "PolicyStatus",
    "ProjectPolicy",
    "ProjectPolicyId",
    "check_comment",
    "check_policy_name",
    "check_policy_source",
    "is_policy_name",
    "source_sha256",
]

ProjectPolicyId = NewType("ProjectPolicyId", str)

# A module's source (and its tests) at most 256 KiB: policies are reviewed by people.
MAX_POLICY_SOURCE_LENGTH = 256 * 1024
MAX_COMMENT_LENGTH = 4000
# The gate name: the last segment of the package `lockgate.gates.<name>`.
_POLICY_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")


class PolicyStatus(StrEnum):
    """Where a version of a project policy stands."""

    PROPOSED = "proposed"
    ACTIVE = "active"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"


POLICY_TRANSITIONS: dict[PolicyStatus, frozenset[PolicyStatus]] = {
    PolicyStatus.PROPOSED: frozenset({PolicyStatus.ACTIVE, PolicyStatus.REJECTED}),
    PolicyStatus.ACTIVE: frozenset({PolicyStatus.SUPERSEDED}),
    PolicyStatus.REJECTED: frozenset(),
    PolicyStatus.SUPERSEDED: frozenset(),
}


def is_policy_name(name: str) -> bool:
    """True for a valid policy (gate) name (see `check_policy_name`)."""
    return bool(_POLICY_NAME.fullmatch(name)) and not name.endswith("_test")


def check_policy_name(name: str, *, field: str = "name") -> str:
    """A policy (gate) name: a lowercase letter, then up to 63 lowercase letters, digits or
    `_`; not ending in `_test` (that suffix names test packages)."""
    if not is_policy_name(name):
        raise InvalidInputError(
            f"{field} {name!r} must be a gate name: a lowercase letter, then up to 63 lowercase "
            "letters, digits or '_', not ending in '_test' (the package lockgate.gates.<name>)",
            field=field,
        )
    return name


def check_policy_source(source: str, *, field: str = "source") -> str:
    """Rego text: not blank, bounded, no control characters but tab and newline."""
    if not source.strip():
        raise InvalidInputError(f"{field} is empty: give the Rego module", field=field)
    return check_text(source, field=field, max_length=MAX_POLICY_SOURCE_LENGTH)


def check_comment(comment: str, *, field: str = "comment", required: bool = False) -> str:
    """A reviewer's or proposer's comment; `required` for a rejection (say why)."""
    if required and not comment.strip():
        raise InvalidInputError(f"{field} is required: say why", field=field)
    return check_text(comment, field=field, max_length=MAX_COMMENT_LENGTH)


def source_sha256(source: str) -> str:
    """The sha256 of a policy's source text (UTF-8)."""
    return hashlib.sha256(source.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ProjectPolicy:
    """Version `version` of the project policy `name`.

    `tests` is the Rego test module proposed with it ("" when none); `description` is the
    proposer's note on the change, `comment` the reviewer's. `row_version` grows with every
    change (each transition returns it one higher), so a stale writer is refused.
    """

    id: ProjectPolicyId
    project_id: ProjectId
    project_name: str
    name: str
    version: int
    source: str
    sha256: str
    tests: str
    description: str
    status: PolicyStatus
    proposed_by: Actor
    proposed_at: datetime
    reviewed_by: Actor | None = None
    reviewed_at: datetime | None = None
    comment: str = ""
    superseded_at: datetime | None = None
    row_version: int = 1

    @property
    def package(self) -> str:
        """The Rego package the policy must declare."""
        return f"lockgate.gates.{self.name}"

    @property
    def subject(self) -> str:
        """The audit subject id: `project/name@version`."""
        return f"{self.project_name}/{self.name}@{self.version}"

    @property
    def origin(self) -> str:
        """How a gate result names this policy as its source."""
        return f"project:{self.name}@{self.version}"

    @property
    def module_name(self) -> str:
        """The module's name in a policy set (and in error locations)."""
        return f"project/{self.name}@{self.version}.rego"

    def _move(self, status: PolicyStatus) -> None:
        if status not in POLICY_TRANSITIONS[self.status]:
            raise ConflictError(
                f"policy {self.name} version {self.version} is {self.status}; "
                f"it cannot become {status}"
            )

    def approve(self, *, by: Actor, at: datetime, comment: str = "") -> ProjectPolicy:
        """Active from now on. ConflictError unless proposed; the service checks who `by` is."""
        self._move(PolicyStatus.ACTIVE)
        return replace(
            self,
            status=PolicyStatus.ACTIVE,
            reviewed_by=by,
            reviewed_at=at,
            comment=comment,
            row_version=self.row_version + 1,
        )

    def reject(self, *, by: Actor, at: datetime, comment: str) -> ProjectPolicy:
        """Rejected for good. ConflictError unless proposed."""
        self._move(PolicyStatus.REJECTED)
        return replace(
            self,
            status=PolicyStatus.REJECTED,
            reviewed_by=by,
            reviewed_at=at,
            comment=comment,
            row_version=self.row_version + 1,
        )

    def supersede(self, *, at: datetime) -> ProjectPolicy:
        """Replaced by a newer approved version. ConflictError unless active."""
        self._move(PolicyStatus.SUPERSEDED)
        return replace(
            self,
            status=PolicyStatus.SUPERSEDED,
            superseded_at=at,
            row_version=self.row_version + 1,
        )
