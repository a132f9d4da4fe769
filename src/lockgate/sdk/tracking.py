"""Tracking resources of the SDK: projects, and runs with what they record."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from itertools import islice
from typing import NamedTuple

from lockgate.api import PageOut
from lockgate.api.tracking import (
    DatasetIn,
    EnvironmentIn,
    MetricHistoryOut,
    MetricsIn,
    ParamsIn,
    ProjectIn,
    ProjectOut,
    RunEndIn,
    RunIn,
    RunOut,
    RunSearchIn,
    TagsIn,
)
from lockgate.domain.errors import NotFoundError
from lockgate.sdk.http import HttpSession, paginate, request_body, segment

__all__ = ["MAX_METRICS_PER_REQUEST", "MAX_PARAMS_PER_REQUEST", "MetricPoint", "Projects", "Runs"]

MAX_METRICS_PER_REQUEST = 10_000
MAX_PARAMS_PER_REQUEST = 1_000
ParamValue = str | int | float | bool


class MetricPoint(NamedTuple):
    """One metric point to log; `step` None lets the caller pick it (an `ActiveRun` counts
    up per key, `Runs.log_metrics` sends 0)."""

    key: str
    value: float
    step: int | None = None
    timestamp: datetime | None = None


class Projects:
    """Projects: namespaces for runs and models (`client.projects`)."""

    def __init__(self, http: HttpSession) -> None:
        self._http = http

    def create(self, name: str, description: str = "") -> ProjectOut:
        """Create a project.

        Raises:
            AlreadyExistsError: The name is taken.
            InvalidInputError: The name breaks the naming rules (`field` is `name`).
        """
        body = request_body(ProjectIn, name=name, description=description)
        return self._http.call("POST", "/projects", ProjectOut, body=body)

    def get(self, name: str) -> ProjectOut:
        """A project by name; raises NotFoundError."""
        return self._http.call("GET", f"/projects/{segment(name)}", ProjectOut)

    def exists(self, name: str) -> bool:
        """Whether a project of that name exists."""
        try:
            self.get(name)
        except NotFoundError:
            return False
        return True

    def list(self, *, page_size: int = 100) -> Iterator[ProjectOut]:
        """Every project, ordered by name, fetched page by page as the iterator advances."""

        def fetch(token: str | None) -> PageOut[ProjectOut]:
            params = {"page_size": page_size, "page_token": token}
            return self._http.call("GET", "/projects", PageOut[ProjectOut], params=params)

        return paginate(fetch)


class Runs:
    """Runs and what they record (`client.runs`). Most code logs through an `ActiveRun`
    from `client.start_run`; these calls take an explicit run id."""

    def __init__(self, http: HttpSession) -> None:
        self._http = http

    def create(
        self,
        project: str,
        *,
        name: str = "",
        tags: Mapping[str, str] | None = None,
        environment: EnvironmentIn | None = None,
    ) -> RunOut:
        """Start a run in an existing project; raises NotFoundError for an unknown project."""
        body = request_body(
            RunIn, name=name, tags=dict(tags or {}), environment=environment or EnvironmentIn()
        )
        return self._http.call("POST", f"/projects/{segment(project)}/runs", RunOut, body=body)

    def get(self, run_id: str) -> RunOut:
        """A run with its params, latest metrics, tags and inputs; raises NotFoundError."""
        return self._http.call("GET", f"/runs/{segment(run_id)}", RunOut)

    def end(self, run_id: str, status: str = "finished") -> RunOut:
        """End a run as `finished`, `failed` or `killed`; raises ConflictError if it has
        already ended."""
        body = request_body(RunEndIn, status=status)
        return self._http.call("POST", f"/runs/{segment(run_id)}/end", RunOut, body=body)

    def search(
        self,
        project: str,
        filter: str = "",
        *,
        order_by: str | None = None,
        page_size: int = 100,
    ) -> Iterator[RunOut]:
        """Runs of a project matching a filter, in order, fetched page by page.

        Args:
            project: The project's name.
            filter: e.g. `metrics.val_auc > 0.8 and params.max_depth = '6'`.
            order_by: e.g. `metrics.val_auc desc`; newest first by default.
            page_size: Runs per request (1-1000).
        """
        path = f"/projects/{segment(project)}/runs/search"

        def fetch(token: str | None) -> PageOut[RunOut]:
            body = request_body(
                RunSearchIn,
                filter=filter,
                order_by=order_by,
                page_size=page_size,
                page_token=token,
            )
            return self._http.call("POST", path, PageOut[RunOut], body=body)

        return paginate(fetch)

    def log_params(self, run_id: str, params: Mapping[str, ParamValue]) -> None:
        """Record params (write-once: another value for a logged key raises ConflictError)."""
        items = [(key, str(value)) for key, value in params.items()]
        for start in range(0, len(items), MAX_PARAMS_PER_REQUEST):
            chunk = dict(items[start : start + MAX_PARAMS_PER_REQUEST])
            body = request_body(ParamsIn, params=chunk)
            self._http.request("POST", f"/runs/{segment(run_id)}/params", body=body)

    def log_metrics(self, run_id: str, points: Iterable[MetricPoint]) -> None:
        """Append metric points, sending at most 10,000 per request."""
        iterator = iter(points)
        while batch := list(islice(iterator, MAX_METRICS_PER_REQUEST)):
            body = request_body(
                MetricsIn,
                metrics=[
                    {"key": p.key, "value": p.value, "step": p.step or 0, "timestamp": p.timestamp}
                    for p in batch
                ],
            )
            self._http.request("POST", f"/runs/{segment(run_id)}/metrics", body=body)

    def set_tags(self, run_id: str, tags: Mapping[str, str]) -> None:
        """Insert or overwrite tags."""
        body = request_body(TagsIn, tags=dict(tags))
        self._http.request("POST", f"/runs/{segment(run_id)}/tags", body=body)

    def log_input(self, run_id: str, dataset: DatasetIn) -> None:
        """Record a dataset version the run read (idempotent)."""
        self._http.request("POST", f"/runs/{segment(run_id)}/inputs", body=dataset)

    def metric_history(
        self, run_id: str, key: str, *, page_size: int = 100_000
    ) -> MetricHistoryOut:
        """Every point of one metric, ordered by step, as parallel arrays (all pages merged)."""
        path = f"/runs/{segment(run_id)}/metrics/{segment(key)}/history"
        steps: builtins.list[int] = []
        values: builtins.list[float] = []
        timestamps: builtins.list[datetime] = []
        token: str | None = None
        while True:
            params = {"page_size": page_size, "page_token": token}
            page = self._http.call("GET", path, MetricHistoryOut, params=params)
            steps += page.steps
            values += page.values
            timestamps += page.timestamps
            token = page.next_page_token
            if not token:
                return MetricHistoryOut(key=key, steps=steps, values=values, timestamps=timestamps)
