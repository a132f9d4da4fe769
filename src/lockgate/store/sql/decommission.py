"""SqlDecommissionRepository: model retirements waiting for their versions, who holds the
blobs of retired versions (versions and run files, found by digest), and the append-only
record of artifact purges."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa

from lockgate.domain.governance.retention import (
    ArtifactPurge,
    BlobHolds,
    PurgeId,
    RunHold,
    VersionHold,
)
from lockgate.domain.governance.retirement import PendingModelRetirement
from lockgate.domain.identity import Actor
from lockgate.domain.pagination import Page, decode_cursor
from lockgate.domain.registry import ModelId
from lockgate.store.sql.codec import (
    from_json,
    from_micros,
    maybe_from_micros,
    page_of,
    to_json,
    to_micros,
)
from lockgate.store.sql.tables import (
    artifact_purges,
    model_retirements,
    model_version_files,
    model_versions,
    registered_models,
    run_artifacts,
    version_archives,
)

__all__ = ["SqlDecommissionRepository"]

# Digests per IN list: far below every dialect's bound-parameter limit.
_CHUNK = 500

_files = model_version_files
_archives = version_archives
_purges = artifact_purges


class SqlDecommissionRepository:
    """Pending model retirements in `model_retirements`; reads `model_version_files`,
    `run_artifacts` and `version_archives`; writes `artifact_purges`.

    Args:
        connection: the unit of work's connection, inside its transaction.
    """

    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection

    def add_model_retirement(self, pending: PendingModelRetirement) -> None:
        self._connection.execute(
            model_retirements.insert(),
            {
                "model_id": pending.model_id,
                "requested_at": to_micros(pending.requested_at),
                "requested_by": pending.requested_by,
                "reason": pending.reason,
            },
        )

    def model_retirement(self, model_id: ModelId) -> PendingModelRetirement | None:
        row = (
            self._connection.execute(
                sa.select(model_retirements).where(model_retirements.c.model_id == model_id)
            )
            .mappings()
            .first()
        )
        if row is None:
            return None
        return PendingModelRetirement(
            model_id=ModelId(row["model_id"]),
            requested_at=from_micros(row["requested_at"]),
            requested_by=Actor(row["requested_by"]),
            reason=row["reason"],
        )

    def remove_model_retirement(self, model_id: ModelId) -> None:
        self._connection.execute(
            model_retirements.delete().where(model_retirements.c.model_id == model_id)
        )

    def lock_model(self, model_id: ModelId) -> None:
        # FOR NO KEY UPDATE on PostgreSQL: it waits for another holder of the same lock, but
        # not for the KEY SHARE locks that foreign-key checks take on the model's row (both
        # transactions hold those already; FOR UPDATE would deadlock on them). SQLite
        # writers hold the database lock already.
        self._connection.execute(
            sa.select(registered_models.c.id)
            .where(registered_models.c.id == model_id)
            .with_for_update(key_share=True)
        )

    def expired_blob_holds(self, now: datetime) -> list[BlobHolds]:
        expired = (
            sa.select(_files.c.digest)
            .join(
                _archives,
                sa.and_(
                    _archives.c.model_id == _files.c.model_id,
                    _archives.c.version == _files.c.version,
                ),
            )
            .where(_archives.c.retain_until <= to_micros(now))
            .distinct()
            .order_by(_files.c.digest)
        )
        digests = list(self._connection.execute(expired).scalars())
        holds: list[BlobHolds] = []
        for start in range(0, len(digests), _CHUNK):
            holds += self._holds_of(digests[start : start + _CHUNK])
        return holds

    def add_purge(self, purge: ArtifactPurge) -> None:
        self._connection.execute(
            _purges.insert(),
            {
                "id": purge.id,
                "digest": purge.digest,
                "size": purge.size,
                "purged_at": to_micros(purge.purged_at),
                "purged_by": purge.purged_by,
                "reason": purge.reason,
                "versions": to_json(list(purge.versions)),
            },
        )

    def last_purge(self, digest: str) -> ArtifactPurge | None:
        row = (
            self._connection.execute(
                sa.select(_purges)
                .where(_purges.c.digest == digest)
                .order_by(_purges.c.purged_at.desc(), _purges.c.id.desc())
                .limit(1)
            )
            .mappings()
            .first()
        )
        return None if row is None else _purge(row)

    def list_purges(self, page_size: int, cursor: str | None) -> Page[ArtifactPurge]:
        query = (
            sa.select(_purges)
            .order_by(_purges.c.purged_at.desc(), _purges.c.id.desc())
            .limit(page_size + 1)
        )
        if cursor is not None:
            micros, last_id = decode_cursor(cursor, arity=2)
            if not isinstance(micros, int) or isinstance(micros, bool):
                micros = 0
            if not isinstance(last_id, str):
                last_id = ""
            query = query.where(
                sa.or_(
                    _purges.c.purged_at < micros,
                    sa.and_(_purges.c.purged_at == micros, _purges.c.id < last_id),
                )
            )
        items = [_purge(row) for row in self._connection.execute(query).mappings()]
        return page_of(items, page_size, lambda p: [to_micros(p.purged_at), p.id])

    def _holds_of(self, digests: Sequence[str]) -> list[BlobHolds]:
        """The holders of a chunk of digests: four queries whatever its size."""
        sizes: dict[str, int] = {}
        versions: dict[str, list[VersionHold]] = defaultdict(list)
        for row in self._connection.execute(_version_holders(digests)).mappings():
            sizes[row["digest"]] = row["size"]
            versions[row["digest"]].append(
                VersionHold(
                    model_name=row["model_name"],
                    version=row["version"],
                    created_at=from_micros(row["created_at"]),
                    retain_until=maybe_from_micros(row["retain_until"]),
                )
            )
        files = (
            self._connection.execute(
                sa.select(run_artifacts)
                .where(run_artifacts.c.digest.in_(digests))
                .order_by(run_artifacts.c.run_id, run_artifacts.c.path)
            )
            .mappings()
            .all()
        )
        sources = self._sources_of({row["run_id"] for row in files})
        runs: dict[str, list[RunHold]] = defaultdict(list)
        for row in files:
            runs[row["digest"]].append(
                RunHold(
                    run_id=row["run_id"],
                    path=row["path"],
                    created_at=from_micros(row["created_at"]),
                    source_of=tuple(sources.get(row["run_id"], ())),
                )
            )
        purged = dict(
            self._connection.execute(
                sa.select(_purges.c.digest, sa.func.max(_purges.c.purged_at))
                .where(_purges.c.digest.in_(digests))
                .group_by(_purges.c.digest)
            ).all()
        )
        return [
            BlobHolds(
                digest=digest,
                size=sizes[digest],
                versions=tuple(versions[digest]),
                runs=tuple(runs[digest]),
                last_purged_at=maybe_from_micros(purged.get(digest)),
            )
            for digest in digests
        ]

    def _sources_of(self, run_ids: set[str]) -> dict[str, list[datetime | None]]:
        """For each run, the `retain_until` of every version registered from it (None for
        a version that is not archived)."""
        sources: dict[str, list[datetime | None]] = defaultdict(list)
        ordered = sorted(run_ids)
        for start in range(0, len(ordered), _CHUNK):
            query = (
                sa.select(model_versions.c.run_id, _archives.c.retain_until)
                .outerjoin(
                    _archives,
                    sa.and_(
                        _archives.c.model_id == model_versions.c.model_id,
                        _archives.c.version == model_versions.c.version,
                    ),
                )
                .where(model_versions.c.run_id.in_(ordered[start : start + _CHUNK]))
            )
            for run_id, until in self._connection.execute(query).all():
                sources[run_id].append(maybe_from_micros(until))
        return sources


def _version_holders(digests: Sequence[str]) -> sa.Select[Any]:
    return (
        sa.select(
            _files.c.digest,
            _files.c.size,
            registered_models.c.name.label("model_name"),
            model_versions.c.version,
            model_versions.c.created_at,
            _archives.c.retain_until,
        )
        .join(
            model_versions,
            sa.and_(
                model_versions.c.model_id == _files.c.model_id,
                model_versions.c.version == _files.c.version,
            ),
        )
        .join(registered_models, registered_models.c.id == model_versions.c.model_id)
        .outerjoin(
            _archives,
            sa.and_(
                _archives.c.model_id == _files.c.model_id,
                _archives.c.version == _files.c.version,
            ),
        )
        .where(_files.c.digest.in_(digests))
        .order_by(_files.c.digest, registered_models.c.name, model_versions.c.version)
    )


def _purge(row: sa.RowMapping) -> ArtifactPurge:
    return ArtifactPurge(
        id=PurgeId(row["id"]),
        digest=row["digest"],
        size=row["size"],
        purged_at=from_micros(row["purged_at"]),
        purged_by=Actor(row["purged_by"]),
        reason=row["reason"],
        versions=tuple(cast(list[str], from_json(row["versions"]))),
    )
