"""MLflow's peer in the serving benchmark: save the benchmark's pickled scikit-learn model as an
MLflow model directory (`mlflow.sklearn.save_model`, with a DataFrame input example of the named
feature columns, so the signature and `dataframe_split` requests match). Run with the Python of
the benchmark's MLflow environment; `mlflow models serve -m DIRECTORY` then serves it.

    .bench/venvs/serving-mlflow/bin/python benchmarks/serving_mlflow.py model.pkl DIRECTORY
"""

from __future__ import annotations

import pickle
import sys

import mlflow.sklearn
import numpy as np
import pandas as pd

FEATURES = 30


def main() -> None:
    model_path, directory = sys.argv[1], sys.argv[2]
    with open(model_path, "rb") as file:
        model = pickle.load(file)  # noqa: S301 - the benchmark's own model file
    columns = [f"f{i:02d}" for i in range(FEATURES)]
    example = pd.DataFrame(np.zeros((1, FEATURES)), columns=columns)
    # MLflow 3 saves scikit-learn models with skops by default, which refuses tree internals
    # unless they are named as trusted.
    mlflow.sklearn.save_model(
        model,
        directory,
        input_example=example,
        skops_trusted_types=["sklearn.tree._tree.Tree"],
    )


if __name__ == "__main__":
    main()
