"""Gate evaluation: every gate package's `deny` set over one input document, as a
`PolicyDecision`; and the compile check of a single module.

Fail closed throughout: a module that does not load, a gate whose `deny` errors, is not a set
of strings, or is missing, a crash or a time-out, each becomes that gate's `error`; a broken
module that belongs to no gate becomes a result of its own; and a set without any gate gets
one errored result, so that a decision is never allowed by default.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from importlib import resources

from lockgate.compute.policy.modules import (
    PolicyModule,
    gate_name,
    module_package,
    policy_digest,
    unsupported_constructs,
)
from lockgate.compute.policy.sandbox import DEFAULT_TIMEOUT, Answer, run_queries
from lockgate.domain.audit import JsonValue
from lockgate.domain.governance import GateResult, PolicyDecision, document_sha256

__all__ = ["INPUT_SCHEMA_VERSION", "check_module", "deny_query", "evaluate_gates", "input_schema"]

# The `schema` field every input document carries (see input.schema.json).
INPUT_SCHEMA_VERSION = 1


def input_schema() -> dict[str, JsonValue]:
    """The JSON Schema of the input document (`input.schema.json`, shipped with the package)."""
    text = resources.files("lockgate.compute.policy").joinpath("input.schema.json").read_text()
    schema: dict[str, JsonValue] = json.loads(text)
    return schema


def deny_query(gate: str) -> str:
    """The query of a gate's deny set (bracketed: a gate may be named like a keyword)."""
    return f'data.lockgate.gates["{gate}"].deny'


def evaluate_gates(
    modules: Sequence[PolicyModule],
    document: Mapping[str, JsonValue],
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> PolicyDecision:
    """Evaluate every gate of `modules` over the input `document` in one interpreter.

    Results come in the order gates first appear in `modules`, then one errored result per
    broken module that belongs to no gate; reasons are sorted. Never raises for anything a
    policy does.
    """
    gates: dict[str, list[PolicyModule]] = {}
    strays: list[PolicyModule] = []
    for module in modules:
        gate = gate_name(module_package(module.source))
        if gate is None:
            strays.append(module)
        else:
            gates.setdefault(gate, []).append(module)
    refused = {m.name: "; ".join(p) for m in modules if (p := unsupported_constructs(m.source))}
    for module in strays:
        if module_package(module.source) is None:
            refused.setdefault(module.name, "no `package` declaration")
    answers, errors = _run(modules, refused, list(gates), document, timeout)
    results = [_gate_result(gate, members, answers, errors) for gate, members in gates.items()]
    results.extend(
        GateResult(m.name, m.origin, passed=False, error=errors[m.name])
        for m in strays
        if m.name in errors
    )
    if not results:
        results.append(
            GateResult("policies", "engine", passed=False, error="no gate policy applies")
        )
    return PolicyDecision(
        results=tuple(results),
        input_sha256=document_sha256(document),
        policy_digest=policy_digest(modules),
    )


def _run(
    modules: Sequence[PolicyModule],
    refused: Mapping[str, str],
    gates: Sequence[str],
    document: Mapping[str, JsonValue],
    timeout: float,
) -> tuple[dict[str, Answer], dict[str, str]]:
    """Every gate's answer, and the load errors by module name (refusals included)."""
    schema = document.get("schema")
    if schema != INPUT_SCHEMA_VERSION:
        error = f"input document schema {schema!r} is not supported (expected 1)"
        return {gate: Answer("error", error=error) for gate in gates}, dict(refused)
    loadable = [(m.name, m.source) for m in modules if m.name not in refused]
    queries = [(gate, deny_query(gate)) for gate in gates]
    ran = run_queries(loadable, document, queries, timeout=timeout)
    return ran.answers, {**ran.module_errors, **refused}


def _gate_result(
    gate: str, members: list[PolicyModule], outcome: Mapping[str, Answer], errors: Mapping[str, str]
) -> GateResult:
    source = ", ".join(dict.fromkeys(m.origin for m in members))
    broken = [f"{errors[m.name]}" for m in members if m.name in errors]
    if broken:
        return GateResult(gate, source, passed=False, error="; ".join(broken))
    answer = outcome.get(gate, Answer("error", error="not evaluated"))
    if answer.status == "error":
        return GateResult(gate, source, passed=False, error=answer.error or "evaluation failed")
    if answer.status == "undefined":
        return GateResult(gate, source, passed=False, error="the package defines no `deny` rule")
    value = answer.value
    if not isinstance(value, list) or not all(isinstance(r, str) for r in value):
        return GateResult(gate, source, passed=False, error="`deny` must be a set of strings")
    reasons = tuple(sorted(str(r) for r in value))
    return GateResult(gate, source, passed=not reasons, reasons=reasons)


def check_module(
    source: str,
    *,
    name: str = "policy.rego",
    context: Sequence[PolicyModule] = (),
    timeout: float = DEFAULT_TIMEOUT,
) -> list[str]:
    """Errors that keep `source` from loading or compiling next to `context` (the modules it
    may import, e.g. the built-in bundle); empty when it is fine.

    Every rule of the module's package is evaluated once without an input, which compiles
    them all; errors that depend on the input (conflicting values) only show on evaluation.
    """
    problems = unsupported_constructs(source)
    package = module_package(source)
    if package is None:
        problems.append("no `package` declaration")
    if problems:
        return problems
    modules = [(m.name, m.source) for m in context if m.name != name]
    modules.append((name, source))
    path = "".join(f'["{part}"]' for part in str(package).split("."))
    ran = run_queries(modules, None, [("package", f"data{path}")], timeout=timeout)
    if ran.module_errors:
        return [error for _, error in sorted(ran.module_errors.items())]
    answer = ran.answers["package"]
    return [answer.error or "evaluation failed"] if answer.status == "error" else []
