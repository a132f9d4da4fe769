"""A compiled fast path for scikit-learn tree ensembles: every tree evaluated at once in NumPy,
with scikit-learn's own floating-point operations, and checked at compile time to give
bit-identical answers to the estimator's method (else it is not used)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["FAST_ROWS", "CompiledTrees", "compile_trees"]

log = logging.getLogger("lockgate.serving")

Floats = npt.NDArray[np.float64]
Indices = npt.NDArray[np.intp]
Finish = Callable[[Floats], npt.NDArray[Any]]

FAST_ROWS = 1024
"""The largest batch worth the fast path: its cost grows with rows times trees, while
scikit-learn's fixed cost per call fades, and its compiled loop wins beyond about this many
rows (measured on the serving benchmark's model: 8.9x faster for 1 row, 1.15x for 1,024,
0.79x for 4,096)."""
_CHUNK = 1 << 16
"""Rows times trees evaluated at once, which bounds the evaluator's working memory."""
_RANDOM_ROWS = 256
"""Probe rows drawn at random over the thresholds' range, besides those built from them."""
_PROBE_ROWS = 50_000
"""At most this many probe rows: a larger ensemble is not compiled (verification costs)."""


@dataclass(frozen=True, slots=True)
class _Nodes:
    """The nodes of every tree in flat arrays, each node in two slots (2n and 2n + 1) so that a
    walk steps from slot s to slot `children[s + goes_right]`: `children[2n]` is the slot of
    node n's left child, `children[2n + 1]` its right child's, and a leaf is both its children
    (so a walk of `depth` steps from each root ends on each tree's leaf). `feature` and
    `threshold` hold each node's split in both its slots."""

    roots: Indices
    feature: Indices
    threshold: Floats
    children: Indices
    depth: int

    def splits(self) -> npt.NDArray[np.bool_]:
        """Which nodes (not slots) split, that is are not leaves."""
        own = np.arange(0, self.children.size, 2)
        is_split: npt.NDArray[np.bool_] = self.children[0::2] != own
        return is_split

    def leaves(self, x: Floats) -> Indices:
        """The slot of the leaf each row reaches in each tree, shape (rows, trees). `x` holds
        float32 values (as float64, which is exact): sklearn compares `X[i, feature] <=
        threshold` with X cast to float32 and the threshold in float64."""
        at_root = x[:, self.feature[self.roots]] > self.threshold[self.roots]
        slot = self.children[self.roots + at_root]
        flat = x.ravel()
        base = (np.arange(x.shape[0], dtype=np.intp) * x.shape[1])[:, None]
        for _ in range(self.depth - 1):
            goes_right = flat[base + self.feature[slot]] > self.threshold[slot]
            slot = self.children[slot + goes_right]
        return slot


def _flatten(trees: Sequence[Any]) -> tuple[_Nodes, list[Any]]:
    """The nodes of `trees` (fitted sklearn estimators) and their `tree_.value` arrays."""
    roots, features, thresholds, children, values = [], [], [], [], []
    offset = 0
    for estimator in trees:
        tree = estimator.tree_
        left = np.asarray(tree.children_left, dtype=np.intp)
        right = np.asarray(tree.children_right, dtype=np.intp)
        own = np.arange(left.size, dtype=np.intp)
        is_leaf = left == -1
        pair = np.stack([np.where(is_leaf, own, left), np.where(is_leaf, own, right)], axis=1)
        roots.append(2 * offset)
        features.append(np.repeat(np.where(is_leaf, 0, tree.feature).astype(np.intp), 2))
        thresholds.append(np.repeat(np.asarray(tree.threshold, dtype=np.float64), 2))
        children.append(2 * (pair + offset).ravel())
        values.append(np.asarray(tree.value, dtype=np.float64))
        offset += left.size
    nodes = _Nodes(
        np.asarray(roots, dtype=np.intp),
        np.concatenate(features),
        np.concatenate(thresholds),
        np.concatenate(children),
        max(int(estimator.tree_.max_depth) for estimator in trees),
    )
    return nodes, values


