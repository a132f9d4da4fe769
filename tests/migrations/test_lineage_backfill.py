"""Migration 0008 on a database with data from before it: the lineage edges of existing run
inputs, versions, evaluations and comparisons are backfilled, on SQLite and PostgreSQL, and the
graph they make is the one the services record."""

from __future__ import annotations

import sqlalchemy as sa

from lockgate.domain.governance.lineage import (
    LineageDirection,
    LineageNode,
    LineageRelation,
    has_complete_lineage,
)
from lockgate.store.sql import SqlMetadataStore, upgrade
from tests.migrations.conftest import UpgradeTo

P, RUN, DS, MODEL, BARE_RUN = "a" * 32, "b" * 32, "c" * 32, "d" * 32, "e" * 32
EVAL_1, EVAL_2, COMPARISON = "1" * 32, "2" * 32, "3" * 32
FINGERPRINT = "f" * 64

_ROWS = [
    "INSERT INTO projects (id, name, description, created_at, created_by) "
    f"VALUES ('{P}', 'churn', '', 0, 'user:a')",
    *(
        "INSERT INTO runs (id, project_id, name, status, started_at, ended_at, created_by, "
        f"environment) VALUES ('{run}', '{P}', '{name}', 'finished', {start}, 9, 'user:a', '{{}}')"
        for run, name, start in ((RUN, "train", 5), (BARE_RUN, "bare", 6))
    ),
    "INSERT INTO datasets (id, project_id, name, fingerprint, row_count, schema, source) "
    f"VALUES ('{DS}', '{P}', 'train', '{FINGERPRINT}', 10, '[]', NULL)",
    f"INSERT INTO run_inputs (run_id, dataset_id) VALUES ('{RUN}', '{DS}')",
    "INSERT INTO registered_models (id, project_id, name, owner, description, metadata, "
    f"created_at, created_by, last_version) VALUES ('{MODEL}', '{P}', 'clf', 'o', 'd', '{{}}', "
    "0, 'user:a', 3)",
    *(
        "INSERT INTO model_versions (model_id, version, run_id, source_path, signature, "
        f"description, metadata, created_at, created_by) VALUES ('{MODEL}', {number}, {run}, "
        f"'model', NULL, '', '{{}}', {number * 100}, 'user:a')"
        for number, run in ((1, f"'{RUN}'"), (2, f"'{RUN}'"), (3, "NULL"))
    ),
    *(
        "INSERT INTO evaluations (id, project_id, model_id, version, dataset_name, "
        "dataset_fingerprint, dataset_row_count, dataset_schema, dataset_source, task, config, "
        "report, package_digest, engine, created_at, created_by) VALUES "
        f"('{evaluation}', '{P}', '{MODEL}', {number}, 'holdout', '{FINGERPRINT}', 5, "
        f"'[[\"x\", \"int64\"]]', NULL, 'regression', '{{}}', '{{}}', '{'0' * 64}', 'e', 500, "
        "'user:a')"
        for evaluation, number in ((EVAL_1, 1), (EVAL_2, 2))
    ),
    "INSERT INTO evaluation_comparisons (id, project_id, model_id, candidate_evaluation_id, "
    "baseline_evaluation_id, candidate_version, baseline_version, baseline_alias, thresholds, "
    "changes, passed, verdict, created_at, created_by) VALUES "
    f"('{COMPARISON}', '{P}', '{MODEL}', '{EVAL_2}', '{EVAL_1}', 2, 1, NULL, '{{}}', '{{}}', "
    "TRUE, '{}', 600, 'user:a')",
]


def _edges(engine: sa.Engine) -> set[tuple[str, str, str, str, int]]:
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT source, target, relation, project_id, created_at FROM lineage_edges")
        )
        return {tuple(row) for row in rows}


def test_the_edges_of_older_rows_are_backfilled(
    empty_db_url: str, engine: sa.Engine, upgrade_to: UpgradeTo
) -> None:
    upgrade_to(engine, "0007")
    with engine.begin() as connection:
        for statement in _ROWS:
            connection.execute(sa.text(statement))
    upgrade(empty_db_url)
    dataset = f"dataset:{P}/train@{FINGERPRINT}"
    holdout = f"dataset:{P}/holdout@{FINGERPRINT}"
    assert _edges(engine) == {
        (dataset, f"run:{RUN}", "input", P, 5),
        (f"run:{RUN}", f"model_version:{MODEL}/1", "produced", P, 100),
        (f"run:{RUN}", f"model_version:{MODEL}/2", "produced", P, 200),
        (f"model_version:{MODEL}/1", f"evaluation:{EVAL_1}", "evaluated", P, 500),
        (f"model_version:{MODEL}/2", f"evaluation:{EVAL_2}", "evaluated", P, 500),
        (holdout, f"evaluation:{EVAL_1}", "input", P, 500),
        (holdout, f"evaluation:{EVAL_2}", "input", P, 500),
        (f"evaluation:{EVAL_2}", f"comparison:{COMPARISON}", "candidate", P, 600),
        (f"evaluation:{EVAL_1}", f"comparison:{COMPARISON}", "baseline", P, 600),
    }


def test_the_backfilled_graph_reads_like_a_recorded_one(
    empty_db_url: str, engine: sa.Engine, upgrade_to: UpgradeTo
) -> None:
    upgrade_to(engine, "0007")
    with engine.begin() as connection:
        for statement in _ROWS:
            connection.execute(sa.text(statement))
    upgrade(empty_db_url)
    store = SqlMetadataStore.from_url(empty_db_url)
    try:
        with store.unit_of_work() as uow:
            version = LineageNode.model_version(MODEL, 2)
            graph = uow.lineage.walk([version], LineageDirection.BOTH, project_id=P, max_depth=5)
            bare = LineageNode.model_version(MODEL, 3)
            alone = uow.lineage.walk([bare], LineageDirection.UPSTREAM, project_id=P, max_depth=5)
    finally:
        store.dispose()
    assert has_complete_lineage(graph, version)
    assert not has_complete_lineage(alone, bare)
    labels = {str(i.node): i.label for i in graph.nodes}
    assert labels[f"run:{RUN}"] == "train"
    assert labels[f"dataset:{P}/train@{FINGERPRINT}"] == "train@ffffffffffff"
    assert labels[f"comparison:{COMPARISON}"] == "clf/2 vs 1: pass"
    assert {e.relation for e in graph.edges} == {
        LineageRelation.INPUT,
        LineageRelation.PRODUCED,
        LineageRelation.EVALUATED,
        LineageRelation.CANDIDATE,
    }
