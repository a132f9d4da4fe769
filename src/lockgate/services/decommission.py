"""Decommissioning use cases: retiring a version or a whole model through the same gates as a
promotion (a retirement request per environment the version is in; when the gates allow, it
leaves the environment and, out of the last one, is archived), and the artifact retention
pass that purges the bytes retired versions alone still hold once their retention is over.

Every unit of work writes its data first and appends its audit events last (the audit chain's
head lock is the last lock a governed transaction takes, as in the promotion service)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from lockgate.domain.access import Caller, Permission
from lockgate.domain.audit import JsonValue
from lockgate.domain.errors import ConflictError, GoneError, LockgateError, NotFoundError
from lockgate.domain.governance.promotions import (
    DecisionTrigger,
    GovernanceRules,
    PromotionRequest,
    PromotionRequestId,
    RequestKind,
    RequestStatus,
    check_reason,
)
from lockgate.domain.governance.retention import (
    PURGE_REASON,
    ArtifactPurge,
    PurgeCandidate,
    PurgeId,
    RetentionPlan,
    check_retention_days,
    plan_retention,
    retain_until,
)
from lockgate.domain.governance.retirement import (
    PendingModelRetirement,
    Retirement,
    RetirementStatus,
)
from lockgate.domain.identity import Actor
from lockgate.domain.pagination import Page, check_page_size
from lockgate.domain.registry import AliasMove, Archive, ModelVersion, RegisteredModel
from lockgate.services.context import ServiceContext
from lockgate.services.promotion_gates import (
    Evaluated,
    GateEvaluator,
    PromotionGates,
    policy_gates,
)
from lockgate.store.protocols import BlobStore, UnitOfWork

__all__ = [
    "RETENTION_PERMISSION",
    "DecommissionService",
    "ModelRetirement",
    "RetentionOutcome",
    "Retirement",
    "open_unless_purged",
]

# Retention deletes bytes across every project: only platform admins may run it. The admin
# command runs as the operator, who holds everything.
RETENTION_PERMISSION = Permission.RETENTION_APPLY
# A retention pass names at most this many versions in its summary event (each affected
# version gets its own event as well).
MAX_AUDITED_VERSIONS = 100
# Open requests of one version looked at when retiring it.
MAX_OPEN_REQUESTS = 1000
RETIRED_COMMENT = "the version was retired"
# Versions of a model read per query when retiring it.
VERSIONS_PAGE = 1000


@dataclass(frozen=True, slots=True)
class ModelRetirement:
    """What retiring a model did to each of its versions, and the model's archive (None
    while some version still waits for its retirement requests' approvals: the model is
    archived with its last live version)."""

    model_name: str
    versions: tuple[Retirement, ...]
    archive: Archive | None


@dataclass(frozen=True, slots=True)
class RetentionOutcome:
    """A retention pass: the plan it carried out, the purges it recorded, and the blobs whose
    deletion failed (digest and message), which the next pass retries."""

    plan: RetentionPlan
    purges: tuple[ArtifactPurge, ...]
    failed: tuple[tuple[str, str], ...] = ()

    @property
    def purged_bytes(self) -> int:
        return sum(purge.size for purge in self.purges)


@dataclass(frozen=True, slots=True)
class _Step:
    """The data a version's retirement wrote, and the requests whose audit events follow."""

    retirement: Retirement
    opened: tuple[Evaluated, ...] = ()


def open_unless_purged(context: ServiceContext, blobs: BlobStore, digest: str) -> Iterator[bytes]:
    """A blob's bytes; GoneError (naming when, why and for which versions) when retention
    purged them, NotFoundError when they are missing for another reason."""
    try:
        return blobs.open(digest)
    except NotFoundError:
        with context.uow(read_only=True) as uow:
            purge = uow.decommission.last_purge(digest)
        if purge is None:
            raise
    raise GoneError(
        f"blob {digest} was purged by artifact retention at {purge.purged_at.isoformat()} "
        f"(archived versions {', '.join(purge.versions)}); their metadata, audit trail and "
        "evidence remain",
        field="digest",
    )


