"""Service rules that refuse bad requests before anything is written, on both dialects."""

from __future__ import annotations

import io
from datetime import datetime

import pytest

from lockgate.domain.access import Caller
from lockgate.domain.errors import ConflictError, InvalidInputError, NotFoundError
from lockgate.domain.identity import Actor
from lockgate.domain.tracking import DatasetInput, RunEnvironment
from lockgate.server.composition import Platform

ALICE = Caller.local(Actor("user:alice"))


@pytest.fixture
def run_id(platform: Platform) -> str:
    platform.tracking.create_project(ALICE, "churn")
    platform.registry.create_model(ALICE, "churn", "clf", "growth", "churn model", {})
    return platform.tracking.start_run(ALICE, "churn", "r", {}, RunEnvironment()).run.id


def test_models_are_read_back_with_their_project(platform: Platform, run_id: str) -> None:
    assert platform.registry.get_model(ALICE, "clf").project_name == "churn"
    listed = platform.registry.list_models(ALICE, "churn", 10, None).items
    assert [(m.name, m.project_name) for m in listed] == [("clf", "churn")]
    assert platform.registry.list_models(ALICE, None, 10, None).items == listed


def test_a_failed_run_cannot_become_a_version(platform: Platform, run_id: str) -> None:
    platform.artifacts.upload(ALICE, run_id, "model/m.json", io.BytesIO(b"{}"))
    platform.tracking.end_run(ALICE, run_id, "failed")
    with pytest.raises(ConflictError, match="failed"):
        platform.registry.create_version(ALICE, "clf", run_id, "model", None, "", {})


def test_alias_rules(platform: Platform, run_id: str) -> None:
    with pytest.raises(NotFoundError, match="no alias"):
        platform.registry.resolve(ALICE, "clf@champion")
    with pytest.raises(NotFoundError, match="no alias"):
        platform.registry.delete_alias(ALICE, "clf", "champion")
    with pytest.raises(InvalidInputError, match="timezone") as caught:
        platform.registry.alias_at(ALICE, "clf", "champion", datetime(2026, 1, 1))  # noqa: DTZ001
    assert caught.value.field == "at"
    with pytest.raises(InvalidInputError) as bad:
        platform.registry.alias_history(ALICE, "clf", "Bad!")
    assert bad.value.field == "alias"


def test_a_version_holds_a_bounded_number_of_files(
    platform: Platform, run_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("lockgate.services.registry.MAX_VERSION_FILES", 2)
    for name in ("a", "b", "c"):
        platform.artifacts.upload(ALICE, run_id, f"model/{name}", io.BytesIO(name.encode()))
    with pytest.raises(InvalidInputError, match="at most 2 files"):
        platform.registry.create_version(ALICE, "clf", run_id, "model", None, "", {})


def test_tracking_rules(platform: Platform, run_id: str) -> None:
    with pytest.raises(InvalidInputError) as metrics:
        platform.tracking.log_metrics(ALICE, run_id, [])
    assert metrics.value.field == "metrics"
    with pytest.raises(InvalidInputError) as tags:
        platform.tracking.set_tags(ALICE, run_id, {})
    assert tags.value.field == "tags"
    with pytest.raises(InvalidInputError) as page:
        platform.tracking.metric_history(ALICE, run_id, "loss", 0, None)
    assert page.value.field == "page_size"
    with pytest.raises(InvalidInputError) as params:
        platform.tracking.log_params(ALICE, run_id, {str(i): "x" for i in range(1001)})
    assert params.value.field == "params"
    wide = DatasetInput("d", "f" * 64, 1, tuple((f"c{i}", "int64") for i in range(10_001)))
    with pytest.raises(InvalidInputError) as schema:
        platform.tracking.log_input(ALICE, run_id, wide)
    assert schema.value.field == "dataset.schema"
    assert platform.audit.verify(ALICE).checked == 3  # project, model, run: nothing else written


def test_audit_listing_rules(platform: Platform) -> None:
    for kwargs, field in (
        ({"after_seq": -1, "limit": 10}, "after_seq"),
        ({"after_seq": 0, "limit": 0}, "limit"),
        ({"after_seq": 0, "limit": 10, "subject_type": "run"}, "subject_id"),
        ({"after_seq": 0, "limit": 10, "subject_id": "x"}, "subject_type"),
    ):
        with pytest.raises(InvalidInputError) as caught:
            platform.audit.list_events(ALICE, **kwargs)  # type: ignore[arg-type]
        assert caught.value.field == field
