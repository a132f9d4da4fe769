"""Contract of SqlArtifactIndex on every dialect."""

from __future__ import annotations

import pytest

from lockgate.domain.artifacts import RunArtifact
from lockgate.domain.errors import ConflictError, NotFoundError
from lockgate.domain.tracking import Run
from tests.store.sql_builders import UowFactory, add_run, at


@pytest.fixture
def run(uow_factory: UowFactory) -> Run:
    return add_run(uow_factory)


def _file(run: Run, path: str, digest: str = "a" * 64) -> RunArtifact:
    return RunArtifact(run.id, path, digest, 12, at(1))


def test_files_are_write_once(uow_factory: UowFactory, run: Run) -> None:
    with uow_factory() as uow:
        assert uow.artifacts.add_run_artifact(_file(run, "model/m.onnx")) is True
        assert uow.artifacts.add_run_artifact(_file(run, "model/m.onnx")) is False
        with pytest.raises(ConflictError, match=r"'model/m.onnx' .* already holds another file"):
            uow.artifacts.add_run_artifact(_file(run, "model/m.onnx", "b" * 64))
        uow.commit()
    with uow_factory() as uow:
        assert uow.artifacts.get_run_artifact(run.id, "model/m.onnx") == _file(run, "model/m.onnx")
        with pytest.raises(NotFoundError, match="has no artifact 'nope'"):
            uow.artifacts.get_run_artifact(run.id, "nope")


def test_listing_by_directory_prefix(uow_factory: UowFactory, run: Run) -> None:
    paths = ["model/b.bin", "model/a.json", "model/sub/c", "model0/x", "model.txt", "modelx", "z"]
    with uow_factory() as uow:
        for path in paths:
            uow.artifacts.add_run_artifact(_file(run, path))
        uow.commit()
    with uow_factory() as uow:
        below = [a.path for a in uow.artifacts.list_run_artifacts(run.id, "model")]
        below_slash = [a.path for a in uow.artifacts.list_run_artifacts(run.id, "model/")]
        everything = [a.path for a in uow.artifacts.list_run_artifacts(run.id, None)]
    assert below == below_slash == ["model/a.json", "model/b.bin", "model/sub/c"]
    assert everything == sorted(paths)
