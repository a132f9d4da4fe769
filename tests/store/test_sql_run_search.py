"""SqlRunRepository.search against a straightforward Python computation over random runs.

The reference: a run matches a metric clause when its latest value compares true (NaN equals
nothing and differs from everything; a missing key matches nothing); params, tags and
attributes compare as strings, `like` is case-sensitive with `\\` as the escape, `ilike`
folds case. Runs without the sort value (a missing key or a NaN metric) come last in both
directions; run id breaks ties in the sort's direction.
"""

from __future__ import annotations

import json
import math
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pytest

from lockgate.domain.errors import InvalidInputError
from lockgate.domain.tracking import (
    Comparison,
    FieldKind,
    Metric,
    Operator,
    OrderBy,
    Project,
    Run,
    RunDetail,
    RunStatus,
    parse_filter,
    parse_order_by,
)
from lockgate.store.protocols import UnitOfWork
from tests.store.sql_builders import UowFactory, at, make_project, make_run

METRIC_VALUES = [0.1, 0.5, 0.5, 0.9, -1.0, 0.0, math.nan, math.inf, -math.inf, 2.5]
PARAM_VALUES = ["0.1", "0.01", "abc", "a_c", "ABC", "a%c", "b", "é", "Zeta", "a\\c"]
NAMES = ["alpha", "beta", "Alpha", "al_pha", "gamma", "a%b"]
ACTORS = ["user:alice", "user:bob", "service:ci"]


@dataclass
class Expected:
    """What the reference knows of a run."""

    run: Run
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    latest: dict[str, float] = field(default_factory=dict)


def _seed(uow_factory: UowFactory, rng: random.Random) -> tuple[Project, list[Expected]]:
    project, noise = make_project("search"), make_project("noise")
    expected: list[Expected] = []
    with uow_factory() as uow:
        uow.projects.add(project)
        uow.projects.add(noise)
        for index in range(70):
            owner = project if index < 60 else noise
            run = make_run(
                owner,
                rng.choice(NAMES),
                started=rng.randrange(20),  # ties on started_at on purpose
                status=rng.choice(list(RunStatus)),
                created_by=rng.choice(ACTORS),
            )
            row = Expected(run)
            row.tags = {k: rng.choice(PARAM_VALUES) for k in ("t1", "t2") if rng.random() < 0.6}
            uow.runs.add(run, row.tags)
            row.params = {k: rng.choice(PARAM_VALUES) for k in ("p1", "p2") if rng.random() < 0.7}
            if row.params:
                uow.runs.add_params(run, row.params)
            points = []
            for key in ("m1", "m2"):
                if rng.random() < 0.75:
                    for step in rng.sample(range(5), rng.randint(1, 3)):
                        points.append(Metric(key, rng.choice(METRIC_VALUES), step, at(step)))
            if points:
                uow.runs.add_metrics(run, points)
            for point in sorted(points, key=lambda p: p.step):
                row.latest[point.key] = point.value
            if owner is project:
                expected.append(row)
        uow.commit()
    return project, expected


def _like(pattern: str, value: str) -> bool:
    regex = ""
    chars = iter(pattern)
    for char in chars:
        if char == "\\":
            regex += re.escape(next(chars, ""))
        elif char == "%":
            regex += ".*"
        elif char == "_":
            regex += "."
        else:
            regex += re.escape(char)
    return re.fullmatch(regex, value, re.DOTALL) is not None


def _compare(actual: float | str, comparison: Comparison) -> bool:
    op, value = comparison.op, comparison.value
    if op is Operator.LIKE:
        return _like(str(value), str(actual))
    if op is Operator.ILIKE:
        return _like(str(value).lower(), str(actual).lower())
    comparators: dict[Operator, Callable[[object, object], bool]] = {
        Operator.EQ: lambda a, b: a == b,
        Operator.NE: lambda a, b: a != b,
        Operator.LT: lambda a, b: a < b,  # type: ignore[operator]
        Operator.LE: lambda a, b: a <= b,  # type: ignore[operator]
        Operator.GT: lambda a, b: a > b,  # type: ignore[operator]
        Operator.GE: lambda a, b: a >= b,  # type: ignore[operator]
    }
    return comparators[op](actual, value)


def _field(row: Expected, kind: FieldKind, key: str) -> float | str | int | None:
    if kind is FieldKind.METRIC:
        return row.latest.get(key)
    if kind is FieldKind.PARAM:
        return row.params.get(key)
    if kind is FieldKind.TAG:
        return row.tags.get(key)
    if key == "started_at":
        return row.run.started_at.timestamp()
    return str(getattr(row.run, key))


def _matches(row: Expected, comparisons: Sequence[Comparison]) -> bool:
    for comparison in comparisons:
        actual = _field(row, comparison.kind, comparison.key)
        if actual is None or not _compare(actual, comparison):
            return False
    return True


