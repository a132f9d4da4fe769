"""Wire schemas for decommissioning: retiring a version or a model, the archive state they
get, and the record of artifact purges."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import Field

from lockgate.api.common import ApiModel, UtcDatetime
from lockgate.domain.governance.retention import ArtifactPurge, RetentionPlan
from lockgate.domain.governance.retirement import Retirement, RetirementStatus
from lockgate.domain.registry import Archive

__all__ = [
    "ArchiveOut",
    "ArtifactPurgeOut",
    "FailedPurgeOut",
    "KeptBlobOut",
    "ModelRetirementOut",
    "PurgeCandidateOut",
    "RetentionOut",
    "RetireIn",
    "RetirementOut",
]

MAX_REASON_LENGTH = 2000


class RetireIn(ApiModel):
    """Why the version or model is retired (required, kept in the audit log)."""

    reason: str = Field(min_length=1, max_length=MAX_REASON_LENGTH)


class ArchiveOut(ApiModel):
    """When, by whom and why something was retired, and until when its artifact bytes are
    kept (after that, `lockgate admin retention apply` may purge them)."""

    archived_at: UtcDatetime
    archived_by: str
    reason: str
    retain_until: UtcDatetime

    @classmethod
    def from_domain(cls, archive: Archive) -> ArchiveOut:
        return cls(
            archived_at=archive.archived_at,
            archived_by=archive.archived_by,
            reason=archive.reason,
            retain_until=archive.retain_until,
        )

    @classmethod
    def maybe(cls, archive: Archive | None) -> ArchiveOut | None:
        return None if archive is None else cls.from_domain(archive)


class RetirementOut(ApiModel):
    """One version's retirement. `archived`: it left every environment and is archived now;
    `pending`: it is still current in `environments`, whose retirement `requests` wait for
    approvals (approve them as promotion requests); `already_archived`: retired before."""

    model: str
    version: int
    status: RetirementStatus
    archive: ArchiveOut | None
    environments: list[str] = Field(description="Environments it is (or was) current in.")
    requests: list[str] = Field(description="Ids of its retirement requests.")
    removed_aliases: list[str]
    cancelled_requests: list[str] = Field(
        description="Its open promotion requests, cancelled by the archive."
    )

    @classmethod
    def from_domain(cls, retirement: Retirement) -> RetirementOut:
        return cls(
            model=retirement.model_name,
            version=retirement.version,
            status=retirement.status,
            archive=ArchiveOut.maybe(retirement.archive),
            environments=list(retirement.environments),
            requests=list(retirement.requests),
            removed_aliases=list(retirement.removed_aliases),
            cancelled_requests=list(retirement.cancelled_requests),
        )


class ModelRetirementOut(ApiModel):
    """A model's retirement: what happened to each version, and the model's archive (null
    while versions wait for approvals; the model is archived with its last live version)."""

    model: str
    archive: ArchiveOut | None
    versions: list[RetirementOut]


class ArtifactPurgeOut(ApiModel):
    """Retention deleted a blob's bytes: when, by whom, why, and for which versions."""

    id: str
    digest: str
    size: int
    purged_at: UtcDatetime
    purged_by: str
    reason: str
    versions: list[str]

    @classmethod
    def from_domain(cls, purge: ArtifactPurge) -> ArtifactPurgeOut:
        return cls(
            id=purge.id,
            digest=purge.digest,
            size=purge.size,
            purged_at=purge.purged_at,
            purged_by=purge.purged_by,
            reason=purge.reason,
            versions=list(purge.versions),
        )


class PurgeCandidateOut(ApiModel):
    """A blob retention purges (or would purge, in a dry run), and the archived versions
    that held it."""

    digest: str
    size: int
    versions: list[str]


class KeptBlobOut(ApiModel):
    """A blob of an expired archived version that retention keeps, and why."""

    digest: str
    reason: str


class FailedPurgeOut(ApiModel):
    """A blob whose bytes could not be deleted; the next pass retries it."""

    digest: str
    error: str


class RetentionOut(ApiModel):
    """One retention pass (or its dry run): what it purged and kept as of `now`."""

    now: UtcDatetime
    dry_run: bool
    purged: list[PurgeCandidateOut]
    purged_bytes: int
    kept: list[KeptBlobOut]
    failed: list[FailedPurgeOut] = Field(default_factory=list)

    @classmethod
    def from_plan(
        cls, plan: RetentionPlan, *, dry_run: bool, failed: Sequence[tuple[str, str]] = ()
    ) -> RetentionOut:
        gone = {digest for digest, _ in failed}
        purged = [c for c in plan.purge if c.digest not in gone]
        return cls(
            now=plan.now,
            dry_run=dry_run,
            purged=[
                PurgeCandidateOut(digest=c.digest, size=c.size, versions=list(c.versions))
                for c in purged
            ],
            purged_bytes=sum(c.size for c in purged),
            kept=[KeptBlobOut(digest=k.digest, reason=k.reason) for k in plan.kept],
            failed=[FailedPurgeOut(digest=d, error=e) for d, e in failed],
        )
