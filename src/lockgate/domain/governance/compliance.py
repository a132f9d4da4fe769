"""The compliance report: for every model with a version current in production, whether that
version meets each governance rule, and the shares across a project or the platform.

The rules, for the production version of each model:
- lineage complete: a run produced it and read a dataset version (`lineage.lineage_gaps`);
- required metadata: the model's owner and description, and every other field the tier's
  production requirements name, non-empty in the version's or the model's metadata;
- model card complete: completeness 1.0;
- approvals per policy: the gate decision that promoted it had the `approvals` gate pass on
  its own (not waived, no error);
- policy compliant: that decision allowed the promotion with no gate waived.
Active exceptions are counted and listed for every model in scope, in production or not.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from lockgate.domain.governance.decisions import PolicyDecision
from lockgate.domain.governance.exceptions import GateException
from lockgate.domain.governance.tiers import RiskTier

__all__ = [
    "APPROVALS_GATE",
    "BASE_METADATA",
    "ComplianceReport",
    "ModelCompliance",
    "Share",
    "approvals_per_policy",
    "missing_metadata",
    "policy_compliant",
]

APPROVALS_GATE = "approvals"
BASE_METADATA = ("owner", "description")
"""Metadata every production model needs, whatever its tier."""


def _non_empty(value: object) -> bool:
    if isinstance(value, str):
        return bool(value.strip())
    return value is not None


def missing_metadata(
    required: Iterable[str],
    *,
    owner: str,
    description: str,
    model_metadata: Mapping[str, str],
    version_metadata: Mapping[str, str],
) -> tuple[str, ...]:
    """The required fields that are absent or blank, sorted: `owner` and `description` are
    the model's own fields; any other name must be a non-empty entry of the version's or the
    model's metadata (the rule of the built-in `metadata` gate)."""
    own = {"owner": owner, "description": description}
    missing = set()
    for name in {*BASE_METADATA, *required}:
        if name in own:
            present = _non_empty(own[name])
        else:
            present = _non_empty(version_metadata.get(name)) or _non_empty(model_metadata.get(name))
        if not present:
            missing.add(name)
    return tuple(sorted(missing))


def approvals_per_policy(decision: PolicyDecision | None) -> bool:
    """Whether the promoting decision's `approvals` gate passed on its own merits."""
    if decision is None:
        return False
    return any(
        r.gate == APPROVALS_GATE and r.passed and r.error is None and r.waived_by is None
        for r in decision.results
    )


def policy_compliant(decision: PolicyDecision | None) -> bool:
    """Whether the promoting decision allowed the promotion without any waiver."""
    if decision is None:
        return False
    return decision.allowed and all(r.waived_by is None for r in decision.results)


@dataclass(frozen=True, slots=True)
class Share:
    """`count` of `total` meet a rule; `ratio` is None when there is nothing to count."""

    count: int
    total: int

    @property
    def ratio(self) -> float | None:
        return None if self.total == 0 else self.count / self.total


@dataclass(frozen=True, slots=True)
class ModelCompliance:
    """One model's production version and how it stands against each rule.

    `decision_id` names the gate decision that put the version in production (None when the
    history records none: then neither approvals nor policy count as met).
    """

    project: str
    model: str
    version: int
    tier: RiskTier
    since: datetime
    lineage_gaps: tuple[str, ...]
    metadata_missing: tuple[str, ...]
    card_completeness: float
    decision_id: str | None
    approvals_per_policy: bool
    policy_compliant: bool
    active_exceptions: int

    @property
    def lineage_complete(self) -> bool:
        return not self.lineage_gaps

    @property
    def metadata_complete(self) -> bool:
        return not self.metadata_missing

    @property
    def card_complete(self) -> bool:
        return self.card_completeness >= 1.0


@dataclass(frozen=True, slots=True)
class ComplianceReport:
    """The report over one project (`project` set) or the whole platform (None)."""

    project: str | None
    environment: str | None
    generated_at: datetime
    models: tuple[ModelCompliance, ...]
    active_exceptions: tuple[GateException, ...]

    def _share(self, rule: str) -> Share:
        return Share(sum(1 for m in self.models if getattr(m, rule)), len(self.models))

    @property
    def lineage_complete(self) -> Share:
        return self._share("lineage_complete")

    @property
    def metadata_complete(self) -> Share:
        return self._share("metadata_complete")

    @property
    def card_complete(self) -> Share:
        return self._share("card_complete")

    @property
    def approvals_per_policy(self) -> Share:
        return self._share("approvals_per_policy")

    @property
    def policy_compliant(self) -> Share:
        return self._share("policy_compliant")
