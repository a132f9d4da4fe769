"""How to evaluate: the task, the label column, the decision threshold, the bootstrap, the
segments and the sensitive attributes. Recorded with every evaluation so it can be re-run."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from lockgate.domain.errors import InvalidInputError
from lockgate.domain.evaluation.metrics import Task, check_cutoffs
from lockgate.domain.names import check_text

__all__ = [
    "MAX_RESAMPLES",
    "MAX_SEGMENT_VALUES",
    "EvaluationConfig",
    "SegmentRule",
]

MAX_RESAMPLES = 10_000
MAX_SEGMENT_VALUES = 200
MAX_SEGMENT_RULES = 32
MAX_SENSITIVE = 8
_SEGMENT_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\- ]{0,127}")


@dataclass(frozen=True, slots=True)
class SegmentRule:
    """A segment definition: one segment per distinct value of `column`, or the rows where the
    SQL boolean `predicate` (DuckDB dialect, over the input columns) holds."""

    name: str
    column: str | None = None
    predicate: str | None = None

    def check(self, *, field: str) -> None:
        if not _SEGMENT_NAME.fullmatch(self.name):
            raise InvalidInputError(
                "a segment name is 1-128 letters, digits, spaces, '_', '.' or '-'",
                field=f"{field}.name",
            )
        if (self.column is None) == (self.predicate is None):
            raise InvalidInputError("a segment has a column or a predicate", field=field)
        if self.column is not None:
            check_text(self.column, field=f"{field}.column", max_length=512)
        if self.predicate is not None:
            check_text(self.predicate, field=f"{field}.predicate", max_length=2048)


@dataclass(frozen=True, slots=True)
class EvaluationConfig:
    """Everything that decides an evaluation's numbers besides the model and the data.

    `threshold` applies to binary classification: a row is predicted positive when its score
    is at least the threshold. `positive_label` names the label value counted as positive
    (default `1`/`true`). `cutoffs` and `query` apply to ranking. `resamples` 0 computes no
    intervals; `seed` makes the bootstrap reproducible.
    """

    task: Task
    target: str
    threshold: float = 0.5
    positive_label: str | None = None
    classes: tuple[str, ...] = ()
    cutoffs: tuple[int, ...] = (10,)
    query: str | None = None
    resamples: int = 1_000
    confidence: float = 0.95
    seed: int = 0
    segments: tuple[SegmentRule, ...] = ()
    sensitive: tuple[str, ...] = ()
    calibration_bins: int = 10
    max_segment_values: int = 50

    def check(self) -> None:
        check_text(self.target, field="target", max_length=512)
        if not self.target:
            raise InvalidInputError("name the label column", field="target")
        if not math.isfinite(self.threshold) or not 0.0 <= self.threshold <= 1.0:
            raise InvalidInputError("threshold is between 0 and 1", field="threshold")
        if not 0 <= self.resamples <= MAX_RESAMPLES:
            raise InvalidInputError(f"resamples is 0 to {MAX_RESAMPLES}", field="resamples")
        if not 0.5 <= self.confidence < 1.0:
            raise InvalidInputError("confidence is in [0.5, 1)", field="confidence")
        if not 0 <= self.seed < 2**63:
            raise InvalidInputError("seed is a non-negative 64-bit integer", field="seed")
        if not 2 <= self.calibration_bins <= 100:
            raise InvalidInputError("calibration_bins is 2 to 100", field="calibration_bins")
        if not 1 <= self.max_segment_values <= MAX_SEGMENT_VALUES:
            raise InvalidInputError(
                f"max_segment_values is 1 to {MAX_SEGMENT_VALUES}", field="max_segment_values"
            )
        if len(self.classes) > 1_000 or len(set(self.classes)) != len(self.classes):
            raise InvalidInputError("classes are at most 1000 distinct labels", field="classes")
        self._check_task_options()
        self._check_groups()

    def _check_task_options(self) -> None:
        if self.task is Task.RANKING:
            check_cutoffs(self.cutoffs, field="cutoffs")
            if not self.query:
                raise InvalidInputError("ranking needs the query id column", field="query")
        elif self.query is not None:
            raise InvalidInputError("query applies to ranking only", field="query")
        if self.sensitive and self.task is not Task.BINARY_CLASSIFICATION:
            raise InvalidInputError(
                "fairness measures apply to binary classification", field="sensitive"
            )

    def _check_groups(self) -> None:
        if len(self.segments) > MAX_SEGMENT_RULES:
            raise InvalidInputError(f"at most {MAX_SEGMENT_RULES} segments", field="segments")
        names = [rule.name for rule in self.segments]
        if len(set(names)) != len(names):
            raise InvalidInputError("segment names are distinct", field="segments")
        for index, rule in enumerate(self.segments):
            rule.check(field=f"segments[{index}]")
        if len(self.sensitive) > MAX_SENSITIVE or len(set(self.sensitive)) != len(self.sensitive):
            raise InvalidInputError(
                f"at most {MAX_SENSITIVE} distinct sensitive attributes", field="sensitive"
            )
        for column in self.sensitive:
            check_text(column, field="sensitive", max_length=512)
