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
from lockgate.domain.governance.cards import NarrativeSection
from lockgate.domain.governance.environments import (
    CurrentVersion,
    Environment,
    EnvironmentChange,
)
from lockgate.domain.governance.exceptions import GateException, GateExceptionId
from lockgate.domain.governance.lineage import (
    MAX_NODES,
    LineageDirection,
    LineageEdge,
    LineageGraph,
    LineageNode,
)
from lockgate.domain.governance.policies import PolicyStatus, ProjectPolicy
from lockgate.domain.governance.promotions import (
    Approval,
    GateDecision,
    ModelGovernance,
    PromotionRequest,
    PromotionRequestId,
    RequestStatus,
)
from lockgate.domain.governance.retention import ArtifactPurge, BlobHolds
from lockgate.domain.governance.retirement import PendingModelRetirement
from lockgate.domain.packaging import Manifest, PackageSignature
from lockgate.domain.pagination import Page
from lockgate.domain.principals import ApiToken, LoginSession, Principal, PrincipalRef
from lockgate.domain.registry import AliasMove, Archive, ModelId, ModelVersion, RegisteredModel
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
    RunJson,
    RunStatus,
)

__all__ = [
    "ArtifactIndex",
    "AuditLog",
    "BlobStore",
    "CredentialRepository",
    "DecommissionRepository",
    "EnvironmentRepository",
    "EvaluationRepository",
    "GrantRepository",
    "LineageRepository",
    "ModelCardRepository",
    "ModelRepository",
    "PackageRepository",
    "PolicyRepository",
    "PrincipalRepository",
    "ProjectRepository",
    "PromotionRepository",
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

    def search_json(
        self,
        project: Project,
        filters: Sequence[Comparison],
        order: OrderBy,
        page_size: int,
        cursor: str | None,
    ) -> Page[RunJson]:
        """The same page as `search`, each run rendered as JSON text in the REST API's
        shape (for pages served as they are)."""


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
        *,
        include_archived: bool = False,
    ) -> Page[RegisteredModel]:
        """Models ordered by name, optionally of one project, only in projects `visible`
        lets through (all when None); archived models only when `include_archived`."""

    def allocate_version(self, model_id: ModelId) -> int:
        """The next version number, atomically: concurrent callers never get the same one."""

    def add_version(self, version: ModelVersion) -> None:
        """Insert an immutable version with its files."""

    def get_version(self, model_name: str, version: int) -> ModelVersion:
        """Raises NotFoundError."""

    def latest_version(self, model_name: str) -> ModelVersion:
        """The highest-numbered version that is not archived; raises NotFoundError when
        there is none."""

    def list_versions(
        self,
        model_name: str,
        page_size: int,
        cursor: str | None,
        *,
        include_archived: bool = False,
    ) -> Page[ModelVersion]:
        """Versions, newest first; archived ones only when `include_archived`."""

    def archive_model(self, model_id: ModelId, archive: Archive) -> None:
        """Mark a model retired (once: ConflictError when it is archived already)."""

    def archive_version(self, model_id: ModelId, version: int, archive: Archive) -> None:
        """Mark a version retired (once: ConflictError when it is archived already)."""

    def current_alias(self, model_id: ModelId, alias: str) -> int | None:
        """The version an alias points to now, or None."""

    def move_alias(self, model_id: ModelId, move: AliasMove) -> None:
        """Point (or remove, when move.version is None) an alias and append the move to its
        history."""

    def alias_at(self, model_id: ModelId, alias: str, at: datetime) -> int | None:
        """The version the alias pointed to at a moment, or None."""

    def alias_history(self, model_id: ModelId, alias: str | None) -> list[AliasMove]:
        """Every move of one alias (or of all aliases), oldest first."""