@dataclass(frozen=True, slots=True)
class CompiledTrees:
    """A tree ensemble's method as array operations. Calling it with a matrix returns what the
    estimator's method would, or None for a matrix it does not score (not 2-D numbers of the
    estimator's width, empty, or not finite once cast to float32): scikit-learn must score
    that one, and raise its own error or route missing values as it does."""

    nodes: _Nodes
    values: Floats
    """What each leaf contributes, in both its slots: shape (2 * nodes, width)."""
    width: int
    n_features: int
    start: Floats | None
    """Boosting: the init estimator's raw prediction, to which each tree's scaled value is
    added in order. Averaging (None): the trees' values are summed in order from zero and
    divided by their number, as a forest does; a single tree's value is taken as it is."""
    finish: Finish
    is_single_tree: bool = False

    def __call__(self, matrix: npt.NDArray[Any]) -> npt.NDArray[Any] | None:
        x = self._float32_values(matrix)
        if x is None:
            return None
        step = max(1, _CHUNK // self.nodes.roots.size)
        raw = [self._raw(x[row : row + step]) for row in range(0, x.shape[0], step)]
        return self.finish(raw[0] if len(raw) == 1 else np.concatenate(raw))

    def _float32_values(self, matrix: npt.NDArray[Any]) -> Floats | None:
        if not isinstance(matrix, np.ndarray) or matrix.ndim != 2:
            return None
        if matrix.shape[0] == 0 or matrix.shape[1] != self.n_features:
            return None
        if matrix.dtype not in (np.float64, np.float32) and matrix.dtype.kind not in "iu":
            return None
        with np.errstate(over="ignore"):  # a value past float32's range becomes inf: refused
            x = matrix.astype(np.float32)  # as sklearn's validate_data(dtype=np.float32)
        return x.astype(np.float64) if np.isfinite(x).all() else None

    def _raw(self, x: Floats) -> Floats:
        picked = self.values[self.nodes.leaves(x)]  # (rows, trees, width)
        rows, trees = picked.shape[0], self.nodes.roots.size
        if self.is_single_tree:
            return np.asarray(picked[:, 0, :])
        stages = trees * picked.shape[2] // self.width
        # A running sum in tree order, as sklearn adds the trees one by one (np.sum would sum
        # pairwise and round differently).
        running = np.empty((rows, stages + 1, self.width), dtype=np.float64)
        running[:, 0] = 0.0 if self.start is None else self.start
        running[:, 1:] = picked.reshape(rows, stages, self.width)
        total: Floats = np.add.accumulate(running, axis=1, out=running)[:, -1]
        return total if self.start is not None else total / trees


def _is_plain_labels(classes: Any) -> bool:
    """Class labels the fast path may hand back: numbers, booleans or strings."""
    if not isinstance(classes, np.ndarray) or classes.ndim != 1:
        return False
    if classes.dtype.kind == "O":
        return all(isinstance(label, str) for label in classes)
    return classes.dtype.kind in "biufUS"


def _boosting(model: Any, method: str, *, is_classifier: bool) -> CompiledTrees | None:
    """Gradient boosting: the init estimator's constant raw prediction plus `learning_rate`
    times each tree's value, stage by stage, then sklearn's link, argmax or `>= 0`."""
    from sklearn.dummy import DummyClassifier, DummyRegressor  # type: ignore[import-untyped]

    init = model.init_
    if isinstance(init, str):
        if init != "zero":
            return None
    elif type(init) not in (DummyClassifier, DummyRegressor) or init.strategy == "stratified":
        return None  # a stratified dummy draws a random class per row
    loss = model._loss  # the same link and inverse link sklearn uses
    rows = np.random.default_rng(0).normal(size=(16, model.n_features_in_))
    start = _init_raw_prediction(model, init, loss, rows, is_classifier=is_classifier)
    if start is None:
        return None
    estimators = model.estimators_
    nodes, values = _flatten(list(estimators.ravel()))
    scaled = np.concatenate([model.learning_rate * value[:, 0, 0] for value in values])
    width = estimators.shape[1]

    def decision(raw: Floats) -> Floats:
        return raw.ravel() if width == 1 else raw

    finishes: dict[str, Finish] = {"decision_function": decision}
    if is_classifier:
        classes = model.classes_
        if not _is_plain_labels(classes):
            return None
        finishes["predict_proba"] = lambda raw: loss.predict_proba(decision(raw))
        finishes["predict"] = lambda raw: (
            classes[(raw.ravel() >= 0).astype(int)] if width == 1 else classes[raw.argmax(1)]
        )
    else:
        finishes["predict"] = lambda raw: raw.ravel()
    if method not in finishes:
        return None
    return CompiledTrees(
        nodes,
        np.repeat(scaled[:, None], 2, axis=0),
        width,
        model.n_features_in_,
        start,
        finishes[method],
    )


def _init_raw_prediction(
    model: Any, init: Any, loss: Any, rows: Floats, *, is_classifier: bool
) -> Floats | None:
    """The init estimator's raw prediction, as sklearn's `_init_raw_predictions` computes it,
    on `rows`; None unless it is the same for every row (a dummy ignores the features)."""
    if isinstance(init, str):
        return np.zeros(model.n_trees_per_iteration_, dtype=np.float64)
    x = rows.astype(np.float32)
    if is_classifier:
        predictions = init.predict_proba(x)
        if not loss.is_multiclass:
            predictions = predictions[:, 1]
        eps = np.finfo(np.float64).eps
        predictions = np.clip(predictions, eps, 1 - eps, dtype=np.float64)
    else:
        predictions = init.predict(x).astype(np.float64)
    raw = np.asarray(loss.link.link(predictions), dtype=np.float64).reshape(x.shape[0], -1)
    if not (raw == raw[0]).all():
        return None
    return np.array(raw[0])


def _averaging(
    model: Any, method: str, trees: list[Any], *, is_classifier: bool
) -> CompiledTrees | None:
    """A forest or a single tree: the mean (or the value) of the trees' leaf values, then
    argmax into `classes_` for `predict` of a classifier."""
    if model.n_outputs_ != 1:
        return None
    nodes, values = _flatten(trees)
    stacked = np.repeat(np.concatenate([value[:, 0, :] for value in values]), 2, axis=0)
    single = trees[0] is model
    if not is_classifier:
        if method != "predict":
            return None
        return CompiledTrees(
            nodes, stacked, 1, model.n_features_in_, None, lambda raw: raw.ravel(), single
        )
    classes, n_classes = model.classes_, int(model.n_classes_)
    if not _is_plain_labels(classes) or stacked.shape[1] != n_classes:
        return None
    finishes: dict[str, Finish] = {
        "predict_proba": lambda raw: raw[:, :n_classes],
        "predict": lambda raw: classes.take(raw.argmax(1), axis=0),
    }
    if method not in finishes:
        return None
    width = stacked.shape[1]
    return CompiledTrees(
        nodes, stacked, width, model.n_features_in_, None, finishes[method], single
    )


def _float32_at_most(value: float) -> np.float32:
    """The largest float32 not above `value`."""
    rounded = np.float32(value)
    return np.nextafter(rounded, np.float32(-np.inf)) if rounded > value else rounded


def _float32_above(value: float) -> np.float32:
    """The smallest float32 above `value`."""
    rounded = np.float32(value)
    return np.nextafter(rounded, np.float32(np.inf)) if rounded <= value else rounded


@dataclass(frozen=True, slots=True)
class _Prober:
    """Builds probe rows: for each split, rows that reach it (each feature inside the bounds
    the path to it sets, in float32) with its feature at the split's edge: the threshold
    itself (which the cast to float32 rounds), its float32 rounding, and the float32 values
    either side of that. Then rows drawn at random over each feature's thresholds."""

    nodes: _Nodes
    low: Floats
    high: Floats
    rng: np.random.Generator

    @classmethod
    def over(cls, nodes: _Nodes, n_features: int) -> _Prober:
        is_split, split_feature = nodes.splits(), nodes.feature[0::2]
        low, high = np.full(n_features, -1.0), np.full(n_features, 1.0)
        for feature in range(n_features):
            thresholds = nodes.threshold[0::2][is_split & (split_feature == feature)]
            if thresholds.size:
                spread = max(float(np.ptp(thresholds)), 1.0) / 4
                low[feature] = thresholds.min() - spread
                high[feature] = thresholds.max() + spread
        return cls(nodes, low, high, np.random.default_rng(0))

    def rows(self) -> Floats:
        found: list[Floats] = []
        n_features = self.low.size
        for root in self.nodes.roots:
            bounds = (np.full(n_features, -np.inf), np.full(n_features, np.inf))
            stack = [(int(root), bounds)]
            while stack:
                slot, (low, high) = stack.pop()
                left, right = self.nodes.children[slot : slot + 2]
                if left == slot:
                    continue
                feature = int(self.nodes.feature[slot])
                threshold = float(self.nodes.threshold[slot])
                found.append(self._edge_rows(low, high, feature, threshold))
                left_high, right_low = high.copy(), low.copy()
                left_high[feature] = min(high[feature], _float32_at_most(threshold))
                right_low[feature] = max(low[feature], _float32_above(threshold))
                stack += [(int(left), (low, left_high)), (int(right), (right_low, high))]
        spread = self.rng.uniform(size=(_RANDOM_ROWS, n_features))
        found.append(self.low + spread * (self.high - self.low))
        return np.concatenate(found)

    def _edge_rows(self, low: Floats, high: Floats, feature: int, threshold: float) -> Floats:
        # Every feature inside the path's bounds (float32 values, or infinite when open).
        start = np.where(np.isfinite(low), low, np.minimum(self.low, high - 1))
        stop = np.where(np.isfinite(high), high, np.maximum(self.high, low + 1))
        drawn = (start + self.rng.uniform(size=low.size) * (stop - start)).astype(np.float32)
        inside = np.clip(drawn, low, high).astype(np.float64)
        rounded = np.float32(threshold)
        edges = [
            threshold,
            rounded,
            np.nextafter(rounded, np.float32(-np.inf)),
            np.nextafter(rounded, np.float32(np.inf)),
        ]
        rows = np.tile(inside, (len(edges), 1))
        rows[:, feature] = np.asarray(edges, dtype=np.float64)
        return rows


def _compile(model: Any, method: str) -> CompiledTrees | None:
    """The evaluator for the exact classes supported (a subclass may score differently)."""
    from sklearn import ensemble, tree  # type: ignore[import-untyped]  # no type hints

    kind = type(model)
    if getattr(model, "feature_names_in_", None) is not None:
        return None  # scored as a DataFrame
    is_classifier = kind in (
        ensemble.GradientBoostingClassifier,
        ensemble.RandomForestClassifier,
        ensemble.ExtraTreesClassifier,
        tree.DecisionTreeClassifier,
    )
    if kind in (ensemble.GradientBoostingClassifier, ensemble.GradientBoostingRegressor):
        return _boosting(model, method, is_classifier=is_classifier)
    forests = (
        ensemble.RandomForestClassifier,
        ensemble.RandomForestRegressor,
        ensemble.ExtraTreesClassifier,
        ensemble.ExtraTreesRegressor,
    )
    if kind in forests and model.n_jobs in (None, 1):
        # With several jobs sklearn adds the trees in whatever order its threads finish.
        trees = list(model.estimators_)
        return _averaging(model, method, trees, is_classifier=is_classifier)
    if kind in (tree.DecisionTreeClassifier, tree.DecisionTreeRegressor):
        return _averaging(model, method, [model], is_classifier=is_classifier)
    return None


def compile_trees(model: Any, method: str) -> CompiledTrees | None:
    """The fast path for `model.<method>`, or None when the model or method is not supported
    or the compiled answers differ in any bit from the estimator's own on probe rows that try
    every split at its edge (the reason is logged at info)."""
    if not hasattr(model, "tree_") and not hasattr(model, "estimators_"):
        return None
    try:
        compiled = _compile(model, method)
    except (AttributeError, IndexError, TypeError, ValueError) as exc:
        # An estimator pickled by another scikit-learn version may lack what is read here.
        log.info("no compiled fast path for %s.%s: %s", type(model).__name__, method, exc)
        return None
    if compiled is None:
        log.info("no compiled fast path for %s.%s", type(model).__name__, method)
        return None
    if 4 * compiled.nodes.splits().sum() > _PROBE_ROWS:
        log.info("no compiled fast path: %s has too many splits to check", type(model).__name__)
        return None
    probe = _Prober.over(compiled.nodes, compiled.n_features).rows()
    try:
        expected = np.asarray(getattr(model, method)(probe))
    except (ValueError, TypeError, AttributeError) as exc:
        log.info("no compiled fast path for %s.%s: %s", type(model).__name__, method, exc)
        return None
    answer = compiled(probe)
    if answer is None or answer.dtype != expected.dtype or not np.array_equal(answer, expected):
        log.info(
            "no compiled fast path for %s.%s: it differs from scikit-learn's on probe rows",
            type(model).__name__,
            method,
        )
        return None
    return compiled
