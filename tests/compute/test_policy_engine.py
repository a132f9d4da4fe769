"""The policy engine over regopy: gates fail closed on every kind of policy error, the
built-in bundle gives each tier its documented defaults, and the built-in gates' own Rego
tests pass (and can fail)."""

from __future__ import annotations

import itertools
import json
import sys
import venv
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from lockgate.compute.policy import (
    BUILTIN_GATES,
    PolicyModule,
    PolicyTestOutcome,
    builtin_modules,
    builtin_test_modules,
    check_module,
    evaluate_gates,
    input_schema,
    policy_digest,
    run_module_tests,
    tier_requirements,
    worker,
)
from lockgate.compute.policy.modules import (
    code_only,
    find_test_rules,
    gate_name,
    module_package,
    unsupported_constructs,
)
from lockgate.compute.policy.sandbox import run_queries
from lockgate.domain.governance import PolicyDecision, RiskTier, document_sha256
from tests.support.policies import passing_document, patched, weak_document

DOCS = Path(__file__).resolve().parents[2] / "docs"

OK_GATE = PolicyModule(
    "ok.rego",
    'package lockgate.gates.extra\n\ndeny contains "too small" if input.version.number < 2\n',
    "project:extra@1",
)


def _failed(decision: PolicyDecision) -> set[str]:
    return {r.gate for r in decision.results if not r.passed}


def _result(decision: PolicyDecision, gate: str) -> Any:
    (found,) = [r for r in decision.results if r.gate == gate]
    return found


# --- the built-in bundle, tier by tier ------------------------------------------------------

# What fails for the weak document (see tests.support.policies.weak_document).
WEAK_FAILURES = {
    (RiskTier.LOW, "dev"): set(),
    (RiskTier.LOW, "staging"): {"approvals"},
    (RiskTier.LOW, "production"): {"approvals"},
    (RiskTier.MEDIUM, "dev"): set(),
    (RiskTier.MEDIUM, "staging"): {"approvals", "package"},
    (RiskTier.MEDIUM, "production"): {"approvals", "evaluation", "model_card", "package"},
    (RiskTier.HIGH, "dev"): set(),
    (RiskTier.HIGH, "staging"): {"approvals", "evaluation", "package"},
    (RiskTier.HIGH, "production"): {
        "approvals",
        "evaluation",
        "model_card",
        "monitor",
        "package",
        "metadata",
    },
    (RiskTier.CRITICAL, "dev"): {"approvals"},
    (RiskTier.CRITICAL, "staging"): {
        "approvals",
        "evaluation",
        "model_card",
        "package",
        "metadata",
    },
    (RiskTier.CRITICAL, "production"): {
        "approvals",
        "evaluation",
        "model_card",
        "monitor",
        "package",
        "metadata",
    },
}


@pytest.mark.parametrize(("tier", "environment"), sorted(WEAK_FAILURES))
def test_each_tier_requires_its_documented_defaults(tier: RiskTier, environment: str) -> None:
    decision = evaluate_gates(builtin_modules(tier), weak_document(environment))
    assert [r.gate for r in decision.results] == list(BUILTIN_GATES)
    assert all(r.error is None and r.source == "builtin" for r in decision.results)
    assert _failed(decision) == WEAK_FAILURES[(tier, environment)]
    assert decision.allowed is not WEAK_FAILURES[(tier, environment)]


@pytest.mark.parametrize("tier", list(RiskTier))
def test_a_complete_request_passes_every_tier_in_every_environment(tier: RiskTier) -> None:
    for environment in ("dev", "staging", "production", "qa"):
        decision = evaluate_gates(builtin_modules(tier), passing_document(environment))
        assert decision.allowed, (environment, decision.deny_reasons())


@pytest.mark.parametrize("tier", list(RiskTier))
def test_an_environment_not_in_the_table_gets_the_production_requirements(
    tier: RiskTier,
) -> None:
    production = evaluate_gates(builtin_modules(tier), weak_document("production"))
    custom = evaluate_gates(builtin_modules(tier), weak_document("canary"))
    assert _failed(custom) == _failed(production)


