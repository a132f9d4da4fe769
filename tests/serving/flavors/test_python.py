"""The custom Python flavor: the model's source files and data travel in the package, load only
from verified packages, and import under a name of their own, so packages never collide."""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from lockgate.domain.errors import InvalidInputError, UserCodeError
from lockgate.domain.registry import ColumnSpec
from lockgate.serving.flavors import UnverifiedPackageError
from lockgate.serving.flavors.python import PythonPredictor
from tests.serving.flavors.packages import Package, save

X = np.random.default_rng(23).normal(size=(10, 3))

MODEL_SOURCE = '''
"""A linear scorer whose weights live in the package's data directory."""
import json

import numpy as np
from helpers import scale


class Linear:
    def __init__(self, weights=None):
        self.weights = weights

    @classmethod
    def load(cls, directory):
        return cls(np.asarray(json.loads((directory / "weights.json").read_text())))

    def predict(self, columns):
        return {"score": scale(columns["x"] @ self.weights)}


class Stateful:
    def load(self, directory):
        self.weights = np.asarray(json.loads((directory / "weights.json").read_text()))

    def predict(self, columns):
        return scale(columns["x"] @ self.weights)
'''

ModuleMaker = Callable[[str, float], ModuleType]


@pytest.fixture
def make_module(tmp_path: Path) -> Iterator[ModuleMaker]:
    """Write a model module (and a `helpers.py` that multiplies by `factor`) into its own
    directory and import it as a user's training script would; forgotten afterwards."""
    imported: list[str] = []

    def make(name: str, factor: float) -> ModuleType:
        source = tmp_path / "src" / name
        source.mkdir(parents=True)
        (source / f"{name}.py").write_text(MODEL_SOURCE)
        (source / "helpers.py").write_text(f"def scale(values):\n    return values * {factor}\n")
        (source / "weights.json").write_text(json.dumps([1.0, -2.0, 0.5]))
        sys.modules.pop("helpers", None)
        sys.path.insert(0, str(source))
        try:
            module = importlib.import_module(name)
        finally:
            sys.path.remove(str(source))
        imported.extend([name, "helpers"])
        return module

    yield make
    for name in imported:
        sys.modules.pop(name, None)


def _save(module: ModuleType, directory: Path, model: object) -> Package:
    source = Path(module.__file__ or "").parent
    return save(
        model,
        directory,
        input_example={"x": X[:3]},
        code_paths=[source / "helpers.py"],
        artifacts={"weights.json": source / "weights.json"},
    )


def test_a_model_class_round_trips_with_its_code_and_data(
    make_module: ModuleMaker, tmp_path: Path
) -> None:
    module = make_module("churn_model", 2.0)
    package = _save(module, tmp_path / "pkg", module.Linear)
    assert package.flavor == "python"
    assert package.signature.outputs == (ColumnSpec("score", "float64", (-1,)),)
    assert sorted(p.name for p in (tmp_path / "pkg" / "code").iterdir()) == [
        "churn_model.py",
        "helpers.py",
    ]
    assert (tmp_path / "pkg" / "data" / "weights.json").is_file()
    expected = (X @ np.array([1.0, -2.0, 0.5])) * 2.0
    np.testing.assert_allclose(package.predict({"x": X}, verified=True)["score"], expected)


def test_an_instance_with_an_instance_load_is_rebuilt_from_its_class(
    make_module: ModuleMaker, tmp_path: Path
) -> None:
    module = make_module("stateful_model", 3.0)
    package = _save(module, tmp_path / "pkg", module.Stateful())
    assert package.descriptor.config["load"] == "instance"
    assert package.signature.outputs == (ColumnSpec("prediction", "float64", (-1,)),)
    expected = (X @ np.array([1.0, -2.0, 0.5])) * 3.0
    np.testing.assert_allclose(package.predict({"x": X}, verified=True)["prediction"], expected)


def test_two_packages_with_the_same_helper_name_do_not_collide(
    make_module: ModuleMaker, tmp_path: Path
) -> None:
    first = make_module("model_a", 2.0)
    package_a = _save(first, tmp_path / "a", first.Linear)
    second = make_module("model_b", 3.0)
    package_b = _save(second, tmp_path / "b", second.Linear)
    ours = sys.modules["helpers"]  # the process's own helpers (model_b's, times 3)
    base = X @ np.array([1.0, -2.0, 0.5])
    predictor_a, predictor_b = package_a.load(verified=True), package_b.load(verified=True)
    np.testing.assert_allclose(predictor_a.predict({"x": X})["score"], base * 2.0)
    np.testing.assert_allclose(predictor_b.predict({"x": X})["score"], base * 3.0)
    assert sys.modules["helpers"] is ours
    sys.modules.pop("helpers")
    package_a.load(verified=True)
    assert "helpers" not in sys.modules
    assert isinstance(predictor_a, PythonPredictor)
    assert isinstance(predictor_b, PythonPredictor)
    module_a, module_b = type(predictor_a.model).__module__, type(predictor_b.model).__module__
    assert module_a.startswith("lockgate_model_")
    assert module_a != module_b


def test_loading_runs_code_so_an_unverified_package_is_refused(
    make_module: ModuleMaker, tmp_path: Path
) -> None:
    module = make_module("refused_model", 1.0)
    package = _save(module, tmp_path / "pkg", module.Linear)
    with pytest.raises(UnverifiedPackageError, match="runs its own code") as refused:
        package.load(verified=False)
    assert refused.value.field == "package"


def test_a_failing_load_is_a_user_code_error(make_module: ModuleMaker, tmp_path: Path) -> None:
    module = make_module("broken_model", 1.0)
    package = _save(module, tmp_path / "pkg", module.Linear)
    (tmp_path / "pkg" / "data" / "weights.json").unlink()
    with pytest.raises(UserCodeError, match=r"Linear\.load failed: FileNotFoundError"):
        package.load(verified=True)


def test_a_class_defined_in_a_function_is_refused(tmp_path: Path) -> None:
    class Local:
        @staticmethod
        def load(directory: Path) -> Local:
            return Local()

        def predict(self, columns: dict[str, np.ndarray]) -> np.ndarray:
            return columns["x"]

    with pytest.raises(InvalidInputError, match="defined inside a function") as refused:
        save(Local, tmp_path / "pkg", input_example={"x": X})
    assert refused.value.field == "model"
