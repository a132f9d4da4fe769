"""The inference server's process set-up: what `InferenceServer.run` does around uvicorn."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from lockgate.serving.server import InferenceServer, ServingOptions
from tests.serving.server.models import served


class _Served:
    """Stands in for uvicorn's server: records what the process looked like when serving began."""

    frozen_at_start: int | None = None

    def __init__(self, config: uvicorn.Config) -> None:
        self.config = config

    def run(self) -> None:
        _Served.frozen_at_start = gc.get_freeze_count()


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


@pytest.mark.usefixtures("unfrozen")
def test_the_loaded_models_are_out_of_the_collectors_sight_before_serving(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(uvicorn, "Server", _Served)
    server = InferenceServer([served()], ServingOptions(), prediction_log_dir=tmp_path)
    model = server.models[0]

    server.run()

    # The models (and all imported so far) sit in the permanent generation, out of the
    # collector's full passes.
    assert _Served.frozen_at_start is not None
    assert _Served.frozen_at_start > 1000
    assert gc.is_tracked(model)
    assert not any(
        model is tracked for generation in range(3) for tracked in gc.get_objects(generation)
    )
