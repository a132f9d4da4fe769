"""What a gate check decided: one result per gate, the hash of the input document the
policies saw, and the digest of the policies themselves.

A gate is a Rego package `lockgate.gates.<gate>`; its `deny` set holds the reasons it refuses.
A gate that could not be evaluated (a policy error) fails closed: it carries the error and
blocks, and no exception can waive it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace

from lockgate.domain.audit import JsonValue

__all__ = ["GateResult", "PolicyDecision", "document_sha256"]


def document_sha256(document: Mapping[str, JsonValue]) -> str:
    """The sha256 of a document's canonical JSON (sorted keys, no spaces, UTF-8)."""
    text = json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class GateResult:
    """One gate's answer.

    `source` is `builtin` or `project:<policy>@<version>`. `reasons` are the deny messages
    (empty when the gate passed). `error` is set when the gate could not be evaluated.
    `waived_by` is the id of the exception that let a failed gate pass.
    """

    gate: str
    source: str
    passed: bool
    reasons: tuple[str, ...] = ()
    error: str | None = None
    waived_by: str | None = None

    @property
    def is_blocking(self) -> bool:
        """True when this gate stops the promotion: an error always, a failure unless waived."""
        if self.error is not None:
            return True
        return not self.passed and self.waived_by is None

    def waive(self, exception_id: str) -> GateResult:
        """This failed gate, let pass by an exception; an errored gate stays blocking."""
        if self.passed or self.error is not None:
            return self
        return replace(self, waived_by=exception_id)


@dataclass(frozen=True, slots=True)
class PolicyDecision:
    """The results of every gate evaluated over one input document."""

    results: tuple[GateResult, ...]
    input_sha256: str
    policy_digest: str

    @property
    def allowed(self) -> bool:
        """True when no gate blocks. A decision with no gates at all is not allowed: an empty
        policy set is a misconfiguration, and gates fail closed."""
        return bool(self.results) and not any(r.is_blocking for r in self.results)

    def deny_reasons(self) -> list[str]:
        """Every blocking reason as `gate: message`, errors included."""
        reasons: list[str] = []
        for result in self.results:
            if not result.is_blocking:
                continue
            if result.error is not None:
                reasons.append(f"{result.gate}: policy error: {result.error}")
            reasons.extend(f"{result.gate}: {reason}" for reason in result.reasons)
        return reasons