class DecommissionService:
    """Retirement of versions and models, and artifact retention.

    Args:
        blobs: The artifact blob store whose bytes retention deletes.
        retention_days: How long an archived version's bytes are kept (the
            `artifact_retention_days` setting), fixed on each version when it is archived.
        rules: The promotion rules (approval lifetime) retirement requests follow.
        gates: Evaluates the gates of retirement requests (the policy engine by default).
    """

    def __init__(
        self,
        context: ServiceContext,
        blobs: BlobStore,
        retention_days: int,
        rules: GovernanceRules | None = None,
        gates: GateEvaluator = policy_gates,
    ) -> None:
        self._ctx = context
        self._blobs = blobs
        self._retention_days = check_retention_days(retention_days)
        self._gates = PromotionGates(context, rules or GovernanceRules(), gates, self)

    def retire_version(
        self, caller: Caller, model_name: str, version: int, reason: str
    ) -> Retirement:
        """Retire one version. In no environment, it is archived at once. Otherwise a
        retirement request is opened for each environment it is current in (or an open one
        reused), evaluated by the gates like a promotion (approvals per tier and
        environment); each allowed request takes it out of its environment, and out of the
        last one it is archived. Until then the retirement is `pending`: approve the requests
        with `lockgate promotions approve`.

        Archiving removes the version's other aliases, cancels its open requests (a
        promotion, or a retirement left open for an environment it has left meanwhile) and
        keeps its artifact bytes until `retain_until`; the version stays readable with its
        audit trail and evidence.

        Raises:
            InvalidInputError: No reason was given.
            NotFoundError: The model or version does not exist.
            ConflictError: The version is archived already.
        """
        check_reason(reason)
        with self._ctx.uow() as uow:
            model = self._model(uow, caller, model_name)
            found = uow.models.get_version(model.name, version)
            if found.archive is not None:
                raise ConflictError(f"{model.name}/{version} is archived already")
            step = self._retire(uow, caller, model, found, reason)
            self._record_step(uow, caller, step)
            uow.commit()
        return step.retirement

    def retire_model(self, caller: Caller, model_name: str, reason: str) -> ModelRetirement:
        """Retire a model: every version not archived yet is retired as `retire_version`
        does, and the model is archived with its last live version (at once when none waits
        for approvals). Calling it again while it is pending retires versions registered
        since and reuses the open requests.

        Raises:
            InvalidInputError: No reason was given.
            NotFoundError: The model does not exist.
            ConflictError: The model is archived already.
        """
        check_reason(reason)
        with self._ctx.uow() as uow:
            model = self._model(uow, caller, model_name)
            if model.archive is not None:
                raise ConflictError(f"model {model.name} is archived already")
            uow.decommission.lock_model(model.id)
            is_new = uow.decommission.model_retirement(model.id) is None
            if is_new:
                pending = PendingModelRetirement(
                    model.id, self._ctx.clock.now(), caller.actor, reason
                )
                uow.decommission.add_model_retirement(pending)
            steps = [
                _Step(
                    Retirement(model.name, v.version, RetirementStatus.ALREADY_ARCHIVED, v.archive)
                )
                if v.archive is not None
                else self._retire(uow, caller, model, v, reason)
                for v in _all_versions(uow, model)
            ]
            archive = next(
                (s.retirement.model_archive for s in steps if s.retirement.model_archive), None
            )
            archived_here = None
            if archive is None:
                archived_here = archive = self._archive_model_if_pending(uow, model)
            if is_new and archive is None:
                self._ctx.record(
                    uow,
                    "model.retirement_requested",
                    caller,
                    ("model", model.name),
                    {"reason": reason},
                )
            for step in steps:
                self._record_step(uow, caller, step)
            if archived_here is not None:
                self._record_model_archive(uow, caller.actor, model.name, archived_here)
            uow.commit()
        return ModelRetirement(model.name, tuple(s.retirement for s in steps), archive)

    # The retirement hook of promotion requests (services.promotion_gates.RetirementHook).

    def archive_if_retired(
        self, uow: UnitOfWork, actor: Actor, request: PromotionRequest
    ) -> Retirement | None:
        """Archive the version of an allowed retirement request once it is current in no
        environment (the request's reason, archived by its requester); None while it is
        still current somewhere."""
        uow.decommission.lock_model(request.model_id)
        held = [
            c
            for c in uow.environments.current_of_model(request.model_id)
            if c.version == request.version
        ]
        if held:
            return None
        # A version current in an environment until now is not archived: the archive takes
        # it out of every environment first (and refuses promotions afterwards).
        model = uow.models.get_model(request.model_name)
        version = uow.models.get_version(model.name, request.version)
        archived = self._archive(
            uow, request.requested_by, actor, model, version, request.reason, applying=request.id
        )
        return replace(archived, requests=(request.id,), environments=(request.environment,))

    def record_retirement(self, uow: UnitOfWork, actor: Actor, retirement: Retirement) -> None:
        """The audit events of an archive: removed aliases, cancelled promotion requests,
        `model_version.archived`, and `model.archived` when the model went with it."""
        archive = retirement.archive
        if archive is None:
            return
        for alias in retirement.removed_aliases:
            self._ctx.record(
                uow,
                "alias.deleted",
                actor,
                ("model", retirement.model_name),
                {"alias": alias, "version": None, "previous_version": retirement.version},
            )
        for request_id in retirement.cancelled_requests:
            self._ctx.record(
                uow,
                "promotion.cancelled",
                actor,
                ("model_version", retirement.ref),
                {"request_id": request_id, "comment": RETIRED_COMMENT},
            )
        self._ctx.record(
            uow,
            "model_version.archived",
            actor,
            ("model_version", retirement.ref),
            {
                "reason": archive.reason,
                "archived_by": archive.archived_by,
                "retain_until": archive.retain_until.isoformat(),
                "removed_aliases": list(retirement.removed_aliases),
                "retirement_requests": list(retirement.requests),
                "files": dict(retirement.files),
            },
        )
        if retirement.model_archive is not None:
            self._record_model_archive(uow, actor, retirement.model_name, retirement.model_archive)

    # Artifact retention.

    def plan_retention(self, caller: Caller) -> RetentionPlan:
        """What a retention pass would purge now, and which blobs of expired archived
        versions it keeps and why; changes nothing (the dry run)."""
        with self._ctx.uow(read_only=True) as uow:
            self._ctx.authorize(uow, caller, RETENTION_PERMISSION)
            now = self._ctx.clock.now()
            return plan_retention(uow.decommission.expired_blob_holds(now), now)

    def apply_retention(self, caller: Caller) -> RetentionOutcome:
        """Purge the bytes of every blob the retention rule releases, then record each purge
        with one `retention.applied` event (and one `model_version.artifacts_purged` per
        version that lost bytes) in one transaction.

        Bytes are deleted before the records are written: if recording fails, the next pass
        finds the same blobs unrecorded and records them (deleting is idempotent). A blob
        whose deletion fails is left out of the records and retried by the next pass.
        """
        plan = self.plan_retention(caller)
        deleted: list[PurgeCandidate] = []
        failed: list[tuple[str, str]] = []
        for candidate in plan.purge:
            try:
                self._blobs.delete(candidate.digest)
            except LockgateError as exc:  # one failed delete must not stop the pass
                failed.append((candidate.digest, exc.message))
            else:
                deleted.append(candidate)
        with self._ctx.uow() as uow:
            self._ctx.authorize(uow, caller, RETENTION_PERMISSION)
            now = self._ctx.clock.now()
            purges = tuple(
                ArtifactPurge(
                    PurgeId(self._ctx.ids.new_id()),
                    c.digest,
                    c.size,
                    now,
                    caller.actor,
                    PURGE_REASON,
                    c.versions,
                )
                for c in deleted
            )
            for purge in purges:
                uow.decommission.add_purge(purge)
            self._record_purges(uow, caller, plan, purges, failed)
            uow.commit()
        return RetentionOutcome(replace(plan, now=now), purges, tuple(failed))

    def list_purges(
        self, caller: Caller, page_size: int, cursor: str | None
    ) -> Page[ArtifactPurge]:
        """Every purge retention recorded, newest first (auditors may read them)."""
        check_page_size(page_size)
        with self._ctx.uow(read_only=True) as uow:
            self._ctx.authorize(uow, caller, Permission.AUDIT_READ)
            return uow.decommission.list_purges(page_size, cursor)

    def _retire(
        self,
        uow: UnitOfWork,
        caller: Caller,
        model: RegisteredModel,
        version: ModelVersion,
        reason: str,
    ) -> _Step:
        """Archive the version, or open (or find) its retirement requests; data only."""
        uow.decommission.lock_model(model.id)
        environments = tuple(
            c.environment
            for c in uow.environments.current_of_model(model.id)
            if c.version == version.version
        )
        if not environments:
            return _Step(self._archive(uow, caller.actor, caller.actor, model, version, reason))
        already = {
            r.environment: r.id
            for r in _open_requests(uow, model, version.version)
            if r.kind is RequestKind.RETIREMENT
        }
        opened: list[Evaluated] = []
        request_ids: list[str] = []
        for environment in environments:
            if environment in already:
                request_ids.append(already[environment])
                continue
            evaluated = self._open_request(uow, caller, model, version, environment, reason)
            opened.append(evaluated)
            request_ids.append(evaluated.request.id)
        retired = next((e.retired for e in opened if e.retired is not None), None)
        if retired is None:
            retirement = Retirement(
                model.name,
                version.version,
                RetirementStatus.PENDING,
                requests=tuple(request_ids),
                environments=environments,
            )
        else:
            retirement = replace(retired, requests=tuple(request_ids), environments=environments)
        return _Step(retirement, tuple(opened))

    def _open_request(
        self,
        uow: UnitOfWork,
        caller: Caller,
        model: RegisteredModel,
        version: ModelVersion,
        environment: str,
        reason: str,
    ) -> Evaluated:
        request = PromotionRequest(
            id=PromotionRequestId(self._ctx.ids.new_id()),
            project_id=model.project_id,
            model_id=model.id,
            model_name=model.name,
            version=version.version,
            environment=environment,
            kind=RequestKind.RETIREMENT,
            status=RequestStatus.OPEN,
            reason=reason,
            requested_by=caller.actor,
            requested_at=self._ctx.clock.now(),
        )
        uow.promotions.add_request(request)
        evaluated = self._gates.evaluate(uow, caller.actor, request, DecisionTrigger.OPENED)
        saved = replace(evaluated.request, row_version=request.row_version + 1)
        uow.promotions.save_request(saved)
        return replace(evaluated, request=saved)

    def _archive(
        self,
        uow: UnitOfWork,
        archived_by: Actor,
        actor: Actor,
        model: RegisteredModel,
        version: ModelVersion,
        reason: str,
        *,
        applying: str | None = None,
    ) -> Retirement:
        """Archive a version that is in no environment: its aliases are removed (each move in
        the alias history), its open requests cancelled (promotions, and retirements left
        open for environments it has left meanwhile; not `applying`, the request being
        applied now), the archive written, and the model archived too when a model
        retirement waits for this, its last live version. Data only: `record_retirement`
        appends the audit events."""
        now = self._ctx.clock.now()
        for alias in version.aliases:
            move = AliasMove(model.name, alias, None, version.version, now, actor)
            uow.models.move_alias(model.id, move)
        cancelled = []
        for request in _open_requests(uow, model, version.version):
            if request.id == applying:
                continue
            closed = request.close(
                RequestStatus.CANCELLED, at=now, by=actor, comment=RETIRED_COMMENT
            )
            uow.promotions.save_request(replace(closed, row_version=request.row_version + 1))
            cancelled.append(request.id)
        archive = Archive(now, archived_by, reason, retain_until(now, self._retention_days))
        uow.models.archive_version(model.id, version.version, archive)
        return Retirement(
            model.name,
            version.version,
            RetirementStatus.ARCHIVED,
            archive,
            removed_aliases=version.aliases,
            cancelled_requests=tuple(cancelled),
            model_archive=self._archive_model_if_pending(uow, model),
            files={f.path: f.digest for f in version.files},
        )

    def _archive_model_if_pending(self, uow: UnitOfWork, model: RegisteredModel) -> Archive | None:
        """Archive the model when its retirement is pending and no live version is left
        (archived by who asked for the model's retirement, for their reason)."""
        pending = uow.decommission.model_retirement(model.id)
        if pending is None or uow.models.list_versions(model.name, 1, None).items:
            return None
        now = self._ctx.clock.now()
        archive = Archive(
            now, pending.requested_by, pending.reason, retain_until(now, self._retention_days)
        )
        uow.models.archive_model(model.id, archive)
        uow.decommission.remove_model_retirement(model.id)
        return archive

    def _record_step(self, uow: UnitOfWork, caller: Caller, step: _Step) -> None:
        for evaluated in step.opened:
            request = evaluated.request
            self._ctx.record(
                uow,
                "promotion.requested",
                caller,
                ("model_version", request.subject),
                {
                    "request_id": request.id,
                    "environment": request.environment,
                    "kind": request.kind.value,
                    "reason": request.reason,
                },
            )
            self._gates.record(uow, evaluated)  # the archive's events, when it made one
        if not step.opened and step.retirement.status is RetirementStatus.ARCHIVED:
            self.record_retirement(uow, caller.actor, step.retirement)

    def _record_model_archive(
        self, uow: UnitOfWork, actor: Actor, model_name: str, archive: Archive
    ) -> None:
        self._ctx.record(
            uow,
            "model.archived",
            actor,
            ("model", model_name),
            {"reason": archive.reason, "archived_by": archive.archived_by},
        )

    def _record_purges(
        self,
        uow: UnitOfWork,
        caller: Caller,
        plan: RetentionPlan,
        purges: Sequence[ArtifactPurge],
        failed: Sequence[tuple[str, str]],
    ) -> None:
        by_version: dict[str, list[str]] = {}
        for purge in purges:
            for ref in purge.versions:
                by_version.setdefault(ref, []).append(purge.digest)
        for ref, digests in sorted(by_version.items()):
            self._ctx.record(
                uow,
                "model_version.artifacts_purged",
                caller,
                ("model_version", ref),
                {"digests": list(digests), "reason": PURGE_REASON},
            )
        details: dict[str, JsonValue] = {
            "purged_blobs": len(purges),
            "purged_bytes": sum(p.size for p in purges),
            "kept_blobs": len(plan.kept),
            "failed_blobs": len(failed),
            "versions": sorted(by_version)[:MAX_AUDITED_VERSIONS],
            "version_count": len(by_version),
        }
        self._ctx.record(uow, "retention.applied", caller, ("retention", "artifacts"), details)

    def _model(self, uow: UnitOfWork, caller: Caller, name: str) -> RegisteredModel:
        return self._ctx.authorized_model(uow, caller, name, Permission.PROMOTION_REQUEST)


def _open_requests(uow: UnitOfWork, model: RegisteredModel, version: int) -> list[PromotionRequest]:
    return list(
        uow.promotions.list_requests(
            model_id=model.id,
            version=version,
            status=RequestStatus.OPEN,
            page_size=MAX_OPEN_REQUESTS,
            cursor=None,
        ).items
    )


def _all_versions(uow: UnitOfWork, model: RegisteredModel) -> list[ModelVersion]:
    versions: list[ModelVersion] = []
    cursor: str | None = None
    while True:
        page = uow.models.list_versions(model.name, VERSIONS_PAGE, cursor, include_archived=True)
        versions += page.items
        if page.next_cursor is None:
            return versions
        cursor = page.next_cursor
