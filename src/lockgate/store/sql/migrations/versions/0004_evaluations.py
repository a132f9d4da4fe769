"""Evaluations of model versions on dataset versions, and comparisons of a candidate with a
baseline with their verdict.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

Written by hand and frozen: later changes go in new revisions, never here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
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
        "evaluations",
        _id(),
        _id("project_id"),
        _id("model_id"),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("dataset_name", sa.String(128), nullable=False),
        sa.Column("dataset_fingerprint", sa.String(128), nullable=False),
        sa.Column("dataset_row_count", sa.BigInteger(), nullable=True),
        sa.Column("dataset_schema", sa.Text(), nullable=False),
        sa.Column("dataset_source", sa.Text(), nullable=True),
        sa.Column("task", sa.String(32), nullable=False),
        sa.Column("config", sa.Text(), nullable=False),
        sa.Column("report", sa.Text(), nullable=False),
        sa.Column("package_digest", sa.String(64), nullable=False),
        sa.Column("engine", sa.String(128), nullable=False),
        _time("created_at"),
        _actor("created_by"),
        sa.PrimaryKeyConstraint("id", name="pk_evaluations"),
        _fk(["project_id"], "evaluations", ["projects.id"]),
        _fk(
            ["model_id", "version"],
            "evaluations",
            ["model_versions.model_id", "model_versions.version"],
        ),
    )
    _index("evaluations", "model_id", "version", "created_at")
    op.create_table(
        "evaluation_comparisons",
        _id(),
        _id("project_id"),
        _id("model_id"),
        _id("candidate_evaluation_id"),
        _id("baseline_evaluation_id"),
        sa.Column("candidate_version", sa.Integer(), nullable=False),
        sa.Column("baseline_version", sa.Integer(), nullable=False),
        sa.Column("baseline_alias", sa.String(64), nullable=True),
        sa.Column("thresholds", sa.Text(), nullable=False),
        sa.Column("changes", sa.Text(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("verdict", sa.Text(), nullable=False),
        _time("created_at"),
        _actor("created_by"),
        sa.PrimaryKeyConstraint("id", name="pk_evaluation_comparisons"),
        _fk(["project_id"], "evaluation_comparisons", ["projects.id"]),
        _fk(["model_id"], "evaluation_comparisons", ["registered_models.id"]),
        _fk(["candidate_evaluation_id"], "evaluation_comparisons", ["evaluations.id"]),
        _fk(["baseline_evaluation_id"], "evaluation_comparisons", ["evaluations.id"]),
    )
    _index("evaluation_comparisons", "model_id", "candidate_version", "created_at")


def downgrade() -> None:
    op.drop_table("evaluation_comparisons")
    op.drop_table("evaluations")
