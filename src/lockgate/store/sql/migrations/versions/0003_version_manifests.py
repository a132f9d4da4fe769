"""Signed manifests of model versions.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24

Written by hand and frozen: later changes go in new revisions, never here. Versions registered
before this revision have no manifest; they are not signed after the fact.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "version_manifests",
        sa.Column("model_id", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("flavor", sa.String(32), nullable=False),
        sa.Column("manifest", sa.Text(), nullable=False),
        sa.Column("manifest_sha256", sa.String(64), nullable=False),
        sa.Column("algorithm", sa.String(16), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("signature", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint("model_id", "version", name="pk_version_manifests"),
        sa.ForeignKeyConstraint(
            ["model_id", "version"],
            ["model_versions.model_id", "model_versions.version"],
            name="fk_version_manifests_model_id_version_model_versions",
        ),
    )


def downgrade() -> None:
    op.drop_table("version_manifests")
