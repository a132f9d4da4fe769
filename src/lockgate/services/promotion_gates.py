"""How a promotion request is decided, inside the unit of work of the action that triggered it:
the facts are gathered, the input document built, the gates evaluated and exceptions applied,
the decision stored as evidence, and, when it allows, the version moved into the environment
(the current row, its history and the registry alias) in the same transaction."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from lockgate.compute.policy import evaluate_gates
from lockgate.domain.access import PLATFORM_PERMISSIONS, ROLE_PERMISSIONS, Permission
from lockgate.domain.audit import JsonValue
from lockgate.domain.errors import InvalidInputError, NotFoundError
from lockgate.domain.governance.decisions import PolicyDecision
from lockgate.domain.governance.environments import (
    EnvironmentChange,
    last_environment,
    previous_environment,
)
from lockgate.domain.governance.exceptions import apply_exceptions
from lockgate.domain.governance.input_document import (
    EvaluationFacts,
    PromotionFacts,
    build_input_document,
)
from lockgate.domain.governance.lineage import LineageEdge, LineageNode, LineageRelation
from lockgate.domain.governance.promotions import (
    DecisionTrigger,
    GateDecision,
    GovernanceRules,
    PromotionRequest,
    RequestKind,
    RequestStatus,
    valid_approvals,
)
from lockgate.domain.governance.retirement import Retirement
from lockgate.domain.governance.tiers import RiskTier
from lockgate.domain.identity import Actor
from lockgate.domain.principals import PrincipalRef
from lockgate.domain.registry import AliasMove, ModelVersion, RegisteredModel
from lockgate.domain.tracking import ProjectId
from lockgate.services.context import ServiceContext
from lockgate.services.environments import governance_of
from lockgate.services.model_cards import card_completeness
from lockgate.services.policies import applicable_modules
from lockgate.store.protocols import UnitOfWork

__all__ = [
    "CHAMPION_ALIAS",
    "Evaluated",
    "GateEvaluator",
    "PromotionGates",
    "RetirementHook",
    "authors_of",
    "policy_gates",
]

GateEvaluator = Callable[[UnitOfWork, ProjectId, RiskTier, Mapping[str, JsonValue]], PolicyDecision]
"""Evaluates the gates of a project and tier over an input document, inside the caller's
unit of work."""

CHAMPION_ALIAS = "champion"
# Comparisons looked at for the one that speaks for a version (newest first).
MAX_COMPARISONS = 50
# An audit event names the first deny reasons; the stored decision holds them all.
MAX_AUDITED_REASONS = 20


def policy_gates(
    uow: UnitOfWork, project_id: ProjectId, tier: RiskTier, document: Mapping[str, JsonValue]
) -> PolicyDecision:
    """The policy engine's gates: the built-in bundle of the tier plus the project's active
    policies, evaluated over the document (fail closed: a broken policy blocks)."""
    return evaluate_gates(applicable_modules(uow, project_id, tier), document)


def authors_of(uow: UnitOfWork, version: ModelVersion) -> frozenset[Actor]:
    """Who authored a version: who registered it and who ran its training run."""
    authors = {version.created_by}
    if version.run_id is not None:
        with suppress(NotFoundError):
            authors.add(uow.runs.get(version.run_id).created_by)
    return frozenset(authors)


class RetirementHook(Protocol):
    """Decommissioning's part in a retirement request (services.decommission): archive the
    version once it has left its last environment, and audit that archive."""

    def archive_if_retired(
        self, uow: UnitOfWork, actor: Actor, request: PromotionRequest
    ) -> Retirement | None:
        """Archive the request's version if it is in no environment any more (data writes
        only, in the caller's unit of work); None when it is still current somewhere."""

    def record_retirement(self, uow: UnitOfWork, actor: Actor, retirement: Retirement) -> None:
        """The audit events of an archive `archive_if_retired` made."""


@dataclass(frozen=True, slots=True)
class Evaluated:
    """One evaluation of a request: the request after it (closed when it moved the version
    or could not), the stored decision, the history entry when the version moved, and the
    archive when a retirement moved the version out of its last environment."""

    request: PromotionRequest
    decision: GateDecision
    change: EnvironmentChange | None
    retired: Retirement | None = None


