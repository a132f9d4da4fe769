"""Routes for the lineage graph of a model version or a dataset, as a graph or as OpenLineage
run events."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from lockgate.api import ERROR_RESPONSES
from lockgate.api.limits import NameText, VersionNumber
from lockgate.api.lineage import LineageFormat, LineageGraphOut, OpenLineageOut
from lockgate.domain.access import Permission
from lockgate.domain.governance.lineage import DEFAULT_DEPTH, MAX_DEPTH, LineageDirection
from lockgate.server.deps import CallerDep, PlatformDep
from lockgate.server.permissions import requires

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["lineage"], responses=ERROR_RESPONSES)

Direction = Annotated[
    LineageDirection,
    Query(description="upstream (where it came from), downstream (what came of it) or both."),
]
Depth = Annotated[int, Query(ge=1, le=MAX_DEPTH, description="How many edges away, at most.")]
Format = Annotated[
    LineageFormat,
    Query(alias="format", description="graph (nodes and edges) or openlineage (run events)."),
]
Fingerprint = Annotated[
    str | None,
    Query(max_length=128, description="One version of the dataset; all of them when absent."),
]


@router.get(
    "/models/{name}/versions/{version}/lineage", openapi_extra=requires(Permission.PROJECT_READ)
)
def version_lineage(
    name: NameText,
    version: VersionNumber,
    platform: PlatformDep,
    caller: CallerDep,
    direction: Direction = LineageDirection.BOTH,
    depth: Depth = DEFAULT_DEPTH,
    output: Format = "graph",
) -> LineageGraphOut | OpenLineageOut:
    """A version's lineage: the run and data it came from, what evaluated, promoted and
    deployed it."""
    lineage = platform.lineage
    if output == "openlineage":
        events = lineage.version_openlineage(caller, name, version, direction, depth)
        return OpenLineageOut(events=events)
    graph = lineage.version_graph(caller, name, version, direction, depth)
    return LineageGraphOut.from_domain(graph)


@router.get(
    "/projects/{project}/datasets/{name}/lineage", openapi_extra=requires(Permission.PROJECT_READ)
)
def dataset_lineage(
    project: NameText,
    name: NameText,
    platform: PlatformDep,
    caller: CallerDep,
    fingerprint: Fingerprint = None,
    direction: Direction = LineageDirection.BOTH,
    depth: Depth = DEFAULT_DEPTH,
    output: Format = "graph",
) -> LineageGraphOut | OpenLineageOut:
    """A dataset's lineage (one version, or every version lineage recorded): the runs that
    read it, the versions they produced, and what evaluated them."""
    lineage = platform.lineage
    args = (caller, project, name, fingerprint, direction, depth)
    if output == "openlineage":
        return OpenLineageOut(events=lineage.dataset_openlineage(*args))
    return LineageGraphOut.from_domain(lineage.dataset_graph(*args))
