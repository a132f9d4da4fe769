"""The retention rule of decommissioning: when the bytes of a retired version's artifacts may
be purged, decided from plain facts about who holds each blob.

A blob (content-addressed, so shared by every file with the same bytes) is purged only when
every holder has let go of it:
- every model version whose files include it is archived and past its `retain_until`, and at
  least one such version exists (retention never touches blobs no version held);
- every run file pointing at it belongs to a *retired run*: a run from which at least one
  version was registered and every version registered from it is archived and past its
  `retain_until`. A run with no versions keeps its files (they are tracking data, not a
  retired model's), and so does a run with any live or still-retained version;
- it was not purged already, unless a holder appeared after that purge (the same bytes were
  uploaded or registered again, and now retire in their turn).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NewType

from lockgate.domain.errors import InvalidInputError
from lockgate.domain.identity import Actor

__all__ = [
    "DEFAULT_RETENTION_DAYS",
    "MAX_RETENTION_DAYS",
    "PURGE_REASON",
    "ArtifactPurge",
    "BlobHolds",
    "KeptBlob",
    "PurgeCandidate",
    "PurgeId",
    "RetentionPlan",
    "RunHold",
    "VersionHold",
    "check_retention_days",
    "is_purged_already",
    "keep_reason",
    "plan_retention",
    "retain_until",
]

PurgeId = NewType("PurgeId", str)

DEFAULT_RETENTION_DAYS = 365
MAX_RETENTION_DAYS = 100 * 366
PURGE_REASON = "retention expired: every version holding the blob is archived past retain_until"


def check_retention_days(days: int, *, field: str = "artifact_retention_days") -> int:
    """Days are whole, from 0 (purge at the next apply) to about a century."""
    if isinstance(days, bool) or not 0 <= days <= MAX_RETENTION_DAYS:
        raise InvalidInputError(
            f"retention must be 0 to {MAX_RETENTION_DAYS} days, not {days}", field=field
        )
    return days


def retain_until(archived_at: datetime, days: int) -> datetime:
    """Until when the bytes of something archived at `archived_at` are kept."""
    return archived_at + timedelta(days=check_retention_days(days))


def _expired(until: datetime | None, now: datetime) -> bool:
    return until is not None and until <= now


@dataclass(frozen=True, slots=True)
class VersionHold:
    """A model version one of whose files is the blob. `retain_until` is None while the
    version is live (not archived)."""

    model_name: str
    version: int
    created_at: datetime
    retain_until: datetime | None

    @property
    def ref(self) -> str:
        return f"{self.model_name}/{self.version}"

    def is_expired(self, now: datetime) -> bool:
        return _expired(self.retain_until, now)


@dataclass(frozen=True, slots=True)
class RunHold:
    """A run file pointing at the blob, with the `retain_until` of every version registered
    from that run (None for a live one; empty when no version came from the run)."""

    run_id: str
    path: str
    created_at: datetime
    source_of: tuple[datetime | None, ...]

    def is_retired(self, now: datetime) -> bool:
        """Whether the run only fed versions that are archived and past retention."""
        return bool(self.source_of) and all(_expired(until, now) for until in self.source_of)


@dataclass(frozen=True, slots=True)
class BlobHolds:
    """Everything that holds one blob, and when it was last purged (None: never)."""

    digest: str
    size: int
    versions: tuple[VersionHold, ...]
    runs: tuple[RunHold, ...]
    last_purged_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PurgeCandidate:
    """A blob whose bytes retention deletes, and the archived versions that held it."""

    digest: str
    size: int
    versions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class KeptBlob:
    """A blob of an expired archived version that retention keeps, and why."""

    digest: str
    reason: str


@dataclass(frozen=True, slots=True)
class RetentionPlan:
    """What one retention pass purges and what it keeps, as of `now`."""

    now: datetime
    purge: tuple[PurgeCandidate, ...]
    kept: tuple[KeptBlob, ...]

    @property
    def purged_bytes(self) -> int:
        return sum(candidate.size for candidate in self.purge)

    @property
    def versions(self) -> tuple[str, ...]:
        """Every archived version losing bytes, sorted."""
        return tuple(sorted({ref for candidate in self.purge for ref in candidate.versions}))


@dataclass(frozen=True, slots=True)
class ArtifactPurge:
    """The record that retention deleted a blob's bytes: kept forever, so a later download
    answers `gone` with the reason instead of a bare not-found."""

    id: PurgeId
    digest: str
    size: int
    purged_at: datetime
    purged_by: Actor
    reason: str
    versions: tuple[str, ...]


def keep_reason(holds: BlobHolds, now: datetime) -> str | None:
    """Why retention must keep this blob, or None when it may be purged."""
    if not holds.versions:
        return "no model version holds it"
    live = [v.ref for v in holds.versions if v.retain_until is None]
    if live:
        return f"held by live version {', '.join(sorted(live))}"
    retained = [v.ref for v in holds.versions if not v.is_expired(now)]
    if retained:
        return f"held by version {', '.join(sorted(retained))} until its retention ends"
    runs = sorted({r.run_id for r in holds.runs if not r.is_retired(now)})
    if runs:
        return f"a file of run {', '.join(runs)}, which is not retired"
    return None


def is_purged_already(holds: BlobHolds) -> bool:
    """Whether the blob was purged after every holder it has now appeared: nothing new
    stored the same bytes again since, so there is nothing left to purge."""
    if holds.last_purged_at is None:
        return False
    created = [v.created_at for v in holds.versions] + [r.created_at for r in holds.runs]
    return all(at <= holds.last_purged_at for at in created)


def plan_retention(holds: Iterable[BlobHolds], now: datetime) -> RetentionPlan:
    """Sort the blobs of expired archived versions into those to purge and those to keep
    (each list ordered by digest); "purged already" blobs are left out of both."""
    purge: list[PurgeCandidate] = []
    kept: list[KeptBlob] = []
    for blob in sorted(holds, key=lambda h: h.digest):
        if is_purged_already(blob):
            continue
        reason = keep_reason(blob, now)
        if reason is None:
            refs = tuple(sorted({v.ref for v in blob.versions}))
            purge.append(PurgeCandidate(blob.digest, blob.size, refs))
        else:
            kept.append(KeptBlob(blob.digest, reason))
    return RetentionPlan(now, tuple(purge), tuple(kept))
