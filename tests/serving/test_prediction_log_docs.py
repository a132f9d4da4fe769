"""docs/reference/prediction-log.md keeps up with the code: every column with its Arrow type,
every record field, counter and constructor argument, and its example runs."""

from __future__ import annotations

import dataclasses
import inspect
import re
from pathlib import Path

import pytest

from lockgate.serving.prediction_log import (
    BASE_SCHEMA,
    ParquetSink,
    PredictionBatch,
    PredictionLogger,
    PredictionLogStats,
    PredictionRecord,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "reference" / "prediction-log.md"


def test_every_column_is_documented_with_its_arrow_type_and_nullability() -> None:
    text = DOC.read_text()
    for field in BASE_SCHEMA:
        nullable = "yes" if field.nullable else "no"
        row = f"| `{field.name}` | `{field.type}` | {nullable} |"
        assert row in text, f"document the column in {DOC.name}: {row}"
    for name, nullable in (("inputs", "no"), ("outputs", "yes")):
        row = f"| `{name}` | `struct<...>` | {nullable} |"
        assert row in text, f"document the column in {DOC.name}: {row}"


def test_every_field_counter_and_argument_is_documented() -> None:
    text = DOC.read_text()
    names = [f.name for f in dataclasses.fields(PredictionRecord)]
    names += [f.name for f in dataclasses.fields(PredictionBatch)]
    names += [f.name for f in dataclasses.fields(PredictionLogStats)]
    for constructor in (ParquetSink, PredictionLogger):
        names += [p for p in inspect.signature(constructor).parameters if p != "self"]
    missing = [name for name in names if not re.search(rf"`{name}`|\({name}\)", text)]
    assert not missing, f"document these in {DOC.name}: {missing}"


def test_the_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    [example] = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL)
    exec(compile(example, str(DOC), "exec"), {})  # noqa: S102 - the docs' own example
    assert len(list((tmp_path / "predictions" / "churn-classifier" / "v3").glob("*.parquet"))) == 1