class DecommissionRepository(Protocol):
    """Model retirements waiting for their versions, who holds the blobs of retired
    versions, and the record of every purge."""

    def add_model_retirement(self, pending: PendingModelRetirement) -> None:
        """Record that a model is to be archived once its last live version is."""

    def model_retirement(self, model_id: ModelId) -> PendingModelRetirement | None:
        """The model's pending retirement, or None."""

    def remove_model_retirement(self, model_id: ModelId) -> None:
        """Forget a model's pending retirement (it is archived now)."""

    def lock_model(self, model_id: ModelId) -> None:
        """Hold the model's row until the transaction ends, so concurrent retirements of its
        versions run one after the other and each sees what the other did."""

    def expired_blob_holds(self, now: datetime) -> list[BlobHolds]:
        """Every holder (versions, run files) of each blob that some version archived with
        `retain_until` at or before `now` holds, and when each blob was last purged."""

    def add_purge(self, purge: ArtifactPurge) -> None:
        """Record that a blob's bytes were deleted (append-only)."""

    def last_purge(self, digest: str) -> ArtifactPurge | None:
        """The latest purge of a blob, or None when it was never purged."""

    def list_purges(self, page_size: int, cursor: str | None) -> Page[ArtifactPurge]:
        """Purges, newest first."""


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

    def append(self, draft: AuditDraft, *, event_id: str, at: datetime) -> None:
        """Seal the draft after the current head and store it, in the unit's transaction;
        appends are serialized so the chain never forks. A store may seal the event in the
        database, so its seq and hash are known once the unit commits (`list_events` reads
        them back), and a failure may surface only then, failing the commit."""

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

    def stored_range(self, first_seq: int, last_seq: int) -> Iterator[StoredEvent]:
        """The events first_seq..last_seq (both included) exactly as stored, in sequence
        order (an evidence bundle's audit segment)."""

    def seqs_about(self, subjects: Iterable[tuple[str, str]], *, through_seq: int) -> list[int]:
        """The sequence numbers, ascending and at most `through_seq`, of the events whose
        (subject_type, subject_id) is one of `subjects`."""

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


class EnvironmentRepository(Protocol):
    """Environments, the version of each model current in each, the append-only history of
    every change, and each model's governance settings (risk tier, monitor)."""

    def add_environment(self, environment: Environment) -> None:
        """Insert; AlreadyExistsError when the name or the order is taken."""

    def get_environment(self, name: str) -> Environment:
        """Raises NotFoundError."""

    def list_environments(self) -> list[Environment]:
        """Every environment by order."""

    def count_alias_holders(self, alias: str) -> int:
        """How many models have an alias of this name now."""

    def current(self, model_id: ModelId, environment: str) -> CurrentVersion | None:
        """The version of a model current in an environment, or None."""

    def current_of_model(self, model_id: ModelId) -> list[CurrentVersion]:
        """Where each version of a model is current, by environment name."""

    def move_current(self, change: EnvironmentChange, *, expected_row_version: int | None) -> None:
        """Make `change.version` current (or nothing, when None) and append `change` to the
        history, if the current row is still at `expected_row_version` (None: no row);
        ConflictError otherwise (another promotion moved it first)."""

    def history(
        self, model_id: ModelId, environment: str | None = None, version: int | None = None
    ) -> list[EnvironmentChange]:
        """Changes of a model (in one environment, of one version), oldest first."""

    def change_at(
        self, model_id: ModelId, environment: str, at: datetime
    ) -> EnvironmentChange | None:
        """The last change at or before `at`: what was current then (None: nothing ever)."""

    def get_governance(self, model_id: ModelId) -> ModelGovernance | None:
        """The model's tier and monitor, or None when never set."""

    def save_governance(self, governance: ModelGovernance) -> None:
        """Store tier and monitor if the stored row is at `governance.row_version - 1` (0: no
        row yet); ConflictError otherwise."""


class PromotionRepository(Protocol):
    """Promotion requests, their approvals and gate decisions, and gate exceptions."""

    def add_request(self, request: PromotionRequest) -> None:
        """Insert; ConflictError when an open request for the same version, environment and
        kind exists."""

    def get_request(
        self, request_id: PromotionRequestId, *, for_update: bool = False
    ) -> PromotionRequest:
        """Raises NotFoundError. `for_update` locks the row until the transaction ends."""

    def save_request(self, request: PromotionRequest) -> None:
        """Store the request if the stored row is at `request.row_version - 1`; ConflictError
        otherwise (another writer changed it first)."""

    def list_requests(
        self,
        *,
        model_id: ModelId | None,
        version: int | None,
        status: RequestStatus | None,
        page_size: int,
        cursor: str | None,
        visible: ProjectFilter | None = None,
    ) -> Page[PromotionRequest]:
        """Requests newest first, filtered, only in projects `visible` lets through."""

    def put_approval(self, approval: Approval) -> None:
        """Insert an approval, or renew the reviewer's earlier one on the same request."""

    def approvals(self, request_id: PromotionRequestId) -> list[Approval]:
        """Approvals of a request, oldest first."""

    def add_decision(self, decision: GateDecision) -> None:
        """Insert a gate decision (immutable)."""

    def decisions(
        self,
        *,
        request_id: PromotionRequestId | None = None,
        model_id: ModelId | None = None,
        version: int | None = None,
        decision_id: str | None = None,
    ) -> list[GateDecision]:
        """Gate decisions matching every filter given, oldest first."""

    def add_exception(self, exception: GateException) -> None:
        """Insert a gate exception."""

    def get_exception(
        self, exception_id: GateExceptionId, *, for_update: bool = False
    ) -> GateException:
        """Raises NotFoundError. `for_update` locks the row until the transaction ends."""

    def save_exception(self, exception: GateException) -> None:
        """Store the exception if the stored row is at `exception.row_version - 1`;
        ConflictError otherwise."""

    def exceptions(
        self, model_id: ModelId, version: int | None = None, environment: str | None = None
    ) -> list[GateException]:
        """Exceptions of a model (of one version, in one environment), oldest first."""


