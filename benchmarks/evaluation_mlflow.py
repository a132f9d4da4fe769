"""MLflow's side of the evaluation benchmark, run with the Python of the benchmark's MLflow
environment: log the benchmark's pickled model with `mlflow.sklearn.log_model` to a SQLite store
in WORKDIR, read the Parquet file into pandas, time `mlflow.evaluate` of the logged model on it
(the default evaluator, explainability off), then time scoring alone. Writes a JSON report.

    .bench/venvs/serving-mlflow/bin/python benchmarks/evaluation_mlflow.py \
        --model M.pkl --data D.parquet --workdir DIR --result R.json
"""

from __future__ import annotations

import argparse
import json
import pickle
import time
from pathlib import Path
from typing import Any

import mlflow
import mlflow.sklearn
import pandas as pd
import sklearn
from evaluation_meter import CallMeter

LABEL = "label"


def log_model(model: Any, features: pd.DataFrame) -> str:
    """Log the model under a run of its own; returns its URI."""
    with mlflow.start_run(run_name="train"):
        # Requirements are given so MLflow does not spend ~20 s inferring them; the logged
        # model is otherwise MLflow's default (skops serialization, signature from the example).
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            input_example=features.head(5),
            pip_requirements=[f"scikit-learn=={sklearn.__version__}"],
        )
    return str(info.model_uri)


def evaluate(model_uri: str, data: pd.DataFrame) -> tuple[dict[str, float], Any]:
    """`mlflow.evaluate` with every default except explainability (Lockgate computes no SHAP
    values); the run is started outside the measured call."""
    with mlflow.start_run(run_name="evaluate"), CallMeter() as meter:
        result = mlflow.evaluate(
            model_uri,
            data=data,
            targets=LABEL,
            model_type="classifier",
            evaluators=["default"],
            evaluator_config={"default": {"log_model_explainability": False}},
        )
    return meter.report(), result


def time_scoring(model_uri: str, model: Any, features: pd.DataFrame) -> dict[str, float]:
    """What scoring alone costs: the pyfunc `predict` that evaluate calls for the labels, and
    scikit-learn's `predict_proba` that it calls for the scores."""
    pyfunc = mlflow.pyfunc.load_model(model_uri)
    started = time.perf_counter()
    pyfunc.predict(features)
    predict_s = time.perf_counter() - started
    started = time.perf_counter()
    model.predict_proba(features)
    return {"pyfunc_predict_s": predict_s, "predict_proba_s": time.perf_counter() - started}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name in ("--model", "--data", "--workdir", "--result"):
        parser.add_argument(name, type=Path, required=True)
    args = parser.parse_args()
    mlflow.set_tracking_uri(f"sqlite:///{args.workdir / 'mlflow.db'}")
    mlflow.set_experiment("evaluation-bench")
    model = pickle.loads(args.model.read_bytes())  # noqa: S301 - the benchmark's own model file
    started = time.perf_counter()
    data = pd.read_parquet(args.data)
    read_s = time.perf_counter() - started
    features = data.drop(columns=[LABEL])
    started = time.perf_counter()
    model_uri = log_model(model, features)
    log_model_s = time.perf_counter() - started
    measured, result = evaluate(model_uri, data)
    report = {
        "mlflow": mlflow.__version__,
        "rows": len(data),
        "read_parquet_s": read_s,
        "log_model_s": log_model_s,
        "evaluate_s": measured["s"],
        "evaluate": measured,
        "scoring": time_scoring(model_uri, model, features),
        "metrics": {name: float(value) for name, value in sorted(result.metrics.items())},
        "artifacts": sorted(result.artifacts),
    }
    args.result.write_text(json.dumps(report))


if __name__ == "__main__":
    main()
