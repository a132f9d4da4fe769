"""A project's own gate policies: versioned Rego modules, proposed and reviewed.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24

Written by hand and frozen: later changes go in new revisions, never here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _sorted_text(length: int) -> sa.types.TypeEngine[str]:
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def upgrade() -> None:
    # One row per version of a policy. `active_name` is the name while the version is active
    # and NULL otherwise: its unique constraint keeps one active version per name and
    # project (NULLs never collide), so two concurrent approvals cannot both win.
    op.create_table(
        "project_policies",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("project_id", sa.String(32), nullable=False),
        sa.Column("name", _sorted_text(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("tests", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("active_name", sa.String(64), nullable=True),
        sa.Column("proposed_by", sa.String(256), nullable=False),
        sa.Column("proposed_at", sa.BigInteger(), nullable=False),
        sa.Column("reviewed_by", sa.String(256), nullable=True),
        sa.Column("reviewed_at", sa.BigInteger(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("superseded_at", sa.BigInteger(), nullable=True),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_project_policies"),
        sa.UniqueConstraint(
            "project_id", "name", "version", name="uq_project_policies_project_id_name_version"
        ),
        sa.UniqueConstraint(
            "project_id", "active_name", name="uq_project_policies_project_id_active_name"
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name="fk_project_policies_project_id_projects"
        ),
    )
    op.create_index(
        "ix_project_policies_project_id_status", "project_policies", ["project_id", "status"]
    )


def downgrade() -> None:
    op.drop_table("project_policies")
