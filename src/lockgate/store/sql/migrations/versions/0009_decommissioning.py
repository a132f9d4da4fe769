"""Decommissioning: archived models and versions, and the retention of their artifacts.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24

Written by hand and frozen: later changes go in new revisions, never here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _id(name: str = "id") -> sa.Column[str]:
    return sa.Column(name, sa.String(32), nullable=False)


def _time(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger(), nullable=False)


def _actor(name: str) -> sa.Column[str]:
    return sa.Column(name, sa.String(256), nullable=False)


def _fk(columns: list[str], table: str, referred: list[str]) -> sa.ForeignKeyConstraint:
    name = f"fk_{table}_{'_'.join(columns)}_{referred[0].split('.')[0]}"
    return sa.ForeignKeyConstraint(columns, referred, name=name)


def _index(table: str, *columns: str) -> None:
    op.create_index(f"ix_{table}_{'_'.join(columns)}", table, list(columns))


def upgrade() -> None:
    op.create_table(
        "model_archives",
        _id("model_id"),
        _time("archived_at"),
        _actor("archived_by"),
        sa.Column("reason", sa.Text(), nullable=False),
        _time("retain_until"),
        sa.PrimaryKeyConstraint("model_id", name="pk_model_archives"),
        _fk(["model_id"], "model_archives", ["registered_models.id"]),
    )
    # A model retirement waiting for its versions' retirement requests (approvals).
    op.create_table(
        "model_retirements",
        _id("model_id"),
        _time("requested_at"),
        _actor("requested_by"),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("model_id", name="pk_model_retirements"),
        _fk(["model_id"], "model_retirements", ["registered_models.id"]),
    )
    op.create_table(
        "version_archives",
        _id("model_id"),
        sa.Column("version", sa.Integer(), nullable=False),
        _time("archived_at"),
        _actor("archived_by"),
        sa.Column("reason", sa.Text(), nullable=False),
        _time("retain_until"),
        sa.PrimaryKeyConstraint("model_id", "version", name="pk_version_archives"),
        _fk(
            ["model_id", "version"],
            "version_archives",
            ["model_versions.model_id", "model_versions.version"],
        ),
    )
    _index("version_archives", "retain_until")
    op.create_table(
        "artifact_purges",
        _id(),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        _time("purged_at"),
        _actor("purged_by"),
        sa.Column("reason", sa.Text(), nullable=False),
        # JSON list of the archived versions that held the blob, as "model/version".
        sa.Column("versions", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_artifact_purges"),
    )
    _index("artifact_purges", "digest", "purged_at")
    _index("artifact_purges", "purged_at", "id")
    # Retention asks "who else holds this blob?" by digest.
    _index("model_version_files", "digest")
    _index("run_artifacts", "digest")


def downgrade() -> None:
    op.drop_index("ix_run_artifacts_digest", "run_artifacts")
    op.drop_index("ix_model_version_files_digest", "model_version_files")
    op.drop_table("artifact_purges")
    op.drop_table("version_archives")
    op.drop_table("model_retirements")
    op.drop_table("model_archives")
