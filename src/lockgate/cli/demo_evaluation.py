"""The evaluated part of the demo: a challenger for `churn-scorer`, trained without the
newest customers, compared with the champion on a fresh holdout. It wins overall and loses on
new customers, so the server's verdict fails and names the segment."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lockgate.cli.demo_serving import SCORER, customers

if TYPE_CHECKING:
    from lockgate.api.evaluation import ComparisonOut
    from lockgate.sdk import Client

__all__ = ["HOLDOUT", "seed_comparison"]

HOLDOUT = "churn-holdout-2026-11"
_CONTRACTS = ("month-to-month", "one-year", "two-year")


def _holdout(rows: int, seed: int) -> Any:
    import numpy as np
    import pyarrow as pa

    frame, churned = customers(rows, seed)
    rng = np.random.default_rng(seed + 1)
    long_stay = frame["tenure_months"].to_numpy() > 24
    contract = np.where(
        long_stay, rng.choice(_CONTRACTS, rows, p=[0.3, 0.35, 0.35]), rng.choice(_CONTRACTS, rows)
    )
    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = table.append_column("contract", pa.array(contract))
    return table.append_column("churned", pa.array(churned))


def seed_comparison(client: Client, project: str) -> ComparisonOut | None:
    """Train and register the challenger (version 2, alias `challenger`), then compare it
    with the champion on the holdout; None when scikit-learn is not installed."""
    try:
        from sklearn.ensemble import GradientBoostingClassifier  # type: ignore[import-untyped]
    except ImportError:
        return None
    from lockgate.compute.evaluation.datasets import EvaluationData
    from lockgate.domain.evaluation import SegmentRule
    from lockgate.sdk.evaluation_run import build_config, evaluate

    train, labels = customers(8_000, seed=13)
    settled = (train["tenure_months"] >= 12).to_numpy()
    params = {"n_estimators": 150, "max_depth": 4, "learning_rate": 0.1, "random_state": 0}
    with client.start_run(project, "gbc-challenger-settled-customers") as run:
        run.log_params({**params, "train_filter": "tenure_months >= 12"})
        model = GradientBoostingClassifier(**params).fit(train[settled], labels[settled])
        run.log_model(
            model,
            "model",
            input_example=train.head(5),
            registered_model_name=SCORER,
            method="predict_proba",
        )
    client.models.set_alias(SCORER, "challenger", 2)
    config = build_config(
        "binary_classification",
        "churned",
        segments=["contract", SegmentRule("new customers", predicate="tenure_months < 12")],
        sensitive=["senior_citizen"],
        resamples=1_000,
        seed=0,
    )
    data = EvaluationData.from_table(_holdout(6_000, seed=14), name=HOLDOUT)
    with tempfile.TemporaryDirectory(prefix="lockgate-demo-packages-") as cache:
        result = evaluate(
            client,
            f"{SCORER}@challenger",
            data,
            config,
            baseline="champion",
            cache_dir=Path(cache),
        )
    return result.comparison
