"""The model card routes on the real app: the card in each format with its media type, the
JSON answer equal to the `lockgate.model_card/1` document, section edits with row_version
concurrency, and bad edits refused as problem+json naming the field, changing nothing."""

from __future__ import annotations

import copy

import httpx
import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from lockgate.api.model_cards import ModelCardOut
from tests.api.conftest import audit_count
from tests.api.world import EVALUATION_BODY, fill

CARD = "/api/v1/models/churn-clf/versions/1/card"
SECTIONS = f"{CARD}/sections"


@pytest.fixture
def version(api: httpx.Client, run_id: str) -> int:
    """Model `churn-clf` version 1 from a run with a param and a training dataset, with one
    recorded evaluation."""
    raw = {"content-type": "application/octet-stream"}
    api.put(f"/api/v1/runs/{run_id}/artifacts/model/w.bin", content=b"w", headers=raw)
    api.post(f"/api/v1/runs/{run_id}/params", json={"params": {"depth": "6"}}).raise_for_status()
    dataset = {"name": "train", "fingerprint": "a" * 64, "row_count": 10}
    api.post(f"/api/v1/runs/{run_id}/inputs", json=dataset).raise_for_status()
    model = {"name": "churn-clf", "project": "churn", "owner": "ml", "description": "d | x"}
    api.post("/api/v1/models", json=model).raise_for_status()
    body = {"run_id": run_id, "artifact_path": "model"}
    api.post("/api/v1/models/churn-clf/versions", json=body).raise_for_status()
    digest = api.get("/api/v1/models/churn-clf/versions/1/manifest").json()["manifest_sha256"]
    evaluation = fill(copy.deepcopy(EVALUATION_BODY), {"digest_1": digest})
    api.post("/api/v1/models/churn-clf/versions/1/evaluations", json=evaluation).raise_for_status()
    return 1


def test_the_card_is_json_by_default_and_is_the_card_document(
    api: httpx.Client, version: int
) -> None:
    response = api.get(CARD)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    card = ModelCardOut.model_validate_json(response.content)
    # Every member the server wrote is a member of the schema, and back again.
    assert card.model_dump(mode="json") == response.json()
    assert card.training is not None
    assert card.training.params == {"depth": "6"}
    assert [d.name for d in card.training_data] == ["train"]
    assert len(card.evaluations) == 1
    assert card.completeness.missing == [
        "intended_use",
        "out_of_scope",
        "limitations",
        "ethical_considerations",
        "fairness",
    ]
    assert card.sections["intended_use"].row_version == 0


def test_markdown_and_cyclonedx_come_with_their_media_types(
    api: httpx.Client, version: int
) -> None:
    markdown = api.get(CARD, params={"format": "markdown"})
    assert markdown.headers["content-type"] == "text/markdown; charset=utf-8"
    assert markdown.text.startswith("# Model card: churn-clf version 1\n")
    assert "| Description | d \\| x |" in markdown.text
    bom = api.get(CARD, params={"format": "cyclonedx"})
    assert bom.headers["content-type"] == "application/vnd.cyclonedx+json"
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(bom.text) is None
    assert bom.json()["components"][0]["modelCard"]["quantitativeAnalysis"]["performanceMetrics"]
    refused = api.get(CARD, params={"format": "pdf"})
    assert refused.status_code == 422
    assert refused.json()["field"] == "format"


def test_a_section_edit_carries_the_revision_it_saw(api: httpx.Client, version: int) -> None:
    first = api.put(
        f"{SECTIONS}/limitations", json={"text": "Weak on new customers.", "row_version": 0}
    )
    assert first.status_code == 200, first.text
    assert first.json()["row_version"] == 1
    assert first.json()["name"] == "limitations"
    assert first.json()["updated_by"] == "user:tester"
    before = audit_count(api)
    stale = api.put(f"{SECTIONS}/limitations", json={"text": "Stale.", "row_version": 0})
    assert stale.status_code == 409
    assert (stale.json()["code"], stale.json()["field"]) == ("conflict", "row_version")
    assert audit_count(api) == before
    card = api.get(CARD).json()
    assert card["sections"]["limitations"]["text"] == "Weak on new customers."
    assert "limitations" not in card["completeness"]["missing"]


@pytest.mark.parametrize(
    ("section", "body", "field"),
    [
        ("summary", {"text": "x", "row_version": 0}, "section"),
        ("fairness", {"text": "x", "row_version": 0}, "section"),
        ("caveats", {"text": "x", "row_version": -1}, "row_version"),
        ("caveats", {"text": "x" * 20_001, "row_version": 0}, "text"),
        ("caveats", {"text": "bell\u0007", "row_version": 0}, "text"),
        ("caveats", {"text": "x", "row_version": 0, "extra": 1}, "extra"),
    ],
)
def test_a_bad_edit_is_refused_naming_the_field(
    api: httpx.Client, version: int, section: str, body: dict[str, object], field: str
) -> None:
    before = audit_count(api)
    response = api.put(f"{SECTIONS}/{section}", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field
    assert audit_count(api) == before
    assert all(s["row_version"] == 0 for s in api.get(CARD).json()["sections"].values())


def test_a_card_of_a_missing_version_is_not_found(api: httpx.Client, version: int) -> None:
    response = api.get("/api/v1/models/churn-clf/versions/7/card")
    assert response.status_code == 404
    response = api.put(
        "/api/v1/models/churn-clf/versions/7/card/sections/caveats",
        json={"text": "x", "row_version": 0},
    )
    assert response.status_code == 404