def _reference(
    rows: list[Expected], comparisons: Sequence[Comparison], order: OrderBy
) -> list[str]:
    found = [row for row in rows if _matches(row, comparisons)]

    def sort_value(row: Expected) -> float | str | int | None:
        value = _field(row, order.kind, order.key)
        return None if isinstance(value, float) and math.isnan(value) else value

    valued = [row for row in found if sort_value(row) is not None]
    missing = [row for row in found if sort_value(row) is None]
    valued.sort(key=lambda r: (sort_value(r), r.run.id), reverse=order.descending)
    missing.sort(key=lambda r: r.run.id, reverse=order.descending)
    return [row.run.id for row in valued + missing]


FILTERS = [
    "",
    "metrics.m1 > 0.2",
    "metrics.m1 <= 0.5",
    "metrics.m1 = 0.5",
    "metrics.m1 != 0.5",
    "metrics.m2 >= -1e999",
    "metrics.m1 < 1e999 and metrics.m2 > 0",
    "params.p1 = '0.1'",
    "params.p1 != 'abc'",
    "params.p1 like 'a%'",
    "params.p1 like 'a\\_c'",
    "params.p1 like 'a\\%c'",
    "params.p1 ilike 'abc'",
    "params.p1 like 'a\\\\c'",
    "tags.t1 = 'b' and params.p2 like '%'",
    "name = 'alpha'",
    "name ilike 'ALPHA'",
    "name like 'al_ha'",
    "name != 'beta' and status = 'running'",
    "status != 'failed' and created_by like 'user:%'",
    "created_by ilike 'USER:%' and metrics.m1 > 0",
]
PAGED_FILTERS = ["", "metrics.m1 != 0.5", "params.p1 != 'abc'"]
ORDERS = [
    "metrics.m1 asc",
    "metrics.m1 desc",
    "metrics.m2",
    "params.p1 asc",
    "params.p1 desc",
    "started_at desc",
    "started_at asc",
    "name",
    "status desc",
    "created_by asc",
]


def _pages(
    uow: UnitOfWork, project: Project, comparisons: Sequence[Comparison], order: OrderBy, size: int
) -> list[RunDetail]:
    seen: list[RunDetail] = []
    cursor = None
    while True:
        page = uow.runs.search(project.id, comparisons, order, size, cursor)
        assert len(page.items) <= size
        seen += page.items
        cursor = page.next_cursor
        if cursor is None:
            return seen
        assert len(page.items) == size


def test_search_matches_the_reference_on_every_filter_order_and_page_size(
    uow_factory: UowFactory,
) -> None:
    project, rows = _seed(uow_factory, random.Random(20260124))
    by_id = {row.run.id: row for row in rows}
    with uow_factory() as uow:
        # Every filter under two orders, every order under a few filters; small pages on
        # the latter exercise the cursors (including across the runs without a value).
        cases: list[tuple[str, str, tuple[int, ...]]] = [
            (f, o, (1000,)) for f in FILTERS for o in ("started_at desc", "metrics.m1 asc")
        ]
        cases += [(f, o, (1000, 6)) for f in PAGED_FILTERS for o in ORDERS]
        for filter_text, order_text, sizes in cases:
            comparisons, order = parse_filter(filter_text), parse_order_by(order_text)
            expected = _reference(rows, comparisons, order)
            for size in sizes:
                found = _pages(uow, project, comparisons, order, size)
                assert [d.run.id for d in found] == expected, (filter_text, order_text, size)
            # The rendered page (REST search) is the same page.
            rendered = uow.runs.search_json(project, comparisons, order, 1000, None)
            ids = [json.loads(text)["id"] for text in rendered.items]
            assert ids == expected, (filter_text, order_text)
        # One pass one run at a time, and every detail as recorded.
        some = parse_filter("metrics.m1 > 0.2")
        for detail in _pages(uow, project, some, parse_order_by("metrics.m1 desc"), 1):
            row = by_id[detail.run.id]
            assert detail.run == row.run
            assert (detail.params, detail.tags) == (row.params, row.tags)
            latest = {key: metric.value for key, metric in detail.metrics.items()}
            assert latest.keys() == row.latest.keys()
            for key, value in row.latest.items():
                assert latest[key] == value or (math.isnan(latest[key]) and math.isnan(value))


def test_a_cursor_only_continues_the_query_that_made_it(uow_factory: UowFactory) -> None:
    project, _ = _seed(uow_factory, random.Random(7))
    with uow_factory() as uow:
        page = uow.runs.search(project.id, (), parse_order_by("metrics.m1"), 3, None)
        assert page.next_cursor is not None
        with pytest.raises(InvalidInputError, match="page_token does not fit this query"):
            uow.runs.search(project.id, (), parse_order_by("name"), 3, page.next_cursor)
        with pytest.raises(InvalidInputError, match="page_token"):
            uow.runs.search(project.id, (), parse_order_by("name"), 3, "garbage!")
