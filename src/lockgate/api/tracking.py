"""Wire schemas for projects, runs, params, metrics, tags, inputs and run search."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from pydantic import Field

from lockgate.api.common import ApiModel, JsonFloat, UtcDatetime
from lockgate.api.limits import (
    MAX_COLUMNS,
    MAX_FILTER_LENGTH,
    MAX_INT64,
    MAX_METRICS_PER_CALL,
    MAX_PACKAGES,
    KeyText,
    NameText,
    PageSizeNumber,
    PageTokenText,
    QueryText,
    StringMap,
    ValueText,
)
from lockgate.domain.tracking import DatasetInput, Metric, Project, RunDetail, RunEnvironment

__all__ = [
    "DatasetIn",
    "DatasetOut",
    "EnvironmentIn",
    "EnvironmentOut",
    "MetricHistoryOut",
    "MetricIn",
    "MetricOut",
    "MetricsIn",
    "ParamsIn",
    "ProjectIn",
    "ProjectOut",
    "RunEndIn",
    "RunIn",
    "RunOut",
    "RunSearchIn",
    "TagsIn",
]


class ProjectIn(ApiModel):
    """Create a project."""

    name: NameText = Field(examples=["churn"])
    description: ValueText = ""


class ProjectOut(ApiModel):
    id: str
    name: str
    description: str
    created_at: UtcDatetime
    created_by: str

    @classmethod
    def from_domain(cls, project: Project) -> ProjectOut:
        return cls(
            id=project.id,
            name=project.name,
            description=project.description,
            created_at=project.created_at,
            created_by=project.created_by,
        )


class EnvironmentIn(ApiModel):
    """What the run runs on; the SDK captures it at start."""

    git_sha: (
        Annotated[str, Field(max_length=64, json_schema_extra={"pattern": "^[0-9a-f]{7,64}$"})]
        | None
    ) = None
    git_dirty: bool | None = None
    python_version: Annotated[str, Field(max_length=256)] | None = None
    packages: list[Annotated[str, Field(max_length=300)]] = Field(
        default_factory=list, max_length=MAX_PACKAGES
    )
    seed: int | None = None

    def to_domain(self) -> RunEnvironment:
        return RunEnvironment(
            self.git_sha, self.git_dirty, self.python_version, tuple(self.packages), self.seed
        )


class RunIn(ApiModel):
    """Start a run in a project."""

    name: Annotated[str, Field(max_length=256)] = ""
    tags: StringMap = Field(default_factory=dict)
    environment: EnvironmentIn = Field(default_factory=EnvironmentIn)


class RunEndIn(ApiModel):
    """End a run: finished, failed or killed."""

    status: Annotated[
        str, Field(max_length=16, json_schema_extra={"enum": ["finished", "failed", "killed"]})
    ] = Field(examples=["finished"])


class ParamsIn(ApiModel):
    """Params to record: 1 to 1,000 keys per call."""

    params: StringMap


class MetricIn(ApiModel):
    """One metric point; `timestamp` defaults to the server's time of receipt."""

    key: KeyText
    value: JsonFloat
    step: int = Field(default=0, ge=0, le=MAX_INT64)
    timestamp: UtcDatetime | None = None


class MetricsIn(ApiModel):
    """Metric points to record: 1 to 10,000 per call."""

    metrics: list[MetricIn] = Field(min_length=1, max_length=MAX_METRICS_PER_CALL)


class TagsIn(ApiModel):
    """Tags to insert or overwrite: up to 1,000 keys per call."""

    tags: StringMap


class DatasetIn(ApiModel):
    """A dataset version read by a run: name, content fingerprint, schema, row count."""

    name: NameText
    fingerprint: Annotated[
        str, Field(max_length=128, json_schema_extra={"pattern": "^[A-Za-z0-9]{8,128}$"})
    ]
    row_count: Annotated[int, Field(le=MAX_INT64)] | None = None
    schema_: Annotated[
        dict[Annotated[str, Field(max_length=512)], Annotated[str, Field(max_length=128)]],
        Field(max_length=MAX_COLUMNS),
    ] = Field(default_factory=dict, alias="schema")
    source: Annotated[str, Field(max_length=2048)] | None = None

    def to_domain(self) -> DatasetInput:
        return DatasetInput(
            self.name, self.fingerprint, self.row_count, tuple(self.schema_.items()), self.source
        )


class MetricOut(ApiModel):
    key: str
    value: JsonFloat
    step: int
    timestamp: UtcDatetime

    @classmethod
    def from_domain(cls, metric: Metric) -> MetricOut:
        return cls(key=metric.key, value=metric.value, step=metric.step, timestamp=metric.timestamp)


class MetricHistoryOut(ApiModel):
    """One metric's points as parallel arrays (compact for long histories)."""

    key: str
    steps: list[int]
    values: list[JsonFloat]
    timestamps: list[UtcDatetime]
    next_page_token: str | None = None

    @classmethod
    def from_domain(
        cls, key: str, points: Sequence[Metric], cursor: str | None
    ) -> MetricHistoryOut:
        return cls(
            key=key,
            steps=[p.step for p in points],
            values=[p.value for p in points],
            timestamps=[p.timestamp for p in points],
            next_page_token=cursor,
        )


class EnvironmentOut(ApiModel):
    git_sha: str | None
    git_dirty: bool | None
    python_version: str | None
    packages: list[str]
    seed: int | None


class DatasetOut(ApiModel):
    name: str
    fingerprint: str
    row_count: int | None
    schema_: dict[str, str] = Field(alias="schema")
    source: str | None

    @classmethod
    def from_domain(cls, dataset: DatasetInput) -> DatasetOut:
        return cls.model_validate(
            {
                "name": dataset.name,
                "fingerprint": dataset.fingerprint,
                "row_count": dataset.row_count,
                "schema": dict(dataset.schema),
                "source": dataset.source,
            }
        )


class RunOut(ApiModel):
    id: str
    project: str
    name: str
    status: str
    started_at: UtcDatetime
    ended_at: UtcDatetime | None
    created_by: str
    environment: EnvironmentOut
    params: dict[str, str]
    metrics: dict[str, MetricOut]
    tags: dict[str, str]
    inputs: list[DatasetOut]

    @classmethod
    def from_domain(cls, detail: RunDetail) -> RunOut:
        run, env = detail.run, detail.run.environment
        return cls(
            id=run.id,
            project=detail.project_name,
            name=run.name,
            status=run.status.value,
            started_at=run.started_at,
            ended_at=run.ended_at,
            created_by=run.created_by,
            environment=EnvironmentOut(
                git_sha=env.git_sha,
                git_dirty=env.git_dirty,
                python_version=env.python_version,
                packages=list(env.packages),
                seed=env.seed,
            ),
            params=detail.params,
            metrics={k: MetricOut.from_domain(m) for k, m in detail.metrics.items()},
            tags=detail.tags,
            inputs=[DatasetOut.from_domain(d) for d in detail.inputs],
        )


class RunSearchIn(ApiModel):
    """Search a project's runs, e.g. filter `metrics.auc > 0.8 and params.depth = '6'`,
    order_by `metrics.auc desc`."""

    filter: Annotated[QueryText, Field(max_length=MAX_FILTER_LENGTH)] = ""
    order_by: Annotated[QueryText, Field(max_length=512)] | None = None
    page_size: PageSizeNumber = 100
    page_token: PageTokenText | None = None