def test_critical_counts_distinct_reviewers_other_than_requester_and_author() -> None:
    document = passing_document()
    document["approvals"] = [
        {
            "reviewer": reviewer,
            "approved_at": "2026-12-01T11:00:00Z",
            "expires_at": "2026-12-08T11:00:00Z",
        }
        for reviewer in ("user:alice", "user:bob", "user:carol", "user:carol")
    ]
    decision = evaluate_gates(builtin_modules(RiskTier.CRITICAL), document)
    assert decision.deny_reasons() == [
        "approvals: 1 of 2 required approvals (distinct reviewers, neither the requester nor "
        "the author)"
    ]


def test_a_failed_comparison_is_denied_with_its_reasons() -> None:
    document = patched(passing_document(), "evaluation", verdict="fail", reasons=["auc -0.04"])
    decision = evaluate_gates(builtin_modules(RiskTier.MEDIUM), document)
    reasons = decision.deny_reasons()
    assert reasons == ["evaluation: comparison 01890f3c2d5a7b8c9d0e1f2a3b4c5d70 failed: auc -0.04"]


def test_a_retirement_needs_only_the_approvals() -> None:
    document = weak_document("production")
    document["request"]["kind"] = "retirement"
    document["version"]["promoted_to"] = []
    decision = evaluate_gates(builtin_modules(RiskTier.CRITICAL), document)
    assert _failed(decision) == {"approvals"}


def test_skipping_an_environment_is_denied() -> None:
    document = patched(passing_document(), "version", promoted_to=["dev"])
    decision = evaluate_gates(builtin_modules(RiskTier.LOW), document)
    assert decision.deny_reasons() == [
        "order: version 3 must be promoted to staging before production"
    ]


def test_requirements_never_loosen_with_the_tier_or_the_environment() -> None:
    tiers = list(RiskTier)
    environments = ("dev", "staging", "production")

    def rank(requirement: dict[str, Any]) -> tuple[float, ...]:
        return (
            requirement["approvals"],
            requirement["evaluation"],
            requirement["model_card"],
            requirement["monitor"],
            requirement["package"],
            len(requirement["metadata"]),
        )

    for lower, higher in itertools.pairwise(tiers):
        for environment in environments:
            low = rank(tier_requirements(lower)[environment])
            high = rank(tier_requirements(higher)[environment])
            assert all(a <= b for a, b in zip(low, high, strict=True)), (lower, environment)
    for tier in tiers:
        table = tier_requirements(tier)
        for earlier, later in itertools.pairwise(environments):
            assert all(
                a <= b for a, b in zip(rank(table[earlier]), rank(table[later]), strict=True)
            ), (tier, earlier)


def test_the_plan_defaults_hold() -> None:
    critical = tier_requirements(RiskTier.CRITICAL)
    assert [critical[e]["approvals"] for e in ("dev", "staging", "production")] == [1, 2, 2]
    assert critical["staging"]["evaluation"]
    assert critical["staging"]["model_card"] == 1.0
    assert critical["production"]["monitor"]
    assert not critical["staging"]["monitor"]
    low = tier_requirements(RiskTier.LOW)
    assert [low[e]["approvals"] for e in ("dev", "staging", "production")] == [0, 1, 1]
    medium = tier_requirements(RiskTier.MEDIUM)["production"]
    assert medium["evaluation"]
    assert medium["model_card"] == 0.5
    high = tier_requirements(RiskTier.HIGH)
    assert high["production"]["approvals"] == 2
    assert high["staging"]["evaluation"]


# --- fail closed ------------------------------------------------------------------------------


def test_a_module_that_errors_at_runtime_blocks_with_the_error() -> None:
    conflicting = PolicyModule(
        "conflict.rego",
        "package lockgate.gates.conflict\n\n"
        "limit := input.version.number\nlimit := input.current.version\n\n"
        'deny contains "over" if limit > 10\n',
        "project:conflict@1",
    )
    decision = evaluate_gates([*builtin_modules(RiskTier.LOW), conflicting], passing_document())
    result = _result(decision, "conflict")
    assert result.error is not None
    assert "complete rules must not produce multiple outputs" in result.error
    assert result.source == "project:conflict@1"
    assert not decision.allowed
    # The other gates were still evaluated, and passed.
    assert all(r.passed for r in decision.results if r.gate != "conflict")
    assert decision.deny_reasons() == [f"conflict: policy error: {result.error}"]


