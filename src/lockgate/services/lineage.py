"""Lineage use cases: walking the graph from a model version or a dataset, upstream (where it
came from) or downstream (what came of it), and exporting it as OpenLineage run events.

The module-level functions work inside a caller's unit of work, for other services (the
evidence bundle exports a version's lineage; the compliance report checks it is complete).
"""

from __future__ import annotations

from lockgate.domain.access import Caller, Permission
from lockgate.domain.audit import JsonValue
from lockgate.domain.errors import InvalidInputError, NotFoundError
from lockgate.domain.governance.lineage import (
    MAX_DEPTH,
    LineageDirection,
    LineageGraph,
    LineageNode,
    lineage_gaps,
)
from lockgate.domain.governance.openlineage import openlineage_events
from lockgate.domain.names import check_name
from lockgate.domain.registry import ModelId, RegisteredModel
from lockgate.domain.tracking import Project, ProjectId
from lockgate.services.context import ServiceContext
from lockgate.store.protocols import UnitOfWork

__all__ = [
    "LineageService",
    "export_openlineage",
    "parse_direction",
    "version_lineage",
    "version_lineage_gaps",
]

_FINGERPRINT_MAX = 128


def parse_direction(value: str) -> LineageDirection:
    """`upstream`, `downstream` or `both`; InvalidInputError (field `direction`) otherwise."""
    try:
        return LineageDirection(value)
    except ValueError as exc:
        raise InvalidInputError(
            "direction must be upstream, downstream or both", field="direction"
        ) from exc


def _check_depth(depth: int) -> None:
    if not 1 <= depth <= MAX_DEPTH:
        raise InvalidInputError(f"depth must be 1 to {MAX_DEPTH}", field="depth")


def version_lineage(
    uow: UnitOfWork,
    model_id: ModelId,
    project_id: ProjectId,
    version: int,
    direction: LineageDirection,
    depth: int,
) -> LineageGraph:
    """The lineage graph of one model version, inside `uow` (no authorization here)."""
    _check_depth(depth)
    start = LineageNode.model_version(model_id, version)
    return uow.lineage.walk([start], direction, project_id=project_id, max_depth=depth)


def version_lineage_gaps(
    uow: UnitOfWork, model_id: ModelId, project_id: ProjectId, version: int
) -> tuple[str, ...]:
    """Why a version's lineage is incomplete, () when complete (`lineage_gaps`'s rule: a run
    produced it and that run read at least one dataset version)."""
    graph = version_lineage(uow, model_id, project_id, version, LineageDirection.UPSTREAM, 2)
    return lineage_gaps(graph, LineageNode.model_version(model_id, version))


def export_openlineage(
    uow: UnitOfWork, graph: LineageGraph, *, project: Project, producer: str
) -> list[dict[str, JsonValue]]:
    """One OpenLineage RunEvent per activity of `graph` (run, evaluation, comparison,
    promotion, deployment), each with all of its inputs and outputs, even those the walk
    that made `graph` did not reach."""
    activities = [info.node for info in graph.nodes if info.node.kind.is_activity]
    if not activities:
        return []
    walk = uow.lineage.walk
    upstream = walk(activities, LineageDirection.UPSTREAM, project_id=project.id, max_depth=2)
    downstream = walk(activities, LineageDirection.DOWNSTREAM, project_id=project.id, max_depth=1)
    context = graph.merge(upstream).merge(downstream)
    return openlineage_events(activities, context, project=project.name, producer=producer)


