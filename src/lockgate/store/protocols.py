"""The ports: what the services need from storage, implemented by store adapters.

A `UnitOfWork` is one transaction over the metadata store; its repositories see and change
data only inside it, and nothing is visible to others until `commit()`. A `BlobStore` holds
artifact bytes by sha256 digest, outside any transaction (bytes are written first; a blob no
row points at is harmless and collectable).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from types import TracebackType
from typing import Protocol

from lockgate.domain.access import Grant, PlatformRole, PrincipalKind, ProjectFilter, Role
from lockgate.domain.artifacts import BlobRef, RunArtifact
from lockgate.domain.audit import AuditDraft, AuditEvent, ChainHead, StoredEvent
from lockgate.domain.evaluation import Comparison as EvaluationComparison
from lockgate.domain.evaluation import ComparisonId, Evaluation, EvaluationId
from lockgate.domain.packaging import Manifest, PackageSignature
from lockgate.domain.pagination import Page
from lockgate.domain.principals import ApiToken, LoginSession, Principal, PrincipalRef
from lockgate.domain.registry import AliasMove, ModelId, ModelVersion, RegisteredModel
from lockgate.domain.tracking import (
    Comparison,
    DatasetInput,
    Metric,
    OrderBy,
    Project,
    ProjectId,
    Run,
    RunDetail,
    RunId,
    RunStatus,
)

__all__ = [
    "ArtifactIndex",
    "AuditLog",
    "BlobStore",
    "CredentialRepository",
    "EvaluationRepository",
    "GrantRepository",
    "ModelRepository",
    "PackageRepository",
    "PrincipalRepository",
    "ProjectRepository",
    "RunRepository",
    "UnitOfWork",
    "UnitOfWorkFactory",
]


class ProjectRepository(Protocol):
    """Projects by name."""

    def add(self, project: Project) -> None:
        """Insert; raises AlreadyExistsError when the name is taken."""

    def get_by_name(self, name: str) -> Project:
        """Raises NotFoundError."""

    def get(self, project_id: ProjectId) -> Project:
        """Raises NotFoundError."""

    def list_page(
        self, page_size: int, cursor: str | None, visible: ProjectFilter | None = None
    ) -> Page[Project]:
        """Projects ordered by name, only those `visible` lets through (all when None)."""


class RunRepository(Protocol):
    """Runs and what they record."""

    def add(self, run: Run, tags: dict[str, str]) -> None:
        """Insert a new run with its first tags."""

    def get(self, run_id: RunId) -> Run:
        """Raises NotFoundError."""

    def save_status(self, run: Run, *, expected: RunStatus) -> None:
        """Store the run's new status and end time if it still has `expected` status;
        raises ConflictError otherwise (another writer got there first)."""

    def add_params(self, run: Run, params: dict[str, str]) -> None:
        """Params are write-once: an existing key with another value raises ConflictError,
        and the same value again is a no-op."""

    def add_metrics(self, run: Run, metrics: Sequence[Metric]) -> None:
        """Append metric points and keep each key's latest value (highest step, then time)."""

    def set_tags(self, run: Run, tags: dict[str, str]) -> None:
        """Insert or overwrite tags."""

    def add_input(self, run: Run, dataset: DatasetInput) -> None:
        """Record that the run read this dataset version (idempotent)."""

    def detail(self, run_id: RunId) -> RunDetail:
        """The run with its params, latest metrics, tags and inputs; raises NotFoundError."""

    def metric_history(
        self, run_id: RunId, key: str, page_size: int, cursor: str | None
    ) -> Page[Metric]:
        """Points of one metric ordered by step, then timestamp, then insertion."""

    def search(
        self,
        project_id: ProjectId,
        filters: Sequence[Comparison],
        order: OrderBy,
        page_size: int,
        cursor: str | None,
    ) -> Page[RunDetail]:
        """Runs of a project matching every filter, in order, keyset-paginated."""


