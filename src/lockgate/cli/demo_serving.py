"""The served part of the demo: a real scikit-learn model, trained on synthetic customers,
logged with its flavor, registered as `churn-scorer` with a `champion`, and served by the
inference server beside the API server."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from lockgate.sdk import Client

__all__ = ["SAMPLE", "SCORER", "ServedDemo", "customers", "seed_scorer", "serve_scorer"]

SCORER = "churn-scorer"
FEATURES = (
    "tenure_months",
    "monthly_charges",
    "num_support_tickets",
    "last_login_days",
    "senior_citizen",
)
SAMPLE = {
    "tenure_months": 3.0,
    "monthly_charges": 98.5,
    "num_support_tickets": 4.0,
    "last_login_days": 21.0,
    "senior_citizen": 0.0,
}
"""A customer who looks likely to leave: new, expensive plan, many tickets, gone quiet."""


def customers(rows: int, seed: int) -> tuple[Any, Any]:
    """Synthetic customers and whether each churned: a DataFrame of `FEATURES` and 0/1."""
    import numpy as np
    import pandas as pd  # type: ignore[import-untyped,unused-ignore]

    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "tenure_months": rng.integers(1, 72, rows).astype(float),
            "monthly_charges": rng.uniform(20, 120, rows).round(2),
            "num_support_tickets": rng.poisson(1.2, rows).astype(float),
            "last_login_days": rng.exponential(6, rows).round(),
            "senior_citizen": (rng.random(rows) < 0.16).astype(float),
        }
    )
    logit = (
        -1.2
        - 0.05 * frame["tenure_months"]
        + 0.025 * frame["monthly_charges"]
        + 0.45 * frame["num_support_tickets"]
        + 0.06 * frame["last_login_days"]
        + 0.3 * frame["senior_citizen"]
    )
    churned = rng.random(rows) < 1 / (1 + np.exp(-logit))
    return frame, churned.astype(int)


def seed_scorer(client: Client, project: str) -> str | None:
    """Train, log and register the scorer; None when scikit-learn is not installed."""
    try:
        from sklearn.ensemble import GradientBoostingClassifier  # type: ignore[import-untyped]
        from sklearn.metrics import roc_auc_score  # type: ignore[import-untyped]
    except ImportError:
        return None
    train, train_labels = customers(8_000, seed=11)
    valid, valid_labels = customers(2_000, seed=12)
    params = {"n_estimators": 80, "max_depth": 3, "learning_rate": 0.1, "random_state": 0}
    client.models.create(
        SCORER,
        project=project,
        owner="team-retention",
        description="Flags customers likely to cancel within 30 days (served).",
        metadata={
            "task": "binary-classification",
            "intended_use": "Rank subscribers by their risk of cancelling within 30 days.",
        },
    )
    with client.start_run(project, "gbc-served") as run:
        run.log_params(params)
        run.log_input(
            "customers-train",
            fingerprint=_fingerprint(train),
            schema={column: str(dtype) for column, dtype in train.dtypes.items()},
            row_count=len(train),
            source="synthetic://churn/customers?seed=11",
        )
        model = GradientBoostingClassifier(**params).fit(train, train_labels)
        auc = float(roc_auc_score(valid_labels, model.predict_proba(valid)[:, 1]))
        run.log_metrics({"val_auc": auc})
        run.set_tag("team", "retention")
        run.log_model(
            model,
            "model",
            input_example=train.head(5),
            registered_model_name=SCORER,
            method="predict_proba",
        )
    client.models.set_alias(SCORER, "champion", 1)
    return f"{SCORER}@champion"


def _fingerprint(frame: Any) -> str:
    """The sha256 of a frame's CSV form: the same rows give the same dataset version."""
    return hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ServedDemo:
    url: str
    answer: dict[str, Any]


@contextmanager
def serve_scorer(client: Client, home: Path, host: str, port: int) -> Iterator[ServedDemo]:
    """Run the inference server for the scorer's champion in a thread while the block runs,
    and ask it about `SAMPLE` once it is up."""
    import uvicorn

    from lockgate.serving.loader import fetch_package, load_package
    from lockgate.serving.server import InferenceServer, ServedModel, ServingOptions

    package = fetch_package(client, f"{SCORER}@champion", home / "packages")
    served = ServedModel.from_loaded(load_package(package))
    server = InferenceServer([served], ServingOptions(), host, port, home / "predictions")
    app, logger = server.build()
    if logger is not None:
        logger.start()
    instance = uvicorn.Server(server.config(app))
    thread = threading.Thread(target=instance.run, name="inference-server", daemon=True)
    thread.start()
    try:
        while not instance.started and thread.is_alive():
            time.sleep(0.02)
        url = f"http://{host}:{port}"
        body = {"dataframe_records": [SAMPLE]}
        answer = httpx.post(f"{url}/invocations", json=body, timeout=10).json()
        yield ServedDemo(url, answer)
    finally:
        instance.should_exit = True
        thread.join(timeout=15)
        if logger is not None:
            logger.close()
