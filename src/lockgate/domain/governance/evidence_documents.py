"""The JSON documents inside an evidence bundle: gate decisions with their input documents,
approvals, exceptions, promotion requests and environment changes, and the lineage graph.

Each renderer is pure and deterministic (the same records give the same bytes), so two
exports of an unchanged version differ only in their time, exporter and audit segment.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime

from lockgate.domain.audit import JsonValue
from lockgate.domain.governance.environments import EnvironmentChange
from lockgate.domain.governance.exceptions import GateException
from lockgate.domain.governance.lineage import LineageGraph
from lockgate.domain.governance.promotions import (
    Approval,
    GateDecision,
    PromotionRequest,
    gate_results_document,
)

__all__ = [
    "approvals_document",
    "decision_document",
    "exceptions_document",
    "json_bytes",
    "lineage_document",
    "promotions_document",
]


def json_bytes(document: object) -> bytes:
    """A member's bytes: indented, sorted keys, UTF-8, ending with a newline."""
    text = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False)
    return (text + "\n").encode()


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat(timespec="microseconds")


def decision_document(decision: GateDecision) -> dict[str, JsonValue]:
    """One gate decision: when, why and by whom it was evaluated, every gate's result, the
    deny reasons, and the input document exactly as the policies saw it (whose sha256 is
    `input_sha256`)."""
    verdict = decision.decision
    return {
        "id": decision.id,
        "request_id": decision.request_id,
        "model": decision.model_name,
        "version": decision.version,
        "environment": decision.environment,
        "trigger": decision.trigger.value,
        "decided_at": _time(decision.decided_at),
        "decided_by": decision.decided_by,
        "allowed": verdict.allowed,
        "deny_reasons": list(verdict.deny_reasons()),
        "input_sha256": verdict.input_sha256,
        "policy_digest": verdict.policy_digest,
        "results": gate_results_document(verdict.results),
        "input": dict(decision.input_document),
    }


def approvals_document(approvals: Iterable[Approval]) -> list[JsonValue]:
    """Every approval given on the version's requests, oldest first."""
    return [
        {
            "id": a.id,
            "request_id": a.request_id,
            "reviewer": a.reviewer,
            "approved_at": _time(a.approved_at),
            "expires_at": _time(a.expires_at),
            "comment": a.comment,
        }
        for a in sorted(approvals, key=lambda a: (a.approved_at, a.id))
    ]


def exceptions_document(exceptions: Iterable[GateException], at: datetime) -> list[JsonValue]:
    """The version's gate exceptions with their status at export time (`expired` is derived
    from the time; `stored_status` is what the record says)."""
    return [
        {
            "id": e.id,
            "environment": e.environment,
            "gate": e.gate,
            "justification": e.justification,
            "requested_by": e.requested_by,
            "requested_at": _time(e.requested_at),
            "expires_at": _time(e.expires_at),
            "status": e.status_at(at).value,
            "stored_status": e.status.value,
            "approved_by": e.approved_by,
            "approved_at": _time(e.approved_at),
            "revoked_by": e.revoked_by,
            "revoked_at": _time(e.revoked_at),
            "revoke_reason": e.revoke_reason,
        }
        for e in sorted(exceptions, key=lambda e: (e.requested_at, e.id))
    ]


def promotions_document(
    requests: Sequence[PromotionRequest],
    changes: Sequence[EnvironmentChange],
    current_in: Sequence[str],
) -> dict[str, JsonValue]:
    """The version's promotion and retirement requests, the environment changes it took
    part in (entering or leaving), and where it is current at export time."""
    return {
        "current_in": sorted(current_in),
        "requests": [
            {
                "id": r.id,
                "kind": r.kind.value,
                "environment": r.environment,
                "status": r.status.value,
                "reason": r.reason,
                "requested_by": r.requested_by,
                "requested_at": _time(r.requested_at),
                "closed_by": r.closed_by,
                "closed_at": _time(r.closed_at),
                "comment": r.comment,
            }
            for r in sorted(requests, key=lambda r: (r.requested_at, r.id))
        ],
        "changes": [
            {
                "id": c.id,
                "environment": c.environment,
                "version": c.version,
                "previous_version": c.previous_version,
                "request_id": c.request_id,
                "decision_id": c.decision_id,
                "reason": c.reason,
                "requested_by": c.requested_by,
                "changed_by": c.changed_by,
                "changed_at": _time(c.changed_at),
            }
            for c in sorted(changes, key=lambda c: (c.changed_at, c.id))
        ],
    }


def lineage_document(graph: LineageGraph, gaps: Sequence[str]) -> dict[str, JsonValue]:
    """The version's lineage graph (both directions), and why it is incomplete (`gaps`,
    empty when a run produced the version and read a dataset version)."""
    return {
        "roots": [str(node) for node in graph.roots],
        "direction": graph.direction.value,
        "max_depth": graph.max_depth,
        "truncated": graph.truncated,
        "complete": not gaps,
        "gaps": list(gaps),
        "nodes": [
            {
                "node": str(info.node),
                "kind": info.node.kind.value,
                "label": info.label,
                "depth": info.depth,
                "created_at": _time(info.created_at),
                "ended_at": _time(info.ended_at),
                "attributes": dict(sorted(info.attributes.items())),
                "columns": [[name, kind] for name, kind in info.columns],
            }
            for info in graph.nodes
        ],
        "edges": [
            {
                "source": str(edge.source),
                "target": str(edge.target),
                "relation": edge.relation.value,
                "created_at": _time(edge.created_at),
            }
            for edge in graph.edges
        ],
    }
