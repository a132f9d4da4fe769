"""The first schema: projects, runs and what they record, the registry, the audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-24

Written by hand and frozen: later changes go in new revisions, never here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

GENESIS_HASH = "0" * 64


def _sorted_text(length: int | None = None) -> sa.types.TypeEngine[str]:
    # Code-point order on PostgreSQL whatever the database collation.
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def _id(name: str = "id", *, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(32), nullable=nullable)


def _time(name: str, *, nullable: bool = False) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger(), nullable=nullable)


def _serial(name: str = "id") -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False)


def _fk(columns: list[str], table: str, referred: list[str]) -> sa.ForeignKeyConstraint:
    name = f"fk_{table}_{'_'.join(columns)}_{referred[0].split('.')[0]}"
    return sa.ForeignKeyConstraint(columns, referred, name=name)


def _pk(table: str, *columns: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint(*columns, name=f"pk_{table}")


def _index(table: str, *columns: str) -> None:
    op.create_index(f"ix_{table}_{'_'.join(columns)}", table, list(columns))


def _tracking() -> None:
    op.create_table(
        "projects",
        _id(),
        sa.Column("name", _sorted_text(128), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        _time("created_at"),
        sa.Column("created_by", sa.String(256), nullable=False),
        _pk("projects", "id"),
        sa.UniqueConstraint("name", name="uq_projects_name"),
    )
    op.create_table(
        "runs",
        _id(),
        _id("project_id"),
        sa.Column("name", _sorted_text(256), nullable=False),
        sa.Column("status", _sorted_text(16), nullable=False),
        _time("started_at"),
        _time("ended_at", nullable=True),
        sa.Column("created_by", _sorted_text(256), nullable=False),
        sa.Column("environment", sa.Text(), nullable=False),
        _pk("runs", "id"),
        _fk(["project_id"], "runs", ["projects.id"]),
    )
    for column in ("started_at", "name", "status", "created_by"):
        _index("runs", "project_id", column, "id")
    for table in ("params", "tags"):
        op.create_table(
            table,
            _id("run_id"),
            sa.Column("key", sa.String(250), nullable=False),
            sa.Column("value", _sorted_text(), nullable=False),
            _id("project_id"),
            _pk(table, "run_id", "key"),
            _fk(["run_id"], table, ["runs.id"]),
        )
        # Values are indexed by their first 200 characters: PostgreSQL refuses index rows
        # over about 2.7 kB.
        op.create_index(
            f"ix_{table}_project_id_key_value_run_id",
            table,
            ["project_id", "key", sa.text("substr(value, 1, 200)"), "run_id"],
        )
    op.create_table(
        "metrics",
        _serial(),
        _id("run_id"),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("value", sa.Double(), nullable=True),  # NULL is NaN
        sa.Column("step", sa.BigInteger(), nullable=False),
        _time("timestamp"),
        _pk("metrics", "id"),
        _fk(["run_id"], "metrics", ["runs.id"]),
    )
    _index("metrics", "run_id", "key", "step", "timestamp", "id")
    op.create_table(
        "latest_metrics",
        _id("run_id"),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("value", sa.Double(), nullable=True),
        sa.Column("step", sa.BigInteger(), nullable=False),
        _time("timestamp"),
        _id("project_id"),
        _pk("latest_metrics", "run_id", "key"),
        _fk(["run_id"], "latest_metrics", ["runs.id"]),
    )
    _index("latest_metrics", "project_id", "key", "value", "run_id")


def _inputs_and_artifacts() -> None:
    op.create_table(
        "datasets",
        _id(),
        _id("project_id"),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("fingerprint", sa.String(128), nullable=False),
        sa.Column("row_count", sa.BigInteger(), nullable=True),
        sa.Column("schema", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        _pk("datasets", "id"),
        _fk(["project_id"], "datasets", ["projects.id"]),
        sa.UniqueConstraint(
            "project_id", "name", "fingerprint", name="uq_datasets_project_id_name_fingerprint"
        ),
    )
    op.create_table(
        "run_inputs",
        _id("run_id"),
        _id("dataset_id"),
        _pk("run_inputs", "run_id", "dataset_id"),
        _fk(["run_id"], "run_inputs", ["runs.id"]),
        _fk(["dataset_id"], "run_inputs", ["datasets.id"]),
    )
    op.create_table(
        "run_artifacts",
        _id("run_id"),
        sa.Column("path", _sorted_text(1024), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        _time("created_at"),
        _pk("run_artifacts", "run_id", "path"),
        _fk(["run_id"], "run_artifacts", ["runs.id"]),
    )


def _registry() -> None:
    op.create_table(
        "registered_models",
        _id(),
        _id("project_id"),
        sa.Column("name", _sorted_text(128), nullable=False),
        sa.Column("owner", sa.String(256), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("metadata", sa.Text(), nullable=False),
        _time("created_at"),
        sa.Column("created_by", sa.String(256), nullable=False),
        sa.Column("last_version", sa.Integer(), nullable=False),
        _pk("registered_models", "id"),
        _fk(["project_id"], "registered_models", ["projects.id"]),
        sa.UniqueConstraint("name", name="uq_registered_models_name"),
    )
    _index("registered_models", "project_id", "name")
    op.create_table(
        "model_versions",
        _id("model_id"),
        sa.Column("version", sa.Integer(), nullable=False),
        _id("run_id", nullable=True),
        sa.Column("source_path", sa.Text(), nullable=False),
        sa.Column("signature", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("metadata", sa.Text(), nullable=False),
        _time("created_at"),
        sa.Column("created_by", sa.String(256), nullable=False),
        _pk("model_versions", "model_id", "version"),
        _fk(["model_id"], "model_versions", ["registered_models.id"]),
        _fk(["run_id"], "model_versions", ["runs.id"]),
    )
    _index("model_versions", "run_id")
    version_key = ["model_versions.model_id", "model_versions.version"]
    op.create_table(
        "model_version_files",
        _id("model_id"),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("path", _sorted_text(1024), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        _pk("model_version_files", "model_id", "version", "path"),
        _fk(["model_id", "version"], "model_version_files", version_key),
    )
    op.create_table(
        "model_aliases",
        _id("model_id"),
        sa.Column("alias", _sorted_text(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _pk("model_aliases", "model_id", "alias"),
        _fk(["model_id", "version"], "model_aliases", version_key),
    )
    op.create_table(
        "alias_moves",
        _serial(),
        _id("model_id"),
        sa.Column("alias", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("previous_version", sa.Integer(), nullable=True),
        _time("moved_at"),
        sa.Column("moved_by", sa.String(256), nullable=False),
        _pk("alias_moves", "id"),
        _fk(["model_id"], "alias_moves", ["registered_models.id"]),
    )
    _index("alias_moves", "model_id", "alias", "moved_at")


def _audit() -> None:
    op.create_table(
        "audit_events",
        sa.Column("seq", sa.BigInteger(), nullable=False, autoincrement=False),
        _id(),
        _time("occurred_at"),
        sa.Column("action", sa.String(128), nullable=False),
        sa.Column("actor", sa.String(256), nullable=False),
        sa.Column("subject_type", sa.String(64), nullable=False),
        sa.Column("subject_id", sa.String(256), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),  # canonical JSON, as hashed
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        _pk("audit_events", "seq"),
        sa.UniqueConstraint("id", name="uq_audit_events_id"),
    )
    _index("audit_events", "subject_type", "subject_id", "seq")
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        _pk("audit_head", "id"),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": GENESIS_HASH}])


def upgrade() -> None:
    _tracking()
    _inputs_and_artifacts()
    _registry()
    _audit()


def downgrade() -> None:
    for table in (
        "audit_head",
        "audit_events",
        "alias_moves",
        "model_aliases",
        "model_version_files",
        "model_versions",
        "registered_models",
        "run_artifacts",
        "run_inputs",
        "datasets",
        "latest_metrics",
        "metrics",
        "tags",
        "params",
        "runs",
        "projects",
    ):
        op.drop_table(table)
