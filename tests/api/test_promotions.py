"""The promotion routes over HTTP with auth on, on each dialect: status codes, problem+json
with the field at fault, separation of duties as 403, the stored decision's input hashing to
its sha256, and "what was live at T"."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from lockgate.domain.governance.decisions import document_sha256
from tests.support.promotion_clients import Team, team

__all__ = ["team"]  # the fixture, imported for pytest


@pytest.fixture
def http(team: Team) -> Iterator[httpx.Client]:
    with httpx.Client(transport=team.transport, base_url="http://localhost/api/v1") as client:
        yield client


def _as(team: Team, name: str) -> dict[str, str]:
    return {"authorization": f"Bearer {team.tokens[name]}"}


def test_a_request_is_approved_promoted_and_its_evidence_kept(
    team: Team, http: httpx.Client
) -> None:
    low = http.put("/models/clf/governance", json={"tier": "low"}, headers=_as(team, "root"))
    assert low.status_code == 200, low.text
    assert low.json()["tier"] == "low"
    dev = http.post(
        "/models/clf/versions/1/promotions",
        json={"environment": "dev", "reason": "smoke"},
        headers=_as(team, "erin"),
    )
    assert dev.status_code == 201, dev.text
    assert dev.json()["request"]["status"] == "promoted"
    opened = http.post(
        "/models/clf/versions/1/promotions",
        json={"environment": "staging", "reason": "ready"},
        headers=_as(team, "erin"),
    )
    request_id = opened.json()["request"]["id"]
    own = http.post(f"/promotions/{request_id}/approvals", json={}, headers=_as(team, "root"))
    assert own.status_code == 403
    assert own.json()["code"] == "permission_denied"
    assert "separation of duties" in own.json()["detail"]
    approved = http.post(
        f"/promotions/{request_id}/approvals",
        json={"comment": "ok"},
        headers=_as(team, "carol"),
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["request"]["status"] == "promoted"
    decisions = http.get(f"/promotions/{request_id}/decisions", headers=_as(team, "vic")).json()
    assert [d["allowed"] for d in decisions] == [False, True]
    for decision in decisions:
        assert document_sha256(decision["input"]) == decision["input_sha256"]
        assert decision["input"]["request"]["id"] == request_id
    again = http.post(f"/promotions/{request_id}/approvals", json={}, headers=_as(team, "dave"))
    assert again.status_code == 409
    alias = http.put("/models/clf/aliases/staging", json={"version": 2}, headers=_as(team, "root"))
    assert alias.status_code == 409
    assert "moved only by promotion" in alias.json()["detail"]

    changed_at = datetime.fromisoformat(
        http.get("/models/clf/environments/staging/history", headers=_as(team, "vic")).json()[0][
            "changed_at"
        ]
    )
    history = "/models/clf/environments/staging/history"
    at_change = http.get(history, params={"at": changed_at.isoformat()}, headers=_as(team, "vic"))
    assert [c["version"] for c in at_change.json()] == [1]
    earlier = (changed_at - timedelta(seconds=1)).isoformat()
    assert http.get(history, params={"at": earlier}, headers=_as(team, "vic")).json() == []
    naive = http.get(history, params={"at": "2026-01-01T00:00:00"}, headers=_as(team, "vic"))
    assert naive.status_code == 422
    assert naive.json()["field"] == "at"
    current = http.get("/models/clf/environments", headers=_as(team, "vic")).json()
    assert [(c["environment"], c["version"]) for c in current] == [("dev", 1), ("staging", 1)]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"environment": "Staging", "reason": "r"}, "environment"),
        ({"environment": "staging", "reason": " "}, "reason"),
        ({"environment": "staging"}, "reason"),
        ({"environment": "staging", "reason": "r", "extra": 1}, "extra"),
    ],
)
def test_bad_input_names_the_field_and_changes_nothing(
    team: Team, http: httpx.Client, body: dict[str, object], field: str
) -> None:
    response = http.post("/models/clf/versions/1/promotions", json=body, headers=_as(team, "erin"))
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid_input"
    assert response.json()["field"] == field
    listed = http.get("/models/clf/promotions", headers=_as(team, "erin")).json()
    assert listed["items"] == []


def test_exceptions_over_http(team: Team, http: httpx.Client) -> None:
    path = "/models/clf/versions/2/exceptions"
    expires = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    body = {
        "environment": "production",
        "gate": "evaluation",
        "justification": "rebuilding the holdout",
        "expires_at": expires,
    }
    created = http.post(path, json=body, headers=_as(team, "erin"))
    assert created.status_code == 201, created.text
    exception_id = created.json()["id"]
    past = http.post(
        path, json={**body, "expires_at": "2020-01-01T00:00:00Z"}, headers=_as(team, "erin")
    )
    assert (past.status_code, past.json()["field"]) == (422, "expires_at")
    viewer = http.post(f"/exceptions/{exception_id}/approvals", json={}, headers=_as(team, "vic"))
    assert viewer.status_code == 403
    approved = http.post(
        f"/exceptions/{exception_id}/approvals", json={}, headers=_as(team, "carol")
    )
    assert approved.json()["status"] == "active"
    listed = http.get(path, params={"status": "active"}, headers=_as(team, "vic")).json()
    assert [e["id"] for e in listed] == [exception_id]
    blank = http.post(
        f"/exceptions/{exception_id}/revocations", json={"reason": ""}, headers=_as(team, "dave")
    )
    assert (blank.status_code, blank.json()["field"]) == (422, "reason")
    revoked = http.post(
        f"/exceptions/{exception_id}/revocations",
        json={"reason": "done"},
        headers=_as(team, "dave"),
    )
    assert revoked.json()["status"] == "revoked"
    shown = http.get(f"/exceptions/{exception_id}", headers=_as(team, "vic")).json()
    assert (shown["revoked_by"], shown["revoke_reason"]) == ("user:dave", "done")
