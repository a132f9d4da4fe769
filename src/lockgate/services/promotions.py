"""Promotion use cases: requesting that a version enter an environment, approving (with
separation of duties), rejecting, cancelling and re-checking requests, and reading them with
their gate decisions. A request promotes itself the moment a decision allows it.

Every governed action commits only together with its audit events (fail closed), and every
write to a request is a compare-and-set on its row version, taken under a row lock
(SELECT ... FOR UPDATE on PostgreSQL; SQLite writers are serialized), so concurrent
approvals or promotions end in one consistent outcome.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from lockgate.domain.access import Caller, Permission
from lockgate.domain.errors import ConflictError
from lockgate.domain.governance.environments import EnvironmentChange
from lockgate.domain.governance.exceptions import GateException
from lockgate.domain.governance.promotions import (
    Approval,
    DecisionTrigger,
    GateDecision,
    GovernanceRules,
    PromotionDetail,
    PromotionRequest,
    PromotionRequestId,
    RequestKind,
    RequestStatus,
    check_comment,
    check_reason,
)
from lockgate.domain.identity import check_id
from lockgate.domain.names import check_alias
from lockgate.domain.pagination import Page, check_page_size
from lockgate.domain.registry import ModelVersion, RegisteredModel
from lockgate.services.access import AccessDenied
from lockgate.services.context import ServiceContext
from lockgate.services.promotion_gates import (
    Evaluated,
    GateEvaluator,
    PromotionGates,
    RetirementHook,
    authors_of,
    policy_gates,
)
from lockgate.store.protocols import UnitOfWork

__all__ = ["PromotionService", "VersionGovernance", "version_governance"]

MAX_VERSION_REQUESTS = 1000


@dataclass(frozen=True, slots=True)
class VersionGovernance:
    """Everything governance recorded about one version, oldest first: its promotion
    requests with their approvals, every gate decision with its input document, its gate
    exceptions, the environment changes it took part in, and where it is current now."""

    model_name: str
    version: int
    requests: tuple[PromotionRequest, ...]
    approvals: tuple[Approval, ...]
    decisions: tuple[GateDecision, ...]
    exceptions: tuple[GateException, ...]
    changes: tuple[EnvironmentChange, ...]
    current_in: tuple[str, ...]


def version_governance(uow: UnitOfWork, model: RegisteredModel, version: int) -> VersionGovernance:
    """The governance record of a version, read in the caller's unit of work (no
    authorization: the caller's service has checked it). For evidence bundles.

    Raises:
        NotFoundError: The version does not exist.
    """
    uow.models.get_version(model.name, version)
    requests = list(
        uow.promotions.list_requests(
            model_id=model.id,
            version=version,
            status=None,
            page_size=MAX_VERSION_REQUESTS,
            cursor=None,
        ).items
    )
    requests.reverse()
    approvals = [a for r in requests for a in uow.promotions.approvals(r.id)]
    changes = [
        c for c in uow.environments.history(model.id) if version in {c.version, c.previous_version}
    ]
    current = uow.environments.current_of_model(model.id)
    return VersionGovernance(
        model_name=model.name,
        version=version,
        requests=tuple(requests),
        approvals=tuple(approvals),
        decisions=tuple(uow.promotions.decisions(model_id=model.id, version=version)),
        exceptions=tuple(uow.promotions.exceptions(model.id, version)),
        changes=tuple(changes),
        current_in=tuple(c.environment for c in current if c.version == version),
    )


class PromotionService:
    """Promotion requests, approvals and gate decisions.

    Args:
        rules: How long approvals count (and how far ahead exceptions may expire).
        gates: Evaluates a project's gates for a tier over an input document; by default the
            policy engine (built-in bundle plus the project's active policies).
        retirement: Archives a version when an allowed retirement request moved it out of
            its last environment (the decommissioning service).
    """

    def __init__(
        self,
        context: ServiceContext,
        rules: GovernanceRules | None = None,
        gates: GateEvaluator = policy_gates,
        retirement: RetirementHook | None = None,
    ) -> None:
        self._ctx = context
        self._rules = rules or GovernanceRules()
        self._gates = PromotionGates(context, self._rules, gates, retirement)

    def request_promotion(
        self, caller: Caller, model_name: str, version: int, environment: str, reason: str
    ) -> PromotionDetail:
        """Ask for version `version` of a model to enter `environment`. The request is
        evaluated at once and promotes itself when the gates allow (a tier that needs no
        approval there, say); otherwise it stays open for approvals.

        Raises:
            InvalidInputError: A bad environment name or a blank reason (`field` says which).
            NotFoundError: The model, version or environment does not exist.
            ConflictError: The version is current there already, an open request for it
                exists, or it is retired (archived).
        """
        check_alias(environment, field="environment")
        check_reason(reason)
        with self._ctx.uow() as uow:
            model = self._ctx.authorized_model(
                uow, caller, model_name, Permission.PROMOTION_REQUEST
            )
            if uow.models.get_version(model.name, version).archive is not None:
                raise ConflictError(f"{model.name}/{version} is retired; it cannot be promoted")
            uow.environments.get_environment(environment)
            current = uow.environments.current(model.id, environment)
            if current is not None and current.version == version:
                raise ConflictError(f"{model.name}/{version} is current in {environment} already")
            request = PromotionRequest(
                id=PromotionRequestId(self._ctx.ids.new_id()),
                project_id=model.project_id,
                model_id=model.id,
                model_name=model.name,
                version=version,
                environment=environment,
                kind=RequestKind.PROMOTION,
                status=RequestStatus.OPEN,
                reason=reason,
                requested_by=caller.actor,
                requested_at=self._ctx.clock.now(),
            )
            uow.promotions.add_request(request)
            evaluated = self._gates.evaluate(uow, caller.actor, request, DecisionTrigger.OPENED)
            saved = self._save(uow, request, evaluated)
            self._ctx.record(
                uow,
                "promotion.requested",
                caller,
                ("model_version", request.subject),
                {
                    "request_id": request.id,
                    "environment": environment,
                    "kind": request.kind.value,
                    "reason": reason,
                },
            )
            self._gates.record(uow, evaluated)
            detail = self._detail(uow, saved, evaluated.decision)
            uow.commit()
        return detail

    def approve(self, caller: Caller, request_id: str, comment: str = "") -> PromotionDetail:
        """Approve an open request, then evaluate it (it promotes itself when that allows).

        The requester and the version's authors (who registered it, who ran its training
        run) may not approve it; an approval counts for `approval_ttl` and a reviewer's
        expired approval is renewed by approving again.

        Raises:
            PermissionDeniedError: The caller lacks `version.approve`, asked for the
                promotion, or authored the version.
            ConflictError: The request is not open, or the caller's approval still counts.
        """
        check_id(request_id, field="request_id")
        check_comment(comment, required=False)
        with self._ctx.uow() as uow:
            request = self._request(uow, caller, request_id, Permission.VERSION_APPROVE)
            request.require_open()
            version = uow.models.get_version(request.model_name, request.version)
            self._refuse_conflict_of_interest(uow, caller, request, version)
            now = self._ctx.clock.now()
            held = [a for a in uow.promotions.approvals(request.id) if a.reviewer == caller.actor]
            if held and held[0].is_valid_at(now):
                raise ConflictError(
                    f"{caller.actor} approved request {request.id} already; the approval "
                    f"counts until {held[0].expires_at.isoformat()}"
                )
            approval = Approval(
                self._ctx.ids.new_id(),
                request.id,
                caller.actor,
                now,
                now + self._rules.approval_ttl,
                comment,
            )
            uow.promotions.put_approval(approval)
            evaluated = self._gates.evaluate(uow, caller.actor, request, DecisionTrigger.APPROVED)
            saved = self._save(uow, request, evaluated)
            self._ctx.record(
                uow,
                "promotion.approved",
                caller,
                ("model_version", request.subject),
                {
                    "request_id": request.id,
                    "approval_id": approval.id,
                    "environment": request.environment,
                    "expires_at": approval.expires_at.isoformat(),
                    "comment": comment,
                },
            )
            self._gates.record(uow, evaluated)
            detail = self._detail(uow, saved, evaluated.decision)
            uow.commit()
        return detail

    def reject(self, caller: Caller, request_id: str, comment: str) -> PromotionDetail:
        """Reject an open request with a comment saying why; the request ends.

        Raises:
            InvalidInputError: The comment is blank (`field` is `comment`).
            ConflictError: The request is not open.
        """
        check_id(request_id, field="request_id")
        check_comment(comment, required=True)
        return self._close(
            caller, request_id, RequestStatus.REJECTED, comment, Permission.VERSION_APPROVE
        )

    def cancel(self, caller: Caller, request_id: str, comment: str = "") -> PromotionDetail:
        """Withdraw an open request (anyone who may request promotions in the project).

        Raises:
            ConflictError: The request is not open.
        """
        check_id(request_id, field="request_id")
        check_comment(comment, required=False)
        return self._close(
            caller, request_id, RequestStatus.CANCELLED, comment, Permission.PROMOTION_REQUEST
        )

    def check(self, caller: Caller, request_id: str) -> PromotionDetail:
        """Evaluate an open request again (after new evidence, an exception, a policy
        change); it promotes itself when the decision allows.

        Raises:
            ConflictError: The request is not open.
        """
        check_id(request_id, field="request_id")
        with self._ctx.uow() as uow:
            request = self._request(uow, caller, request_id, Permission.PROMOTION_REQUEST)
            request.require_open()
            evaluated = self._gates.evaluate(uow, caller.actor, request, DecisionTrigger.CHECKED)
            saved = self._save(uow, request, evaluated)
            self._gates.record(uow, evaluated)
            detail = self._detail(uow, saved, evaluated.decision)
            uow.commit()
        return detail

    def get_request(self, caller: Caller, request_id: str) -> PromotionDetail:
        """A request with its approvals and latest gate decision; raises NotFoundError."""
        check_id(request_id, field="request_id")
        with self._ctx.uow(read_only=True) as uow:
            request = self._request(
                uow, caller, request_id, Permission.PROJECT_READ, for_update=False
            )
            decisions = uow.promotions.decisions(request_id=request.id)
            return self._detail(uow, request, decisions[-1] if decisions else None)

    def list_requests(
        self,
        caller: Caller,
        *,
        model_name: str | None = None,
        version: int | None = None,
        status: RequestStatus | None = None,
        page_size: int = 100,
        cursor: str | None = None,
    ) -> Page[PromotionRequest]:
        """Requests newest first: of one model (and version) when named, else of every
        project the caller may read (an approvals inbox, with `status=open`)."""
        check_page_size(page_size)
        with self._ctx.uow(read_only=True) as uow:
            if model_name is None:
                return uow.promotions.list_requests(
                    model_id=None,
                    version=version,
                    status=status,
                    page_size=page_size,
                    cursor=cursor,
                    visible=caller.project_filter(),
                )
            model = self._ctx.authorized_model(uow, caller, model_name, Permission.PROJECT_READ)
            if version is not None:
                uow.models.get_version(model.name, version)
            return uow.promotions.list_requests(
                model_id=model.id,
                version=version,
                status=status,
                page_size=page_size,
                cursor=cursor,
            )

    def decisions(self, caller: Caller, request_id: str) -> list[GateDecision]:
        """Every gate decision of a request, oldest first, each with its input document."""
        check_id(request_id, field="request_id")
        with self._ctx.uow(read_only=True) as uow:
            request = self._request(
                uow, caller, request_id, Permission.PROJECT_READ, for_update=False
            )
            return uow.promotions.decisions(request_id=request.id)

    def governance_record(self, caller: Caller, model_name: str, version: int) -> VersionGovernance:
        """Everything governance recorded about a version (requests, approvals, decisions
        with input documents, exceptions, environment changes); needs `project.read`."""
        with self._ctx.uow(read_only=True) as uow:
            model = self._ctx.authorized_model(uow, caller, model_name, Permission.PROJECT_READ)
            return version_governance(uow, model, version)

    def _close(
        self,
        caller: Caller,
        request_id: str,
        status: RequestStatus,
        comment: str,
        permission: Permission,
    ) -> PromotionDetail:
        with self._ctx.uow() as uow:
            request = self._request(uow, caller, request_id, permission)
            closed = request.close(
                status, at=self._ctx.clock.now(), by=caller.actor, comment=comment
            )
            closed = replace(closed, row_version=request.row_version + 1)
            uow.promotions.save_request(closed)
            self._ctx.record(
                uow,
                f"promotion.{status.value}",
                caller,
                ("model_version", request.subject),
                {"request_id": request.id, "environment": request.environment, "comment": comment},
            )
            decisions = uow.promotions.decisions(request_id=request.id)
            detail = self._detail(uow, closed, decisions[-1] if decisions else None)
            uow.commit()
        return detail

    def _save(
        self, uow: UnitOfWork, before: PromotionRequest, evaluated: Evaluated
    ) -> PromotionRequest:
        """Store the request after an evaluation (every evaluation is a change of the
        request: its row version grows, so a concurrent writer that read it before is
        refused)."""
        after = replace(evaluated.request, row_version=before.row_version + 1)
        uow.promotions.save_request(after)
        return after

    def _detail(
        self, uow: UnitOfWork, request: PromotionRequest, decision: GateDecision | None
    ) -> PromotionDetail:
        approvals = tuple(uow.promotions.approvals(request.id))
        return PromotionDetail(request, approvals, decision, self._ctx.clock.now())

    def _refuse_conflict_of_interest(
        self, uow: UnitOfWork, caller: Caller, request: PromotionRequest, version: ModelVersion
    ) -> None:
        """Separation of duties: who asked for a promotion, or authored the version, may not
        approve it. Refused like any other denial (and recorded as one)."""
        subject = ("model_version", request.subject)
        if caller.actor == request.requested_by:
            reason = (
                f"{caller.actor} requested this promotion; a requester cannot approve their "
                "own request (separation of duties)"
            )
        elif caller.actor in authors_of(uow, version):
            reason = (
                f"{caller.actor} authored {request.subject} (registered it or ran its training "
                "run); an author cannot approve their own version (separation of duties)"
            )
        else:
            return
        raise AccessDenied(
            f"permission denied: {reason}",
            caller=caller,
            permission=Permission.VERSION_APPROVE,
            subject=subject,
        )

    def _request(
        self,
        uow: UnitOfWork,
        caller: Caller,
        request_id: str,
        permission: Permission,
        *,
        for_update: bool = True,
    ) -> PromotionRequest:
        request = uow.promotions.get_request(PromotionRequestId(request_id), for_update=for_update)
        self._ctx.authorize(
            uow,
            caller,
            permission,
            project_id=request.project_id,
            subject=("model_version", request.subject),
        )
        return request