class PromotionGates:
    """Evaluates requests and applies what their decisions allow (used by the promotion
    service inside its units of work; it never commits)."""

    def __init__(
        self,
        context: ServiceContext,
        rules: GovernanceRules,
        gates: GateEvaluator,
        retirement: RetirementHook | None = None,
    ) -> None:
        self._ctx = context
        self._rules = rules
        self._gates = gates
        self._retirement = retirement

    def evaluate(
        self,
        uow: UnitOfWork,
        actor: Actor,
        request: PromotionRequest,
        trigger: DecisionTrigger,
    ) -> Evaluated:
        """Evaluate `request` now, store the decision, and move the version when it allows."""
        now = self._ctx.clock.now()
        facts = self.facts(uow, request)
        document = build_input_document(facts)
        verdict = self._gates(uow, request.project_id, facts.governance.tier, document)
        verdict = apply_exceptions(verdict, facts.exceptions, now)
        decision = GateDecision(
            id=self._ctx.ids.new_id(),
            request_id=request.id,
            project_id=request.project_id,
            model_id=request.model_id,
            model_name=request.model_name,
            version=request.version,
            environment=request.environment,
            trigger=trigger,
            decided_at=now,
            decided_by=actor,
            decision=verdict,
            input_document=document,
        )
        uow.promotions.add_decision(decision)
        if not verdict.allowed:
            return Evaluated(request, decision, None)
        return self._apply(uow, actor, request, decision, facts.evaluation.comparison_id)

    def facts(self, uow: UnitOfWork, request: PromotionRequest) -> PromotionFacts:
        """Everything the gates may look at, read in the caller's transaction."""
        now = self._ctx.clock.now()
        model = uow.models.get_model(request.model_name)
        model = replace(model, project_name=uow.projects.get(model.project_id).name)
        version = uow.models.get_version(model.name, request.version)
        environments = uow.environments.list_environments()
        target = next(e for e in environments if e.name == request.environment)
        previous = previous_environment(environments, target)
        current = {c.environment: c.version for c in uow.environments.current_of_model(model.id)}
        history = uow.environments.history(model.id, version=request.version)
        signed = uow.packages.get(model.id, request.version)
        score, missing = card_completeness(uow, model, request.version)
        barred = {request.requested_by, *authors_of(uow, version)}
        approvals = [
            a
            for a in valid_approvals(uow.promotions.approvals(request.id), now, barred)
            if self._may_approve(uow, request.project_id, a.reviewer)
        ]
        exceptions = [
            e
            for e in uow.promotions.exceptions(model.id, request.version, request.environment)
            if e.is_active_at(now)
        ]
        last = last_environment(environments)
        reference = current.get(last.name) if last is not None else None
        if reference is None or reference == request.version:
            reference = uow.models.current_alias(model.id, CHAMPION_ALIAS)
        return PromotionFacts(
            request=request,
            environment=target,
            previous_environment=None if previous is None else previous.name,
            model=model,
            governance=governance_of(uow, model),
            version=version,
            package_digest=None if signed is None else signed[0].digest,
            environments=tuple(env for env, held in current.items() if held == request.version),
            promoted_to=tuple(c.environment for c in history if c.version == request.version),
            evaluation=_evaluation_facts(uow, model, request.version, reference),
            card_completeness=score,
            card_missing=tuple(missing),
            approvals=tuple(approvals),
            exceptions=tuple(exceptions),
            current_version=current.get(request.environment),
        )

    def record(self, uow: UnitOfWork, evaluated: Evaluated) -> None:
        """The audit events of an evaluation: the decision, and the move it made (appended
        last in the unit of work, after every data write, so the audit chain's head lock is
        the last lock a governed transaction takes)."""
        decision, request = evaluated.decision, evaluated.request
        verdict = decision.decision
        reasons: list[JsonValue] = list(verdict.deny_reasons()[:MAX_AUDITED_REASONS])
        waived: list[JsonValue] = [r.gate for r in verdict.results if r.waived_by is not None]
        subject = ("model_version", request.subject)
        self._ctx.record(
            uow,
            "promotion.checked",
            decision.decided_by,
            subject,
            {
                "request_id": request.id,
                "decision_id": decision.id,
                "environment": request.environment,
                "trigger": decision.trigger.value,
                "allowed": verdict.allowed,
                "input_sha256": verdict.input_sha256,
                "policy_digest": verdict.policy_digest,
                "deny_reasons": reasons,
                "waived_gates": waived,
            },
        )
        change = evaluated.change
        if change is not None:
            action = "promotion.promoted" if change.version is not None else "promotion.retired"
            self._ctx.record(
                uow,
                action,
                decision.decided_by,
                subject,
                {
                    "request_id": request.id,
                    "decision_id": decision.id,
                    "environment": change.environment,
                    "version": change.version,
                    "previous_version": change.previous_version,
                    "requested_by": change.requested_by,
                    "reason": change.reason,
                },
            )
        elif request.status is RequestStatus.CANCELLED:
            self._ctx.record(
                uow,
                "promotion.cancelled",
                decision.decided_by,
                subject,
                {"request_id": request.id, "comment": request.comment},
            )
        if evaluated.retired is not None and self._retirement is not None:
            self._retirement.record_retirement(uow, decision.decided_by, evaluated.retired)

    def _apply(
        self,
        uow: UnitOfWork,
        actor: Actor,
        request: PromotionRequest,
        decision: GateDecision,
        comparison_id: str | None,
    ) -> Evaluated:
        now = decision.decided_at
        current = uow.environments.current(request.model_id, request.environment)
        held = None if current is None else current.version
        entering = request.kind is RequestKind.PROMOTION
        if (held == request.version) is entering:
            where = "already current" if entering else "not current"
            closed = request.close(
                RequestStatus.CANCELLED,
                at=now,
                by=actor,
                comment=f"version {request.version} is {where} in {request.environment}",
            )
            return Evaluated(closed, decision, None)
        change = EnvironmentChange(
            id=self._ctx.ids.new_id(),
            model_id=request.model_id,
            model_name=request.model_name,
            environment=request.environment,
            version=request.version if entering else None,
            previous_version=held,
            request_id=request.id,
            decision_id=decision.id,
            reason=request.reason,
            requested_by=request.requested_by,
            changed_at=now,
            changed_by=actor,
        )
        uow.environments.move_current(
            change, expected_row_version=None if current is None else current.row_version
        )
        alias_before = uow.models.current_alias(request.model_id, request.environment)
        uow.models.move_alias(
            request.model_id,
            AliasMove(
                request.model_name,
                request.environment,
                change.version,
                alias_before,
                now,
                actor,
            ),
        )
        self._record_lineage(uow, request, comparison_id, now)
        retired = None
        if not entering and self._retirement is not None:
            retired = self._retirement.archive_if_retired(uow, actor, request)
        closed = request.close(RequestStatus.PROMOTED, at=now, by=actor)
        return Evaluated(closed, decision, change, retired)

    @staticmethod
    def _record_lineage(
        uow: UnitOfWork,
        request: PromotionRequest,
        comparison_id: str | None,
        now: datetime,
    ) -> None:
        """The promotion in the lineage graph: the version flowed into it, and the
        comparison its evaluation gate relied on is its evidence."""
        if request.kind is not RequestKind.PROMOTION:
            return
        promotion = LineageNode.promotion(request.id)
        edges = [
            LineageEdge(
                LineageNode.model_version(request.model_id, request.version),
                promotion,
                LineageRelation.PROMOTED,
                now,
                request.project_id,
            )
        ]
        if comparison_id is not None:
            edges.append(
                LineageEdge(
                    LineageNode.comparison(comparison_id),
                    promotion,
                    LineageRelation.EVIDENCE,
                    now,
                    request.project_id,
                )
            )
        for edge in edges:
            uow.lineage.add_edge(edge)

    @staticmethod
    def _may_approve(uow: UnitOfWork, project_id: ProjectId, reviewer: Actor) -> bool:
        """Whether a reviewer still holds `version.approve` on the project (a revoked role,
        a disabled principal or a removed team membership voids their approvals). Actors with
        no principal record (local mode) cannot be checked and keep counting."""
        try:
            ref = PrincipalRef.parse(reviewer)
            principal = uow.principals.get_by_ref(ref)
        except (InvalidInputError, NotFoundError):
            return True
        if principal.disabled:
            return False
        role = principal.platform_role
        if role is not None and Permission.VERSION_APPROVE in PLATFORM_PERMISSIONS[role]:
            return True
        grantees = [principal.id, *uow.principals.teams_of(principal.id)]
        roles = uow.grants.roles(project_id, grantees)
        return any(Permission.VERSION_APPROVE in ROLE_PERMISSIONS[r] for r in roles)


