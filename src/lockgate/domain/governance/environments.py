"""Environments (dev, staging, production and any a platform admin defines, each with an
order), the version of a model current in each, and the append-only history of every change.

An environment's name doubles as the registry alias that names its current version
(`churn@production`), so it follows the alias rules; only a promotion moves it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from lockgate.domain.errors import InvalidInputError
from lockgate.domain.identity import Actor
from lockgate.domain.names import check_alias, check_text
from lockgate.domain.registry import ModelId

__all__ = [
    "MAX_ENVIRONMENT_ORDER",
    "CurrentVersion",
    "Environment",
    "EnvironmentChange",
    "last_environment",
    "previous_environment",
]

MAX_ENVIRONMENT_ORDER = 1_000_000
MAX_DESCRIPTION_LENGTH = 1024


@dataclass(frozen=True, slots=True)
class Environment:
    """A stage a model version passes through. A lower `order` comes first: a version
    reaches an environment after the one just below it (unless a policy says otherwise)."""

    name: str
    order: int
    description: str
    created_at: datetime
    created_by: Actor

    @staticmethod
    def check(name: str, order: int, description: str) -> None:
        """Raises InvalidInputError naming `name`, `order` or `description`."""
        check_alias(name, field="name")
        if isinstance(order, bool) or not 1 <= order <= MAX_ENVIRONMENT_ORDER:
            raise InvalidInputError(
                f"order must be a whole number from 1 to {MAX_ENVIRONMENT_ORDER}", field="order"
            )
        check_text(description, field="description", max_length=MAX_DESCRIPTION_LENGTH)


def previous_environment(
    environments: Iterable[Environment], target: Environment
) -> Environment | None:
    """The environment just before `target` (the highest order below its), or None."""
    below = [e for e in environments if e.order < target.order]
    return max(below, key=lambda e: e.order, default=None)


def last_environment(environments: Iterable[Environment]) -> Environment | None:
    """The environment with the highest order (production, by default), or None."""
    return max(environments, key=lambda e: e.order, default=None)


@dataclass(frozen=True, slots=True)
class CurrentVersion:
    """The version of a model current in one environment, since when, and the request that
    put it there. `row_version` grows with every move (compare-and-set)."""

    model_id: ModelId
    model_name: str
    environment: str
    version: int
    since: datetime
    request_id: str | None
    row_version: int


@dataclass(frozen=True, slots=True)
class EnvironmentChange:
    """One move of an environment's current version of a model; the history is append-only.

    `version` is None when the model left the environment (decommissioning). `requested_by`
    asked for the move and `changed_by` made it happen (the last approval, a check, or the
    request itself when no approval was needed). `request_id` and `decision_id` name the
    promotion request and the gate decision that allowed it.
    """

    id: str
    model_id: ModelId
    model_name: str
    environment: str
    version: int | None
    previous_version: int | None
    request_id: str | None
    decision_id: str | None
    reason: str
    requested_by: Actor
    changed_at: datetime
    changed_by: Actor
