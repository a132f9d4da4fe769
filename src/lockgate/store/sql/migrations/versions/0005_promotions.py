"""Environments, risk tiers, promotion requests, approvals, gate decisions, exceptions and the history of what was current in each environment.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24

Written by hand and frozen: later changes go in new revisions, never here.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# The stages every platform starts with; a platform admin may add more between or after.
SEEDED_ENVIRONMENTS = (
    ("dev", 10, "Where a version is first tried out."),
    ("staging", 20, "Where a version is checked like production, before it."),
    ("production", 30, "What serves real traffic."),
)


def _sorted_text(length: int) -> sa.types.TypeEngine[str]:
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def _id(name: str = "id") -> sa.Column[str]:
    return sa.Column(name, sa.String(32), nullable=False)


def _time(name: str, *, nullable: bool = False) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger(), nullable=nullable)


def _actor(name: str, *, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(256), nullable=nullable)


def _fk(columns: list[str], table: str, referred: list[str]) -> sa.ForeignKeyConstraint:
    name = f"fk_{table}_{'_'.join(columns)}_{referred[0].split('.')[0]}"
    return sa.ForeignKeyConstraint(columns, referred, name=name)


def _version_fk(table: str) -> sa.ForeignKeyConstraint:
    return _fk(
        ["model_id", "version"], table, ["model_versions.model_id", "model_versions.version"]
    )


def _index(table: str, *columns: str) -> None:
    op.create_index(f"ix_{table}_{'_'.join(columns)}", table, list(columns))


def _environments() -> None:
    table = op.create_table(
        "environments",
        sa.Column("name", _sorted_text(64), nullable=False),
        sa.Column("order", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        _time("created_at"),
        _actor("created_by"),
        sa.PrimaryKeyConstraint("name", name="pk_environments"),
        sa.UniqueConstraint("order", name="uq_environments_order"),
    )
    now = datetime.now(UTC)
    created_at = (now - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    op.bulk_insert(
        table,
        [
            {
                "name": name,
                "order": order,
                "description": description,
                "created_at": created_at,
                "created_by": "system:migration",
            }
            for name, order, description in SEEDED_ENVIRONMENTS
        ],
    )
    op.create_table(
        "model_governance",
        _id("model_id"),
        sa.Column("tier", sa.String(16), nullable=False),
        sa.Column("monitor", sa.Text(), nullable=True),
        _time("updated_at"),
        _actor("updated_by"),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("model_id", name="pk_model_governance"),
        _fk(["model_id"], "model_governance", ["registered_models.id"]),
    )
    op.create_table(
        "environment_current",
        _id("model_id"),
        sa.Column("environment", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _time("since"),
        sa.Column("request_id", sa.String(32), nullable=True),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("model_id", "environment", name="pk_environment_current"),
        _version_fk("environment_current"),
        _fk(["environment"], "environment_current", ["environments.name"]),
    )
    op.create_table(
        "environment_history",
        _id(),
        _id("model_id"),
        sa.Column("environment", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("previous_version", sa.Integer(), nullable=True),
        sa.Column("request_id", sa.String(32), nullable=True),
        sa.Column("decision_id", sa.String(32), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        _actor("requested_by"),
        _time("changed_at"),
        _actor("changed_by"),
        sa.PrimaryKeyConstraint("id", name="pk_environment_history"),
        _fk(["model_id"], "environment_history", ["registered_models.id"]),
        _fk(["environment"], "environment_history", ["environments.name"]),
    )
    _index("environment_history", "model_id", "environment", "changed_at")


def _requests() -> None:
    op.create_table(
        "promotion_requests",
        _id(),
        _id("project_id"),
        _id("model_id"),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("environment", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        _actor("requested_by"),
        _time("requested_at"),
        _time("closed_at", nullable=True),
        _actor("closed_by", nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("open_key", sa.String(128), nullable=True),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_promotion_requests"),
        sa.UniqueConstraint("open_key", name="uq_promotion_requests_open_key"),
        _fk(["project_id"], "promotion_requests", ["projects.id"]),
        _version_fk("promotion_requests"),
        _fk(["environment"], "promotion_requests", ["environments.name"]),
    )
    _index("promotion_requests", "model_id", "version", "id")
    _index("promotion_requests", "project_id", "status", "id")
    _index("promotion_requests", "status", "id")
    op.create_table(
        "approvals",
        _id(),
        _id("request_id"),
        _actor("reviewer"),
        _time("approved_at"),
        _time("expires_at"),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_approvals"),
        sa.UniqueConstraint("request_id", "reviewer", name="uq_approvals_request_id_reviewer"),
        _fk(["request_id"], "approvals", ["promotion_requests.id"]),
    )
    op.create_table(
        "gate_decisions",
        _id(),
        _id("request_id"),
        _id("project_id"),
        _id("model_id"),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("environment", sa.String(64), nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        _time("decided_at"),
        _actor("decided_by"),
        sa.Column("input_json", sa.Text(), nullable=False),
        sa.Column("input_sha256", sa.String(64), nullable=False),
        sa.Column("policy_digest", sa.String(128), nullable=False),
        sa.Column("results_json", sa.Text(), nullable=False),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_gate_decisions"),
        _fk(["request_id"], "gate_decisions", ["promotion_requests.id"]),
    )
    _index("gate_decisions", "request_id", "decided_at")
    _index("gate_decisions", "model_id", "version", "decided_at")


def _exceptions() -> None:
    op.create_table(
        "gate_exceptions",
        _id(),
        _id("project_id"),
        _id("model_id"),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("environment", sa.String(64), nullable=False),
        sa.Column("gate", sa.String(64), nullable=False),
        sa.Column("justification", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _actor("requested_by"),
        _time("requested_at"),
        _time("expires_at"),
        _actor("approved_by", nullable=True),
        _time("approved_at", nullable=True),
        _actor("revoked_by", nullable=True),
        _time("revoked_at", nullable=True),
        sa.Column("revoke_reason", sa.Text(), nullable=False),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_gate_exceptions"),
        _fk(["project_id"], "gate_exceptions", ["projects.id"]),
        _version_fk("gate_exceptions"),
        _fk(["environment"], "gate_exceptions", ["environments.name"]),
    )
    _index("gate_exceptions", "model_id", "version", "environment")


def upgrade() -> None:
    _environments()
    _requests()
    _exceptions()


def downgrade() -> None:
    for table in (
        "gate_exceptions",
        "gate_decisions",
        "approvals",
        "promotion_requests",
        "environment_history",
        "environment_current",
        "model_governance",
        "environments",
    ):
        op.drop_table(table)
