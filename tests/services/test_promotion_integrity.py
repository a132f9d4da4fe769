"""Governed actions fail closed and concurrent ones end in one consistent outcome, on SQLite
and PostgreSQL: a promotion, approval, exception or tier change whose audit event cannot be
written changes nothing; racing approvals promote once; racing promotions into one
environment leave a history in which every move follows the one before."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import pytest

from lockgate.domain.audit import AuditDraft
from lockgate.domain.errors import ConflictError, LockgateError
from lockgate.domain.governance.promotions import GovernanceRules, RequestStatus
from lockgate.domain.identity import Uuid7Factory
from lockgate.server.composition import Platform, build_platform
from lockgate.services import (
    EnvironmentService,
    GateExceptionService,
    PromotionService,
    ServiceContext,
)
from lockgate.store.protocols import UnitOfWork
from tests.support.promotions import ALICE, Governed, TestGates, build_governed

T = TypeVar("T")


@pytest.fixture
def world(platform: Platform) -> Governed:
    return build_governed(platform)


class _BrokenAudit:
    """An audit log whose appends fail (a full disk, a lost connection)."""

    def append(self, draft: AuditDraft, *, event_id: str, at: datetime) -> None:
        raise LockgateError(f"the audit log is unavailable ({draft.action} not written)")


class _UnitWithBrokenAudit:
    def __init__(self, unit: UnitOfWork) -> None:
        self._unit = unit

    def __enter__(self) -> UnitOfWork:
        entered = self._unit.__enter__()
        entered.audit = _BrokenAudit()  # type: ignore[assignment]
        return entered

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._unit.__exit__(exc_type, exc, tb)


def _snapshot(world: Governed) -> tuple[object, ...]:
    promotions, environments = world.promotions, world.environments
    requests = promotions.list_requests(ALICE, model_name="clf").items
    return (
        [(r.id, r.status, r.row_version) for r in requests],
        [
            tuple(a.reviewer for a in promotions.get_request(ALICE, r.id).approvals)
            for r in requests
        ],
        [len(promotions.decisions(ALICE, r.id)) for r in requests],
        environments.current_versions(ALICE, "clf"),
        environments.history(ALICE, "clf"),
        environments.get_governance(ALICE, "clf"),
        world.exceptions.list_exceptions(ALICE, "clf"),
        world.platform.registry.alias_history(ALICE, "clf", None),
        world.platform.audit.verify(ALICE).checked,
    )


def test_a_governed_action_whose_audit_event_fails_changes_nothing(world: Governed) -> None:
    def broken(*, read_only: bool = False) -> Any:
        unit = world.platform.store.unit_of_work(read_only=read_only)
        return unit if read_only else _UnitWithBrokenAudit(unit)

    context = ServiceContext(broken, world.clock, Uuid7Factory())
    promotions = PromotionService(context, GovernanceRules(), world.gates)
    environments = EnvironmentService(context)
    exceptions = GateExceptionService(context)
    erin, carol, pat = world.caller("erin"), world.caller("carol"), world.caller("pat")
    world.environments.set_tier(pat, "clf", "medium", None)
    open_id = world.promotions.request_promotion(erin, "clf", 2, "staging", "r").request.id
    waiver = world.exceptions.request(
        erin, "clf", 2, "staging", "evaluation", "why", world.clock.now() + timedelta(days=1)
    )
    before = _snapshot(world)
    in_a_day = world.clock.now() + timedelta(days=1)
    actions: list[Callable[[], object]] = [
        lambda: promotions.request_promotion(erin, "clf", 1, "dev", "r"),
        lambda: promotions.approve(carol, open_id),  # would promote: medium needs 1
        lambda: promotions.reject(carol, open_id, "no"),
        lambda: promotions.cancel(erin, open_id),
        lambda: promotions.check(erin, open_id),
        lambda: exceptions.request(erin, "clf", 2, "staging", "order", "why", in_a_day),
        lambda: exceptions.approve(carol, waiver.id),
        lambda: exceptions.revoke(carol, waiver.id, "no"),
        lambda: environments.set_tier(pat, "clf", "critical", "grafana"),
        lambda: environments.create_environment(ALICE, "canary", 25, ""),
    ]
    for action in actions:
        with pytest.raises(LockgateError, match="audit log is unavailable"):
            action()
        assert _snapshot(world) == before
    assert [e.name for e in world.environments.list_environments()] == [
        "dev",
        "staging",
        "production",
    ]
    assert world.platform.audit.verify(ALICE).ok
    # The same approval through the working store promotes.
    assert world.promotions.approve(carol, open_id).request.status is RequestStatus.PROMOTED


def _together(count: int, work: Callable[[int], T]) -> list[T | BaseException]:
    """Run `work(0..count-1)` on threads released at the same moment."""
    barrier = threading.Barrier(count)

    def run(index: int) -> T | BaseException:
        barrier.wait()
        try:
            return work(index)
        except LockgateError as error:
            return error

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


@pytest.fixture
def replicas(world: Governed, db_url: str, tmp_path: Path) -> Iterator[list[PromotionService]]:
    """The promotion service of two more server replicas on the same database (each its
    own store and connections), plus the world's own."""
    platforms = [
        build_platform(
            world.platform.settings.model_copy(update={"home": tmp_path / f"replica-{n}"})
        )
        for n in range(2)
    ]
    services = [world.promotions]
    for platform in platforms:
        context = ServiceContext(platform.store.unit_of_work, world.clock, Uuid7Factory())
        services.append(PromotionService(context, GovernanceRules(), TestGates()))
    yield services
    for platform in platforms:
        platform.close()


