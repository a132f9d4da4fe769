"""The compiled fast path for tree ensembles: bit-identical to scikit-learn's own methods on
fresh rows and on every threshold's edge, refused for what it does not support or when it
differs, and used by the sklearn flavor's predictor except for input sklearn must judge."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from lockgate.domain.errors import UserCodeError
from lockgate.serving.flavors import sklearn_trees
from lockgate.serving.flavors.sklearn import SklearnPredictor
from lockgate.serving.flavors.sklearn_trees import CompiledTrees, compile_trees
from tests.serving.flavors.packages import save

RNG = np.random.default_rng(11)
X = RNG.normal(size=(300, 5))
SCORE = X[:, 0] + 0.5 * X[:, 1] * X[:, 2] - X[:, 3]
BINARY = (SCORE > 0).astype(np.int64)
LABELS = np.array(["low", "mid", "high"])[np.digitize(SCORE, [-0.7, 0.7])]
TARGET = SCORE + 0.1 * RNG.normal(size=300)

CLASSIFY = ("predict", "predict_proba")
BOOST_CLASSIFY = (*CLASSIFY, "decision_function")

CASES: list[tuple[str, Callable[[], Any], tuple[str, ...]]] = [
    (
        "gb binary",
        lambda: GradientBoostingClassifier(n_estimators=30, random_state=0).fit(X, BINARY),
        BOOST_CLASSIFY,
    ),
    (
        "gb multiclass, string labels, deep, fast",
        lambda: GradientBoostingClassifier(
            n_estimators=20, max_depth=5, learning_rate=0.3, random_state=0
        ).fit(X, LABELS),
        BOOST_CLASSIFY,
    ),
    (
        "gb binary, init zero, exponential loss, subsampled",
        lambda: GradientBoostingClassifier(
            n_estimators=25, loss="exponential", init="zero", subsample=0.7, random_state=1
        ).fit(X, BINARY),
        BOOST_CLASSIFY,
    ),
    (
        "gb multiclass, best-first trees, uniform dummy init",
        lambda: GradientBoostingClassifier(
            n_estimators=15,
            max_leaf_nodes=6,
            init=DummyClassifier(strategy="uniform"),
            random_state=2,
        ).fit(X, LABELS),
        BOOST_CLASSIFY,
    ),
    (
        "gb regressor",
        lambda: GradientBoostingRegressor(n_estimators=40, max_depth=4, learning_rate=0.05).fit(
            X, TARGET
        ),
        ("predict",),
    ),
    (
        "gb regressor, absolute error (median init)",
        lambda: GradientBoostingRegressor(
            n_estimators=20, loss="absolute_error", random_state=0
        ).fit(X, TARGET),
        ("predict",),
    ),
    (
        "gb regressor, quantile, init zero",
        lambda: GradientBoostingRegressor(
            n_estimators=20, loss="quantile", alpha=0.9, init="zero", max_depth=2
        ).fit(X, TARGET),
        ("predict",),
    ),
    (
        "random forest multiclass",
        lambda: RandomForestClassifier(n_estimators=15, max_depth=6, random_state=0).fit(X, LABELS),
        CLASSIFY,
    ),
    (
        "random forest regressor",
        lambda: RandomForestRegressor(n_estimators=15, max_depth=6, random_state=0).fit(X, TARGET),
        ("predict",),
    ),
    (
        "extra trees binary",
        lambda: ExtraTreesClassifier(n_estimators=10, max_depth=5, random_state=0).fit(X, BINARY),
        CLASSIFY,
    ),
    (
        "extra trees regressor",
        lambda: ExtraTreesRegressor(n_estimators=10, max_depth=5, random_state=0).fit(X, TARGET),
        ("predict",),
    ),
    (
        "decision tree multiclass, unlimited depth",
        lambda: DecisionTreeClassifier(random_state=0).fit(X, LABELS),
        CLASSIFY,
    ),
    (
        "decision tree regressor",
        lambda: DecisionTreeRegressor(max_depth=7, random_state=0).fit(X, TARGET),
        ("predict",),
    ),
]

METHOD_CASES = [
    pytest.param(make, method, id=f"{name}: {method}")
    for name, make, methods in CASES
    for method in methods
]


def threshold_rows(model: Any, rng: np.random.Generator) -> np.ndarray:
    """Fresh rows, each with one feature at a split's threshold, its float32 rounding or the
    float32 values either side of that."""
    trees = [model] if hasattr(model, "tree_") else np.ravel(model.estimators_)
    splits = [
        (feature, threshold)
        for tree in trees
        for feature, threshold in zip(tree.tree_.feature, tree.tree_.threshold, strict=True)
        if feature >= 0
    ]
    rows = rng.normal(size=(4 * len(splits), X.shape[1]))
    for index, (feature, threshold) in enumerate(splits):
        rounded = np.float32(threshold)
        edges = [threshold, rounded, np.nextafter(rounded, -np.inf), np.nextafter(rounded, np.inf)]
        rows[4 * index : 4 * index + 4, feature] = edges
    return rows


@pytest.mark.parametrize(("make", "method"), METHOD_CASES)
def test_compiled_answers_are_bit_identical_to_sklearn(
    make: Callable[[], Any], method: str
) -> None:
    model = make()
    compiled = compile_trees(model, method)
    assert compiled is not None
    rng = np.random.default_rng(5)
    rows = np.concatenate([rng.normal(scale=2, size=(500, X.shape[1])), threshold_rows(model, rng)])
    expected = getattr(model, method)(rows)
    answer = compiled(rows)
    assert answer is not None
    assert answer.dtype == expected.dtype
    assert answer.shape == expected.shape
    assert np.array_equal(answer, expected)
    for row in rows[:20]:  # one row at a time, as a single request is scored
        one = compiled(row[None, :])
        assert one is not None
        assert np.array_equal(one, getattr(model, method)(row[None, :]))


def test_an_integer_matrix_is_cast_to_float32_directly_as_sklearn_does() -> None:
    low, high = 2**60, 2**60 + 2**37  # neighbouring float32 values
    model = DecisionTreeRegressor().fit(np.array([[low], [high]], dtype=np.float64), [0.0, 1.0])
    assert model.tree_.threshold[0] == 2**60 + 2**36
    compiled = compile_trees(model, "predict")
    assert compiled is not None
    # Cast directly, 2**60 + 2**36 + 1 rounds up to `high`; through float64 it would round to
    # 2**60 + 2**36, then (a tie, to even) down to `low`.
    integers = np.array([[2**60 + 2**36 + 1], [2**60 + 2**36]], dtype=np.int64)
    assert model.predict(integers).tolist() == [1.0, 0.0]
    answer = compiled(integers)
    assert answer is not None
    assert np.array_equal(answer, model.predict(integers))


def test_a_float32_matrix_is_scored_as_it_is() -> None:
    model = GradientBoostingRegressor(n_estimators=10, random_state=0).fit(X, TARGET)
    compiled = compile_trees(model, "predict")
    assert compiled is not None
    rows = threshold_rows(model, np.random.default_rng(1)).astype(np.float32)
    answer = compiled(rows)
    assert answer is not None
    assert np.array_equal(answer, model.predict(rows))


def test_a_large_batch_is_scored_in_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    model = RandomForestClassifier(n_estimators=8, max_depth=4, random_state=0).fit(X, LABELS)
    compiled = compile_trees(model, "predict_proba")
    assert compiled is not None
    monkeypatch.setattr(sklearn_trees, "_CHUNK", 8 * 7)  # 7 rows at a time
    answer = compiled(X)
    assert answer is not None
    assert np.array_equal(answer, model.predict_proba(X))


def with_dates_as_labels(model: DecisionTreeClassifier) -> DecisionTreeClassifier:
    """`model`, its labels replaced by dates (sklearn fits no such labels, but a loaded
    estimator may hold anything)."""
    model.classes_ = np.array(["2026-01-01", "2026-06-01"], dtype="datetime64[D]")
    return model


@pytest.mark.parametrize(
    ("model", "method"),
    [
        pytest.param(LogisticRegression().fit(X, BINARY), "predict", id="not a tree"),
        pytest.param(
            make_pipeline(StandardScaler(), DecisionTreeRegressor(max_depth=3)).fit(X, TARGET),
            "predict",
            id="pipeline",
        ),
        pytest.param(
            HistGradientBoostingClassifier(max_iter=5).fit(X, BINARY), "predict", id="hist gb"
        ),
        pytest.param(
            GradientBoostingRegressor(n_estimators=5, init=LinearRegression()).fit(X, TARGET),
            "predict",
            id="gb with a linear init",
        ),
        pytest.param(
            GradientBoostingClassifier(
                n_estimators=5, init=DummyClassifier(strategy="stratified", random_state=0)
            ).fit(X, BINARY),
            "predict",
            id="gb with a random init",
        ),
        pytest.param(
            RandomForestRegressor(n_estimators=4, max_depth=3, random_state=0).fit(
                X, np.column_stack([TARGET, -TARGET])
            ),
            "predict",
            id="multi-output",
        ),
        pytest.param(
            RandomForestClassifier(n_estimators=4, max_depth=3, n_jobs=2, random_state=0).fit(
                X, BINARY
            ),
            "predict_proba",
            id="forest on several threads",
        ),
        pytest.param(
            DecisionTreeClassifier(max_depth=3).fit(X, BINARY),
            "decision_function",
            id="no such method",
        ),
        pytest.param(
            with_dates_as_labels(DecisionTreeClassifier(max_depth=3).fit(X, BINARY)),
            "predict",
            id="labels neither numbers nor strings",
        ),
        pytest.param(
            DecisionTreeRegressor(max_depth=3).fit(pd.DataFrame(X).add_prefix("f"), TARGET),
            "predict",
            id="fitted on a dataframe",
        ),
    ],
)
def test_what_is_not_supported_is_not_compiled(model: Any, method: str) -> None:
    assert compile_trees(model, method) is None


def test_an_evaluator_that_skips_the_float32_cast_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    model = GradientBoostingClassifier(n_estimators=10, random_state=0).fit(X, BINARY)
    assert compile_trees(model, "decision_function") is not None

    def float64_values(self: CompiledTrees, matrix: np.ndarray) -> np.ndarray:
        return np.asarray(matrix, dtype=np.float64)

    monkeypatch.setattr(CompiledTrees, "_float32_values", float64_values)
    assert compile_trees(model, "decision_function") is None


def test_an_evaluator_that_sums_the_trees_pairwise_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    model = GradientBoostingRegressor(n_estimators=100, random_state=0).fit(X, TARGET)
    assert compile_trees(model, "predict") is not None

    def pairwise_sum(self: CompiledTrees, x: np.ndarray) -> np.ndarray:
        picked = self.values[self.nodes.leaves(x)]  # (rows, trees, 1)
        assert self.start is not None
        return self.start + np.sum(picked, axis=1)  # not in tree order

    monkeypatch.setattr(CompiledTrees, "_raw", pairwise_sum)
    assert compile_trees(model, "predict") is None


def test_an_evaluator_with_a_threshold_one_float32_off_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    model = GradientBoostingClassifier(n_estimators=10, random_state=0).fit(X, BINARY)
    flatten = sklearn_trees._flatten

    def shifted(trees: Any) -> Any:
        nodes, values = flatten(trees)
        # The last tree's deepest split, past the next float32 above its threshold.
        slot = 2 * int(np.flatnonzero(nodes.splits())[-1])
        above = np.nextafter(np.float32(nodes.threshold[slot]), np.float32(np.inf))
        nodes.threshold[slot : slot + 2] = max(above, np.nextafter(above, np.float32(np.inf)))
        return nodes, values

    monkeypatch.setattr(sklearn_trees, "_flatten", shifted)
    assert compile_trees(model, "decision_function") is None


@pytest.fixture(scope="module")
def boosted() -> GradientBoostingClassifier:
    return GradientBoostingClassifier(n_estimators=20, max_depth=3, random_state=0).fit(X, LABELS)


def predictor_of(model: Any, method: str) -> SklearnPredictor:
    return SklearnPredictor(
        model, method, ("input",), ("prediction",), compiled=compile_trees(model, method)
    )


@pytest.mark.parametrize(
    "bad",
    [
        np.nan,
        np.inf,
        -np.inf,
        pytest.param(  # sklearn's own cast to float32 warns before it refuses
            1e300, marks=pytest.mark.filterwarnings("ignore:overflow encountered in cast")
        ),
    ],
)
def test_the_predictor_leaves_values_sklearn_rejects_to_sklearn(
    boosted: GradientBoostingClassifier, bad: float
) -> None:
    predictor = predictor_of(boosted, "predict_proba")
    assert predictor.compiled is not None
    rows = X[:3].copy()
    rows[1, 2] = bad
    assert predictor.compiled(rows) is None
    with pytest.raises(ValueError, match="Input X contains") as sklearn_error:
        boosted.predict_proba(rows)
    with pytest.raises(UserCodeError, match="predict_proba failed: ValueError") as refused:
        predictor.predict({"input": rows})
    assert str(sklearn_error.value) in str(refused.value)
    assert isinstance(refused.value.__cause__, ValueError)


def test_the_predictor_leaves_missing_values_to_a_tree_that_routes_them() -> None:
    holes = X.copy()
    holes[::7, 0] = np.nan
    model = DecisionTreeClassifier(max_depth=4, random_state=0).fit(holes, LABELS)
    predictor = predictor_of(model, "predict_proba")
    assert predictor.compiled is not None
    assert predictor.compiled(holes[:10]) is None
    answer = predictor.predict({"input": holes[:10]})["prediction"]
    assert np.array_equal(answer, model.predict_proba(holes[:10]))


def test_the_predictor_leaves_a_matrix_of_the_wrong_width_to_sklearn(
    boosted: GradientBoostingClassifier,
) -> None:
    predictor = predictor_of(boosted, "predict")
    with pytest.raises(UserCodeError, match="X has 4 features"):
        predictor.predict({"input": X[:2, :4]})


def test_a_batch_beyond_the_fast_paths_size_is_scored_by_sklearn(
    boosted: GradientBoostingClassifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    predictor = predictor_of(boosted, "predict")
    assert predictor.compiled is not None
    rows = np.random.default_rng(4).normal(size=(sklearn_trees.FAST_ROWS + 1, 5))
    expected = boosted.predict(rows)
    scored: list[int] = []
    monkeypatch.setattr(boosted, "predict", lambda matrix: scored.append(len(matrix)) or expected)
    assert np.array_equal(predictor.predict({"input": rows})["prediction"], expected)
    predictor.predict({"input": rows[: sklearn_trees.FAST_ROWS]})
    assert scored == [sklearn_trees.FAST_ROWS + 1]


def test_a_loaded_package_scores_through_the_compiled_path(
    boosted: GradientBoostingClassifier, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = save(boosted, tmp_path / "pkg", input_example=X[:4], method="predict_proba")
    predictor = package.load(verified=True)
    assert isinstance(predictor, SklearnPredictor)
    assert predictor.compiled is not None
    rows = np.random.default_rng(3).normal(size=(64, 5))
    expected = boosted.predict_proba(rows)
    # Were sklearn's method called now, it would fail: the answer comes from the fast path.
    monkeypatch.setattr(predictor.model, "predict_proba", None)
    answer = predictor.predict({"input": rows})["prediction"]
    assert answer.dtype == expected.dtype
    assert np.array_equal(answer, expected)


def test_a_package_fitted_on_a_dataframe_scores_its_named_columns_compiled(
    tmp_path: Path,
) -> None:
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d", "e"])
    model = RandomForestRegressor(n_estimators=5, max_depth=4, random_state=0).fit(frame, TARGET)
    expected = model.predict(frame)
    package = save(model, tmp_path / "pkg", input_example=frame.head(3))
    predictor = package.load(verified=True)
    assert isinstance(predictor, SklearnPredictor)
    assert predictor.compiled is not None
    assert np.array_equal(package.predict(frame, verified=True)["prediction"], expected)
