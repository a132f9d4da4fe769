"""SqlModelRepository: registered models, immutable versions with their files, and aliases
with their full history."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa

from lockgate.domain.access import ProjectFilter
from lockgate.domain.errors import AlreadyExistsError, ConflictError, NotFoundError
from lockgate.domain.identity import Actor
from lockgate.domain.pagination import Page, decode_cursor
from lockgate.domain.registry import (
    AliasMove,
    Archive,
    ColumnSpec,
    ModelId,
    ModelVersion,
    RegisteredModel,
    Signature,
    VersionFile,
)
from lockgate.domain.tracking import ProjectId, RunId
from lockgate.store.sql.codec import (
    dialect_insert,
    from_json,
    from_micros,
    page_of,
    to_json,
    to_micros,
    translate_integrity,
)
from lockgate.store.sql.grants import visible_projects
from lockgate.store.sql.tables import (
    alias_moves,
    model_aliases,
    model_archives,
    model_version_files,
    model_versions,
    registered_models,
    version_archives,
)

__all__ = ["SqlModelRepository"]

_models = registered_models


class SqlModelRepository:
    """Models in `registered_models`, versions in `model_versions` and `model_version_files`,
    aliases in `model_aliases` and their history in `alias_moves`.

    Args:
        connection: the unit of work's connection, inside its transaction.
    """

    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection

    def add_model(self, model: RegisteredModel) -> None:
        row = {
            "id": model.id,
            "project_id": model.project_id,
            "name": model.name,
            "owner": model.owner,
            "description": model.description,
            "metadata": to_json(model.metadata),
            "created_at": to_micros(model.created_at),
            "created_by": model.created_by,
            "last_version": 0,
        }
        with translate_integrity(
            self._connection,
            duplicate=f"model {model.name!r} already exists",
            missing=f"project {model.project_id} does not exist",
            field="name",
        ):
            self._connection.execute(_models.insert(), row)

    def get_model(self, name: str) -> RegisteredModel:
        row = self._connection.execute(_models_query().where(_models.c.name == name)).first()
        if row is None:
            raise NotFoundError(f"model {name!r} does not exist")
        return _model(row._mapping)

    def list_models(
        self,
        project_id: ProjectId | None,
        page_size: int,
        cursor: str | None,
        visible: ProjectFilter | None = None,
        *,
        include_archived: bool = False,
    ) -> Page[RegisteredModel]:
        query = (
            _models_query()
            .where(visible_projects(_models.c.project_id, visible))
            .order_by(_models.c.name)
            .limit(page_size + 1)
        )
        if project_id is not None:
            query = query.where(_models.c.project_id == project_id)
        if not include_archived:
            query = query.where(model_archives.c.model_id.is_(None))
        if cursor is not None:
            (after,) = decode_cursor(cursor, arity=1)
            query = query.where(_models.c.name > str(after))
        rows = self._connection.execute(query).mappings().all()
        return page_of([_model(row) for row in rows], page_size, lambda m: [m.name])

    def allocate_version(self, model_id: ModelId) -> int:
        # One statement: a row lock on PostgreSQL, and SQLite writers are serialized anyway.
        allocated = self._connection.execute(
            _models.update()
            .where(_models.c.id == model_id)
            .values(last_version=_models.c.last_version + 1)
            .returning(_models.c.last_version)
        ).scalar_one_or_none()
        if allocated is None:
            raise NotFoundError(f"model {model_id} does not exist")
        return int(allocated)

    def add_version(self, version: ModelVersion) -> None:
        row = {
            "model_id": version.model_id,
            "version": version.version,
            "run_id": version.run_id,
            "source_path": version.source_path,
            "signature": None if version.signature is None else _signature_json(version.signature),
            "description": version.description,
            "metadata": to_json(version.metadata),
            "created_at": to_micros(version.created_at),
            "created_by": version.created_by,
        }
        files = [
            {"model_id": version.model_id, "version": version.version, **_file_row(file)}
            for file in version.files
        ]
        with translate_integrity(
            self._connection,
            duplicate=f"model {version.model_name!r} version {version.version} already exists",
            missing=f"model {version.model_name!r} or run {version.run_id} does not exist",
            field="version",
        ):
            self._connection.execute(model_versions.insert(), row)
            if files:
                self._connection.execute(model_version_files.insert(), files)

    def get_version(self, model_name: str, version: int) -> ModelVersion:
        query = _versions_of(model_name).where(model_versions.c.version == version)
        found = self._load_versions(query)
        if not found:
            raise NotFoundError(f"model {model_name!r} has no version {version}")
        return found[0]

    def latest_version(self, model_name: str) -> ModelVersion:
        query = (
            _versions_of(model_name)
            .where(version_archives.c.version.is_(None))
            .order_by(model_versions.c.version.desc())
            .limit(1)
        )
        found = self._load_versions(query)
        if not found:
            self.get_model(model_name)  # NotFoundError naming the model when it is missing
            raise NotFoundError(f"model {model_name!r} has no versions yet (or only archived)")
        return found[0]

    def list_versions(
        self,
        model_name: str,
        page_size: int,
        cursor: str | None,
        *,
        include_archived: bool = False,
    ) -> Page[ModelVersion]:
        self.get_model(model_name)
        query = (
            _versions_of(model_name).order_by(model_versions.c.version.desc()).limit(page_size + 1)
        )
        if not include_archived:
            query = query.where(version_archives.c.version.is_(None))
        if cursor is not None:
            (before,) = decode_cursor(cursor, arity=1)
            if not isinstance(before, int) or isinstance(before, bool):
                before = 0
            query = query.where(model_versions.c.version < before)
        return page_of(self._load_versions(query), page_size, lambda v: [v.version])

    def archive_model(self, model_id: ModelId, archive: Archive) -> None:
        with _archiving(
            self._connection,
            archived_already=f"model {model_id} is archived already",
            missing=f"model {model_id} does not exist",
        ):
            self._connection.execute(
                model_archives.insert(), {"model_id": model_id, **_archive_row(archive)}
            )

    def archive_version(self, model_id: ModelId, version: int, archive: Archive) -> None:
        with _archiving(
            self._connection,
            archived_already=f"version {version} of model {model_id} is archived already",
            missing=f"model {model_id} has no version {version}",
        ):
            self._connection.execute(
                version_archives.insert(),
                {"model_id": model_id, "version": version, **_archive_row(archive)},
            )

    def current_alias(self, model_id: ModelId, alias: str) -> int | None:
        version = self._connection.execute(
            sa.select(model_aliases.c.version).where(
                model_aliases.c.model_id == model_id, model_aliases.c.alias == alias
            )
        ).scalar_one_or_none()
        return None if version is None else int(version)

    def move_alias(self, model_id: ModelId, move: AliasMove) -> None:
        key = (model_aliases.c.model_id == model_id, model_aliases.c.alias == move.alias)
        if move.version is None:
            self._connection.execute(model_aliases.delete().where(*key))
        else:
            insert = dialect_insert(self._connection, model_aliases)
            self._connection.execute(
                insert.on_conflict_do_update(
                    index_elements=[model_aliases.c.model_id, model_aliases.c.alias],
                    set_={"version": insert.excluded.version},
                ),
                {"model_id": model_id, "alias": move.alias, "version": move.version},
            )
        self._connection.execute(
            alias_moves.insert(),
            {
                "model_id": model_id,
                "alias": move.alias,
                "version": move.version,
                "previous_version": move.previous_version,
                "moved_at": to_micros(move.moved_at),
                "moved_by": move.moved_by,
            },
        )

    def alias_at(self, model_id: ModelId, alias: str, at: datetime) -> int | None:
        version = self._connection.execute(
            sa.select(alias_moves.c.version)
            .where(
                alias_moves.c.model_id == model_id,
                alias_moves.c.alias == alias,
                alias_moves.c.moved_at <= to_micros(at),
            )
            .order_by(alias_moves.c.moved_at.desc(), alias_moves.c.id.desc())
            .limit(1)
        ).scalar_one_or_none()
        return None if version is None else int(version)

    def alias_history(self, model_id: ModelId, alias: str | None) -> list[AliasMove]:
        query = (
            sa.select(alias_moves, _models.c.name.label("model_name"))
            .join(_models, _models.c.id == alias_moves.c.model_id)
            .where(alias_moves.c.model_id == model_id)
            .order_by(alias_moves.c.moved_at, alias_moves.c.id)
        )
        if alias is not None:
            query = query.where(alias_moves.c.alias == alias)
        return [
            AliasMove(
                model_name=row["model_name"],
                alias=row["alias"],
                version=row["version"],
                previous_version=row["previous_version"],
                moved_at=from_micros(row["moved_at"]),
                moved_by=Actor(row["moved_by"]),
            )
            for row in self._connection.execute(query).mappings()
        ]

    def _load_versions(self, query: sa.Select[Any]) -> list[ModelVersion]:
        """The versions a query selects, each with its files and current aliases (one query
        per kind for the whole list)."""
        rows = self._connection.execute(query).mappings().all()
        if not rows:
            return []
        keys = [(row["model_id"], row["version"]) for row in rows]
        key_in = sa.tuple_(model_version_files.c.model_id, model_version_files.c.version).in_(keys)
        files: dict[tuple[str, int], list[VersionFile]] = {}
        for file in self._connection.execute(
            sa.select(model_version_files).where(key_in).order_by(model_version_files.c.path)
        ).mappings():
            files.setdefault((file["model_id"], file["version"]), []).append(
                VersionFile(file["path"], file["digest"], file["size"])
            )
        alias_in = sa.tuple_(model_aliases.c.model_id, model_aliases.c.version).in_(keys)
        aliases: dict[tuple[str, int], list[str]] = {}
        for model_id, alias, number in self._connection.execute(
            sa.select(model_aliases.c.model_id, model_aliases.c.alias, model_aliases.c.version)
            .where(alias_in)
            .order_by(model_aliases.c.alias)
        ):
            aliases.setdefault((model_id, number), []).append(alias)
        return [
            _version(row, files.get(key, ()), aliases.get(key, ()))
            for row, key in zip(rows, keys, strict=True)
        ]


def _archive_columns(table: sa.Table) -> list[sa.ColumnElement[Any]]:
    return [
        table.c.archived_at,
        table.c.archived_by,
        table.c.reason.label("archive_reason"),
        table.c.retain_until,
    ]


def _models_query() -> sa.Select[Any]:
    return sa.select(_models, *_archive_columns(model_archives)).outerjoin(
        model_archives, model_archives.c.model_id == _models.c.id
    )


def _versions_of(model_name: str) -> sa.Select[Any]:
    return (
        sa.select(
            model_versions, _models.c.name.label("model_name"), *_archive_columns(version_archives)
        )
        .join(_models, _models.c.id == model_versions.c.model_id)
        .outerjoin(
            version_archives,
            sa.and_(
                version_archives.c.model_id == model_versions.c.model_id,
                version_archives.c.version == model_versions.c.version,
            ),
        )
        .where(_models.c.name == model_name)
    )


def _archive_row(archive: Archive) -> dict[str, object]:
    return {
        "archived_at": to_micros(archive.archived_at),
        "archived_by": archive.archived_by,
        "reason": archive.reason,
        "retain_until": to_micros(archive.retain_until),
    }


def _archive(row: sa.RowMapping) -> Archive | None:
    if row["archived_at"] is None:
        return None
    return Archive(
        archived_at=from_micros(row["archived_at"]),
        archived_by=Actor(row["archived_by"]),
        reason=row["archive_reason"],
        retain_until=from_micros(row["retain_until"]),
    )


@contextmanager
def _archiving(connection: sa.Connection, *, archived_already: str, missing: str) -> Iterator[None]:
    """An archive row is written once: a second one is a conflict (a concurrent retirement
    got there first)."""
    try:
        with translate_integrity(connection, duplicate=archived_already, missing=missing):
            yield
    except AlreadyExistsError as exc:
        raise ConflictError(archived_already) from exc


def _model(row: sa.RowMapping) -> RegisteredModel:
    return RegisteredModel(
        id=ModelId(row["id"]),
        project_id=ProjectId(row["project_id"]),
        name=row["name"],
        owner=row["owner"],
        description=row["description"],
        metadata=cast(dict[str, str], from_json(row["metadata"])),
        created_at=from_micros(row["created_at"]),
        created_by=Actor(row["created_by"]),
        archive=_archive(row),
    )


def _file_row(file: VersionFile) -> dict[str, object]:
    return {"path": file.path, "digest": file.digest, "size": file.size}


def _signature_json(signature: Signature) -> str:
    def columns(specs: tuple[ColumnSpec, ...]) -> list[dict[str, object]]:
        return [{"name": c.name, "type": c.type, "shape": list(c.shape)} for c in specs]

    return to_json({"inputs": columns(signature.inputs), "outputs": columns(signature.outputs)})


def _signature(text: str) -> Signature:
    data = cast(dict[str, list[dict[str, Any]]], from_json(text))

    def columns(specs: list[dict[str, Any]]) -> tuple[ColumnSpec, ...]:
        return tuple(ColumnSpec(c["name"], c["type"], tuple(c["shape"])) for c in specs)

    return Signature(inputs=columns(data["inputs"]), outputs=columns(data["outputs"]))


def _version(
    row: sa.RowMapping, files: Sequence[VersionFile], aliases: Sequence[str]
) -> ModelVersion:
    return ModelVersion(
        model_id=ModelId(row["model_id"]),
        model_name=row["model_name"],
        version=row["version"],
        run_id=None if row["run_id"] is None else RunId(row["run_id"]),
        source_path=row["source_path"],
        files=tuple(files),
        signature=None if row["signature"] is None else _signature(row["signature"]),
        description=row["description"],
        metadata=cast(dict[str, str], from_json(row["metadata"])),
        created_at=from_micros(row["created_at"]),
        created_by=Actor(row["created_by"]),
        aliases=tuple(aliases),
        archive=_archive(row),
    )
