"""Wire schemas for projects, runs, params, metrics, tags, inputs and run search."""

from __future__ import annotations

from pydantic import Field

from lockgate.api.common import ApiModel, JsonFloat, UtcDatetime

__all__ = [
    "DatasetIn",
    "EnvironmentIn",
    "MetricIn",
    "MetricHistoryOut",
    "MetricOut",
    "DatasetOut",
    "EnvironmentOut",
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

    name: str = Field(examples=["churn"])
    description: str = ""


class ProjectOut(ApiModel):
    id: str
    name: str
    description: str
    created_at: UtcDatetime
    created_by: str


class EnvironmentIn(ApiModel):
    """What the run runs on; the SDK captures it at start."""

    git_sha: str | None = None
    git_dirty: bool | None = None
    python_version: str | None = None
    packages: list[str] = Field(default_factory=list)
    seed: int | None = None


class RunIn(ApiModel):
    """Start a run in a project."""

    name: str = ""
    tags: dict[str, str] = Field(default_factory=dict)
    environment: EnvironmentIn = Field(default_factory=EnvironmentIn)


class RunEndIn(ApiModel):
    """End a run: finished, failed or killed."""

    status: str = Field(examples=["finished"])


class ParamsIn(ApiModel):
    params: dict[str, str]


class MetricIn(ApiModel):
    """One metric point; `timestamp` defaults to the server's time of receipt."""

    key: str
    value: JsonFloat
    step: int = 0
    timestamp: UtcDatetime | None = None


class MetricsIn(ApiModel):
    metrics: list[MetricIn] = Field(min_length=1)


class TagsIn(ApiModel):
    tags: dict[str, str]


class DatasetIn(ApiModel):
    """A dataset version read by a run: name, content fingerprint, schema, row count."""

    name: str
    fingerprint: str
    row_count: int | None = None
    schema_: dict[str, str] = Field(default_factory=dict, alias="schema")
    source: str | None = None


class MetricOut(ApiModel):
    key: str
    value: JsonFloat
    step: int
    timestamp: UtcDatetime


class MetricHistoryOut(ApiModel):
    """One metric's points as parallel arrays (compact for long histories)."""

    key: str
    steps: list[int]
    values: list[JsonFloat]
    timestamps: list[UtcDatetime]
    next_page_token: str | None = None


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


class RunSearchIn(ApiModel):
    """Search a project's runs, e.g. filter `metrics.auc > 0.8 and params.depth = '6'`,
    order_by `metrics.auc desc`."""

    filter: str = ""
    order_by: str | None = None
    page_size: int = 100
    page_token: str | None = None
