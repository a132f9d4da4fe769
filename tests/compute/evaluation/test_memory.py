"""Bounded memory: the evaluator's state stops growing once its accumulators are filled, while
many more batches stream in; past the exact budget, scores are coarsened and the state stays
within it."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score

from lockgate.compute.evaluation import EvaluationBatch, Evaluator
from lockgate.domain.evaluation import SegmentRule
from tests.compute.evaluation.cases import binary_config

_BATCH = 40_000


def _stream(evaluator: Evaluator, batches: int, *, digits: int | None, seed: int) -> list[int]:
    rng = np.random.default_rng(seed)
    sizes = []
    for _ in range(batches):
        target = rng.integers(0, 2, _BATCH)
        scores = np.clip(rng.normal(0.4 + 0.2 * target, 0.2), 0.0, 1.0)
        if digits is not None:
            scores = scores.round(digits)
        evaluator.update(
            EvaluationBatch(
                target=target,
                predictions=(scores, scores[::-1].copy()),
                segments={"region": rng.choice(np.array(["a", "b", "c"]), _BATCH)},
            )
        )
        sizes.append(evaluator.state_bytes)
    return sizes


def test_state_does_not_grow_with_the_rows() -> None:
    config = binary_config(resamples=20, segments=(SegmentRule("region", column="region"),))
    evaluator = Evaluator(config, models=2)

    # 2.56 million rows: a chunk is accumulated every 4 batches, and the exact histograms
    # merge their runs every 8 chunks, so each half holds a whole cycle of the state's sawtooth.
    sizes = _stream(evaluator, 64, digits=3, seed=1)

    early, late = max(sizes[:32]), max(sizes[32:])
    assert late <= 1.02 * early  # what varies is which scores a run happens to hold
    assert early < 64 * 2**20
    report = evaluator.paired_report()
    assert report.candidate.rows == 64 * _BATCH


def test_continuous_scores_past_the_budget_are_coarsened_and_stay_bounded() -> None:
    config = binary_config(resamples=0)
    budget = 1 << 12
    evaluator = Evaluator(config, exact_budget=budget)
    rng = np.random.default_rng(2)
    target = rng.integers(0, 2, 2_400_000)
    scores = np.clip(rng.normal(0.4 + 0.2 * target, 0.2), 0.0, 1.0)

    sizes = []
    for start in range(0, target.size, _BATCH):
        part = slice(start, start + _BATCH)
        evaluator.update(EvaluationBatch(target=target[part], predictions=(scores[part],)))
        sizes.append(evaluator.state_bytes)
    report = evaluator.report()

    assert max(sizes[32:]) <= 1.02 * max(sizes[:32])
    assert max(sizes) < 16 * 2**20
    # ~2,000 distinct scores per label instead of a million: ties among close scores only
    assert abs(report.metrics["roc_auc"].value - roc_auc_score(target, scores)) < 1e-3
