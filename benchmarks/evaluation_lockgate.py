"""Lockgate's side of the evaluation benchmark, run with `.venv`'s Python (the parent,
`benchmarks/evaluation.py`, starts it once per measurement). Two parts:

- `sdk`: an in-process server on the embedded store in WORKDIR; the model is logged and
  registered with `run.log_model(..., method="predict_proba")`, then `client.evaluate` of
  version 1 on the Parquet path is timed; then scoring alone (Lockgate's scoring plan over the
  file's Arrow batches, and `predict_proba` on the whole DataFrame).
- `engine`: the evaluation engine alone (`lockgate.compute.evaluation.Evaluator`) on scores
  computed beforehand, fed in batches of 65,536 rows as `client.evaluate` feeds it.

    .venv/bin/python benchmarks/evaluation_lockgate.py sdk|engine \
        --model M.pkl --data D.parquet --workdir DIR --result R.json [--resamples 1000]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
from evaluation_data import COLUMNS, LABEL, load_model
from evaluation_meter import CallMeter

PROJECT = "evaluation-bench"
MODEL_NAME = "evaluation-bench-logreg"
TASK = "binary_classification"
BATCH_ROWS = 65_536  # client.evaluate's default batch size
SEED = 0


def register(client: Any, model: Any, data: Path) -> str:
    """Log and register the model (untimed); returns the version's reference."""
    example = pq.ParquetFile(data).read_row_group(0, columns=COLUMNS).slice(0, 5).to_pandas()
    with client.start_run(PROJECT, "train", create_project=True, capture_environment=False) as run:
        client.models.create(
            MODEL_NAME, project=PROJECT, owner="bench", description="the evaluation benchmark's"
        )
        logged = run.log_model(
            model,
            "model",
            input_example=example,
            registered_model_name=MODEL_NAME,
            method="predict_proba",
        )
    if logged.version is None:
        raise RuntimeError("log_model registered no version")
    return f"{MODEL_NAME}/{logged.version.version}"


def estimates(report: Any) -> dict[str, dict[str, float | None]]:
    """Metric name to value and bootstrap interval, from a report's `metrics` mapping."""
    return {
        name: {"value": e.value, "lower": e.lower, "upper": e.upper}
        for name, e in sorted(report.metrics.items())
    }


def time_plan_scoring(client: Any, ref: str, data: Path, cache_dir: Path) -> float:
    """Lockgate's scoring path alone: the verified package's predictor over the file's Arrow
    batches, through the scoring plan (reading included), as `client.evaluate` scores."""
    from lockgate.compute.scoring import ScoringPlan
    from lockgate.compute.scoring.plan import predict_batch
    from lockgate.serving.loader import fetch_package, load_predictor

    package = fetch_package(client, ref, cache_dir)
    source = pq.ParquetFile(data, pre_buffer=False)
    plan = ScoringPlan.build(source.schema_arrow, package.model_signature)
    predictor = load_predictor(package)
    started = time.perf_counter()
    for batch in source.iter_batches(batch_size=BATCH_ROWS, columns=list(plan.read_columns)):
        predict_batch(predictor, plan.to_columns(batch))
    return time.perf_counter() - started


def time_predict_proba(model: Any, data: Path) -> float:
    features = pq.read_table(data, columns=COLUMNS).to_pandas()
    started = time.perf_counter()
    model.predict_proba(features)
    return time.perf_counter() - started


def run_sdk(args: argparse.Namespace) -> dict[str, Any]:
    from lockgate.server.inprocess import embedded_client

    model = load_model(args.model)
    with embedded_client(args.workdir / "home") as client:
        started = time.perf_counter()
        ref = register(client, model, args.data)
        log_model_s = time.perf_counter() - started
        with CallMeter() as meter:
            result = client.evaluate(
                model=ref,
                data=str(args.data),
                targets=LABEL,
                task=TASK,
                resamples=args.resamples,
                seed=SEED,
                cache_dir=args.workdir / "evaluate-cache",
            )
        plan_s = time_plan_scoring(client, ref, args.data, args.workdir / "scoring-cache")
    report = result.report
    return {
        "rows": report.rows,
        "log_model_s": log_model_s,
        "evaluate_s": meter.wall_s,
        "evaluate": meter.report(),
        # What client.evaluate says reading, scoring and computing took (recording excluded).
        "evaluate_reported_s": result.seconds,
        "scoring": {
            "plan_predict_s": plan_s,
            "predict_proba_s": time_predict_proba(model, args.data),
        },
        "metrics": estimates(report),
    }


def run_engine(args: argparse.Namespace) -> dict[str, Any]:
    """The engine on precomputed scores: the label as 0/1 (`int8`, as the target encoder gives
    it) and the positive-class probability."""
    from lockgate.compute.evaluation import EvaluationBatch, Evaluator
    from lockgate.domain.evaluation import EvaluationConfig, Task

    table = pq.read_table(args.data)
    scores = load_model(args.model).predict_proba(table.select(COLUMNS).to_pandas())[:, 1]
    target = np.asarray(table.column(LABEL).to_numpy(), dtype=np.int8)
    config = EvaluationConfig(
        task=Task.BINARY_CLASSIFICATION, target=LABEL, resamples=args.resamples, seed=SEED
    )
    with CallMeter() as meter:
        evaluator = Evaluator(config, models=1, labels=("0", "1"))
        for start in range(0, len(target), BATCH_ROWS):
            rows = slice(start, start + BATCH_ROWS)
            batch = EvaluationBatch(
                target=target[rows],
                predictions=(scores[rows],),
                segments={},
                sensitive={},
                queries=None,
            )
            evaluator.update(batch)
        report = evaluator.report()
    return {
        "rows": report.rows,
        "engine_s": meter.wall_s,
        "engine": meter.report(),
        "metrics": estimates(report),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=("sdk", "engine"))
    for name in ("--model", "--data", "--workdir", "--result"):
        parser.add_argument(name, type=Path, required=True)
    parser.add_argument("--resamples", type=int, default=1_000)
    args = parser.parse_args()
    report = run_sdk(args) if args.part == "sdk" else run_engine(args)
    args.result.write_text(json.dumps(report))


if __name__ == "__main__":
    main()
