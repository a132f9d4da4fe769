"""The fast search serializer produces exactly what the RunOut schema would."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from lockgate.api.tracking import RunOut, run_document
from lockgate.domain.identity import Actor
from lockgate.domain.tracking import (
    DatasetInput,
    Metric,
    ProjectId,
    Run,
    RunDetail,
    RunEnvironment,
    RunId,
    RunStatus,
)

T0 = datetime(2026, 11, 24, 1, 2, 3, tzinfo=UTC)
T1 = datetime(2026, 11, 24, 1, 2, 3, 450_001, tzinfo=UTC)


@pytest.mark.parametrize("ended_at", [None, T1])
@pytest.mark.parametrize("value", [0.25, 1e-300, -3.0, math.nan, math.inf, -math.inf])
def test_run_document_matches_the_schema(ended_at: datetime | None, value: float) -> None:
    run = Run(
        RunId("a" * 32),
        ProjectId("b" * 32),
        "r",
        RunStatus.FINISHED,
        T0,
        ended_at,
        Actor("user:a"),
        RunEnvironment("c" * 40, True, "3.11.7", ("numpy==2.0",), 7),
    )
    detail = RunDetail(
        run,
        params={"lr": "0.1"},
        metrics={"loss": Metric("loss", value, 3, T1), "acc": Metric("acc", 0.5, 0, T0)},
        tags={"team": "x"},
        inputs=(DatasetInput("d", "f" * 64, 10, (("age", "int64"),), None),),
        project_name="churn",
    )
    assert run_document(detail) == RunOut.from_domain(detail).model_dump(mode="json", by_alias=True)
