"""Artifact use cases: stream a run's files into the blob store and back out."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from lockgate.domain.artifacts import RunArtifact
from lockgate.domain.identity import Actor, check_id
from lockgate.domain.names import check_artifact_path
from lockgate.domain.tracking import RunId
from lockgate.services.context import ServiceContext
from lockgate.store.protocols import BlobStore

__all__ = ["ArtifactService", "StoredArtifact"]


@dataclass(frozen=True, slots=True)
class StoredArtifact:
    """The outcome of an upload: the run file, and whether it is new (False when the same
    bytes were already there)."""

    artifact: RunArtifact
    created: bool


class ArtifactService:
    """Run files, stored by content digest; the server alone decides where bytes go."""

    def __init__(self, context: ServiceContext, blobs: BlobStore, max_upload_bytes: int) -> None:
        self._ctx = context
        self._blobs = blobs
        self._max_bytes = max_upload_bytes

    def upload(
        self, actor: Actor, run_id: str, path: str, chunks: Iterable[bytes]
    ) -> StoredArtifact:
        """Store a run file. The run is checked before any byte is read; the bytes land in
        the blob store first (atomically) and the file is recorded after, so a failure at
        any point leaves no visible file."""
        check_id(run_id, field="run_id")
        check_artifact_path(path)
        with self._ctx.uow(read_only=True) as uow:
            uow.runs.get(RunId(run_id)).ensure_accepts_data()
        blob = self._blobs.put(chunks, max_bytes=self._max_bytes)
        artifact = RunArtifact(RunId(run_id), path, blob.digest, blob.size, self._ctx.clock.now())
        with self._ctx.uow() as uow:
            run = uow.runs.get(RunId(run_id))
            run.ensure_accepts_data()
            created = uow.artifacts.add_run_artifact(artifact)
            if created:
                self._ctx.record(
                    uow,
                    "artifact.uploaded",
                    actor,
                    ("run", run.id),
                    {"path": path, "digest": blob.digest, "size": blob.size},
                )
                uow.commit()
            else:
                artifact = uow.artifacts.get_run_artifact(run.id, path)
        return StoredArtifact(artifact, created)

    def list(self, run_id: str, prefix: str | None) -> list[RunArtifact]:
        """A run's files ordered by path, optionally below a directory."""
        check_id(run_id, field="run_id")
        if prefix:
            check_artifact_path(prefix, field="prefix")
        with self._ctx.uow(read_only=True) as uow:
            run = uow.runs.get(RunId(run_id))
            return uow.artifacts.list_run_artifacts(run.id, prefix or None)

    def open(self, run_id: str, path: str) -> tuple[RunArtifact, Iterator[bytes]]:
        """A run file and a stream of its bytes."""
        check_id(run_id, field="run_id")
        check_artifact_path(path)
        with self._ctx.uow(read_only=True) as uow:
            artifact = uow.artifacts.get_run_artifact(RunId(run_id), path)
        return artifact, self._blobs.open(artifact.digest)
