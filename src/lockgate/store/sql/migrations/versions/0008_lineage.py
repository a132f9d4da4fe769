"""The lineage graph: edges recorded as objects are created, and the edges of the rows that
predate this revision (run inputs, versions' runs, evaluations and comparisons).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24

Written by hand and frozen: later changes go in new revisions, never here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# The backfill, in SQL that SQLite and PostgreSQL both run (`||` concatenation, CAST to
# VARCHAR). Node ids follow lockgate.domain.governance.lineage: `<kind>:<id>`, a dataset
# version `dataset:<project_id>/<name>@<fingerprint>`, a model version
# `model_version:<model_id>/<version>`. A backfilled edge takes the time of the object it
# leads to (a run input, which has no time of its own, the run's start).
_INSERT = "INSERT INTO lineage_edges (source, target, relation, project_id, created_at) "
_VERSION_NODE = (
    "'model_version:' || {table}.model_id || '/' || CAST({table}.version AS VARCHAR(12))"
)
_BACKFILL = (
    # dataset version -> run that read it
    _INSERT + "SELECT 'dataset:' || d.project_id || '/' || d.name || '@' || d.fingerprint, "
    "'run:' || r.id, 'input', r.project_id, r.started_at "
    "FROM run_inputs ri "
    "JOIN datasets d ON d.id = ri.dataset_id "
    "JOIN runs r ON r.id = ri.run_id",
    # run -> model version it produced
    _INSERT + "SELECT 'run:' || v.run_id, " + _VERSION_NODE.format(table="v") + ", "
    "'produced', m.project_id, v.created_at "
    "FROM model_versions v "
    "JOIN registered_models m ON m.id = v.model_id "
    "WHERE v.run_id IS NOT NULL",
    # model version -> evaluation of it
    _INSERT + "SELECT " + _VERSION_NODE.format(table="e") + ", 'evaluation:' || e.id, "
    "'evaluated', e.project_id, e.created_at "
    "FROM evaluations e",
    # dataset version -> evaluation on it
    _INSERT + "SELECT 'dataset:' || e.project_id || '/' || e.dataset_name || '@' "
    "|| e.dataset_fingerprint, 'evaluation:' || e.id, 'input', e.project_id, e.created_at "
    "FROM evaluations e",
    # candidate and baseline evaluations -> comparison
    _INSERT + "SELECT 'evaluation:' || c.candidate_evaluation_id, 'comparison:' || c.id, "
    "'candidate', c.project_id, c.created_at "
    "FROM evaluation_comparisons c",
    _INSERT + "SELECT 'evaluation:' || c.baseline_evaluation_id, 'comparison:' || c.id, "
    "'baseline', c.project_id, c.created_at "
    "FROM evaluation_comparisons c",
)


def _node_text() -> sa.types.TypeEngine[str]:
    # Code-point order on PostgreSQL, so a prefix LIKE (a dataset's versions) uses the index.
    return sa.String(320).with_variant(sa.String(320, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "lineage_edges",
        sa.Column("source", _node_text(), nullable=False),
        sa.Column("target", _node_text(), nullable=False),
        sa.Column("relation", sa.String(32), nullable=False),
        sa.Column("project_id", sa.String(32), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("source", "target", "relation", name="pk_lineage_edges"),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name="fk_lineage_edges_project_id_projects"
        ),
    )
    # The primary key's index serves walks downstream (by source); this one walks upstream.
    op.create_index("ix_lineage_edges_target", "lineage_edges", ["target"])
    for statement in _BACKFILL:
        op.execute(statement)


def downgrade() -> None:
    op.drop_index("ix_lineage_edges_target", "lineage_edges")
    op.drop_table("lineage_edges")
