"""The SDK's audit calls against the real app: events page in chain order, the chain verifies."""

from __future__ import annotations

from lockgate.sdk import Client


def test_events_page_in_order_and_filter_by_subject(client: Client) -> None:
    for index in range(5):
        client.projects.create(f"p{index}")
    events = list(client.audit.events(page_size=2))
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert len(events) >= 5
    assert all(e.actor == "user:tester" for e in events)
    assert [e.seq for e in client.audit.events(after_seq=3)] == [e.seq for e in events[3:]]
    project_id = client.projects.get("p2").id
    about = list(client.audit.events(subject_type="project", subject_id=project_id))
    assert [e.subject_id for e in about] == [project_id]


def test_verify_reports_an_intact_chain(client: Client, project: str) -> None:
    verdict = client.audit.verify()
    assert verdict.ok
    assert verdict.checked == len(list(client.audit.events()))
