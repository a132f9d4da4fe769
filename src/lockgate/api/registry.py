"""Wire schemas for registered models, versions, signatures and aliases."""

from __future__ import annotations

from pydantic import Field

from lockgate.api.common import ApiModel, UtcDatetime

__all__ = [
    "AliasIn",
    "AliasMoveOut",
    "ColumnSpecIO",
    "ModelIn",
    "ModelOut",
    "SignatureIO",
    "VersionFileOut",
    "VersionIn",
    "VersionOut",
]


class ModelIn(ApiModel):
    """Register a model in a project; owner and description are required."""

    name: str
    project: str
    owner: str
    description: str
    metadata: dict[str, str] = Field(default_factory=dict)


class ModelOut(ApiModel):
    id: str
    name: str
    project: str
    owner: str
    description: str
    metadata: dict[str, str]
    created_at: UtcDatetime
    created_by: str


class ColumnSpecIO(ApiModel):
    name: str
    type: str
    shape: list[int] = Field(default_factory=lambda: [-1])


class SignatureIO(ApiModel):
    inputs: list[ColumnSpecIO]
    outputs: list[ColumnSpecIO]


class VersionIn(ApiModel):
    """Create a version from the files a run logged under `artifact_path`."""

    run_id: str
    artifact_path: str
    signature: SignatureIO | None = None
    description: str = ""
    metadata: dict[str, str] = Field(default_factory=dict)


class VersionFileOut(ApiModel):
    path: str
    digest: str
    size: int


class VersionOut(ApiModel):
    model: str
    version: int
    run_id: str | None
    source_path: str
    files: list[VersionFileOut]
    signature: SignatureIO | None
    description: str
    metadata: dict[str, str]
    aliases: list[str]
    created_at: UtcDatetime
    created_by: str


class AliasIn(ApiModel):
    version: int = Field(ge=1)


class AliasMoveOut(ApiModel):
    model: str
    alias: str
    version: int | None
    previous_version: int | None
    moved_at: UtcDatetime
    moved_by: str