def test_a_module_that_does_not_parse_blocks_with_its_location() -> None:
    broken = PolicyModule(
        "project/broken@2.rego",
        "package lockgate.gates.broken\n\ndeny contains msg if { input.x < ; msg := 1 }\n",
        "project:broken@2",
    )
    decision = evaluate_gates([OK_GATE, broken], passing_document())
    result = _result(decision, "broken")
    assert result.error == "project/broken@2.rego:3:32: Invalid boolean operator"
    assert _result(decision, "extra").passed
    assert not decision.allowed


def test_a_strict_builtin_error_is_an_error_not_a_pass() -> None:
    # Without strict built-in errors, sum() of a number is undefined: the gate would pass.
    module = PolicyModule(
        "sum.rego",
        'package lockgate.gates.sums\n\ndeny contains "big" if sum(input.version.number) > 1\n',
    )
    decision = evaluate_gates([module], passing_document())
    assert "sum" in (_result(decision, "sums").error or "")
    assert not decision.allowed


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ('package lockgate.gates.old\n\ndeny[msg] { msg := "x" }\n', "must be a set of strings"),
        ("package lockgate.gates.old\n\ndeny contains 3\n", "must be a set of strings"),
        ("package lockgate.gates.old\n\nallow := true\n", "defines no `deny` rule"),
        ("package lockgate.gates.old\n\ndeny contains x if x := foo(1)\n", "Function not found"),
    ],
)
def test_a_gate_without_a_proper_deny_set_blocks(source: str, error: str) -> None:
    decision = evaluate_gates([PolicyModule("old.rego", source)], passing_document())
    assert error in (_result(decision, "old").error or "")
    assert not decision.allowed


def test_a_module_without_a_gate_package_blocks_under_its_own_name() -> None:
    stray = PolicyModule("stray.rego", "deny contains 1\n", "project:stray@1")
    decision = evaluate_gates([OK_GATE, stray], passing_document())
    result = _result(decision, "stray.rego")
    assert result.error == "no `package` declaration"
    assert not decision.allowed


def test_a_broken_library_module_blocks() -> None:
    library = PolicyModule("lib.rego", "package lockgate.lib\n\nx := \n")
    decision = evaluate_gates([OK_GATE, library], passing_document())
    assert "lib.rego:3" in (_result(decision, "lib.rego").error or "")
    assert not decision.allowed


def test_replacing_the_whole_input_is_refused_before_it_crashes_the_engine() -> None:
    crashing = PolicyModule(
        "with.rego",
        "package lockgate.gates.with_input\n\n"
        'hits contains "a" if input.n < 2\n'
        'deny contains "x" if { count(hits) == 1 with input as {"n": 1} }\n',
    )
    decision = evaluate_gates([OK_GATE, crashing], passing_document())
    assert "crashes the Rego engine" in (_result(decision, "with_input").error or "")
    assert _result(decision, "extra").passed
    assert not decision.allowed


def test_an_engine_crash_is_an_error_on_every_query_and_the_caller_survives() -> None:
    crashing = (
        "t.rego",
        'package t\n\nhits contains "a" if input.n < 2\n'
        'test_a if { count(hits) == 1 with input as {"n": 1} }\n',
    )
    ran = run_queries([crashing], {"n": 0}, [("a", "data.t.hits"), ("b", "data.t.test_a")])
    assert set(ran.answers) == {"a", "b"}
    for answer in ran.answers.values():
        assert answer.status == "error"
        assert "the Rego engine crashed (SIGSEGV)" in (answer.error or "")