def test_racing_approvals_promote_once(world: Governed, replicas: list[PromotionService]) -> None:
    world.environments.set_tier(world.caller("pat"), "clf", "high", None)
    erin = world.caller("erin")
    reviewers = [world.caller(name) for name in ("carol", "dave", "pat")]
    request_id = world.promotions.request_promotion(erin, "clf", 2, "staging", "r").request.id

    outcomes = _together(3, lambda i: replicas[i].approve(reviewers[i], request_id))

    conflicts = [o for o in outcomes if isinstance(o, BaseException)]
    assert all(isinstance(o, ConflictError) for o in conflicts), conflicts
    # Two approvals promote; the third finds the request promoted already.
    assert len(conflicts) == 1
    assert "not open" in str(conflicts[0])
    detail = world.promotions.get_request(erin, request_id)
    assert detail.request.status is RequestStatus.PROMOTED
    assert len(detail.approvals) == 2
    promoted = [
        e
        for e in world.platform.audit.list_events(ALICE, 0, 1000)
        if e.action == "promotion.promoted"
    ]
    assert len(promoted) == 1
    assert [c.version for c in world.environments.history(erin, "clf", "staging")] == [2]
    assert world.platform.registry.resolve(erin, "clf@staging").version == 2
    assert world.platform.audit.verify(ALICE).ok


def test_racing_promotions_into_one_environment_leave_a_consistent_history(
    world: Governed, replicas: list[PromotionService]
) -> None:
    world.environments.set_tier(world.caller("pat"), "clf", "low", None)  # no approval needed
    erin = world.caller("erin")

    outcomes = _together(
        3,
        lambda i: replicas[i].request_promotion(erin, "clf", i + 1, "production", f"v{i + 1}"),
    )

    losers = [o for o in outcomes if isinstance(o, BaseException)]
    assert all(isinstance(o, ConflictError) for o in losers), losers
    winners = [o for o in outcomes if not isinstance(o, BaseException)]
    assert winners
    assert all(w.request.status is RequestStatus.PROMOTED for w in winners)
    history = world.environments.history(erin, "clf", "production")
    assert sorted(c.version for c in history) == sorted(w.request.version for w in winners)
    previous = None
    for change in history:
        assert change.previous_version == previous
        previous = change.version
    (current,) = world.environments.current_versions(erin, "clf")
    assert current.version == history[-1].version
    assert world.platform.registry.resolve(erin, "clf@production").version == current.version
    # A loser left nothing behind: no request, no decision, no audit event.
    requests = world.promotions.list_requests(ALICE, model_name="clf").items
    assert len(requests) == len(winners)
    events = world.platform.audit.list_events(ALICE, 0, 1000)
    assert len([e for e in events if e.action == "promotion.requested"]) == len(winners)
    assert world.platform.audit.verify(ALICE).ok


def test_many_threads_on_one_server_approve_and_check_one_request(world: Governed) -> None:
    world.environments.set_tier(world.caller("pat"), "clf", "high", None)
    erin = world.caller("erin")
    request_id = world.promotions.request_promotion(erin, "clf", 2, "staging", "r").request.id
    callers = [world.caller("carol"), world.caller("dave"), world.caller("pat")]

    def act(index: int) -> object:
        if index % 2:
            return world.promotions.check(erin, request_id)
        return world.promotions.approve(callers[(index // 2) % 3], request_id)

    outcomes = _together(8, act)

    assert all(isinstance(o, ConflictError) for o in outcomes if isinstance(o, BaseException))
    detail = world.promotions.get_request(erin, request_id)
    assert detail.request.status is RequestStatus.PROMOTED
    events = world.platform.audit.list_events(ALICE, 0, 1000)
    assert len([e for e in events if e.action == "promotion.promoted"]) == 1
    assert [c.version for c in world.environments.history(erin, "clf", "staging")] == [2]
    assert world.platform.audit.verify(ALICE).ok
