"""Runs rendered as JSON by the database (search pages) against the REST API's own model.

The rendered text must parse to exactly what `RunOut` dumps for the same run, value for value
(times to the microsecond, floats to the last bit), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import dataclasses
import json
import math
import struct
from datetime import UTC, datetime

from lockgate.api.tracking import RunOut
from lockgate.domain.tracking import DatasetInput, Metric, RunStatus, parse_filter, parse_order_by
from tests.store.sql_builders import UowFactory, at, make_project, make_run

# Values whose shortest text needs 17 digits, sits at the ends of the range, is integral
# or is not a number; SQLite's own JSON would print some of them wrong. (Not -0.0: SQLite
# stores an integral REAL as an integer, so it reads back as 0.0.)
AWKWARD = [
    0.1 + 0.2,
    1 / 3,
    5e-324,
    2.2250738585072014e-308,
    1.7976931348623157e308,
    1.3820026417387505e278,
    5.0,
    -123456789.0,
    1e16,
    1e15,
    1e-5,
    0.0001,
    math.nan,
    math.inf,
    -math.inf,
]
BEFORE_1970 = datetime(1969, 12, 31, 23, 59, 58, 500_000, tzinfo=UTC)
WITH_MICROS = datetime(2026, 11, 24, 1, 2, 3, 450_001, tzinfo=UTC)


def _bits(value: float) -> bytes:
    return struct.pack("<d", value)


def test_a_rendered_run_is_the_api_model_of_that_run(uow_factory: UowFactory) -> None:
    project = make_project("render")
    full = make_run(
        project,
        'ünïcode "quoted" \\ run',
        started=0.000_001,
        status=RunStatus.FINISHED,
        ended_at=WITH_MICROS,
    )
    bare = dataclasses.replace(make_run(project, "bare"), environment=full.environment.__class__())
    points = [Metric(f"m{i:02d}", v, i, at(i * 1.5)) for i, v in enumerate(AWKWARD)]
    points += [Metric("old", 1.5, 0, BEFORE_1970), Metric("micro", 2.5, 3, WITH_MICROS)]
    datasets = [
        DatasetInput("b-data", "f" * 64, None, (("x", "float64"), ("ï", "str")), None),
        DatasetInput("a-data", "e" * 64, 10, (), "s3://bucket/a.parquet"),
    ]
    with uow_factory() as uow:
        uow.projects.add(project)
        uow.runs.add(full, {"team": "ml", "note": 'line\nbreak "q" \\'})
        uow.runs.add_params(full, {"lr": "0.01", "ключ": "значение", "empty": ""})
        uow.runs.add_metrics(full, points)
        for dataset in datasets:
            uow.runs.add_input(full, dataset)
        uow.runs.add(bare, {})
        uow.commit()
    with uow_factory() as uow:
        order = parse_order_by("name")
        page = uow.runs.search_json(project, (), order, 10, None)
        rendered = [json.loads(text) for text in page.items]
        expected = [
            RunOut.from_domain(dataclasses.replace(uow.runs.detail(run.id), project_name="render"))
            for run in (full, bare)
        ]
    by_name = {document["name"]: document for document in rendered}
    assert sorted(d["id"] for d in rendered) == sorted([bare.id, full.id])
    for model in expected:
        assert by_name[model.name] == model.model_dump(mode="json", by_alias=True)
    metrics = by_name[full.name]["metrics"]
    for index, value in enumerate(AWKWARD):
        found = metrics[f"m{index:02d}"]["value"]
        if math.isnan(value):
            assert found == "NaN"
        elif math.isinf(value):
            assert found == ("Infinity" if value > 0 else "-Infinity")
        else:
            assert isinstance(found, float)
            assert _bits(found) == _bits(value), (value, found)
    assert metrics["old"]["timestamp"] == "1969-12-31T23:59:58.500000Z"
    assert metrics["micro"]["timestamp"] == "2026-11-24T01:02:03.450001Z"
    assert [d["name"] for d in by_name[full.name]["inputs"]] == ["a-data", "b-data"]
    assert by_name["bare"]["params"] == by_name["bare"]["metrics"] == {}
    assert by_name["bare"]["inputs"] == []


def test_a_run_reads_back_its_metrics_to_the_last_bit(uow_factory: UowFactory) -> None:
    project = make_project("exact")
    run = make_run(project)
    finite = [v for v in AWKWARD if math.isfinite(v)]
    with uow_factory() as uow:
        uow.projects.add(project)
        uow.runs.add(run, {})
        uow.runs.add_metrics(run, [Metric(f"m{i}", v, 0, at(0)) for i, v in enumerate(finite)])
        uow.commit()
    with uow_factory() as uow:
        detail = uow.runs.detail(run.id)
    for index, value in enumerate(finite):
        assert _bits(detail.metrics[f"m{index}"].value) == _bits(value)


def test_search_json_pages_like_search(uow_factory: UowFactory) -> None:
    project = make_project("pages")
    runs = [make_run(project, f"r{i}", started=i) for i in range(7)]
    with uow_factory() as uow:
        uow.projects.add(project)
        for index, run in enumerate(runs):
            uow.runs.add(run, {})
            uow.runs.add_metrics(run, [Metric("acc", index / 10, 0, at(index))])
        uow.commit()
    filters, order = parse_filter("metrics.acc > 0.15"), parse_order_by("metrics.acc desc")
    with uow_factory() as uow:
        seen: list[str] = []
        cursor: str | None = None
        while True:
            page = uow.runs.search_json(project, filters, order, 2, cursor)
            domain = uow.runs.search(project.id, filters, order, 2, cursor)
            ids = [json.loads(text)["id"] for text in page.items]
            assert ids == [detail.run.id for detail in domain.items]
            assert page.next_cursor == domain.next_cursor
            seen += ids
            cursor = page.next_cursor
            if cursor is None:
                break
    assert seen == [run.id for run in reversed(runs[2:])]
