"""Builders of domain objects for the SQL store contract tests (fixed clock, counted ids)."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from lockgate.domain.identity import Actor
from lockgate.domain.registry import ModelId, ModelVersion, RegisteredModel, VersionFile
from lockgate.domain.tracking import Project, ProjectId, Run, RunEnvironment, RunId, RunStatus
from lockgate.store.protocols import UnitOfWork

UowFactory = Callable[[], UnitOfWork]

T0 = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
ALICE = Actor("user:alice")

_counter = itertools.count(1)


def new_id() -> str:
    """A fresh 32-hex id, increasing within a session."""
    return f"{next(_counter):032x}"


def at(seconds: float) -> datetime:
    """T0 plus some seconds."""
    return T0 + timedelta(seconds=seconds)


def make_project(name: str = "churn") -> Project:
    return Project(ProjectId(new_id()), name, "a project", T0, ALICE)


def make_run(project: Project, name: str = "run", *, started: float = 0, **fields: Any) -> Run:
    environment = RunEnvironment(
        git_sha="abcdef1",
        git_dirty=False,
        python_version="3.11.9",
        packages=("numpy==2.0",),
        seed=7,
    )
    run = Run(
        RunId(new_id()),
        project.id,
        name,
        RunStatus.RUNNING,
        at(started),
        None,
        ALICE,
        environment,
    )
    return dataclasses.replace(run, **fields)


def make_model(project: Project, name: str = "churn-model") -> RegisteredModel:
    return RegisteredModel(
        ModelId(new_id()), project.id, name, "team-a", "predicts churn", {"tier": "2"}, T0, ALICE
    )


def make_version(model: RegisteredModel, version: int, run: Run | None = None) -> ModelVersion:
    files = (
        VersionFile("model.onnx", "a" * 64, 10),
        VersionFile("MLmodel", "b" * 64, 3),
    )
    return ModelVersion(
        model.id,
        model.name,
        version,
        None if run is None else run.id,
        "model",
        files,
        None,
        f"version {version}",
        {"k": "v"},
        at(version),
        ALICE,
    )


def add_project(uow_factory: UowFactory, name: str = "churn") -> Project:
    """A committed project."""
    project = make_project(name)
    with uow_factory() as uow:
        uow.projects.add(project)
        uow.commit()
    return project


def add_run(
    uow_factory: UowFactory, project: Project | None = None, tags: dict[str, str] | None = None
) -> Run:
    """A committed running run (in a new project unless one is given)."""
    run = make_run(project or add_project(uow_factory), "baseline")
    with uow_factory() as uow:
        uow.runs.add(run, tags or {})
        uow.commit()
    return run
