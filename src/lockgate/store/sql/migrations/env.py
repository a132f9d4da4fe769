"""Alembic environment: runs migrations on the connection `lockgate.store.sql.migrations`
hands over (online), or renders them as SQL for a dialect (offline)."""

from __future__ import annotations

from alembic import context

from lockgate.store.sql.tables import metadata

config = context.config

if context.is_offline_mode():
    context.configure(
        dialect_name=config.attributes["dialect_name"],
        target_metadata=metadata,
        literal_binds=True,
    )
else:
    context.configure(connection=config.attributes["connection"], target_metadata=metadata)

with context.begin_transaction():
    context.run_migrations()
