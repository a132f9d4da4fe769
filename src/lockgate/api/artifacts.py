"""Wire schemas for run artifacts."""

from __future__ import annotations

from lockgate.api.common import ApiModel, UtcDatetime
from lockgate.domain.artifacts import RunArtifact

__all__ = ["ArtifactOut"]


class ArtifactOut(ApiModel):
    """A file a run logged: its path within the run, sha256 digest and size."""

    run_id: str
    path: str
    digest: str
    size: int
    created_at: UtcDatetime

    @classmethod
    def from_domain(cls, artifact: RunArtifact) -> ArtifactOut:
        return cls(
            run_id=artifact.run_id,
            path=artifact.path,
            digest=artifact.digest,
            size=artifact.size,
            created_at=artifact.created_at,
        )
