"""Contract of SqlPolicyRepository on every dialect: versions read back as written, list by
name then newest version, one version per name is active at most, a stale or racing write is
a ConflictError, and a proposal's project must exist."""

from __future__ import annotations

import dataclasses

import pytest

from lockgate.domain.errors import ConflictError, NotFoundError
from lockgate.domain.governance.policies import (
    PolicyStatus,
    ProjectPolicy,
    ProjectPolicyId,
    source_sha256,
)
from lockgate.domain.identity import Actor
from lockgate.domain.tracking import Project, ProjectId
from tests.store.sql_builders import ALICE, UowFactory, add_project, at, new_id

BOB = Actor("user:bob")


@pytest.fixture
def project(uow_factory: UowFactory) -> Project:
    return add_project(uow_factory)


def _policy(project: Project, name: str, version: int, **fields: object) -> ProjectPolicy:
    source = f'package lockgate.gates.{name}\n\ndeny contains "v{version}" if false\n'
    values: dict[str, object] = {
        "id": ProjectPolicyId(new_id()),
        "project_id": project.id,
        "project_name": project.name,
        "name": name,
        "version": version,
        "source": source,
        "sha256": source_sha256(source),
        "tests": "",
        "description": f"version {version}",
        "status": PolicyStatus.PROPOSED,
        "proposed_by": ALICE,
        "proposed_at": at(version),
    }
    values.update(fields)
    return ProjectPolicy(**values)  # type: ignore[arg-type]


def _add(uow_factory: UowFactory, *policies: ProjectPolicy) -> None:
    with uow_factory() as uow:
        for policy in policies:
            uow.policies.add_policy(policy)
        uow.commit()


def test_a_version_reads_back_exactly_as_written(uow_factory: UowFactory, project: Project) -> None:
    policy = _policy(project, "owner_review", 1, tests="package x_test\n")
    _add(uow_factory, policy)
    with uow_factory() as uow:
        assert uow.policies.get_policy(project.id, "owner_review", 1) == policy
        assert uow.policies.latest_version(project.id, "owner_review") == 1
        assert uow.policies.latest_version(project.id, "other") == 0
        with pytest.raises(NotFoundError, match="has no version 2"):
            uow.policies.get_policy(project.id, "owner_review", 2)


def test_review_fields_round_trip(uow_factory: UowFactory, project: Project) -> None:
    policy = _policy(project, "owner_review", 1)
    _add(uow_factory, policy)
    approved = policy.approve(by=BOB, at=at(50), comment="fine")
    with uow_factory() as uow:
        uow.policies.save_policy(approved)
        uow.commit()
    superseded = approved.supersede(at=at(60))
    with uow_factory() as uow:
        assert uow.policies.active_policies(project.id) == [approved]
        uow.policies.save_policy(superseded)
        uow.commit()
    with uow_factory() as uow:
        assert uow.policies.get_policy(project.id, "owner_review", 1) == superseded
        assert uow.policies.active_policies(project.id) == []


def test_a_stale_write_is_a_conflict(uow_factory: UowFactory, project: Project) -> None:
    policy = _policy(project, "owner_review", 1)
    _add(uow_factory, policy)
    with uow_factory() as uow:
        uow.policies.save_policy(policy.reject(by=BOB, at=at(5), comment="no"))
        uow.commit()
    with uow_factory() as uow, pytest.raises(ConflictError, match="changed by someone else"):
        uow.policies.save_policy(policy.approve(by=BOB, at=at(6)))


def test_one_version_per_name_is_active(uow_factory: UowFactory, project: Project) -> None:
    first, second = _policy(project, "owner_review", 1), _policy(project, "owner_review", 2)
    other = _policy(project, "data_fresh", 1)
    _add(uow_factory, first, second, other)
    with uow_factory() as uow:
        uow.policies.save_policy(first.approve(by=BOB, at=at(10)))
        uow.policies.save_policy(other.approve(by=BOB, at=at(10)))
        uow.commit()
    with uow_factory() as uow, pytest.raises(ConflictError, match="became active at the same"):
        uow.policies.save_policy(second.approve(by=BOB, at=at(11)))
    with uow_factory() as uow:
        active = uow.policies.active_policies(project.id)
        assert [(p.name, p.version) for p in active] == [("data_fresh", 1), ("owner_review", 1)]


def test_a_taken_version_is_a_conflict(uow_factory: UowFactory, project: Project) -> None:
    _add(uow_factory, _policy(project, "owner_review", 1))
    with pytest.raises(ConflictError, match="proposed at the same time"):
        _add(uow_factory, _policy(project, "owner_review", 1))


def test_a_policy_of_a_missing_project_is_refused(
    uow_factory: UowFactory, project: Project
) -> None:
    ghost = dataclasses.replace(project, id=ProjectId(new_id()))
    with pytest.raises(NotFoundError, match="does not exist"):
        _add(uow_factory, _policy(ghost, "owner_review", 1))


def test_listing_pages_by_name_then_newest_version(
    uow_factory: UowFactory, project: Project
) -> None:
    policies = [_policy(project, name, v) for name in ("b_gate", "a_gate") for v in (1, 2, 3)]
    _add(uow_factory, *policies)
    with uow_factory() as uow:
        uow.policies.save_policy(policies[0].reject(by=BOB, at=at(9), comment="no"))
        uow.commit()
    seen: list[tuple[str, int]] = []
    cursor = None
    with uow_factory() as uow:
        while True:
            page = uow.policies.list_policies(project.id, None, None, 2, cursor)
            seen.extend((p.name, p.version) for p in page.items)
            cursor = page.next_cursor
            if cursor is None:
                break
        assert seen == [(n, v) for n in ("a_gate", "b_gate") for v in (3, 2, 1)]
        one = uow.policies.list_policies(project.id, "b_gate", None, 10, None).items
        assert [p.version for p in one] == [3, 2, 1]
        rejected = uow.policies.list_policies(project.id, None, PolicyStatus.REJECTED, 10, None)
        assert [(p.name, p.version) for p in rejected.items] == [("b_gate", 1)]
