"""Artifacts: content-addressed blobs and the run files that point at them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from lockgate.domain.errors import InvalidInputError
from lockgate.domain.tracking import RunId

__all__ = ["BlobRef", "RunArtifact", "check_digest"]

_DIGEST = re.compile(r"[0-9a-f]{64}")


def check_digest(digest: str, *, field: str = "digest") -> str:
    """A sha256 digest as 64 lowercase hex characters."""
    if not _DIGEST.fullmatch(digest):
        raise InvalidInputError("digest must be 64 lowercase hex characters (sha256)", field=field)
    return digest


@dataclass(frozen=True, slots=True)
class BlobRef:
    """A stored blob: its sha256 digest and its size in bytes."""

    digest: str
    size: int


@dataclass(frozen=True, slots=True)
class RunArtifact:
    """A file logged by a run: a checked relative path and the blob it holds."""

    run_id: RunId
    path: str
    digest: str
    size: int
    created_at: datetime
