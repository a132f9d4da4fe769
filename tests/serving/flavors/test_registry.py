"""The flavor registry: one flavor per manifest name, found from a model's type without importing
any framework, and `save_model` / `load_model_directory` around the descriptor file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pytest
import xgboost as xgb
from sklearn.linear_model import LinearRegression
from torch import nn

from lockgate.domain.errors import InvalidInputError
from lockgate.domain.packaging import FLAVORS
from lockgate.domain.registry import ColumnSpec, Signature
from lockgate.serving.flavors import (
    DESCRIPTOR,
    FLAVOR_REGISTRY,
    flavor_for,
    get_flavor,
    load_model_directory,
    save_model,
)
from tests.serving.flavors.packages import save

X = np.random.default_rng(1).normal(size=(30, 3))
FRAMEWORKS = ["lightgbm", "onnx", "onnxruntime", "pandas", "pyarrow", "skops", "sklearn"]
FRAMEWORKS += ["torch", "xgboost"]


class Echo:
    """A custom model that answers its input."""

    @classmethod
    def load(cls, directory: Path) -> Echo:
        return cls()

    def predict(self, columns: dict[str, np.ndarray]) -> np.ndarray:
        return columns["input"]


def test_there_is_one_flavor_per_manifest_name() -> None:
    assert sorted(FLAVOR_REGISTRY) == sorted(set(FLAVORS) - {"unknown"})
    for name, flavor in FLAVOR_REGISTRY.items():
        assert flavor.name == name
        assert get_flavor(name) is flavor
    with pytest.raises(InvalidInputError, match="no flavor is called 'joblib'") as unknown:
        get_flavor("joblib")
    assert unknown.value.field == "flavor"


def test_importing_the_flavors_imports_no_framework() -> None:
    code = (
        "import sys, lockgate.serving.flavors, lockgate.serving.signature\n"
        f"print([m for m in {FRAMEWORKS!r} if m in sys.modules])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        (LinearRegression(), "sklearn"),
        (xgb.XGBRegressor(), "xgboost"),
        (lgb.LGBMClassifier(), "lightgbm"),
        (b"\x08\x07", "onnx"),
        (nn.Linear(2, 1), "pytorch"),
        (Echo, "python"),
        (Echo(), "python"),
    ],
)
def test_the_flavor_is_found_from_the_model(model: object, expected: str) -> None:
    assert flavor_for(model).name == expected


def test_a_model_no_flavor_takes_is_refused_naming_its_type(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match=r"no flavor takes a builtins\.dict") as refused:
        save_model({"weights": [1, 2]}, tmp_path / "pkg", input_example=X)
    assert refused.value.field == "model"


def test_the_descriptor_names_the_flavor_and_its_config(tmp_path: Path) -> None:
    model = LinearRegression().fit(X, X[:, 0])
    package = save(model, tmp_path / "pkg", input_example=X[:2])
    document = json.loads((tmp_path / "pkg" / DESCRIPTOR).read_text())
    assert document["format"] == "lockgate.model/1"
    assert document["flavor"] == "sklearn"
    assert document["config"]["inputs"] == ["input"]
    assert sorted(p.name for p in (tmp_path / "pkg").iterdir()) == [DESCRIPTOR, "model.skops"]
    np.testing.assert_allclose(package.predict(X)["prediction"], model.predict(X))


def test_a_flavor_named_explicitly_is_used(tmp_path: Path) -> None:
    model = xgb.XGBRegressor(n_estimators=2, max_depth=2, n_jobs=1).fit(X, X[:, 1])
    package = save(model, tmp_path / "pkg", input_example=X[:2], flavor="sklearn", format="pickle")
    assert package.flavor == "sklearn"
    np.testing.assert_allclose(package.predict(X, verified=True)["prediction"], model.predict(X))


def test_a_given_signature_must_name_the_outputs_the_model_gives(tmp_path: Path) -> None:
    signature = Signature(
        (ColumnSpec("input", "float64", (-1, 3)),),
        (ColumnSpec("a", "float64"), ColumnSpec("b", "float64")),
    )
    model = LinearRegression().fit(X, X[:, 0])
    with pytest.raises(InvalidInputError, match="does not split into the 2 outputs") as refused:
        save(model, tmp_path / "pkg", signature=signature, input_example=X[:2])
    assert refused.value.field == "signature.outputs"


def test_save_needs_a_signature_or_an_example_and_an_empty_directory(tmp_path: Path) -> None:
    model = LinearRegression().fit(X, X[:, 0])
    with pytest.raises(InvalidInputError, match="give a signature or an input_example"):
        save_model(model, tmp_path / "a")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "old.txt").write_text("")
    with pytest.raises(InvalidInputError, match="not an empty directory") as refused:
        save_model(model, tmp_path / "b", input_example=X)
    assert refused.value.field == "directory"


def test_a_signature_alone_saves_without_a_round_trip(tmp_path: Path) -> None:
    signature = Signature((ColumnSpec("input", "float64", (-1, 3)),), ())
    flavor, saved = save_model(LinearRegression().fit(X, X[:, 0]), tmp_path, signature=signature)
    assert (flavor, saved) == ("sklearn", signature)


def test_loading_needs_a_descriptor_a_known_flavor_and_a_signature(tmp_path: Path) -> None:
    signature = Signature((ColumnSpec("input", "float64", (-1, 3)),), ())
    with pytest.raises(InvalidInputError, match=f"no {DESCRIPTOR}") as missing:
        load_model_directory(tmp_path, signature, verified=True)
    assert missing.value.field == "package"
    save_model(LinearRegression().fit(X, X[:, 0]), tmp_path / "pkg", signature=signature)
    with pytest.raises(InvalidInputError, match="has no signature") as unsigned:
        load_model_directory(tmp_path / "pkg", None, verified=True)
    assert unsigned.value.field == "signature"
    path = tmp_path / "pkg" / DESCRIPTOR
    path.write_text(path.read_text().replace('"sklearn"', '"joblib"'))
    with pytest.raises(InvalidInputError, match="no flavor is called 'joblib'"):
        load_model_directory(tmp_path / "pkg", signature, verified=True)


def test_a_missing_framework_names_the_extra_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "skops.io", None)  # as if skops were not installed
    with pytest.raises(ImportError, match=r"pip install 'lockgate\[serving,sklearn\]'"):
        save_model(LinearRegression().fit(X, X[:, 0]), tmp_path / "pkg", input_example=X)
