"""SqlArtifactIndex: which run file points at which blob (write-once per path)."""

from __future__ import annotations

import sqlalchemy as sa

from lockgate.domain.artifacts import RunArtifact
from lockgate.domain.errors import ConflictError, NotFoundError
from lockgate.domain.tracking import RunId
from lockgate.store.sql.codec import dialect_insert, from_micros, to_micros
from lockgate.store.sql.tables import run_artifacts

__all__ = ["SqlArtifactIndex"]


class SqlArtifactIndex:
    """Run files in `run_artifacts`, keyed by (run, path).

    Args:
        connection: the unit of work's connection, inside its transaction.
    """

    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection

    def add_run_artifact(self, artifact: RunArtifact) -> bool:
        row = {
            "run_id": artifact.run_id,
            "path": artifact.path,
            "digest": artifact.digest,
            "size": artifact.size,
            "created_at": to_micros(artifact.created_at),
        }
        # RETURNING, not rowcount: it tells whether this statement inserted on every driver.
        insert = dialect_insert(self._connection, run_artifacts).on_conflict_do_nothing()
        if self._connection.execute(insert.returning(run_artifacts.c.path), row).first():
            return True
        existing = self.get_run_artifact(artifact.run_id, artifact.path)
        if existing.digest != artifact.digest:
            raise ConflictError(
                f"{artifact.path!r} of run {artifact.run_id} already holds another file "
                f"(sha256 {existing.digest[:12]}...); run files are write-once",
                field="path",
            )
        return False

    def get_run_artifact(self, run_id: RunId, path: str) -> RunArtifact:
        row = self._connection.execute(
            sa.select(run_artifacts).where(
                run_artifacts.c.run_id == run_id, run_artifacts.c.path == path
            )
        ).first()
        if row is None:
            raise NotFoundError(f"run {run_id} has no artifact {path!r}")
        return _artifact(row._mapping)

    def list_run_artifacts(self, run_id: RunId, prefix: str | None) -> list[RunArtifact]:
        query = (
            sa.select(run_artifacts)
            .where(run_artifacts.c.run_id == run_id)
            .order_by(run_artifacts.c.path)
        )
        if prefix:
            directory = prefix.rstrip("/") + "/"
            # A range on the path, not LIKE: paths may hold '_' and '%' is never needed.
            query = query.where(
                run_artifacts.c.path >= directory, run_artifacts.c.path < directory[:-1] + "0"
            )
        return [_artifact(row) for row in self._connection.execute(query).mappings()]


def _artifact(row: sa.RowMapping) -> RunArtifact:
    return RunArtifact(
        run_id=RunId(row["run_id"]),
        path=row["path"],
        digest=row["digest"],
        size=row["size"],
        created_at=from_micros(row["created_at"]),
    )