class ModelCardRepository(Protocol):
    """The narrative sections of model cards, per model version and section."""

    def sections(self, model_id: ModelId, version: int) -> dict[str, NarrativeSection]:
        """The sections of one version's card that were ever written, by name."""

    def save_section(self, model_id: ModelId, version: int, section: NarrativeSection) -> None:
        """Store an edited section (its row_version one more than the stored one's, 1 for a
        first edit); raises ConflictError (field `row_version`) when the stored section is
        not at `section.row_version - 1` any more, NotFoundError when the version does not
        exist."""


class LineageRepository(Protocol):
    """The lineage graph's edges (lockgate.domain.governance.lineage), recorded in the same
    unit of work as the objects they link."""

    def add_edge(self, edge: LineageEdge) -> bool:
        """Record an edge; recording the same (source, target, relation) again is a no-op
        that returns False.

        Example (a promotion, in the unit of work that moves the version):
            uow.lineage.add_edge(LineageEdge(
                LineageNode.model_version(model.id, version), LineageNode.promotion(request.id),
                LineageRelation.PROMOTED, now, model.project_id))
        """

    def dataset_versions(self, project_id: str, name: str) -> list[LineageNode]:
        """The nodes of every version of a project's dataset that lineage recorded (read by
        a run or evaluated on), ordered by fingerprint."""

    def walk(
        self,
        starts: Sequence[LineageNode],
        direction: LineageDirection,
        *,
        project_id: str,
        max_depth: int,
        max_nodes: int = MAX_NODES,
    ) -> LineageGraph:
        """The graph reached from `starts` by following edges of one project upstream (to
        sources), downstream (to targets) or both, at most `max_depth` edges away and at
        most `max_nodes` nodes (then `truncated`); every node with its label and times."""


class PolicyRepository(Protocol):
    """The versions of each project policy. A version's source never changes; its status
    does, checked against its `row_version`, and one version per name is active at most."""

    def add_policy(self, policy: ProjectPolicy) -> None:
        """Insert; ConflictError when that version of the name exists (a concurrent
        proposal took it)."""

    def get_policy(
        self, project_id: ProjectId, name: str, version: int, *, for_update: bool = False
    ) -> ProjectPolicy:
        """Raises NotFoundError."""

    def latest_version(self, project_id: ProjectId, name: str) -> int:
        """The highest version of the name (0 when it has none)."""

    def active_policies(self, project_id: ProjectId) -> list[ProjectPolicy]:
        """The active version of each of the project's policies, by name."""

    def list_policies(
        self,
        project_id: ProjectId,
        name: str | None,
        status: PolicyStatus | None,
        page_size: int,
        cursor: str | None,
    ) -> Page[ProjectPolicy]:
        """Versions by name, newest version first; of one name or status when given."""

    def save_policy(self, policy: ProjectPolicy) -> None:
        """Store a new status (its `row_version` one more than the stored one); ConflictError
        when the stored row moved on or another version of the name is active."""


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
    model_cards: ModelCardRepository
    environments: EnvironmentRepository
    promotions: PromotionRepository
    decommission: DecommissionRepository
    lineage: LineageRepository
    policies: PolicyRepository

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

    def delete(self, digest: str) -> None:
        """Remove a blob's bytes for good (artifact retention); durable when it returns.
        Deleting a blob that is not stored does nothing."""
