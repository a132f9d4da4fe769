"""Identity: principals (users, teams, service accounts), team members, project grants, API
tokens, login sessions and failed logins.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24

Written by hand and frozen: later changes go in new revisions, never here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _sorted_text(length: int | None = None) -> sa.types.TypeEngine[str]:
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def _id(name: str = "id", *, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(32), nullable=nullable)


def _time(name: str, *, nullable: bool = False) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger(), nullable=nullable)


def _actor(name: str) -> sa.Column[str]:
    return sa.Column(name, sa.String(256), nullable=False)


def _fk(columns: list[str], table: str, referred: list[str]) -> sa.ForeignKeyConstraint:
    name = f"fk_{table}_{'_'.join(columns)}_{referred[0].split('.')[0]}"
    return sa.ForeignKeyConstraint(columns, referred, name=name)


def _pk(table: str, *columns: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint(*columns, name=f"pk_{table}")


def _index(table: str, *columns: str) -> None:
    op.create_index(f"ix_{table}_{'_'.join(columns)}", table, list(columns))


def _principals() -> None:
    op.create_table(
        "principals",
        _id(),
        sa.Column("kind", _sorted_text(8), nullable=False),
        sa.Column("name", _sorted_text(128), nullable=False),
        sa.Column("display_name", sa.String(256), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("platform_role", sa.String(32), nullable=True),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        _time("created_at"),
        _actor("created_by"),
        _pk("principals", "id"),
        sa.UniqueConstraint("kind", "name", name="uq_principals_kind_name"),
    )
    op.create_table(
        "team_members",
        _id("team_id"),
        _id("member_id"),
        _pk("team_members", "team_id", "member_id"),
        _fk(["team_id"], "team_members", ["principals.id"]),
        _fk(["member_id"], "team_members", ["principals.id"]),
    )
    _index("team_members", "member_id")
    op.create_table(
        "grants",
        _id("project_id"),
        _id("principal_id"),
        sa.Column("role", sa.String(16), nullable=False),
        _time("granted_at"),
        _actor("granted_by"),
        _pk("grants", "project_id", "principal_id", "role"),
        _fk(["project_id"], "grants", ["projects.id"]),
        _fk(["principal_id"], "grants", ["principals.id"]),
    )
    _index("grants", "principal_id", "project_id")


def _credentials() -> None:
    op.create_table(
        "api_tokens",
        _id(),
        _id("principal_id"),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("hint", sa.String(16), nullable=False),
        _time("created_at"),
        _actor("created_by"),
        _time("expires_at", nullable=True),
        sa.Column("scope_project_id", sa.String(32), nullable=True),
        sa.Column("scope_role", sa.String(16), nullable=True),
        _time("revoked_at", nullable=True),
        _pk("api_tokens", "id"),
        sa.UniqueConstraint("digest", name="uq_api_tokens_digest"),
        _fk(["principal_id"], "api_tokens", ["principals.id"]),
        _fk(["scope_project_id"], "api_tokens", ["projects.id"]),
    )
    _index("api_tokens", "principal_id", "created_at")
    op.create_table(
        "login_sessions",
        sa.Column("digest", sa.String(64), nullable=False),
        _id("principal_id"),
        sa.Column("csrf_digest", sa.String(64), nullable=False),
        _time("created_at"),
        _time("expires_at"),
        _time("revoked_at", nullable=True),
        _pk("login_sessions", "digest"),
        _fk(["principal_id"], "login_sessions", ["principals.id"]),
    )
    _index("login_sessions", "principal_id")
    op.create_table(
        "login_failures",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("username", sa.String(256), nullable=False),
        _time("failed_at"),
        _pk("login_failures", "id"),
    )
    _index("login_failures", "username", "failed_at")


def upgrade() -> None:
    _principals()
    _credentials()


def downgrade() -> None:
    for table in (
        "login_failures",
        "login_sessions",
        "api_tokens",
        "grants",
        "team_members",
        "principals",
    ):
        op.drop_table(table)
