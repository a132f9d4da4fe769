"""Retirement: a version leaves every environment through retirement requests (the same gates
as a promotion: approvals counted per tier and environment), then it is archived; a model is
archived once all of its versions are. These are the records of what a retirement did."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from lockgate.domain.identity import Actor
from lockgate.domain.registry import Archive, ModelId

__all__ = ["PendingModelRetirement", "Retirement", "RetirementStatus"]


class RetirementStatus(StrEnum):
    """Where a version's retirement stands after a call."""

    ARCHIVED = "archived"
    """It left every environment and is archived now."""
    ALREADY_ARCHIVED = "already_archived"
    """It was archived before (a model retirement passing over it)."""
    PENDING = "pending"
    """It is still current in an environment whose retirement request awaits approvals."""


@dataclass(frozen=True, slots=True)
class Retirement:
    """What retiring one version did.

    `archive` is set unless the retirement is pending. `removed_aliases` are the aliases the
    archive took away (environment aliases leave with their environment). `requests` are the
    ids of the retirement requests opened (or found open) for the environments it is in;
    `environments` those environments. `cancelled_requests` are the version's open promotion
    requests that the archive cancelled. `model_archive` is set when archiving this version
    completed a pending model retirement. `files` maps each file of the version to its
    digest (for the audit event).
    """

    model_name: str
    version: int
    status: RetirementStatus
    archive: Archive | None = None
    removed_aliases: tuple[str, ...] = ()
    requests: tuple[str, ...] = ()
    environments: tuple[str, ...] = ()
    cancelled_requests: tuple[str, ...] = ()
    model_archive: Archive | None = None
    files: Mapping[str, str] = field(default_factory=dict)

    @property
    def ref(self) -> str:
        return f"{self.model_name}/{self.version}"


@dataclass(frozen=True, slots=True)
class PendingModelRetirement:
    """A model retirement waiting for some of its versions to leave their environments; the
    model is archived, with this reason, when its last live version is."""

    model_id: ModelId
    requested_at: datetime
    requested_by: Actor
    reason: str
