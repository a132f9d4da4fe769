"""What the migration tests share: an engine on an empty database (SQLite or PostgreSQL, per
`empty_db_url`), and a way to stop the migrations at a revision, as an old version left it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

import lockgate.store.sql
from lockgate.store.sql.engine import create_engine_for

MIGRATIONS = Path(lockgate.store.sql.__file__).with_name("migrations")

UpgradeTo = Callable[[sa.Engine, str], None]


@pytest.fixture
def engine(empty_db_url: str) -> Iterator[sa.Engine]:
    engine = create_engine_for(empty_db_url)
    yield engine
    engine.dispose()


def _upgrade_to(engine: sa.Engine, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


@pytest.fixture
def upgrade_to() -> UpgradeTo:
    """Migrate a database up to `revision` (not head): the schema an old version left."""
    return _upgrade_to
