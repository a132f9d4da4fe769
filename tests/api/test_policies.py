"""Project policy routes with authentication on: an admin proposes, a reviewer approves, the
proposer is refused, and a bad module is a 422 problem naming the field."""

from __future__ import annotations

from tests.api.world import World, auth, world

__all__ = ["world"]  # the fixture, imported for pytest

GATE = """package lockgate.gates.ticket

deny contains "a change ticket is required" if not input.request.reason
"""

TESTS = """package lockgate.gates.ticket_test

import data.lockgate.gates.ticket

test_a_reason_passes if {
	count(ticket.deny) == 0 with input.request.reason as "CHG-1"
}
"""


def test_propose_review_and_read_a_policy(world: World) -> None:
    admin, reviewer = auth(world.tokens["admin"]), auth(world.tokens["reviewer"])
    base = "/api/v1/projects/churn/policies"
    proposed = world.client.post(
        base,
        json={"name": "ticket", "source": GATE, "tests": TESTS, "description": "CAB rule"},
        headers=admin,
    )
    assert proposed.status_code == 201, proposed.text
    body = proposed.json()
    assert (body["name"], body["version"], body["status"]) == ("ticket", 1, "proposed")
    assert body["package"] == "lockgate.gates.ticket"
    assert body["proposed_by"] == "user:admin-user"

    own = world.client.post(f"{base}/ticket/versions/1/approve", json={}, headers=admin)
    assert own.status_code == 403
    assert "separation of duties" in own.json()["detail"]

    approved = world.client.post(
        f"{base}/ticket/versions/1/approve", json={"comment": "agreed"}, headers=reviewer
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "active"
    assert approved.json()["reviewed_by"] == "user:reviewer-user"

    viewer = auth(world.tokens["viewer"])
    latest = world.client.get(f"{base}/ticket", headers=viewer).json()
    assert latest == world.client.get(f"{base}/ticket/versions/1", headers=viewer).json()
    listed = world.client.get(base, params={"status": "active"}, headers=viewer).json()
    assert [(p["name"], p["version"]) for p in listed["items"]] == [("ticket", 1)]
    assert listed["next_page_token"] is None

    again = world.client.post(
        f"{base}/ticket/versions/1/reject", json={"comment": "too late"}, headers=reviewer
    )
    assert again.status_code == 409
    assert again.json()["code"] == "conflict"


def test_a_module_that_does_not_compile_is_a_problem_naming_the_source(world: World) -> None:
    admin = auth(world.tokens["admin"])
    refused = world.client.post(
        "/api/v1/projects/churn/policies",
        json={"name": "ticket", "source": "package lockgate.gates.ticket\n\ndeny contains {\n"},
        headers=admin,
    )
    assert refused.status_code == 422
    problem = refused.json()
    assert (problem["code"], problem["field"]) == ("invalid_input", "source")
    assert "does not compile" in problem["detail"]
    rejected = world.client.post(
        "/api/v1/projects/churn/policies/ticket/versions/1/reject",
        json={"comment": "nothing to reject"},
        headers=auth(world.tokens["reviewer"]),
    )
    assert rejected.status_code == 404  # the refused proposal was not stored