class LineageService:
    """Lineage graphs of model versions and datasets, and their OpenLineage export.

    Args:
        context: The services' shared dependencies.
        producer: The `producer` URI of exported events
            (`lockgate.domain.governance.openlineage.producer_uri`).
    """

    def __init__(self, context: ServiceContext, producer: str) -> None:
        self._ctx = context
        self._producer = producer

    def version_graph(
        self, caller: Caller, model_name: str, version: int, direction: str, depth: int
    ) -> LineageGraph:
        """The lineage of a model version: `upstream` reaches the run that produced it and
        the dataset versions that run read; `downstream` its evaluations, comparisons,
        promotions and deployments; `both` the two. Needs project.read.

        Raises:
            InvalidInputError: A bad direction or a depth outside 1-50.
            NotFoundError: The model or version does not exist.
        """
        way = parse_direction(direction)
        _check_depth(depth)
        with self._ctx.uow(read_only=True) as uow:
            model = self._model(uow, caller, model_name, version)
            return version_lineage(uow, model.id, model.project_id, version, way, depth)

    def version_openlineage(
        self, caller: Caller, model_name: str, version: int, direction: str, depth: int
    ) -> list[dict[str, JsonValue]]:
        """The activities of `version_graph` as OpenLineage RunEvents, oldest first."""
        way = parse_direction(direction)
        _check_depth(depth)
        with self._ctx.uow(read_only=True) as uow:
            model = self._model(uow, caller, model_name, version)
            graph = version_lineage(uow, model.id, model.project_id, version, way, depth)
            project = uow.projects.get(model.project_id)
            return export_openlineage(uow, graph, project=project, producer=self._producer)

    def dataset_graph(
        self,
        caller: Caller,
        project_name: str,
        dataset_name: str,
        fingerprint: str | None,
        direction: str,
        depth: int,
    ) -> LineageGraph:
        """The lineage of a project's dataset version (`fingerprint`), or of every version
        of the dataset that lineage recorded (None): `downstream` reaches the runs that read
        it, the model versions they produced and what evaluated them. Needs project.read.

        Raises:
            InvalidInputError: A bad name, fingerprint, direction or depth.
            NotFoundError: The project does not exist, or lineage recorded no such dataset.
        """
        way = parse_direction(direction)
        _check_depth(depth)
        with self._ctx.uow(read_only=True) as uow:
            project, starts = self._dataset(uow, caller, project_name, dataset_name, fingerprint)
            return uow.lineage.walk(starts, way, project_id=project.id, max_depth=depth)

    def dataset_openlineage(
        self,
        caller: Caller,
        project_name: str,
        dataset_name: str,
        fingerprint: str | None,
        direction: str,
        depth: int,
    ) -> list[dict[str, JsonValue]]:
        """The activities of `dataset_graph` as OpenLineage RunEvents, oldest first."""
        way = parse_direction(direction)
        _check_depth(depth)
        with self._ctx.uow(read_only=True) as uow:
            project, starts = self._dataset(uow, caller, project_name, dataset_name, fingerprint)
            graph = uow.lineage.walk(starts, way, project_id=project.id, max_depth=depth)
            return export_openlineage(uow, graph, project=project, producer=self._producer)

    def _dataset(
        self,
        uow: UnitOfWork,
        caller: Caller,
        project_name: str,
        dataset_name: str,
        fingerprint: str | None,
    ) -> tuple[Project, list[LineageNode]]:
        check_name(dataset_name, field="dataset")
        if fingerprint is not None and not (
            fingerprint.isalnum() and len(fingerprint) <= _FINGERPRINT_MAX
        ):
            raise InvalidInputError(
                f"a fingerprint is 1-{_FINGERPRINT_MAX} letters or digits", field="fingerprint"
            )
        project = uow.projects.get_by_name(project_name)
        self._ctx.authorize(
            uow,
            caller,
            Permission.PROJECT_READ,
            project_id=project.id,
            subject=("dataset", f"{project.name}/{dataset_name}"),
        )
        starts = [
            node
            for node in uow.lineage.dataset_versions(project.id, dataset_name)
            if fingerprint is None or node.dataset_parts()[2] == fingerprint
        ]
        if not starts:
            version = "" if fingerprint is None else f" version {fingerprint}"
            raise NotFoundError(
                f"project {project.name} has no dataset {dataset_name}{version} in its lineage "
                "(no run read it and nothing was evaluated on it)"
            )
        return project, starts

    def _model(self, uow: UnitOfWork, caller: Caller, name: str, version: int) -> RegisteredModel:
        model = uow.models.get_model(check_name(name, field="model"))
        self._ctx.authorize(
            uow,
            caller,
            Permission.PROJECT_READ,
            project_id=model.project_id,
            subject=("model_version", f"{model.name}/{version}"),
        )
        uow.models.get_version(model.name, version)  # NotFoundError naming it
        return model
