"""Wire schemas for registered models, versions, signatures and aliases."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from lockgate.api.common import ApiModel, UtcDatetime
from lockgate.api.decommission import ArchiveOut
from lockgate.api.limits import (
    MAX_COLUMNS,
    MAX_INT64,
    ArtifactPathText,
    IdText,
    Metadata,
    NameText,
    ValueText,
    VersionNumber,
)
from lockgate.domain.registry import (
    TENSOR_TYPES,
    AliasMove,
    ColumnSpec,
    ModelVersion,
    RegisteredModel,
    Signature,
)

FlavorName = Literal["sklearn", "xgboost", "lightgbm", "onnx", "pytorch", "python", "unknown"]

__all__ = [
    "AliasIn",
    "AliasMoveOut",
    "ColumnSpecIO",
    "FlavorName",
    "ModelIn",
    "ModelOut",
    "SignatureIO",
    "VersionFileOut",
    "VersionIn",
    "VersionOut",
]


class ModelIn(ApiModel):
    """Register a model in a project; owner and description are required."""

    name: NameText
    project: NameText
    owner: Annotated[str, Field(max_length=256)]
    description: ValueText
    metadata: Metadata = Field(default_factory=dict)


class ModelOut(ApiModel):
    id: str
    name: str
    project: str
    owner: str
    description: str
    metadata: dict[str, str]
    created_at: UtcDatetime
    created_by: str
    archive: ArchiveOut | None = Field(default=None, description="Set once the model is retired.")

    @classmethod
    def from_domain(cls, model: RegisteredModel) -> ModelOut:
        return cls(
            id=model.id,
            name=model.name,
            project=model.project_name,
            owner=model.owner,
            description=model.description,
            metadata=model.metadata,
            created_at=model.created_at,
            created_by=model.created_by,
            archive=ArchiveOut.maybe(model.archive),
        )


class ColumnSpecIO(ApiModel):
    """One named input or output: its element type and shape (-1 is a free dimension)."""

    name: Annotated[str, Field(max_length=256)]
    type: Annotated[str, Field(max_length=32, json_schema_extra={"enum": sorted(TENSOR_TYPES)})]
    shape: list[Annotated[int, Field(ge=-1, le=MAX_INT64)]] = Field(
        default_factory=lambda: [-1], max_length=8
    )


class SignatureIO(ApiModel):
    """The input and output columns of a model version (up to 10,000 each)."""

    inputs: list[ColumnSpecIO] = Field(max_length=MAX_COLUMNS)
    outputs: list[ColumnSpecIO] = Field(max_length=MAX_COLUMNS)

    def to_domain(self) -> Signature:
        def specs(columns: list[ColumnSpecIO]) -> tuple[ColumnSpec, ...]:
            return tuple(ColumnSpec(c.name, c.type, tuple(c.shape)) for c in columns)

        return Signature(specs(self.inputs), specs(self.outputs))

    @classmethod
    def from_domain(cls, signature: Signature) -> SignatureIO:
        def specs(columns: tuple[ColumnSpec, ...]) -> list[ColumnSpecIO]:
            return [ColumnSpecIO(name=c.name, type=c.type, shape=list(c.shape)) for c in columns]

        return cls(inputs=specs(signature.inputs), outputs=specs(signature.outputs))


class VersionIn(ApiModel):
    """Create a version from the files a run logged under `artifact_path`."""

    run_id: IdText
    artifact_path: ArtifactPathText
    signature: SignatureIO | None = None
    description: ValueText = ""
    metadata: Metadata = Field(default_factory=dict)
    flavor: FlavorName = "unknown"


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
    archive: ArchiveOut | None = Field(default=None, description="Set once the version is retired.")

    @classmethod
    def from_domain(cls, version: ModelVersion) -> VersionOut:
        return cls(
            model=version.model_name,
            version=version.version,
            run_id=version.run_id,
            source_path=version.source_path,
            files=[
                VersionFileOut(path=f.path, digest=f.digest, size=f.size) for f in version.files
            ],
            signature=SignatureIO.from_domain(version.signature) if version.signature else None,
            description=version.description,
            metadata=version.metadata,
            aliases=list(version.aliases),
            created_at=version.created_at,
            created_by=version.created_by,
            archive=ArchiveOut.maybe(version.archive),
        )


class AliasIn(ApiModel):
    """The version an alias is to point at."""

    version: VersionNumber


class AliasMoveOut(ApiModel):
    model: str
    alias: str
    version: int | None
    previous_version: int | None
    moved_at: UtcDatetime
    moved_by: str

    @classmethod
    def from_domain(cls, move: AliasMove) -> AliasMoveOut:
        return cls(
            model=move.model_name,
            alias=move.alias,
            version=move.version,
            previous_version=move.previous_version,
            moved_at=move.moved_at,
            moved_by=move.moved_by,
        )
