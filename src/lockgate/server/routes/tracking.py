"""Routes for projects, runs, params, metrics, tags, inputs and run search."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Response

from lockgate.api import PageOut
from lockgate.api.tracking import (
    DatasetIn,
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
    run_document,
)
from lockgate.server.deps import ActorDep, PageSize, PageToken, PlatformDep
from lockgate.services import MetricPoint

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["tracking"])


@router.post("/projects", status_code=201)
def create_project(body: ProjectIn, platform: PlatformDep, actor: ActorDep) -> ProjectOut:
    """Create a project."""
    project = platform.tracking.create_project(actor, body.name, body.description)
    return ProjectOut.from_domain(project)


@router.get("/projects")
def list_projects(
    platform: PlatformDep, page_size: PageSize = 100, page_token: PageToken = None
) -> PageOut[ProjectOut]:
    """List projects by name."""
    page = platform.tracking.list_projects(page_size, page_token)
    return PageOut(
        items=[ProjectOut.from_domain(p) for p in page.items], next_page_token=page.next_cursor
    )


@router.get("/projects/{project}")
def get_project(project: str, platform: PlatformDep) -> ProjectOut:
    """One project."""
    return ProjectOut.from_domain(platform.tracking.get_project(project))


@router.post("/projects/{project}/runs", status_code=201)
def start_run(project: str, body: RunIn, platform: PlatformDep, actor: ActorDep) -> RunOut:
    """Start a run."""
    detail = platform.tracking.start_run(
        actor, project, body.name, body.tags, body.environment.to_domain()
    )
    return RunOut.from_domain(detail)


@router.post("/projects/{project}/runs/search", response_model=PageOut[RunOut])
def search_runs(project: str, body: RunSearchIn, platform: PlatformDep) -> Response:
    """Search a project's runs with a filter and an order."""
    page = platform.tracking.search_runs(
        project, body.filter, body.order_by, body.page_size, body.page_token
    )
    # Pages of up to 1,000 full runs: serialized directly, skipping per-field validation.
    document = {"items": [run_document(d) for d in page.items], "next_page_token": page.next_cursor}
    return Response(orjson.dumps(document), media_type="application/json")


@router.get("/runs/{run_id}")
def get_run(run_id: str, platform: PlatformDep) -> RunOut:
    """A run with its params, latest metrics, tags and inputs."""
    return RunOut.from_domain(platform.tracking.get_run(run_id))


@router.post("/runs/{run_id}/end")
def end_run(run_id: str, body: RunEndIn, platform: PlatformDep, actor: ActorDep) -> RunOut:
    """End a run as finished, failed or killed."""
    return RunOut.from_domain(platform.tracking.end_run(actor, run_id, body.status))


@router.post("/runs/{run_id}/params", status_code=204)
def log_params(run_id: str, body: ParamsIn, platform: PlatformDep, actor: ActorDep) -> None:
    """Record params (write-once per key)."""
    platform.tracking.log_params(actor, run_id, body.params)


@router.post("/runs/{run_id}/metrics", status_code=204)
def log_metrics(run_id: str, body: MetricsIn, platform: PlatformDep, actor: ActorDep) -> None:
    """Record 1 to 10,000 metric points."""
    points = [MetricPoint(m.key, m.value, m.step, m.timestamp) for m in body.metrics]
    platform.tracking.log_metrics(actor, run_id, points)


@router.post("/runs/{run_id}/tags", status_code=204)
def set_tags(run_id: str, body: TagsIn, platform: PlatformDep, actor: ActorDep) -> None:
    """Insert or overwrite tags."""
    platform.tracking.set_tags(actor, run_id, body.tags)


@router.post("/runs/{run_id}/inputs", status_code=204)
def log_input(run_id: str, body: DatasetIn, platform: PlatformDep, actor: ActorDep) -> None:
    """Record a dataset version the run read."""
    platform.tracking.log_input(actor, run_id, body.to_domain())


@router.get("/runs/{run_id}/metrics/{key:path}/history")
def metric_history(
    run_id: str,
    key: str,
    platform: PlatformDep,
    page_size: Annotated[int, Query(ge=1, le=100_000)] = 100_000,
    page_token: PageToken = None,
) -> MetricHistoryOut:
    """Every point of one metric, in step order."""
    page = platform.tracking.metric_history(run_id, key, page_size, page_token)
    return MetricHistoryOut.from_domain(key, page.items, page.next_cursor)
