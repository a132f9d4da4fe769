"""Artifact use cases: stream a run's files into the blob store and back out."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from lockgate.domain.access import Caller, Permission
from lockgate.domain.artifacts import RunArtifact
from lockgate.domain.errors import ConflictError, PayloadTooLargeError
from lockgate.domain.identity import check_id
from lockgate.domain.names import check_artifact_path
from lockgate.domain.tracking import Run, RunId
from lockgate.services.archives import open_archive
from lockgate.services.context import ServiceContext
from lockgate.services.decommission import open_unless_purged
from lockgate.store.protocols import BlobStore, UnitOfWork

__all__ = ["MAX_ARCHIVE_MEMBERS", "ArtifactService", "StoredArtifact"]

MAX_ARCHIVE_MEMBERS = 10_000
_SPOOL_IN_MEMORY = 8 * 1024 * 1024


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
        self, caller: Caller, run_id: str, path: str, chunks: Iterable[bytes]
    ) -> StoredArtifact:
        """Store a run file. The run and the caller's right to write to it are checked
        before any byte is read; the bytes land in the blob store first (atomically) and
        the file is recorded after, so a failure at any point leaves no visible file."""
        check_id(run_id, field="run_id")
        check_artifact_path(path)
        with self._ctx.uow(read_only=True) as uow:
            self._run(uow, caller, run_id, Permission.RUN_WRITE).ensure_accepts_data()
        blob = self._blobs.put(chunks, max_bytes=self._max_bytes)
        artifact = RunArtifact(RunId(run_id), path, blob.digest, blob.size, self._ctx.clock.now())
        with self._ctx.uow() as uow:
            run = self._run(uow, caller, run_id, Permission.RUN_WRITE)
            run.ensure_accepts_data()
            created = uow.artifacts.add_run_artifact(artifact)
            if created:
                self._ctx.record(
                    uow,
                    "artifact.uploaded",
                    caller,
                    ("run", run.id),
                    {"path": path, "digest": blob.digest, "size": blob.size},
                )
                uow.commit()
            else:
                artifact = uow.artifacts.get_run_artifact(run.id, path)
        return StoredArtifact(artifact, created)

    def upload_archive(
        self, caller: Caller, run_id: str, prefix: str, chunks: Iterable[bytes]
    ) -> list[RunArtifact]:
        """Unpack a tar (optionally compressed) or zip archive into run files under
        `prefix`, all or nothing. Every member is checked before any byte is stored: a link,
        a device, an absolute path or `..` anywhere rejects the whole archive."""
        check_id(run_id, field="run_id")
        check_artifact_path(prefix, field="path")
        with self._ctx.uow(read_only=True) as uow:
            self._run(uow, caller, run_id, Permission.RUN_WRITE).ensure_accepts_data()
        with tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY) as spool:
            _spool(chunks, spool, self._max_bytes)
            limits = {"max_members": MAX_ARCHIVE_MEMBERS, "max_total_bytes": self._max_bytes}
            with open_archive(spool, **limits) as archive:
                now = self._ctx.clock.now()
                files = []
                for path, member in archive.iter_files():
                    blob = self._blobs.put(member, max_bytes=self._max_bytes)
                    files.append(
                        RunArtifact(RunId(run_id), f"{prefix}/{path}", blob.digest, blob.size, now)
                    )
        with self._ctx.uow() as uow:
            run = self._run(uow, caller, run_id, Permission.RUN_WRITE)
            run.ensure_accepts_data()
            for artifact in files:
                if not uow.artifacts.add_run_artifact(artifact):
                    raise ConflictError(f"{artifact.path} is already stored", field="archive")
            self._ctx.record(
                uow,
                "artifact.archive_unpacked",
                caller,
                ("run", run.id),
                {"prefix": prefix, "files": {a.path: a.digest for a in files}},
            )
            uow.commit()
        return files

    def list(self, caller: Caller, run_id: str, prefix: str | None) -> list[RunArtifact]:
        """A run's files ordered by path, optionally below a directory."""
        check_id(run_id, field="run_id")
        if prefix:
            check_artifact_path(prefix, field="prefix")
        with self._ctx.uow(read_only=True) as uow:
            run = self._run(uow, caller, run_id, Permission.PROJECT_READ)
            return uow.artifacts.list_run_artifacts(run.id, prefix or None)

    def open(self, caller: Caller, run_id: str, path: str) -> tuple[RunArtifact, Iterator[bytes]]:
        """A run file and a stream of its bytes; GoneError when artifact retention purged
        them (the file's version was retired)."""
        check_id(run_id, field="run_id")
        check_artifact_path(path)
        with self._ctx.uow(read_only=True) as uow:
            run = self._run(uow, caller, run_id, Permission.PROJECT_READ)
            artifact = uow.artifacts.get_run_artifact(run.id, path)
        return artifact, open_unless_purged(self._ctx, self._blobs, artifact.digest)

    def _run(self, uow: UnitOfWork, caller: Caller, run_id: str, permission: Permission) -> Run:
        run = uow.runs.get(RunId(run_id))
        self._ctx.authorize(
            uow, caller, permission, project_id=run.project_id, subject=("run", run.id)
        )
        return run


def _spool(
    chunks: Iterable[bytes], spool: tempfile.SpooledTemporaryFile[bytes], limit: int
) -> None:
    written = 0
    for chunk in chunks:
        written += len(chunk)
        if written > limit:
            raise PayloadTooLargeError(f"the upload is larger than {limit} bytes", field="body")
        spool.write(chunk)
    spool.seek(0)