def test_a_looping_policy_is_stopped_by_the_time_limit() -> None:
    slow = PolicyModule(
        "slow.rego",
        "package lockgate.gates.slow\n\n"
        'deny contains "x" if count([n | some n in numbers.range(1, 100000000)]) > 0\n',
    )
    late = PolicyModule("late.rego", 'package lockgate.gates.late\n\ndeny contains "late"\n')
    decision = evaluate_gates([OK_GATE, slow, late], passing_document(), timeout=1.0)
    assert _result(decision, "extra").passed  # answered before the slow gate
    assert _result(decision, "slow").error == "evaluation took longer than 1 s and was stopped"
    # The gate after it was answered by a new child.
    assert _result(decision, "late").reasons == ("late",)
    assert not decision.allowed


def test_an_empty_policy_set_is_never_allowed() -> None:
    decision = evaluate_gates([], passing_document())
    assert not decision.allowed
    assert decision.deny_reasons() == ["policies: policy error: no gate policy applies"]


def test_an_unknown_input_schema_blocks_every_gate() -> None:
    document = passing_document()
    document["schema"] = 2
    decision = evaluate_gates(builtin_modules(RiskTier.LOW), document)
    assert all(r.error and "schema 2" in r.error for r in decision.results)


# --- digests ----------------------------------------------------------------------------------


def test_the_decision_pins_its_input_and_its_policies() -> None:
    document = passing_document()
    modules = builtin_modules(RiskTier.HIGH)
    decision = evaluate_gates(modules, document)
    assert decision.input_sha256 == document_sha256(document)
    assert decision.policy_digest == policy_digest(reversed(modules))
    assert policy_digest(builtin_modules(RiskTier.LOW)) != decision.policy_digest
    changed = [*modules[:-1], PolicyModule(modules[-1].name, modules[-1].source + "\n")]
    assert policy_digest(changed) != decision.policy_digest


# --- the compile check ------------------------------------------------------------------------


def test_check_module_reports_what_keeps_a_module_from_compiling() -> None:
    good = "package lockgate.gates.owner\n\nimport data.lockgate.requirements\n\n" + (
        'deny contains "x" if requirements.current.approvals > 5\n'
    )
    assert check_module(good, context=builtin_modules(RiskTier.LOW)) == []
    assert check_module("package lockgate.gates.x\n\ndeny contains 1 if {\n") != []
    assert check_module('package lockgate.gates.x\ndeny contains "a" if foo(1)\n') == [
        "Function not found: foo (wellformed_error)"
    ]
    assert check_module('deny contains "a"\n') == ["no `package` declaration"]


# --- reading modules without a parser ----------------------------------------------------------


def test_comments_and_strings_are_not_code() -> None:
    source = (
        "# package lockgate.gates.fake\npackage lockgate.gates.real # with input as x\n"
        's := "test_no\\" with input as y"\nr := `raw # not a comment`\n'
        "test_yes if true\ntodo_test_later if true\ntest_yes if false\n"
    )
    assert module_package(source) == "lockgate.gates.real"
    assert find_test_rules(source) == ["test_yes", "todo_test_later"]
    assert unsupported_constructs(source) == []
    assert len(code_only(source)) == len(source)
    assert gate_name("lockgate.gates.real") == "real"
    assert gate_name("lockgate.gates.real_test") is None
    assert gate_name("lockgate.requirements") is None


def test_with_values_the_engine_misreads_are_refused() -> None:
    source = (
        "package t\n\nimport data.fixtures\n\nbase := {}\n\n"
        "a if { x := base; g with input.v as x }\n"
        "b if { g with input.v as base }\n"
        "c if { g with input.v as fixtures.request }\n"
        "f(doc) if { g with input.v as doc.v }\n"
    )
    problems = unsupported_constructs(source)
    assert [p.split(":")[0] for p in problems] == ["line 8", "line 9"]


# --- the input document's schema --------------------------------------------------------------


def _documented_example() -> dict[str, Any]:
    text = (DOCS / "reference" / "policy-input.md").read_text()
    block = text.split("<!-- example -->")[1].split("```json")[1].split("```")[0]
    example: dict[str, Any] = json.loads(block)
    return example


