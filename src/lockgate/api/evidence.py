"""Wire schemas for evidence bundles (the offline verdict) and the compliance report."""

from __future__ import annotations

from lockgate.api.common import ApiModel, UtcDatetime
from lockgate.api.promotions import ExceptionOut
from lockgate.domain.governance.compliance import ComplianceReport, ModelCompliance, Share
from lockgate.domain.governance.evidence_verify import EvidenceVerdict

__all__ = [
    "ComplianceReportOut",
    "EvidenceVerdictOut",
    "ModelComplianceOut",
    "ShareOut",
]


class EvidenceVerdictOut(ApiModel):
    """The outcome of checking an evidence bundle: `checks` lists what was verified, in
    order, up to `problem` (the first failure; null when `ok`). `key_pinned` is false when
    no trusted key was given, so any key would have passed."""

    ok: bool
    problem: str | None
    checks: list[str]
    subject: str | None
    key_fingerprint: str | None
    key_pinned: bool
    exported_at: UtcDatetime | None
    exported_by: str | None
    audit_head_seq: int | None
    audit_head_hash: str | None
    members: list[str]

    @classmethod
    def from_domain(cls, verdict: EvidenceVerdict) -> EvidenceVerdictOut:
        head = verdict.audit_head
        return cls(
            ok=verdict.ok,
            problem=verdict.problem,
            checks=list(verdict.checks),
            subject=verdict.subject,
            key_fingerprint=verdict.key_fingerprint,
            key_pinned=verdict.key_pinned,
            exported_at=verdict.exported_at,
            exported_by=verdict.exported_by,
            audit_head_seq=head.seq if head else None,
            audit_head_hash=head.hash if head else None,
            members=list(verdict.members),
        )


class ShareOut(ApiModel):
    """`count` of `total` production models meet a rule; `ratio` is null when `total` is 0."""

    count: int
    total: int
    ratio: float | None

    @classmethod
    def from_domain(cls, share: Share) -> ShareOut:
        return cls(count=share.count, total=share.total, ratio=share.ratio)


class ModelComplianceOut(ApiModel):
    """One model's production version against each rule."""

    project: str
    model: str
    version: int
    tier: str
    since: UtcDatetime
    lineage_complete: bool
    lineage_gaps: list[str]
    metadata_complete: bool
    metadata_missing: list[str]
    card_completeness: float
    card_complete: bool
    decision_id: str | None
    approvals_per_policy: bool
    policy_compliant: bool
    active_exceptions: int

    @classmethod
    def from_domain(cls, row: ModelCompliance) -> ModelComplianceOut:
        return cls(
            project=row.project,
            model=row.model,
            version=row.version,
            tier=row.tier.value,
            since=row.since,
            lineage_complete=row.lineage_complete,
            lineage_gaps=list(row.lineage_gaps),
            metadata_complete=row.metadata_complete,
            metadata_missing=list(row.metadata_missing),
            card_completeness=row.card_completeness,
            card_complete=row.card_complete,
            decision_id=row.decision_id,
            approvals_per_policy=row.approvals_per_policy,
            policy_compliant=row.policy_compliant,
            active_exceptions=row.active_exceptions,
        )


class ComplianceReportOut(ApiModel):
    """The compliance report of a project (`project` set) or the platform (`project` null):
    the share of production models meeting each rule, one row per production model, and the
    active gate exceptions. `environment` is the last environment by order (production)."""

    project: str | None
    environment: str | None
    generated_at: UtcDatetime
    production_models: int
    lineage_complete: ShareOut
    metadata_complete: ShareOut
    card_complete: ShareOut
    approvals_per_policy: ShareOut
    policy_compliant: ShareOut
    active_exception_count: int
    active_exceptions: list[ExceptionOut]
    models: list[ModelComplianceOut]

    @classmethod
    def from_domain(cls, report: ComplianceReport) -> ComplianceReportOut:
        return cls(
            project=report.project,
            environment=report.environment,
            generated_at=report.generated_at,
            production_models=len(report.models),
            lineage_complete=ShareOut.from_domain(report.lineage_complete),
            metadata_complete=ShareOut.from_domain(report.metadata_complete),
            card_complete=ShareOut.from_domain(report.card_complete),
            approvals_per_policy=ShareOut.from_domain(report.approvals_per_policy),
            policy_compliant=ShareOut.from_domain(report.policy_compliant),
            active_exception_count=len(report.active_exceptions),
            active_exceptions=[ExceptionOut.from_domain(e) for e in report.active_exceptions],
            models=[ModelComplianceOut.from_domain(m) for m in report.models],
        )
