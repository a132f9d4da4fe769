"""Services wired by the real composition root on each metadata dialect."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lockgate.server.composition import Platform, build_platform
from lockgate.settings import Settings


@pytest.fixture
def platform(db_url: str, tmp_path: Path) -> Iterator[Platform]:
    settings = Settings(
        home=tmp_path / "home",
        metadata_url=db_url,
        artifacts_url=(tmp_path / "artifacts").as_uri(),
        actor="user:alice",
    )
    built = build_platform(settings)
    yield built
    built.close()
