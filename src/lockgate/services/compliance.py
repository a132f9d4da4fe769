"""Compliance use cases: the report over one project or the whole platform of how the models
in production stand against the governance rules (domain.governance.compliance)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime

from lockgate.compute.policy.builtin import tier_requirements
from lockgate.domain.access import Caller, Permission
from lockgate.domain.governance.compliance import (
    ComplianceReport,
    ModelCompliance,
    approvals_per_policy,
    missing_metadata,
    policy_compliant,
)
from lockgate.domain.governance.environments import Environment, last_environment
from lockgate.domain.governance.exceptions import GateException
from lockgate.domain.governance.promotions import GateDecision
from lockgate.domain.governance.tiers import RiskTier
from lockgate.domain.names import check_name
from lockgate.domain.registry import RegisteredModel
from lockgate.domain.tracking import ProjectId
from lockgate.services.context import ServiceContext
from lockgate.services.environments import governance_of
from lockgate.services.lineage import version_lineage_gaps
from lockgate.services.model_cards import card_completeness
from lockgate.store.protocols import UnitOfWork

__all__ = ["ComplianceService", "Requirements"]

Requirements = Callable[[RiskTier], Mapping[str, Mapping[str, object]]]
"""A tier's built-in requirements by environment (`compute.policy.builtin.tier_requirements`)."""

_PAGE = 500
_FALLBACK_ENVIRONMENT = "production"


class ComplianceService:
    """The compliance report.

    Args:
        requirements: The requirements per tier and environment, for the metadata each tier
            needs; the built-in table by default.
    """

    def __init__(
        self, context: ServiceContext, requirements: Requirements = tier_requirements
    ) -> None:
        self._ctx = context
        self._requirements = requirements

    def report(self, caller: Caller, project: str | None = None) -> ComplianceReport:
        """How the models with a version in production (the last environment by order)
        stand: lineage, required metadata, model card, approvals, policy compliance, and
        the active gate exceptions. A project's report needs project.read on it; the
        platform's (`project` None) needs audit.read.

        Raises:
            NotFoundError: The project does not exist.
            PermissionDeniedError: The caller lacks the permission.
        """
        with self._ctx.uow(read_only=True) as uow:
            project_id: ProjectId | None = None
            if project is not None:
                found = uow.projects.get_by_name(check_name(project, field="project"))
                self._ctx.authorize(
                    uow,
                    caller,
                    Permission.PROJECT_READ,
                    project_id=found.id,
                    subject=("project", found.name),
                )
                project_id = found.id
            else:
                self._ctx.authorize(
                    uow, caller, Permission.AUDIT_READ, subject=("compliance", "platform")
                )
            now = self._ctx.clock.now()
            target = last_environment(uow.environments.list_environments())
            rows: list[ModelCompliance] = []
            exceptions: list[GateException] = []
            for model in _models(uow, project_id):
                active = [
                    e.as_of(now) for e in uow.promotions.exceptions(model.id) if e.is_active_at(now)
                ]
                exceptions.extend(active)
                if target is not None:
                    row = self._row(uow, model, target, active, now)
                    if row is not None:
                        rows.append(row)
            return ComplianceReport(
                project=project,
                environment=None if target is None else target.name,
                generated_at=now,
                models=tuple(rows),
                active_exceptions=tuple(exceptions),
            )

    def _row(
        self,
        uow: UnitOfWork,
        model: RegisteredModel,
        target: Environment,
        active: list[GateException],
        now: datetime,
    ) -> ModelCompliance | None:
        current = uow.environments.current(model.id, target.name)
        if current is None:
            return None
        number = current.version
        version = uow.models.get_version(model.name, number)
        tier = governance_of(uow, model).tier
        promoted = _promoting_decision(uow, model, target.name, number)
        decision = None if promoted is None else promoted.decision
        score, _ = card_completeness(uow, model, number)
        return ModelCompliance(
            project=model.project_name or uow.projects.get(model.project_id).name,
            model=model.name,
            version=number,
            tier=tier,
            since=current.since,
            lineage_gaps=version_lineage_gaps(uow, model.id, model.project_id, number),
            metadata_missing=missing_metadata(
                self._required_metadata(tier, target.name),
                owner=model.owner,
                description=model.description,
                model_metadata=model.metadata,
                version_metadata=version.metadata,
            ),
            card_completeness=score,
            decision_id=None if promoted is None else promoted.id,
            approvals_per_policy=approvals_per_policy(decision),
            policy_compliant=policy_compliant(decision),
            active_exceptions=sum(1 for e in active if e.version == number),
        )

    def _required_metadata(self, tier: RiskTier, environment: str) -> tuple[str, ...]:
        # An environment the requirements do not name gets production's (the strictest).
        table = self._requirements(tier)
        row = table.get(environment) or table.get(_FALLBACK_ENVIRONMENT) or {}
        fields = row.get("metadata")
        return tuple(str(f) for f in fields) if isinstance(fields, list) else ()


def _models(uow: UnitOfWork, project_id: ProjectId | None) -> Iterator[RegisteredModel]:
    cursor: str | None = None
    while True:
        page = uow.models.list_models(project_id, _PAGE, cursor)
        yield from page.items
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def _promoting_decision(
    uow: UnitOfWork, model: RegisteredModel, environment: str, version: int
) -> GateDecision | None:
    """The gate decision of the latest change that made `version` current in `environment`."""
    changes = uow.environments.history(model.id, environment, version)
    entering = [c for c in changes if c.version == version]
    if not entering or entering[-1].decision_id is None:
        return None
    found = uow.promotions.decisions(decision_id=entering[-1].decision_id)
    return found[0] if found else None
