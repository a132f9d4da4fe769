"""The audit head keeps the last event's prev_hash too, so that PostgreSQL's append can seal
and insert an event in one statement (ADR 0013).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24

Written by hand and frozen: later changes go in new revisions, never here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

GENESIS_HASH = "0" * 64

# The last event's own prev_hash (the hash of the event before it), GENESIS_HASH for an empty
# chain: what the append would have left there. In SQL that SQLite and PostgreSQL both run.
_FILL = sa.text(
    "UPDATE audit_head SET prev_hash = COALESCE("
    "(SELECT audit_events.prev_hash FROM audit_events WHERE audit_events.seq = audit_head.seq), "
    ":genesis)"
).bindparams(genesis=GENESIS_HASH)


def upgrade() -> None:
    # NOT NULL with a default: SQLite adds such a column without rebuilding the table.
    op.add_column(
        "audit_head",
        sa.Column("prev_hash", sa.String(64), nullable=False, server_default=GENESIS_HASH),
    )
    op.execute(_FILL)


def downgrade() -> None:
    op.drop_column("audit_head", "prev_hash")
