"""Input documents for policy tests: one that every built-in gate lets through in any tier and
environment, and helpers to change a part of it."""

from __future__ import annotations

import copy
from typing import Any

from lockgate.domain.audit import JsonValue


def passing_document(environment: str = "production") -> dict[str, Any]:
    """A promotion of churn version 3 into `environment` that satisfies every built-in
    requirement of every tier (two approvals, a passing evaluation against the current
    version, a complete card, a monitor, a signed package with an SBOM, full metadata)."""
    order = {"dev": 10, "staging": 20, "production": 30}.get(environment, 25)
    previous = {"dev": None, "staging": "dev", "production": "staging"}.get(environment, "staging")
    return {
        "schema": 1,
        "request": {
            "id": "01890f3c2d5a7b8c9d0e1f2a3b4c5d6e",
            "kind": "promotion",
            "requested_by": "user:alice",
            "requested_at": "2026-12-01T10:00:00Z",
            "reason": "better recall on new customers",
        },
        "environment": {"name": environment, "order": order, "previous": previous},
        "model": {
            "name": "churn",
            "project": "retail",
            "tier": "critical",
            "owner": "alice",
            "description": "Predicts churn within 30 days",
            "metadata": {"intended_use": "retention offers"},
            "monitor": "churn-drift",
        },
        "version": {
            "number": 3,
            "author": "user:bob",
            "created_at": "2026-12-01T09:00:00Z",
            "run_id": "01890f3c2d5a7b8c9d0e1f2a3b4c5d6f",
            "description": "",
            "metadata": {},
            "has_signature": True,
            "environments": ["staging"],
            "promoted_to": ["dev", "staging"],
        },
        "package": {"signed": True, "digest": "5f" * 32, "sbom": True},
        "evaluation": {
            "verdict": "pass",
            "comparison_id": "01890f3c2d5a7b8c9d0e1f2a3b4c5d70",
            "baseline_version": 2,
            "baseline_is_current": True,
            "reasons": [],
        },
        "data_validation": [],
        "model_card": {"completeness": 1.0, "missing": []},
        "approvals": [
            {
                "reviewer": "user:carol",
                "approved_at": "2026-12-01T11:00:00Z",
                "expires_at": "2026-12-08T11:00:00Z",
            },
            {
                "reviewer": "user:dave",
                "approved_at": "2026-12-01T12:00:00Z",
                "expires_at": "2026-12-08T12:00:00Z",
            },
        ],
        "exceptions": [],
        "current": {"version": 2},
    }


def patched(document: dict[str, Any], part: str, **fields: JsonValue) -> dict[str, Any]:
    """A copy of `document` with `fields` set in its part `part`."""
    changed = copy.deepcopy(document)
    changed[part].update(fields)
    return changed


def weak_document(environment: str) -> dict[str, Any]:
    """The passing document with every optional requirement unmet: no approvals, no
    comparison, a 40% card, no monitor, no signed package, no `intended_use`; owner and
    description present, and the version promoted through every earlier environment."""
    document = passing_document(environment)
    document["approvals"] = []
    document = patched(
        document,
        "evaluation",
        verdict=None,
        comparison_id=None,
        baseline_version=None,
        baseline_is_current=False,
    )
    document = patched(document, "model_card", completeness=0.4, missing=["limitations"])
    document = patched(document, "model", monitor=None, metadata={})
    return patched(document, "package", signed=False, digest=None, sbom=False)
