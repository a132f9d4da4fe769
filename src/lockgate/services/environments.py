"""Environment use cases: defining environments, reading which version of a model is current
in each and the full history of what was current when, and setting a model's risk tier."""

from __future__ import annotations

from datetime import datetime

from lockgate.domain.access import Caller, Permission
from lockgate.domain.errors import ConflictError, InvalidInputError
from lockgate.domain.governance.environments import CurrentVersion, Environment, EnvironmentChange
from lockgate.domain.governance.promotions import ModelGovernance, check_monitor, parse_tier
from lockgate.domain.identity import Actor
from lockgate.domain.names import check_alias
from lockgate.domain.registry import RegisteredModel
from lockgate.services.context import ServiceContext
from lockgate.store.protocols import UnitOfWork

__all__ = ["EnvironmentService", "governance_of"]


def governance_of(uow: UnitOfWork, model: RegisteredModel) -> ModelGovernance:
    """A model's tier and monitor, the defaults (medium, none) when never set."""
    found = uow.environments.get_governance(model.id)
    return found if found is not None else ModelGovernance(model.id, model.name)


class EnvironmentService:
    """Environments, what is current in each, its history, and models' risk tiers."""

    def __init__(self, context: ServiceContext) -> None:
        self._ctx = context

    def list_environments(self) -> list[Environment]:
        """Every environment, by order (public to every authenticated caller: environment
        names and their order are platform configuration, not project data)."""
        with self._ctx.uow(read_only=True) as uow:
            return uow.environments.list_environments()

    def create_environment(
        self, caller: Caller, name: str, order: int, description: str
    ) -> Environment:
        """Define an environment (platform admins).

        Its name becomes the registry alias of each model's current version there, so a name
        some model already uses as an alias is refused.

        Raises:
            InvalidInputError: The name, order or description breaks a rule.
            AlreadyExistsError: The name or the order is taken.
            ConflictError: A model has an alias of that name.
        """
        Environment.check(name, order, description)
        with self._ctx.uow() as uow:
            self._ctx.authorize(
                uow, caller, Permission.ENVIRONMENT_MANAGE, subject=("environment", name)
            )
            holders = uow.environments.count_alias_holders(name)
            if holders:
                raise ConflictError(
                    f"{holders} model(s) have an alias {name!r}; an environment's name is the "
                    "alias only promotions move, so delete those aliases first"
                )
            environment = Environment(name, order, description, self._ctx.clock.now(), caller.actor)
            uow.environments.add_environment(environment)
            self._ctx.record(
                uow,
                "environment.created",
                caller,
                ("environment", name),
                {"order": order, "description": description},
            )
            uow.commit()
        return environment

    def current_versions(self, caller: Caller, model_name: str) -> list[CurrentVersion]:
        """Which version of a model is current in each environment (by environment name)."""
        with self._ctx.uow(read_only=True) as uow:
            model = self._ctx.authorized_model(uow, caller, model_name, Permission.PROJECT_READ)
            return uow.environments.current_of_model(model.id)

    def history(
        self,
        caller: Caller,
        model_name: str,
        environment: str | None = None,
        version: int | None = None,
    ) -> list[EnvironmentChange]:
        """Every change of what was current, for a model (in one environment, of one
        version), oldest first: who asked, who made it happen, why, the request and the gate
        decision behind it."""
        if environment is not None:
            check_alias(environment, field="environment")
        with self._ctx.uow(read_only=True) as uow:
            model = self._ctx.authorized_model(uow, caller, model_name, Permission.PROJECT_READ)
            if environment is not None:
                uow.environments.get_environment(environment)
            if version is not None:
                uow.models.get_version(model.name, version)
            return uow.environments.history(model.id, environment, version)

    def live_at(
        self, caller: Caller, model_name: str, environment: str, at: datetime
    ) -> EnvironmentChange | None:
        """The change in force in an environment at moment `at` (what was live then, who put
        it there and why), or None when no version was current then."""
        check_alias(environment, field="environment")
        if at.tzinfo is None:
            raise InvalidInputError("at must carry a timezone", field="at")
        with self._ctx.uow(read_only=True) as uow:
            model = self._ctx.authorized_model(uow, caller, model_name, Permission.PROJECT_READ)
            uow.environments.get_environment(environment)
            change = uow.environments.change_at(model.id, environment, at)
            return None if change is None or change.version is None else change

    def get_governance(self, caller: Caller, model_name: str) -> ModelGovernance:
        """A model's risk tier and monitor (medium and none until set)."""
        with self._ctx.uow(read_only=True) as uow:
            model = self._ctx.authorized_model(uow, caller, model_name, Permission.PROJECT_READ)
            return governance_of(uow, model)

    def set_tier(
        self, caller: Caller, model_name: str, tier: str, monitor: str | None
    ) -> ModelGovernance:
        """Set a model's risk tier and monitor (None: no monitor), audited; needs
        `project.manage`.

        Raises:
            InvalidInputError: An unknown tier or a bad monitor (`field` says which).
            ConflictError: Someone else changed them meanwhile.
        """
        risk = parse_tier(tier)
        watched = check_monitor(monitor)
        with self._ctx.uow() as uow:
            model = self._ctx.authorized_model(uow, caller, model_name, Permission.PROJECT_MANAGE)
            before = governance_of(uow, model)
            after = ModelGovernance(
                model.id,
                model.name,
                risk,
                watched,
                self._ctx.clock.now(),
                Actor(caller.actor),
                before.row_version + 1,
            )
            uow.environments.save_governance(after)
            self._ctx.record(
                uow,
                "model.tier_set",
                caller,
                ("model", model.name),
                {
                    "tier": risk.value,
                    "previous_tier": before.tier.value,
                    "monitor": watched,
                    "previous_monitor": before.monitor,
                },
            )
            uow.commit()
        return after