class ModelRepository(Protocol):
    """Registered models, versions and alias history."""

    def add_model(self, model: RegisteredModel) -> None:
        """Insert; raises AlreadyExistsError when the name is taken."""

    def get_model(self, name: str) -> RegisteredModel:
        """Raises NotFoundError."""

    def list_models(
        self,
        project_id: ProjectId | None,
        page_size: int,
        cursor: str | None,
        visible: ProjectFilter | None = None,
    ) -> Page[RegisteredModel]:
        """Models ordered by name, optionally of one project, only in projects `visible`
        lets through (all when None)."""

    def allocate_version(self, model_id: ModelId) -> int:
        """The next version number, atomically: concurrent callers never get the same one."""

    def add_version(self, version: ModelVersion) -> None:
        """Insert an immutable version with its files."""

    def get_version(self, model_name: str, version: int) -> ModelVersion:
        """Raises NotFoundError."""

    def latest_version(self, model_name: str) -> ModelVersion:
        """The highest-numbered version; raises NotFoundError when there is none."""

    def list_versions(
        self, model_name: str, page_size: int, cursor: str | None
    ) -> Page[ModelVersion]:
        """Versions, newest first."""

    def current_alias(self, model_id: ModelId, alias: str) -> int | None:
        """The version an alias points to now, or None."""

    def move_alias(self, model_id: ModelId, move: AliasMove) -> None:
        """Point (or remove, when move.version is None) an alias and append the move to its
        history."""

    def alias_at(self, model_id: ModelId, alias: str, at: datetime) -> int | None:
        """The version the alias pointed to at a moment, or None."""

    def alias_history(self, model_id: ModelId, alias: str | None) -> list[AliasMove]:
        """Every move of one alias (or of all aliases), oldest first."""


class ArtifactIndex(Protocol):
    """Which run file points at which blob."""

    def add_run_artifact(self, artifact: RunArtifact) -> bool:
        """Record a file; False when the same path already holds the same digest, and
        ConflictError when it holds another (run files are write-once)."""

    def get_run_artifact(self, run_id: RunId, path: str) -> RunArtifact:
        """Raises NotFoundError."""

    def list_run_artifacts(self, run_id: RunId, prefix: str | None) -> list[RunArtifact]:
        """Files of a run ordered by path, optionally below a directory prefix."""


class AuditLog(Protocol):
    """The append-only, hash-chained audit log."""

    def append(self, draft: AuditDraft, *, event_id: str, at: datetime) -> AuditEvent:
        """Seal the draft after the current head and store it; appends are serialized so
        the chain never forks."""

    def list_events(
        self,
        after_seq: int,
        limit: int,
        subject_type: str | None = None,
        subject_id: str | None = None,
    ) -> list[AuditEvent]:
        """Events with seq > after_seq in order, optionally about one subject."""

    def stored_events(self) -> Iterator[StoredEvent]:
        """Every event exactly as stored, in sequence order (for verification)."""

    def head(self) -> ChainHead:
        """The stored chain head."""


class PrincipalRepository(Protocol):
    """Users, teams and service accounts, and who is in which team."""

    def add(self, principal: Principal, password_hash: str | None) -> None:
        """Insert; raises AlreadyExistsError when kind and name are taken."""

    def get(self, principal_id: str) -> Principal:
        """Raises NotFoundError."""

    def get_by_ref(self, ref: PrincipalRef) -> Principal:
        """Raises NotFoundError."""

    def password_hash(self, principal_id: str) -> str | None:
        """The stored password hash, if the principal has a password."""

    def set_password_hash(self, principal_id: str, password_hash: str | None) -> None: ...

    def set_platform_role(self, principal_id: str, role: PlatformRole | None) -> None: ...

    def set_disabled(self, principal_id: str, disabled: bool) -> None: ...

    def count_platform_admins(self) -> int:
        """Enabled principals holding the platform admin role."""

    def list_page(
        self, kind: PrincipalKind | None, page_size: int, cursor: str | None
    ) -> Page[Principal]:
        """Principals ordered by kind, then name."""

    def add_member(self, team_id: str, member_id: str) -> bool:
        """Add to a team; False when already a member."""

    def remove_member(self, team_id: str, member_id: str) -> bool:
        """Remove from a team; False when not a member."""

    def teams_of(self, principal_id: str) -> list[str]:
        """Ids of the enabled teams the principal belongs to."""

    def members_of(self, team_id: str) -> list[Principal]: ...


class GrantRepository(Protocol):
    """Project roles held by principals."""

    def add(self, grant: Grant) -> bool:
        """Grant; False when the principal already holds the role there."""

    def remove(self, project_id: str, principal_id: str, role: Role) -> bool:
        """Revoke; False when there was no such grant."""

    def roles(self, project_id: str, grantees: Sequence[str]) -> frozenset[Role]:
        """The roles any of `grantees` holds on a project."""

    def list_for_project(self, project_id: str) -> list[Grant]: ...


