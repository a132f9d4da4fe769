"""A governed world for promotion tests: a project with a model and versions, principals
holding each role, services on a clock the test moves, and gate policies written here in Rego
(evaluated by the real policy engine)."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import resources

import jsonschema

from lockgate.compute.policy import PolicyModule, evaluate_gates
from lockgate.domain.access import Caller, PrincipalKind, Role
from lockgate.domain.audit import JsonValue
from lockgate.domain.governance.decisions import PolicyDecision
from lockgate.domain.governance.promotions import GovernanceRules
from lockgate.domain.governance.tiers import RiskTier
from lockgate.domain.identity import Actor, SystemClock, Uuid7Factory
from lockgate.domain.tracking import ProjectId, RunEnvironment
from lockgate.server.composition import Platform
from lockgate.services import (
    EnvironmentService,
    GateExceptionService,
    PromotionService,
    ScoredVersion,
    ServiceContext,
)
from lockgate.store.protocols import UnitOfWork
from tests.support.evaluations import HOLDOUT, binary_config, binary_report, pair

ALICE = Caller.local(Actor("user:alice"))

APPROVALS_GATE = """
package lockgate.gates.approvals

needed := {"low": 0, "medium": 1, "high": 2, "critical": 2}[input.model.tier]

deny contains msg if {
	count(input.approvals) < needed
	msg := sprintf("%d of %d approvals", [count(input.approvals), needed])
}
"""

EVALUATION_GATE = """
package lockgate.gates.evaluation

passing if {
	input.evaluation.verdict == "pass"
	input.evaluation.baseline_is_current == true
}

deny contains "no passing comparison against the version to beat" if {
	input.model.tier == "critical"
	not passing
}
"""

ORDER_GATE = """
package lockgate.gates.order

deny contains msg if {
	previous := input.environment.previous
	previous != null
	not previous in input.version.promoted_to
	msg := sprintf("never promoted to %s", [previous])
}
"""

BROKEN_GATE = """
package lockgate.gates.broken

deny contains msg if {
	msg := input.no.such.thing + 1
"""

GATES = {
    "approvals": APPROVALS_GATE,
    "evaluation": EVALUATION_GATE,
    "order": ORDER_GATE,
    "broken": BROKEN_GATE,
}


def input_schema_errors(document: Mapping[str, JsonValue]) -> list[str]:
    """Where `document` breaks the published policy input JSON Schema (empty when valid)."""
    text = resources.files("lockgate.compute.policy").joinpath("input.schema.json").read_text()
    validator = jsonschema.Draft202012Validator(
        json.loads(text), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    return sorted(error.message for error in validator.iter_errors(document))


class FakeClock:
    """A clock the test moves; starts at the wall clock's now."""

    def __init__(self) -> None:
        self.moment = SystemClock().now()

    def now(self) -> datetime:
        return self.moment

    def advance(self, delta: timedelta) -> None:
        self.moment += delta


@dataclass
class TestGates:
    """The gate evaluator the services get: the Rego modules named in `gates`, evaluated by
    the policy engine; `seen` keeps every input document."""

    gates: tuple[str, ...] = ("approvals", "evaluation")
    seen: list[Mapping[str, JsonValue]] = field(default_factory=list)

    __test__ = False

    def __call__(
        self,
        uow: UnitOfWork,
        project_id: ProjectId,
        tier: RiskTier,
        document: Mapping[str, JsonValue],
    ) -> PolicyDecision:
        self.seen.append(document)
        modules = [PolicyModule(f"test/{gate}.rego", GATES[gate]) for gate in self.gates]
        return evaluate_gates(modules, document)


@dataclass
class Governed:
    """The services under test and who may act."""

    platform: Platform
    clock: FakeClock
    gates: TestGates
    promotions: PromotionService
    environments: EnvironmentService
    exceptions: GateExceptionService
    callers: dict[str, Caller]
    digests: dict[int, str]

    def caller(self, name: str) -> Caller:
        return self.callers[name]

    def pass_comparison(self, candidate: int = 2, baseline: int = 1) -> str:
        """Record a passing comparison of `candidate` against `baseline`; its id."""
        comparison = self.platform.evaluations.compare(
            ALICE,
            "clf",
            HOLDOUT,
            binary_config(),
            ScoredVersion(candidate, self.digests[candidate]),
            ScoredVersion(baseline, self.digests[baseline]),
            pair(binary_report(0.81), binary_report(0.8)),
            None,
            None,
            "test-engine 1.0",
        )
        assert comparison.verdict.passed
        return comparison.id

    def fail_comparison(self, candidate: int = 2, baseline: int = 1) -> str:
        comparison = self.platform.evaluations.compare(
            ALICE,
            "clf",
            HOLDOUT,
            binary_config(),
            ScoredVersion(candidate, self.digests[candidate]),
            ScoredVersion(baseline, self.digests[baseline]),
            pair(binary_report(0.7), binary_report(0.8)),
            None,
            None,
            "test-engine 1.0",
        )
        assert not comparison.verdict.passed
        return comparison.id


# Who is who: name -> project roles on `churn`.
PEOPLE: dict[str, tuple[Role, ...]] = {
    "erin": (Role.CONTRIBUTOR,),  # asks for promotions
    "carol": (Role.REVIEWER,),
    "dave": (Role.REVIEWER,),
    "rita": (Role.REVIEWER, Role.CONTRIBUTOR),  # registers version 3: its author
    "vic": (Role.VIEWER,),
    "pat": (Role.ADMIN,),
    "eve": (),  # no role on the project
}


def build_governed(platform: Platform, rules: GovernanceRules | None = None) -> Governed:
    """Project `churn`, model `clf` (owner, description, intended use) with versions 1 and 2
    registered by alice and version 3 by rita, and the people of PEOPLE."""
    platform.tracking.create_project(ALICE, "churn")
    platform.registry.create_model(
        ALICE, "churn", "clf", "growth", "churn model", {"intended_use": "retention offers"}
    )
    run_id = platform.tracking.start_run(ALICE, "churn", "r", {}, RunEnvironment()).run.id
    platform.artifacts.upload(ALICE, run_id, "model/m.json", io.BytesIO(b"{}"))
    callers: dict[str, Caller] = {"alice": ALICE}
    for name, roles in PEOPLE.items():
        platform.principals.create(ALICE, PrincipalKind.USER, name)
        for role in roles:
            platform.principals.grant(ALICE, "churn", f"user:{name}", role)
        secret = platform.credentials.issue_token(ALICE, f"user:{name}", "t").secret
        callers[name] = platform.credentials.authenticate_token(secret)
    for _ in range(2):
        platform.registry.create_version(ALICE, "clf", run_id, "model", None, "", {})
    platform.registry.create_version(callers["rita"], "clf", run_id, "model", None, "", {})
    digests = {n: platform.packages.manifest(ALICE, "clf", n)[0].digest for n in (1, 2, 3)}
    clock = FakeClock()
    context = ServiceContext(platform.store.unit_of_work, clock, Uuid7Factory())
    gates = TestGates()
    rules = rules or GovernanceRules()
    return Governed(
        platform=platform,
        clock=clock,
        gates=gates,
        promotions=PromotionService(context, rules, gates),
        environments=EnvironmentService(context),
        exceptions=GateExceptionService(context, rules),
        callers=callers,
        digests=digests,
    )