def _evaluation_facts(
    uow: UnitOfWork, model: RegisteredModel, version: int, reference: int | None
) -> EvaluationFacts:
    """The comparison that speaks for `version`: the newest against `reference` (the version
    in the last environment, else the champion), else the newest of any baseline."""
    comparisons = uow.evaluations.list_comparisons(model.id, version, MAX_COMPARISONS, None).items
    chosen = next((c for c in comparisons if c.baseline.version == reference), None)
    if chosen is None and comparisons:
        chosen = comparisons[0]
    if chosen is None:
        if reference is None:
            return EvaluationFacts(reasons=(f"version {version} was never compared",))
        return EvaluationFacts(
            reasons=(f"version {version} was never compared with version {reference}",)
        )
    reasons = list(chosen.verdict.reasons)
    is_current = reference is not None and chosen.baseline.version == reference
    if not is_current:
        against = "no version" if reference is None else f"version {reference}"
        reasons.append(
            f"the comparison's baseline is version {chosen.baseline.version}; the version to "
            f"beat is {against}"
        )
    return EvaluationFacts(
        verdict=chosen.verdict.passed,
        comparison_id=chosen.id,
        baseline_version=chosen.baseline.version,
        baseline_is_current=is_current,
        reasons=tuple(reasons),
    )
