"""Routes for projects, runs, params, metrics, tags, inputs and run search."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Response

from lockgate.api import ERROR_RESPONSES, PageOut
from lockgate.api.limits import IdText, KeyText, NameText
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
from lockgate.domain.access import Permission
from lockgate.server.deps import CallerDep, PageSize, PageToken, PlatformDep
from lockgate.server.permissions import requires
from lockgate.services import MetricPoint

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["tracking"], responses=ERROR_RESPONSES)


@router.post("/projects", status_code=201, openapi_extra=requires(Permission.PROJECT_CREATE))
def create_project(body: ProjectIn, platform: PlatformDep, caller: CallerDep) -> ProjectOut:
    """Create a project."""
    project = platform.tracking.create_project(caller, body.name, body.description)
    return ProjectOut.from_domain(project)


@router.get("/projects", openapi_extra=requires("listing"))
def list_projects(
    platform: PlatformDep,
    caller: CallerDep,
    page_size: PageSize = 100,
    page_token: PageToken = None,
) -> PageOut[ProjectOut]:
    """List the projects the caller may see, by name."""
    page = platform.tracking.list_projects(caller, page_size, page_token)
    return PageOut(
        items=[ProjectOut.from_domain(p) for p in page.items], next_page_token=page.next_cursor
    )


@router.get("/projects/{project}", openapi_extra=requires(Permission.PROJECT_READ))
def get_project(project: NameText, platform: PlatformDep, caller: CallerDep) -> ProjectOut:
    """One project."""
    return ProjectOut.from_domain(platform.tracking.get_project(caller, project))


@router.post(
    "/projects/{project}/runs", status_code=201, openapi_extra=requires(Permission.RUN_WRITE)
)
def start_run(project: NameText, body: RunIn, platform: PlatformDep, caller: CallerDep) -> RunOut:
    """Start a run."""
    detail = platform.tracking.start_run(
        caller, project, body.name, body.tags, body.environment.to_domain()
    )
    return RunOut.from_domain(detail)


@router.post(
    "/projects/{project}/runs/search",
    response_model=PageOut[RunOut],
    openapi_extra=requires(Permission.PROJECT_READ),
)
def search_runs(
    project: NameText, body: RunSearchIn, platform: PlatformDep, caller: CallerDep
) -> Response:
    """Search a project's runs with a filter and an order."""
    page = platform.tracking.search_runs(
        caller, project, body.filter, body.order_by, body.page_size, body.page_token
    )
    # Pages of up to 1,000 full runs: serialized directly, skipping per-field validation.
    document = {"items": [run_document(d) for d in page.items], "next_page_token": page.next_cursor}
    return Response(orjson.dumps(document), media_type="application/json")


@router.get("/runs/{run_id}", openapi_extra=requires(Permission.PROJECT_READ))
def get_run(run_id: IdText, platform: PlatformDep, caller: CallerDep) -> RunOut:
    """A run with its params, latest metrics, tags and inputs."""
    return RunOut.from_domain(platform.tracking.get_run(caller, run_id))


@router.post("/runs/{run_id}/end", openapi_extra=requires(Permission.RUN_WRITE))
def end_run(run_id: IdText, body: RunEndIn, platform: PlatformDep, caller: CallerDep) -> RunOut:
    """End a run as finished, failed or killed."""
    return RunOut.from_domain(platform.tracking.end_run(caller, run_id, body.status))


@router.post("/runs/{run_id}/params", status_code=204, openapi_extra=requires(Permission.RUN_WRITE))
def log_params(run_id: IdText, body: ParamsIn, platform: PlatformDep, caller: CallerDep) -> None:
    """Record params (write-once per key)."""
    platform.tracking.log_params(caller, run_id, body.params)


@router.post(
    "/runs/{run_id}/metrics", status_code=204, openapi_extra=requires(Permission.RUN_WRITE)
)
def log_metrics(run_id: IdText, body: MetricsIn, platform: PlatformDep, caller: CallerDep) -> None:
    """Record 1 to 10,000 metric points."""
    points = [MetricPoint(m.key, m.value, m.step, m.timestamp) for m in body.metrics]
    platform.tracking.log_metrics(caller, run_id, points)


@router.post("/runs/{run_id}/tags", status_code=204, openapi_extra=requires(Permission.RUN_WRITE))
def set_tags(run_id: IdText, body: TagsIn, platform: PlatformDep, caller: CallerDep) -> None:
    """Insert or overwrite tags."""
    platform.tracking.set_tags(caller, run_id, body.tags)


@router.post("/runs/{run_id}/inputs", status_code=204, openapi_extra=requires(Permission.RUN_WRITE))
def log_input(run_id: IdText, body: DatasetIn, platform: PlatformDep, caller: CallerDep) -> None:
    """Record a dataset version the run read."""
    platform.tracking.log_input(caller, run_id, body.to_domain())


@router.get(
    "/runs/{run_id}/metrics/{key:path}/history", openapi_extra=requires(Permission.PROJECT_READ)
)
def metric_history(
    run_id: IdText,
    key: KeyText,
    platform: PlatformDep,
    caller: CallerDep,
    page_size: Annotated[int, Query(ge=1, le=100_000)] = 100_000,
    page_token: PageToken = None,
) -> MetricHistoryOut:
    """Every point of one metric, in step order."""
    page = platform.tracking.metric_history(caller, run_id, key, page_size, page_token)
    return MetricHistoryOut.from_domain(key, page.items, page.next_cursor)
