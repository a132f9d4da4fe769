"""Routes for projects, runs, params, metrics, tags, inputs and run search, and the express
lane of the hottest one (single metric points from training loops)."""

from __future__ import annotations

import re
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Response
from pydantic import TypeAdapter, ValidationError
from starlette.datastructures import URLPath
from starlette.routing import BaseRoute, Match, NoMatchFound
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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
)
from lockgate.domain.access import Caller, Permission
from lockgate.server.composition import Platform
from lockgate.server.deps import CallerDep, PageSize, PageToken, PlatformDep
from lockgate.server.permissions import requires
from lockgate.server.threads import ServerThreads
from lockgate.services import MetricPoint

__all__ = ["MetricsExpressRoute", "router"]

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
    page = platform.tracking.search_runs_json(
        caller, project, body.filter, body.order_by, body.page_size, body.page_token
    )
    # Pages of up to 1,000 full runs, rendered by the database: spliced, never parsed.
    items = ",".join(page.items).encode()
    token = orjson.dumps(page.next_cursor)
    body_bytes = b'{"items":[' + items + b'],"next_page_token":' + token + b"}"
    return Response(body_bytes, media_type="application/json")


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
    platform.tracking.log_metrics(caller, run_id, _points(body))


def _points(body: MetricsIn) -> list[MetricPoint]:
    return [MetricPoint(m.key, m.value, m.step, m.timestamp) for m in body.metrics]


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


_DECLINED = "lockgate.express_declined"
_RUN_ID = TypeAdapter(IdText)


class MetricsExpressRoute(BaseRoute):
    """`POST /api/v1/runs/{run_id}/metrics` without FastAPI's per-request machinery (a scan
    of every route, dependency solving, request and response objects), which cost more CPU
    than the write itself.

    It serves only requests whose every part the regular route would accept as they are:
    a body of exactly `application/json` that parses (orjson, then the same `MetricsIn`
    validation), a valid run id, an authenticated caller. Any other request is declined and
    routed again, with its body replayed, to the regular `log_metrics` route above, so error
    responses, the OpenAPI document and every edge case stay that route's. Service errors
    propagate to the app's error handlers as they do from any route.

    Args:
        router: the app's router, which dispatches declined requests.
        threads: where the write runs, off the event loop.
    """

    path_format = "/api/v1/runs/{run_id}/metrics"
    _path = re.compile(r"/api/v1/runs/(?P<run_id>[^/]+)/metrics")

    def __init__(self, router: ASGIApp, threads: ServerThreads) -> None:
        self._router = router
        self._threads = threads

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http" or scope["method"] != "POST" or _DECLINED in scope:
            return Match.NONE, {}
        found = self._path.fullmatch(scope["path"]) if not scope.get("root_path") else None
        if found is None:
            return Match.NONE, {}
        return Match.FULL, {}

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        raise NoMatchFound(name, path_params)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        messages, failure = await _read_body(receive)
        found = self._path.fullmatch(scope["path"])
        request = _plain_request(scope, messages, failure) if found is not None else None
        if found is None or request is None or not _is_id(found["run_id"]):
            scope[_DECLINED] = True
            await self._router(scope, _replay(messages, failure, receive), send)
            return
        platform, caller, body = request
        await self._threads.run(
            platform.tracking.log_metrics, caller, found["run_id"], _points(body)
        )
        await send({"type": "http.response.start", "status": 204, "headers": _NO_CONTENT})
        await send({"type": "http.response.body", "body": b""})


# What the regular route answers (FastAPI's JSON response class, without a body).
_NO_CONTENT = [(b"content-type", b"application/json")]


async def _read_body(receive: Receive) -> tuple[list[Message], Exception | None]:
    """The request's body messages, and the error that stopped reading them (the edge
    guard's size limit), to replay to the regular route if the lane declines."""
    messages: list[Message] = []
    try:
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request" or not message.get("more_body", False):
                return messages, None
    except Exception as exc:  # noqa: BLE001 - replayed unchanged to the regular route
        return messages, exc


def _plain_request(
    scope: Scope, messages: list[Message], failure: Exception | None
) -> tuple[Platform, Caller, MetricsIn] | None:
    """What the lane needs, or None when the regular route must answer."""
    if failure is not None or any(m["type"] != "http.request" for m in messages):
        return None
    caller = scope.get("state", {}).get("caller")
    if not isinstance(caller, Caller) or not _is_plain_json(scope["headers"]):
        return None
    try:
        body = MetricsIn.model_validate(
            orjson.loads(b"".join(m.get("body", b"") for m in messages))
        )
    except (orjson.JSONDecodeError, ValidationError):
        return None
    platform: Platform = scope["app"].state.platform
    return platform, caller, body


def _is_plain_json(headers: list[tuple[bytes, bytes]]) -> bool:
    # The regular route reads the first Content-Type; only the plain spelling takes the lane.
    for name, value in headers:
        if name == b"content-type":
            return value.lower() == b"application/json"
    return False


def _is_id(run_id: str) -> bool:
    try:
        _RUN_ID.validate_python(run_id)
    except ValidationError:
        return False
    return True


def _replay(messages: list[Message], failure: Exception | None, receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        if failure is not None:
            raise failure
        return await receive()

    return replay
