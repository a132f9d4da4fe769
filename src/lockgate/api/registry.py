"""Wire schemas for registered models, versions, signatures and aliases."""

from __future__ import annotations

from pydantic import Field

from lockgate.api.common import ApiModel, UtcDatetime
from lockgate.domain.registry import (
    AliasMove,
    ColumnSpec,
    ModelVersion,
    RegisteredModel,
    Signature,
)

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
        )


class ColumnSpecIO(ApiModel):
    name: str
    type: str
    shape: list[int] = Field(default_factory=lambda: [-1])


class SignatureIO(ApiModel):
    inputs: list[ColumnSpecIO]
    outputs: list[ColumnSpecIO]

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
        )


class AliasIn(ApiModel):
    version: int = Field(ge=1)


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
