"""Registered models, their immutable versions, signatures, and aliases with a full history."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import NewType

from lockgate.domain.errors import InvalidInputError
from lockgate.domain.identity import Actor
from lockgate.domain.names import check_alias, check_key, check_name, check_text
from lockgate.domain.tracking import ProjectId, RunId

__all__ = [
    "AliasMove",
    "Archive",
    "ColumnSpec",
    "ModelId",
    "ModelRef",
    "ModelVersion",
    "RegisteredModel",
    "Signature",
    "VersionFile",
    "check_metadata",
]

ModelId = NewType("ModelId", str)

TENSOR_TYPES = frozenset(
    {
        "bool",
        "int8",
        "int16",
        "int32",
        "int64",
        "uint8",
        "uint16",
        "uint32",
        "uint64",
        "float16",
        "float32",
        "float64",
        "string",
        "bytes",
        "datetime",
    }
)


def check_metadata(metadata: dict[str, str], *, field: str = "metadata") -> None:
    """Free-form metadata: string keys and values, bounded."""
    if len(metadata) > 200:
        raise InvalidInputError("at most 200 metadata entries", field=field)
    for key, value in metadata.items():
        check_key(key, field=f"{field}.{key}")
        check_text(value, field=f"{field}.{key}")


@dataclass(frozen=True, slots=True)
class Archive:
    """The retirement of a model or a version: when, by whom, why, and until when its
    artifact bytes are kept. An archived object stays readable (with its audit trail and
    evidence) but is no longer listed by default, aliased or promoted."""

    archived_at: datetime
    archived_by: Actor
    reason: str
    retain_until: datetime


@dataclass(frozen=True, slots=True)
class RegisteredModel:
    """A named model with a required owner and description; versions hang off it."""

    id: ModelId
    project_id: ProjectId
    name: str
    owner: str
    description: str
    metadata: dict[str, str]
    created_at: datetime
    created_by: Actor
    project_name: str = ""
    archive: Archive | None = None

    @property
    def archived_at(self) -> datetime | None:
        """When the model was retired (None while it is live)."""
        return None if self.archive is None else self.archive.archived_at

    @property
    def archived_by(self) -> Actor | None:
        """Who retired the model (None while it is live)."""
        return None if self.archive is None else self.archive.archived_by

    @staticmethod
    def check(name: str, owner: str, description: str, metadata: dict[str, str]) -> None:
        check_name(name, field="name")
        if not owner.strip():
            raise InvalidInputError("owner is required", field="owner")
        check_text(owner, field="owner", max_length=256)
        if not description.strip():
            raise InvalidInputError("description is required", field="description")
        check_text(description, field="description")
        check_metadata(metadata)


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    """One named input or output: its element type and shape (-1 is a free dimension)."""

    name: str
    type: str
    shape: tuple[int, ...] = (-1,)

    def check(self, field: str) -> None:
        check_text(self.name, field=f"{field}.name", max_length=256)
        if not self.name:
            raise InvalidInputError("a column needs a name", field=f"{field}.name")
        if self.type not in TENSOR_TYPES:
            raise InvalidInputError(
                f"type {self.type!r} is not one of {', '.join(sorted(TENSOR_TYPES))}",
                field=f"{field}.type",
            )
        if len(self.shape) > 8 or any(d < -1 or d == 0 for d in self.shape):
            raise InvalidInputError(
                "shape holds at most 8 dimensions, each positive or -1", field=f"{field}.shape"
            )


@dataclass(frozen=True, slots=True)
class Signature:
    """The input and output schema of a model version."""

    inputs: tuple[ColumnSpec, ...]
    outputs: tuple[ColumnSpec, ...]

    def check(self) -> None:
        for label, columns in (("inputs", self.inputs), ("outputs", self.outputs)):
            names = [c.name for c in columns]
            if len(set(names)) != len(names):
                raise InvalidInputError(
                    f"signature {label} repeat a name", field=f"signature.{label}"
                )
            for index, column in enumerate(columns):
                column.check(f"signature.{label}[{index}]")


@dataclass(frozen=True, slots=True)
class VersionFile:
    """One file of a model version: its path inside the version and its content digest."""

    path: str
    digest: str
    size: int


@dataclass(frozen=True, slots=True)
class ModelVersion:
    """An immutable version of a registered model, made from a run's artifacts."""

    model_id: ModelId
    model_name: str
    version: int
    run_id: RunId | None
    source_path: str
    files: tuple[VersionFile, ...]
    signature: Signature | None
    description: str
    metadata: dict[str, str]
    created_at: datetime
    created_by: Actor
    aliases: tuple[str, ...] = field(default=())
    archive: Archive | None = None

    @property
    def archived_at(self) -> datetime | None:
        """When the version was retired (None while it is live)."""
        return None if self.archive is None else self.archive.archived_at

    @property
    def archived_by(self) -> Actor | None:
        """Who retired the version (None while it is live)."""
        return None if self.archive is None else self.archive.archived_by


@dataclass(frozen=True, slots=True)
class AliasMove:
    """An alias set to a version (or removed, when version is None) at a time, by someone."""

    model_name: str
    alias: str
    version: int | None
    previous_version: int | None
    moved_at: datetime
    moved_by: Actor


_REF = re.compile(r"(?P<name>[^@/]+)(?:@(?P<alias>[^@/]+)|/(?P<version>\d+))?")


@dataclass(frozen=True, slots=True)
class ModelRef:
    """A reference to a version: `name/3` (a number), `name@champion` (an alias) or `name`
    (the latest version)."""

    name: str
    version: int | None = None
    alias: str | None = None

    @staticmethod
    def parse(text: str, *, field: str = "model") -> ModelRef:
        match = _REF.fullmatch(text)
        if match is None:
            raise InvalidInputError(
                f"{text!r} is not a model reference: use NAME, NAME/VERSION or NAME@ALIAS",
                field=field,
            )
        name = check_name(match["name"], field=field)
        if match["alias"] is not None:
            return ModelRef(name, alias=check_alias(match["alias"], field=field))
        if match["version"] is not None:
            return ModelRef(name, version=int(match["version"]))
        return ModelRef(name)

    def __str__(self) -> str:
        if self.alias is not None:
            return f"{self.name}@{self.alias}"
        if self.version is not None:
            return f"{self.name}/{self.version}"
        return self.name
