"""The evaluation benchmark's data and model: seeded synthetic rows (30 numeric features, a binary
label drawn from a noisy logistic model with one interaction) written as Parquet under
`.bench/evaluation/`, and a scikit-learn model trained once on a separate 50,000-row sample.
Both are cached by seed and size, so every run and both sides see the same bytes.
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import sklearn

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".bench" / "evaluation"
FEATURES = 30
COLUMNS = [f"f{i:02d}" for i in range(FEATURES)]
LABEL = "label"
TRAIN_ROWS = 50_000
ROW_GROUP_ROWS = 65_536
_CHUNK_ROWS = 4 * ROW_GROUP_ROWS
_TRAIN_STREAM = 10**9  # the training sample's random stream, apart from every data chunk's


def _weights(seed: int) -> tuple[np.ndarray, float]:
    """The true model: a few strong features, many weak ones, and an intercept that makes
    about 40% of the rows positive."""
    rng = np.random.default_rng([seed, 0])
    weights = rng.normal(scale=0.25, size=FEATURES)
    weights[:5] = rng.choice([-1.0, 1.0], size=5) * rng.uniform(0.6, 1.2, size=5)
    return weights, -0.8


def draw_rows(seed: int, stream: int, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """`rows` feature rows and their labels, from random stream `stream` of `seed`."""
    weights, intercept = _weights(seed)
    rng = np.random.default_rng([seed, 1, stream])
    features = rng.normal(size=(rows, FEATURES))
    # An interaction and label noise, so no linear model is perfect (ROC AUC near 0.88).
    logit = intercept + features @ weights + 0.5 * features[:, 5] * features[:, 6]
    logit += rng.normal(scale=0.5, size=rows)
    labels = (rng.random(rows) < 1.0 / (1.0 + np.exp(-logit))).astype(np.int64)
    return features, labels


def ensure_dataset(rows: int, seed: int) -> Path:
    """The evaluation data as Parquet (snappy, row groups of 65,536), written a few row groups
    at a time on first use and reused afterwards."""
    path = CACHE / "data" / f"binary-seed{seed}-{rows}.parquet"
    if path.exists():
        return path
    print(f"writing {rows:,} rows into {path}", file=sys.stderr, flush=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    schema = pa.schema([*((name, pa.float64()) for name in COLUMNS), (LABEL, pa.int64())])
    with pq.ParquetWriter(partial, schema) as writer:
        for start in range(0, rows, _CHUNK_ROWS):
            features, labels = draw_rows(seed, start, min(_CHUNK_ROWS, rows - start))
            arrays = [*(pa.array(column) for column in features.T), pa.array(labels)]
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema), ROW_GROUP_ROWS)
    partial.rename(path)
    return path


def ensure_model(seed: int) -> Path:
    """A `LogisticRegression` fitted on 50,000 fresh rows (a DataFrame of the named columns),
    pickled once per seed and scikit-learn version."""
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    path = CACHE / f"logreg-seed{seed}-sklearn-{sklearn.__version__}.pkl"
    if path.exists():
        return path
    print(f"training the model into {path}", file=sys.stderr, flush=True)
    features, labels = draw_rows(seed, _TRAIN_STREAM, TRAIN_ROWS)
    model = LogisticRegression(max_iter=1_000).fit(pd.DataFrame(features, columns=COLUMNS), labels)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_bytes(pickle.dumps(model))
    partial.rename(path)
    return path


def load_model(path: Path) -> Any:
    return pickle.loads(path.read_bytes())  # noqa: S301 - the benchmark's own model file
