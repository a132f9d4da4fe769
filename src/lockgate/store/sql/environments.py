"""SqlEnvironmentRepository: environments, the version of each model current in each (moved
by compare-and-set), the append-only history of every move, and models' risk tiers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from lockgate.domain.errors import AlreadyExistsError, ConflictError, NotFoundError
from lockgate.domain.governance.environments import (
    CurrentVersion,
    Environment,
    EnvironmentChange,
)
from lockgate.domain.governance.promotions import ModelGovernance
from lockgate.domain.governance.tiers import RiskTier
from lockgate.domain.identity import Actor
from lockgate.domain.registry import ModelId
from lockgate.store.sql.codec import from_micros, to_micros, translate_integrity
from lockgate.store.sql.tables import (
    environment_current,
    environment_history,
    environments,
    model_aliases,
    model_governance,
    registered_models,
)

__all__ = ["SqlEnvironmentRepository"]

_current = environment_current
_history = environment_history
_models = registered_models


class SqlEnvironmentRepository:
    """Environments in `environments`, current versions in `environment_current` (one row
    per model and environment, with a row version), their history in `environment_history`
    and tiers in `model_governance`.

    Args:
        connection: the unit of work's connection, inside its transaction.
    """

    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection

    def add_environment(self, environment: Environment) -> None:
        taken = self._connection.execute(
            sa.select(environments.c.name).where(environments.c.order == environment.order)
        ).scalar_one_or_none()
        if taken is not None:
            raise AlreadyExistsError(
                f"environment {taken!r} already has order {environment.order}", field="order"
            )
        with translate_integrity(
            self._connection,
            duplicate=f"environment {environment.name!r} already exists",
            field="name",
        ):
            self._connection.execute(
                environments.insert(),
                {
                    "name": environment.name,
                    "order": environment.order,
                    "description": environment.description,
                    "created_at": to_micros(environment.created_at),
                    "created_by": environment.created_by,
                },
            )

    def get_environment(self, name: str) -> Environment:
        row = (
            self._connection.execute(sa.select(environments).where(environments.c.name == name))
            .mappings()
            .first()
        )
        if row is None:
            raise NotFoundError(f"environment {name!r} does not exist")
        return _environment(row)

    def list_environments(self) -> list[Environment]:
        rows = self._connection.execute(sa.select(environments).order_by(environments.c.order))
        return [_environment(row) for row in rows.mappings()]

    def count_alias_holders(self, alias: str) -> int:
        return int(
            self._connection.execute(
                sa.select(sa.func.count())
                .select_from(model_aliases)
                .where(model_aliases.c.alias == alias)
            ).scalar_one()
        )

    def current(self, model_id: ModelId, environment: str) -> CurrentVersion | None:
        found = self._load_current(
            _current_query().where(
                _current.c.model_id == model_id, _current.c.environment == environment
            )
        )
        return found[0] if found else None

    def current_of_model(self, model_id: ModelId) -> list[CurrentVersion]:
        return self._load_current(
            _current_query().where(_current.c.model_id == model_id).order_by(_current.c.environment)
        )

    def move_current(self, change: EnvironmentChange, *, expected_row_version: int | None) -> None:
        key = (_current.c.model_id == change.model_id, _current.c.environment == change.environment)
        conflict = ConflictError(
            f"the version of {change.model_name} current in {change.environment} changed while "
            "this promotion was decided; check the request again"
        )
        if expected_row_version is None:
            if change.version is None:
                raise conflict
            row = {
                "model_id": change.model_id,
                "environment": change.environment,
                "version": change.version,
                "since": to_micros(change.changed_at),
                "request_id": change.request_id,
                "row_version": 1,
            }
            try:
                with translate_integrity(self._connection, duplicate="taken"):
                    self._connection.execute(_current.insert(), row)
            except AlreadyExistsError:
                raise conflict from None
        else:
            stale = _current.c.row_version == expected_row_version
            if change.version is None:
                statement: Any = _current.delete().where(*key, stale)
            else:
                statement = (
                    _current.update()
                    .where(*key, stale)
                    .values(
                        version=change.version,
                        since=to_micros(change.changed_at),
                        request_id=change.request_id,
                        row_version=expected_row_version + 1,
                    )
                )
            if self._connection.execute(statement).rowcount != 1:
                raise conflict
        self._connection.execute(_history.insert(), _change_row(change))

    def history(
        self, model_id: ModelId, environment: str | None = None, version: int | None = None
    ) -> list[EnvironmentChange]:
        query = (
            _history_query()
            .where(_history.c.model_id == model_id)
            .order_by(_history.c.changed_at, _history.c.id)
        )
        if environment is not None:
            query = query.where(_history.c.environment == environment)
        if version is not None:
            query = query.where(_history.c.version == version)
        return [_change(row) for row in self._connection.execute(query).mappings()]

    def change_at(
        self, model_id: ModelId, environment: str, at: datetime
    ) -> EnvironmentChange | None:
        query = (
            _history_query()
            .where(
                _history.c.model_id == model_id,
                _history.c.environment == environment,
                _history.c.changed_at <= to_micros(at),
            )
            .order_by(_history.c.changed_at.desc(), _history.c.id.desc())
            .limit(1)
        )
        row = self._connection.execute(query).mappings().first()
        return None if row is None else _change(row)

    def get_governance(self, model_id: ModelId) -> ModelGovernance | None:
        row = (
            self._connection.execute(
                sa.select(model_governance, _models.c.name.label("model_name"))
                .join(_models, _models.c.id == model_governance.c.model_id)
                .where(model_governance.c.model_id == model_id)
            )
            .mappings()
            .first()
        )
        if row is None:
            return None
        return ModelGovernance(
            model_id=ModelId(row["model_id"]),
            model_name=row["model_name"],
            tier=RiskTier(row["tier"]),
            monitor=row["monitor"],
            updated_at=from_micros(row["updated_at"]),
            updated_by=Actor(row["updated_by"]),
            row_version=row["row_version"],
        )

    def save_governance(self, governance: ModelGovernance) -> None:
        if governance.updated_at is None or governance.updated_by is None:
            raise ValueError("governance to save needs updated_at and updated_by")
        values = {
            "tier": governance.tier.value,
            "monitor": governance.monitor,
            "updated_at": to_micros(governance.updated_at),
            "updated_by": governance.updated_by,
            "row_version": governance.row_version,
        }
        conflict = ConflictError(
            f"the tier of {governance.model_name} changed meanwhile; read it again"
        )
        if governance.row_version == 1:
            try:
                with translate_integrity(
                    self._connection,
                    duplicate="taken",
                    missing=f"model {governance.model_name!r} does not exist",
                ):
                    self._connection.execute(
                        model_governance.insert(), {"model_id": governance.model_id, **values}
                    )
            except AlreadyExistsError:
                raise conflict from None
            return
        updated = self._connection.execute(
            model_governance.update()
            .where(
                model_governance.c.model_id == governance.model_id,
                model_governance.c.row_version == governance.row_version - 1,
            )
            .values(**values)
        )
        if updated.rowcount != 1:
            raise conflict

    def _load_current(self, query: sa.Select[Any]) -> list[CurrentVersion]:
        return [
            CurrentVersion(
                model_id=ModelId(row["model_id"]),
                model_name=row["model_name"],
                environment=row["environment"],
                version=row["version"],
                since=from_micros(row["since"]),
                request_id=row["request_id"],
                row_version=row["row_version"],
            )
            for row in self._connection.execute(query).mappings()
        ]


def _current_query() -> sa.Select[Any]:
    return sa.select(_current, _models.c.name.label("model_name")).join(
        _models, _models.c.id == _current.c.model_id
    )


def _history_query() -> sa.Select[Any]:
    return sa.select(_history, _models.c.name.label("model_name")).join(
        _models, _models.c.id == _history.c.model_id
    )


def _environment(row: sa.RowMapping) -> Environment:
    return Environment(
        name=row["name"],
        order=row["order"],
        description=row["description"],
        created_at=from_micros(row["created_at"]),
        created_by=Actor(row["created_by"]),
    )


def _change_row(change: EnvironmentChange) -> dict[str, object]:
    return {
        "id": change.id,
        "model_id": change.model_id,
        "environment": change.environment,
        "version": change.version,
        "previous_version": change.previous_version,
        "request_id": change.request_id,
        "decision_id": change.decision_id,
        "reason": change.reason,
        "requested_by": change.requested_by,
        "changed_at": to_micros(change.changed_at),
        "changed_by": change.changed_by,
    }


def _change(row: sa.RowMapping) -> EnvironmentChange:
    return EnvironmentChange(
        id=row["id"],
        model_id=ModelId(row["model_id"]),
        model_name=row["model_name"],
        environment=row["environment"],
        version=row["version"],
        previous_version=row["previous_version"],
        request_id=row["request_id"],
        decision_id=row["decision_id"],
        reason=row["reason"],
        requested_by=Actor(row["requested_by"]),
        changed_at=from_micros(row["changed_at"]),
        changed_by=Actor(row["changed_by"]),
    )
