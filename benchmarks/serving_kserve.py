"""KServe's peer in the serving benchmark: the benchmark's pickled scikit-learn model behind
KServe's Python model server (`kserve.ModelServer`), predicting as KServe's own sklearn server
does (`get_predict_input`, `model.predict`, `get_predict_response`). Run with the Python of the
benchmark's KServe environment; KServe's own flags (`--http_port`, `--workers`,
`--enable_grpc`, ...) pass through to its parser.

    .bench/venvs/serving-kserve/bin/python benchmarks/serving_kserve.py \
        --model_name gbm --model_path model.pkl --http_port 8080 --workers 1 --enable_grpc false
"""

from __future__ import annotations

import argparse
import pickle
from typing import Any

import kserve
from kserve.utils.utils import get_predict_input, get_predict_response


class PickledSklearnModel(kserve.Model):
    """A scikit-learn model loaded from a pickle."""

    def __init__(self, name: str, path: str) -> None:
        super().__init__(name)
        self.path = path
        self.model: Any = None

    def load(self) -> bool:
        with open(self.path, "rb") as file:
            self.model = pickle.load(file)  # noqa: S301 - the benchmark's own model file
        self.ready = True
        return True

    def predict(self, payload: Any, headers: dict[str, str] | None = None) -> Any:
        instances = get_predict_input(payload)
        return get_predict_response(payload, self.model.predict(instances), self.name)


def main() -> None:
    parser = argparse.ArgumentParser(parents=[kserve.model_server.parser])
    parser.add_argument("--model_path", required=True, help="a pickled scikit-learn model")
    args, _ = parser.parse_known_args()
    model = PickledSklearnModel(args.model_name, args.model_path)
    model.load()
    kserve.ModelServer().start([model])


if __name__ == "__main__":
    main()
