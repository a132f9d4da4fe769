"""Tracking use cases: projects, runs and what runs record, and run search."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from lockgate.domain.access import Caller, Grant, Permission, Role
from lockgate.domain.errors import InvalidInputError
from lockgate.domain.governance.lineage import LineageEdge, LineageNode, LineageRelation
from lockgate.domain.identity import check_id
from lockgate.domain.names import check_key, check_text
from lockgate.domain.pagination import Page, check_page_size
from lockgate.domain.tracking import (
    DatasetInput,
    Metric,
    Project,
    ProjectId,
    Run,
    RunDetail,
    RunEnvironment,
    RunId,
    RunJson,
    RunStatus,
    check_metric,
    check_params,
    check_tags,
    parse_filter,
    parse_order_by,
)
from lockgate.domain.tracking.runs import MAX_METRICS_PER_CALL
from lockgate.services.context import ServiceContext
from lockgate.store.protocols import UnitOfWork

__all__ = ["MetricPoint", "TrackingService"]

MAX_HISTORY_PAGE = 100_000


@dataclass(frozen=True, slots=True)
class MetricPoint:
    """A metric point as a caller sends it; a missing timestamp means "now"."""

    key: str
    value: float
    step: int = 0
    timestamp: datetime | None = None


class TrackingService:
    """Projects, runs, params, metrics, tags, inputs and run search."""

    def __init__(self, context: ServiceContext) -> None:
        self._ctx = context

    def create_project(self, caller: Caller, name: str, description: str = "") -> Project:
        """Create a project; its creator administers it. Raises AlreadyExistsError when the
        name is taken."""
        Project.check(name, description)
        now = self._ctx.clock.now()
        project = Project(ProjectId(self._ctx.ids.new_id()), name, description, now, caller.actor)
        with self._ctx.uow() as uow:
            self._ctx.authorize(uow, caller, Permission.PROJECT_CREATE, subject=("project", name))
            uow.projects.add(project)
            self._ctx.record(
                uow, "project.created", caller, ("project", project.id), {"name": name}
            )
            if caller.principal_id is not None:
                grant = Grant(
                    project.id, caller.principal_id, caller.actor, Role.ADMIN, now, caller.actor
                )
                uow.grants.add(grant)
            uow.commit()
        return project

    def get_project(self, caller: Caller, name: str) -> Project:
        """Raises NotFoundError."""
        with self._ctx.uow(read_only=True) as uow:
            project = uow.projects.get_by_name(name)
            self._ctx.authorize(uow, caller, Permission.PROJECT_READ, project_id=project.id)
            return project

    def list_projects(self, caller: Caller, page_size: int, cursor: str | None) -> Page[Project]:
        """The projects the caller may see, ordered by name."""
        check_page_size(page_size)
        with self._ctx.uow(read_only=True) as uow:
            return uow.projects.list_page(page_size, cursor, caller.project_filter())

    def start_run(
        self,
        caller: Caller,
        project_name: str,
        name: str,
        tags: dict[str, str],
        environment: RunEnvironment,
    ) -> RunDetail:
        """Start a run in a project, recording the environment it runs on."""
        check_text(name, field="name", max_length=256)
        check_tags(tags)
        environment.check()
        run_id = RunId(self._ctx.ids.new_id())
        with self._ctx.uow() as uow:
            project = uow.projects.get_by_name(project_name)
            self._ctx.authorize(uow, caller, Permission.RUN_WRITE, project_id=project.id)
            run = Run(
                run_id,
                project.id,
                name or f"run-{run_id[-8:]}",
                RunStatus.RUNNING,
                self._ctx.clock.now(),
                None,
                caller.actor,
                environment,
            )
            uow.runs.add(run, tags)
            self._ctx.record(
                uow,
                "run.started",
                caller,
                ("run", run.id),
                {"project": project.name, "name": run.name},
            )
            uow.commit()
        return RunDetail(run, tags=dict(tags), project_name=project.name)

    def get_run(self, caller: Caller, run_id: str) -> RunDetail:
        """A run with everything it recorded; raises NotFoundError."""
        check_id(run_id, field="run_id")
        with self._ctx.uow(read_only=True) as uow:
            detail = uow.runs.detail(RunId(run_id))
            self._ctx.authorize(
                uow,
                caller,
                Permission.PROJECT_READ,
                project_id=detail.run.project_id,
                subject=("run", run_id),
            )
            return self._with_project_name(uow, detail)

    def end_run(self, caller: Caller, run_id: str, status: str) -> RunDetail:
        """End a running run as finished, failed or killed; ConflictError if it has ended."""
        try:
            target = RunStatus(status)
        except ValueError as exc:
            raise InvalidInputError(
                "status must be finished, failed or killed", field="status"
            ) from exc
        with self._ctx.uow() as uow:
            run = self._load(uow, caller, run_id, Permission.RUN_WRITE)
            ended = run.end(target, self._ctx.clock.now())
            uow.runs.save_status(ended, expected=run.status)
            self._ctx.record(uow, "run.ended", caller, ("run", run.id), {"status": target.value})
            detail = self._with_project_name(uow, uow.runs.detail(run.id))
            uow.commit()
        return detail

    def log_params(self, caller: Caller, run_id: str, params: dict[str, str]) -> None:
        """Record params; a key is write-once (ConflictError on another value)."""
        check_params(params)
        with self._ctx.uow() as uow:
            run = self._load(uow, caller, run_id, Permission.RUN_WRITE)
            run.ensure_accepts_data()
            uow.runs.add_params(run, params)
            self._ctx.record(
                uow, "run.params_logged", caller, ("run", run.id), {"keys": sorted(params)}
            )
            uow.commit()

    def log_metrics(self, caller: Caller, run_id: str, points: Sequence[MetricPoint]) -> None:
        """Record 1 to 10,000 metric points in one transaction."""
        if not 1 <= len(points) <= MAX_METRICS_PER_CALL:
            raise InvalidInputError(
                f"send 1 to {MAX_METRICS_PER_CALL} metric points per call", field="metrics"
            )
        now = self._ctx.clock.now()
        metrics = [Metric(p.key, float(p.value), p.step, p.timestamp or now) for p in points]
        for index, metric in enumerate(metrics):
            check_metric(metric, index=index)
        with self._ctx.uow() as uow:
            run = self._load(uow, caller, run_id, Permission.RUN_WRITE)
            run.ensure_accepts_data()
            uow.runs.add_metrics(run, metrics)
            self._ctx.record(
                uow,
                "run.metrics_logged",
                caller,
                ("run", run.id),
                {"points": len(metrics), "keys": sorted({m.key for m in metrics})},
            )
            uow.commit()

    def set_tags(self, caller: Caller, run_id: str, tags: dict[str, str]) -> None:
        """Insert or overwrite tags."""
        if not tags:
            raise InvalidInputError("at least one tag is needed", field="tags")
        check_tags(tags)
        with self._ctx.uow() as uow:
            run = self._load(uow, caller, run_id, Permission.RUN_WRITE)
            run.ensure_accepts_data()
            uow.runs.set_tags(run, tags)
            self._ctx.record(uow, "run.tags_set", caller, ("run", run.id), {"tags": dict(tags)})
            uow.commit()

    def log_input(self, caller: Caller, run_id: str, dataset: DatasetInput) -> None:
        """Record a dataset version the run read, and the lineage edge from it to the run."""
        dataset.check()
        with self._ctx.uow() as uow:
            run = self._load(uow, caller, run_id, Permission.RUN_WRITE)
            run.ensure_accepts_data()
            uow.runs.add_input(run, dataset)
            uow.lineage.add_edge(
                LineageEdge(
                    LineageNode.dataset(run.project_id, dataset.name, dataset.fingerprint),
                    LineageNode.run(run.id),
                    LineageRelation.INPUT,
                    self._ctx.clock.now(),
                    run.project_id,
                )
            )
            self._ctx.record(
                uow,
                "run.input_logged",
                caller,
                ("run", run.id),
                {"dataset": dataset.name, "fingerprint": dataset.fingerprint},
            )
            uow.commit()

    def metric_history(
        self, caller: Caller, run_id: str, key: str, page_size: int, cursor: str | None
    ) -> Page[Metric]:
        """Every point of one metric, in step order."""
        check_key(key, field="key")
        if not 1 <= page_size <= MAX_HISTORY_PAGE:
            raise InvalidInputError(f"page_size must be 1 to {MAX_HISTORY_PAGE}", field="page_size")
        with self._ctx.uow(read_only=True) as uow:
            run = self._load(uow, caller, run_id, Permission.PROJECT_READ)
            return uow.runs.metric_history(run.id, key, page_size, cursor)

    def search_runs(
        self,
        caller: Caller,
        project_name: str,
        filter_text: str,
        order_by: str | None,
        page_size: int,
        cursor: str | None,
    ) -> Page[RunDetail]:
        """Runs of a project matching a filter such as `metrics.auc > 0.8`, ordered."""
        filters = parse_filter(filter_text)
        order = parse_order_by(order_by)
        check_page_size(page_size)
        with self._ctx.uow(read_only=True) as uow:
            project = self._readable_project(uow, caller, project_name)
            page = uow.runs.search(project.id, filters, order, page_size, cursor)
        items = [replace(d, project_name=project.name) for d in page.items]
        return Page(items, page.next_cursor)

    def search_runs_json(
        self,
        caller: Caller,
        project_name: str,
        filter_text: str,
        order_by: str | None,
        page_size: int,
        cursor: str | None,
    ) -> Page[RunJson]:
        """The page `search_runs` finds, each run as JSON text in the REST API's shape,
        rendered by the store (ADR 0010): a page of 1,000 runs is served without building
        1,000 RunDetails."""
        filters = parse_filter(filter_text)
        order = parse_order_by(order_by)
        check_page_size(page_size)
        with self._ctx.uow(read_only=True) as uow:
            project = self._readable_project(uow, caller, project_name)
            return uow.runs.search_json(project, filters, order, page_size, cursor)

    def _readable_project(self, uow: UnitOfWork, caller: Caller, project_name: str) -> Project:
        project = uow.projects.get_by_name(project_name)
        self._ctx.authorize(uow, caller, Permission.PROJECT_READ, project_id=project.id)
        return project

    def _load(self, uow: UnitOfWork, caller: Caller, run_id: str, permission: Permission) -> Run:
        check_id(run_id, field="run_id")
        run = uow.runs.get(RunId(run_id))
        self._ctx.authorize(
            uow, caller, permission, project_id=run.project_id, subject=("run", run.id)
        )
        return run

    @staticmethod
    def _with_project_name(uow: UnitOfWork, detail: RunDetail) -> RunDetail:
        if detail.project_name:
            return detail
        project = uow.projects.get(ProjectId(detail.run.project_id))
        return replace(detail, project_name=project.name)
