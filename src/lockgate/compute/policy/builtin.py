"""The built-in bundle: one Rego module per gate under `builtin/`, the shared requirements
logic, and a module generated from `builtin/requirements.json` with one tier's table.

The table is rendered as Rego (`environments := {...}`, JSON being valid Rego), so a tier's
requirements are part of the modules and of their digest: a decision's `policy_digest` pins
the exact requirements it applied.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from lockgate.compute.policy.modules import PolicyModule
from lockgate.domain.governance import RiskTier

__all__ = [
    "BUILTIN_GATES",
    "REQUIREMENT_KEYS",
    "builtin_modules",
    "builtin_test_modules",
    "tier_requirements",
]

BUILTIN_GATES = (
    "order",
    "approvals",
    "evaluation",
    "model_card",
    "monitor",
    "metadata",
    "package",
)
REQUIREMENT_KEYS = ("approvals", "evaluation", "model_card", "monitor", "package", "metadata")
BUILTIN_PREFIX = "builtin/"


def _read(name: str) -> str:
    return (
        resources.files("lockgate.compute.policy")
        .joinpath("builtin")
        .joinpath(name)
        .read_text("utf-8")
    )


@cache
def _requirements() -> dict[str, dict[str, dict[str, object]]]:
    table: dict[str, dict[str, dict[str, object]]] = json.loads(_read("requirements.json"))
    return table


def tier_requirements(tier: RiskTier) -> dict[str, dict[str, object]]:
    """The built-in requirements of `tier`, by environment (a copy: change it freely)."""
    return json.loads(json.dumps(_requirements()[tier.value]))  # type: ignore[no-any-return]


@cache
def builtin_modules(tier: RiskTier) -> tuple[PolicyModule, ...]:
    """The built-in bundle for `tier`: every built-in gate, the requirements logic, and the
    tier's requirements table."""
    table = json.dumps(_requirements()[tier.value], indent="\t", sort_keys=True)
    generated = (
        f"# The built-in requirements of risk tier {tier.value}, generated from"
        " requirements.json.\n"
        "package lockgate.requirements\n\n"
        f'tier := "{tier.value}"\n\n'
        f"environments := {table}\n"
    )
    return (
        *(
            PolicyModule(f"{BUILTIN_PREFIX}{gate}.rego", _read(f"{gate}.rego"))
            for gate in BUILTIN_GATES
        ),
        PolicyModule(f"{BUILTIN_PREFIX}requirements.rego", _read("requirements.rego")),
        PolicyModule(f"{BUILTIN_PREFIX}requirements/{tier.value}.rego", generated),
    )


def builtin_test_modules() -> tuple[PolicyModule, ...]:
    """The Rego unit tests of the built-in gates (`builtin/*_test.rego`)."""
    folder = resources.files("lockgate.compute.policy").joinpath("builtin")
    names = sorted(entry.name for entry in folder.iterdir() if entry.name.endswith("_test.rego"))
    return tuple(PolicyModule(f"{BUILTIN_PREFIX}{name}", _read(name)) for name in names)
