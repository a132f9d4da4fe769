"""Policy unit tests in the OPA style: every rule named `test_*` is a test, and it passes
when it evaluates to `true` (undefined or any other value fails; an error is an error).
`todo_test_*` rules are reported as skipped.

All modules of a run load into one interpreter, as `opa test DIR` does, so tests import the
policies they test (`import data.lockgate.gates.approvals`) and build inputs with `with`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from lockgate.compute.policy.modules import (
    PolicyModule,
    find_test_rules,
    module_package,
    unsupported_constructs,
)
from lockgate.compute.policy.sandbox import DEFAULT_TIMEOUT, Answer, run_queries

__all__ = [
    "PolicyTestOutcome",
    "PolicyTestReport",
    "PolicyTestResult",
    "find_rego_files",
    "run_module_tests",
    "run_policy_tests",
]


class PolicyTestOutcome(StrEnum):
    """How one policy test ended."""

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class PolicyTestResult:
    """One test rule's outcome (`name` is `<load>` for a module that did not load)."""

    module: str
    package: str
    name: str
    outcome: PolicyTestOutcome
    message: str | None = None


@dataclass(frozen=True, slots=True)
class PolicyTestReport:
    """Every test's outcome, in file then definition order."""

    results: tuple[PolicyTestResult, ...]

    def count(self, outcome: PolicyTestOutcome) -> int:
        """How many tests ended with `outcome`."""
        return sum(1 for result in self.results if result.outcome is outcome)

    @property
    def ok(self) -> bool:
        """True when at least one test ran and none failed or errored."""
        return self.count(PolicyTestOutcome.PASSED) > 0 and not any(
            r.outcome in (PolicyTestOutcome.FAILED, PolicyTestOutcome.ERROR) for r in self.results
        )


def find_rego_files(paths: Iterable[Path]) -> list[Path]:
    """The `.rego` files named by `paths`: files as given, folders searched recursively."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*.rego") if p.is_file()))
        elif path.is_file():
            found.append(path)
        else:
            raise FileNotFoundError(f"no such file or folder: {path}")
    return list(dict.fromkeys(found))


def run_policy_tests(
    paths: Sequence[Path],
    *,
    extra: Sequence[PolicyModule] = (),
    timeout: float = DEFAULT_TIMEOUT,
) -> PolicyTestReport:
    """Run the tests of every `.rego` file under `paths`, with `extra` modules loaded too
    (e.g. the built-in bundle of a tier, so a project policy can import the requirements)."""
    modules = [PolicyModule(str(path), path.read_text("utf-8")) for path in find_rego_files(paths)]
    return run_module_tests([*extra, *modules], tested=[m.name for m in modules], timeout=timeout)


def run_module_tests(
    modules: Sequence[PolicyModule],
    *,
    tested: Sequence[str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> PolicyTestReport:
    """Run the test rules of the modules named in `tested` (all by default), every module
    of `modules` loaded."""
    names = set(tested) if tested is not None else {m.name for m in modules}
    refused = {m.name: "; ".join(p) for m in modules if (p := unsupported_constructs(m.source))}
    queries: dict[str, str] = {}
    for module in modules:
        package = module_package(module.source)
        if module.name in names and module.name not in refused and package is not None:
            for rule in find_test_rules(module.source):
                if rule.startswith("todo_"):
                    continue
                path = "".join(f'["{part}"]' for part in [*package.split("."), rule])
                queries.setdefault(_key(package, rule), f"data{path}")
    loadable = [(m.name, m.source) for m in modules if m.name not in refused]
    ran = run_queries(loadable, None, list(queries.items()), timeout=timeout)
    errors = {**ran.module_errors, **refused}
    results: list[PolicyTestResult] = []
    reported: set[str] = set()
    for module in modules:
        package = module_package(module.source)
        if module.name in errors or (module.name in names and package is None):
            message = errors.get(module.name, "no `package` declaration")
            results.append(
                PolicyTestResult(
                    module.name, package or "?", "<load>", PolicyTestOutcome.ERROR, message
                )
            )
            continue
        if module.name not in names or package is None:
            continue
        for rule in find_test_rules(module.source):
            key = _key(package, rule)
            if key not in reported:
                reported.add(key)
                results.append(_result(module.name, package, rule, ran.answers.get(key)))
    return PolicyTestReport(tuple(results))


def _key(package: str, rule: str) -> str:
    return json.dumps([package, rule])


def _result(module: str, package: str, rule: str, answer: Answer | None) -> PolicyTestResult:
    if rule.startswith("todo_"):
        return PolicyTestResult(module, package, rule, PolicyTestOutcome.SKIPPED)
    if answer is None or answer.status == "error":
        message = answer.error if answer is not None else "not evaluated"
        return PolicyTestResult(module, package, rule, PolicyTestOutcome.ERROR, message)
    if answer.status == "value" and answer.value is True:
        return PolicyTestResult(module, package, rule, PolicyTestOutcome.PASSED)
    message = (
        "undefined" if answer.status == "undefined" else f"evaluated to {json.dumps(answer.value)}"
    )
    return PolicyTestResult(module, package, rule, PolicyTestOutcome.FAILED, message)
