"""Governance: risk tiers, environments, gate decisions, approvals, exceptions, model cards,
lineage and evidence. Submodules own each concept; this package re-exports them."""

from __future__ import annotations

from lockgate.domain.governance.decisions import GateResult, PolicyDecision, document_sha256
from lockgate.domain.governance.lineage import (
    LineageDirection,
    LineageEdge,
    LineageGraph,
    LineageNode,
    LineageRelation,
    NodeKind,
)
from lockgate.domain.governance.tiers import RiskTier

__all__ = [
    "GateResult",
    "LineageDirection",
    "LineageEdge",
    "LineageGraph",
    "LineageNode",
    "LineageRelation",
    "NodeKind",
    "PolicyDecision",
    "RiskTier",
    "document_sha256",
]