class CredentialRepository(Protocol):
    """API tokens, login sessions and failed logins, by digest (never by secret)."""

    def add_token(self, token: ApiToken) -> None: ...

    def token_by_digest(self, digest: str) -> ApiToken | None: ...

    def get_token(self, token_id: str) -> ApiToken:
        """Raises NotFoundError."""

    def list_tokens(self, principal_id: str) -> list[ApiToken]: ...

    def revoke_token(self, token_id: str, at: datetime) -> bool:
        """False when it was revoked already."""

    def add_session(self, session: LoginSession) -> None: ...

    def session_by_digest(self, digest: str) -> LoginSession | None: ...

    def revoke_sessions(
        self, at: datetime, *, digest: str | None = None, principal_id: str | None = None
    ) -> int:
        """End one session or all of a principal's; how many ended."""

    def add_login_failure(self, username: str, at: datetime) -> None: ...

    def login_failures_since(self, username: str, since: datetime) -> list[datetime]:
        """Failure times after `since`, oldest first."""

    def forget_login_failures(self, username: str, *, before: datetime | None = None) -> None:
        """Drop a name's failures, or only those at or before `before`."""


class PackageRepository(Protocol):
    """The signed manifest of each model version."""

    def add(self, model_id: ModelId, manifest: Manifest, signature: PackageSignature) -> None:
        """Store a new version's manifest (once; versions are immutable)."""

    def get(self, model_id: ModelId, version: int) -> tuple[Manifest, PackageSignature] | None:
        """The manifest and its signature, or None for a version registered before
        manifests existed."""


class EvaluationRepository(Protocol):
    """Evaluations of model versions and comparisons between two of them; both are
    immutable once recorded."""

    def add_evaluation(self, evaluation: Evaluation) -> None:
        """Insert; NotFoundError when its model version does not exist."""

    def get_evaluation(self, evaluation_id: EvaluationId) -> Evaluation:
        """Raises NotFoundError."""

    def list_evaluations(
        self, model_id: ModelId, version: int | None, page_size: int, cursor: str | None
    ) -> Page[Evaluation]:
        """Evaluations of a model (of one version, when given), newest first."""

    def add_comparison(self, comparison: EvaluationComparison) -> None:
        """Insert; its candidate and baseline evaluations must be stored already."""

    def get_comparison(self, comparison_id: ComparisonId) -> EvaluationComparison:
        """Raises NotFoundError."""

    def list_comparisons(
        self,
        model_id: ModelId,
        candidate_version: int | None,
        page_size: int,
        cursor: str | None,
    ) -> Page[EvaluationComparison]:
        """Comparisons of a model (with one candidate version, when given), newest first."""


class UnitOfWork(Protocol):
    """One metadata transaction and its repositories. Leaving the block without commit()
    rolls back."""

    projects: ProjectRepository
    runs: RunRepository
    models: ModelRepository
    artifacts: ArtifactIndex
    audit: AuditLog
    principals: PrincipalRepository
    grants: GrantRepository
    credentials: CredentialRepository
    packages: PackageRepository
    evaluations: EvaluationRepository

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None:
        """Make every change of this unit durable and visible, atomically. It ends the
        unit: use no repository after it."""


class UnitOfWorkFactory(Protocol):
    """Makes units of work; a read-only one sees a consistent snapshot and writes nothing."""

    def __call__(self, *, read_only: bool = False) -> UnitOfWork: ...


class BlobStore(Protocol):
    """Content-addressed bytes. The store alone chooses where bytes live: callers name blobs
    by digest only."""

    def put(self, chunks: Iterable[bytes], *, max_bytes: int) -> BlobRef:
        """Stream bytes in, hashing as they come; the blob becomes visible whole or not at
        all. Raises PayloadTooLargeError past max_bytes (and keeps nothing)."""

    def open(self, digest: str) -> Iterator[bytes]:
        """Stream a blob's bytes out in chunks; raises NotFoundError."""

    def exists(self, digest: str) -> bool:
        """Whether the blob is stored."""

    def size(self, digest: str) -> int:
        """The blob's size in bytes; raises NotFoundError."""