def test_the_documented_example_and_the_test_documents_follow_the_schema() -> None:
    schema = input_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for document in (_documented_example(), passing_document(), weak_document("staging")):
        validator.validate(document)
    bad = patched(passing_document(), "request", kind="rollback")
    with pytest.raises(jsonschema.ValidationError, match="rollback"):
        validator.validate(bad)


def test_every_field_of_the_schema_is_documented() -> None:
    text = (DOCS / "reference" / "policy-input.md").read_text()
    schema = input_schema()
    properties = schema["properties"]
    assert isinstance(properties, dict)
    for part, spec in properties.items():
        assert f"`{part}`" in text, part
        assert isinstance(spec, dict)
        nested = spec.get("properties") or spec.get("items", {}).get("properties", {})  # type: ignore[union-attr]
        for field in nested or {}:
            assert f"`{part}.{field}`" in text or f"`{part}[].{field}`" in text, (part, field)


def test_the_documented_example_passes_the_critical_gates_it_says_it_passes() -> None:
    decision = evaluate_gates(builtin_modules(RiskTier.CRITICAL), _documented_example())
    assert _failed(decision) == {"approvals", "evaluation", "model_card", "monitor"}


# --- the built-in gates' own Rego tests ---------------------------------------------------------


def test_the_builtin_gates_pass_their_rego_tests() -> None:
    # The tests set their own requirements table, so one tier's bundle serves them all.
    tests = builtin_test_modules()
    report = run_module_tests(
        [*builtin_modules(RiskTier.CRITICAL), *tests], tested=[module.name for module in tests]
    )
    failures = [r for r in report.results if r.outcome is not PolicyTestOutcome.PASSED]
    assert not failures
    assert report.ok
    assert report.count(PolicyTestOutcome.PASSED) >= 45
    tested = {r.package.removesuffix("_test").rsplit(".", 1)[-1] for r in report.results}
    assert set(BUILTIN_GATES) <= tested


def test_a_wrong_expectation_in_a_rego_test_fails() -> None:
    (approvals,) = [m for m in builtin_test_modules() if m.name.endswith("approvals_test.rego")]
    fixtures = [m for m in builtin_test_modules() if m.name.endswith("fixtures_test.rego")]
    mutated = PolicyModule(
        approvals.name, approvals.source.replace("== short(1)", "== short(2)", 1)
    )
    report = run_module_tests(
        [*builtin_modules(RiskTier.LOW), *fixtures, mutated], tested=[mutated.name]
    )
    failed = [r.name for r in report.results if r.outcome is PolicyTestOutcome.FAILED]
    assert failed == ["test_one_reviewer_is_not_enough"]
    assert not report.ok


def test_without_the_engine_every_gate_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bare = tmp_path / "bare"
    venv.create(bare, with_pip=False)  # a Python without regopy
    monkeypatch.setattr(sys, "executable", str(bare / "bin" / "python"))
    decision = evaluate_gates([OK_GATE], passing_document())
    assert decision.deny_reasons() == [
        "extra: policy error: regopy is not installed (install lockgate[server])"
    ]


def test_rego_cpp_error_text_becomes_located_messages() -> None:
    source = "package p\n\nx := é + \n"
    offset = len(source[: source.index("+")].encode())  # rego-cpp counts bytes
    text = (
        f"(rego-errorseq\n  (error 6:m.rego|{offset}|1\n    (errormsg 22:Invalid (odd) operator)"
        "\n    (errorast |1|1)\n    (rego-errorcode)))"
    )
    assert worker.parse_error_text(text, {"m.rego": source}) == (
        "m.rego:3:8: Invalid (odd) operator"
    )
    assert worker.parse_error_text("something else", {}) == "something else"


def test_a_policy_cannot_read_the_servers_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCKGATE_TEST_SECRET", "hunter2")
    ran = run_queries([("t.rego", "package t\n\nr := opa.runtime()\n")], None, [("r", "data.t.r")])
    runtime = ran.answers["r"].value
    assert isinstance(runtime, dict)
    # Only what Python's locale coercion (PEP 538) sets in the child itself.
    assert set(runtime["env"]) <= {"LC_CTYPE"}
