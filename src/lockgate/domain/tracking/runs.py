"""Projects, runs and what a run records: params, metrics, tags, inputs and its environment."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import NewType

from lockgate.domain.errors import ConflictError, InvalidInputError
from lockgate.domain.identity import Actor
from lockgate.domain.names import MAX_VALUE_LENGTH, check_key, check_name, check_text

__all__ = [
    "DatasetInput",
    "Metric",
    "Project",
    "ProjectId",
    "Run",
    "RunDetail",
    "RunEnvironment",
    "RunId",
    "RunJson",
    "RunStatus",
    "check_metric",
    "check_params",
    "check_tags",
]

ProjectId = NewType("ProjectId", str)
RunId = NewType("RunId", str)
# A RunDetail as JSON text in the REST API's shape (`RunOut`), rendered by the store for
# search pages so that a page of 1,000 runs is never built as objects (ADR 0010).
RunJson = NewType("RunJson", str)

MAX_METRICS_PER_CALL = 10_000
MAX_PARAMS_PER_CALL = 1_000


class RunStatus(StrEnum):
    """Where a run is in its life; `running` is the only state that accepts new data."""

    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    KILLED = "killed"

    @property
    def is_terminal(self) -> bool:
        return self is not RunStatus.RUNNING


# The state machine: a run ends exactly once.
_TRANSITIONS: MappingProxyType[RunStatus, frozenset[RunStatus]] = MappingProxyType(
    {
        RunStatus.RUNNING: frozenset({RunStatus.FINISHED, RunStatus.FAILED, RunStatus.KILLED}),
        RunStatus.FINISHED: frozenset(),
        RunStatus.FAILED: frozenset(),
        RunStatus.KILLED: frozenset(),
    }
)


@dataclass(frozen=True, slots=True)
class Project:
    """A namespace for runs and models, and later the unit of access grants."""

    id: ProjectId
    name: str
    description: str
    created_at: datetime
    created_by: Actor

    @staticmethod
    def check(name: str, description: str) -> None:
        check_name(name, field="name")
        check_text(description, field="description")


@dataclass(frozen=True, slots=True)
class RunEnvironment:
    """What a run ran on, captured when it started."""

    git_sha: str | None = None
    git_dirty: bool | None = None
    python_version: str | None = None
    packages: tuple[str, ...] = ()
    seed: int | None = None

    def check(self) -> None:
        if self.git_sha is not None and not (
            7 <= len(self.git_sha) <= 64 and all(c in "0123456789abcdef" for c in self.git_sha)
        ):
            raise InvalidInputError(
                "git_sha must be 7-64 lowercase hex", field="environment.git_sha"
            )
        if len(self.packages) > 5000:
            raise InvalidInputError("at most 5000 packages", field="environment.packages")
        for package in self.packages:
            check_text(package, field="environment.packages", max_length=300)


@dataclass(frozen=True, slots=True)
class Run:
    """One execution of training or evaluation code, with a status lifecycle."""

    id: RunId
    project_id: ProjectId
    name: str
    status: RunStatus
    started_at: datetime
    ended_at: datetime | None
    created_by: Actor
    environment: RunEnvironment

    def end(self, status: RunStatus, at: datetime) -> Run:
        """The run in its terminal status; raises ConflictError for an illegal transition."""
        if status not in _TRANSITIONS[self.status]:
            raise ConflictError(
                f"run {self.id} is {self.status}; it cannot become {status}", field="status"
            )
        return Run(
            self.id,
            self.project_id,
            self.name,
            status,
            self.started_at,
            at,
            self.created_by,
            self.environment,
        )

    def ensure_accepts_data(self) -> None:
        """Only a running run takes params, metrics, tags, inputs and artifacts."""
        if self.status.is_terminal:
            raise ConflictError(f"run {self.id} is {self.status} and takes no more data")


@dataclass(frozen=True, slots=True)
class Metric:
    """One point of a metric series. NaN and infinities are legal values (a diverged loss)."""

    key: str
    value: float
    step: int
    timestamp: datetime


@dataclass(frozen=True, slots=True)
class DatasetInput:
    """A dataset version a run read: identified by its content fingerprint."""

    name: str
    fingerprint: str
    row_count: int | None
    schema: tuple[tuple[str, str], ...]
    source: str | None = None

    def check(self) -> None:
        check_name(self.name, field="dataset.name")
        if not (8 <= len(self.fingerprint) <= 128) or not self.fingerprint.isalnum():
            raise InvalidInputError(
                "fingerprint must be 8-128 letters or digits (e.g. a sha256 hex digest)",
                field="dataset.fingerprint",
            )
        if self.row_count is not None and self.row_count < 0:
            raise InvalidInputError("row_count must not be negative", field="dataset.row_count")
        if len(self.schema) > 10_000:
            raise InvalidInputError("schema has more than 10000 columns", field="dataset.schema")
        for column, dtype in self.schema:
            check_text(column, field="dataset.schema", max_length=512)
            check_text(dtype, field="dataset.schema", max_length=128)
        if self.source is not None:
            check_text(self.source, field="dataset.source", max_length=2048)


@dataclass(frozen=True, slots=True)
class RunDetail:
    """A run with everything it recorded: params, latest metric values, tags and inputs."""

    run: Run
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, Metric] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    inputs: tuple[DatasetInput, ...] = ()
    project_name: str = ""


def check_params(params: dict[str, str]) -> None:
    """Params: at most MAX_PARAMS_PER_CALL per call, valid keys, bounded values."""
    if not params:
        raise InvalidInputError("at least one param is needed", field="params")
    if len(params) > MAX_PARAMS_PER_CALL:
        raise InvalidInputError(f"at most {MAX_PARAMS_PER_CALL} params per call", field="params")
    for key, value in params.items():
        check_key(key, field=f"params.{key}")
        check_text(value, field=f"params.{key}", max_length=MAX_VALUE_LENGTH)


def check_tags(tags: dict[str, str]) -> None:
    """Tags: valid keys, bounded values."""
    if len(tags) > MAX_PARAMS_PER_CALL:
        raise InvalidInputError(f"at most {MAX_PARAMS_PER_CALL} tags per call", field="tags")
    for key, value in tags.items():
        check_key(key, field=f"tags.{key}")
        check_text(value, field=f"tags.{key}", max_length=MAX_VALUE_LENGTH)


def check_metric(metric: Metric, *, index: int) -> None:
    """A metric point: valid key, step >= 0 and within 64 bits; the value may be NaN/inf."""
    check_key(metric.key, field=f"metrics[{index}].key")
    if not 0 <= metric.step < 2**63:
        raise InvalidInputError(
            "step must be between 0 and 2**63-1", field=f"metrics[{index}].step"
        )
    if not isinstance(metric.value, float):
        raise InvalidInputError("value must be a number", field=f"metrics[{index}].value")
