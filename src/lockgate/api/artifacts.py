"""Wire schemas for run artifacts."""

from __future__ import annotations

from lockgate.api.common import ApiModel, UtcDatetime

__all__ = ["ArtifactOut"]


class ArtifactOut(ApiModel):
    """A file a run logged: its path within the run, sha256 digest and size."""

    run_id: str
    path: str
    digest: str
    size: int
    created_at: UtcDatetime
