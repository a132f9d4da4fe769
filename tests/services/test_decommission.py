"""DecommissionService on both dialects: retiring archives a version (or a model) with its
audit events and removes its aliases; an archived version stays readable but is not listed
by default, aliased or given new versions; retention purges only the bytes no live holder
keeps, once the retention period has passed (fake clock), records every purge, and a later
download answers `gone`; a failing audit append changes nothing."""

from __future__ import annotations

import io
import threading
import zipfile
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType

import pytest

from lockgate.domain.access import Caller, PrincipalKind, Role
from lockgate.domain.audit import AuditDraft, AuditEvent, JsonValue
from lockgate.domain.errors import (
    ConflictError,
    GoneError,
    InvalidInputError,
    LockgateError,
    NotFoundError,
    PermissionDeniedError,
)
from lockgate.domain.governance.decisions import PolicyDecision
from lockgate.domain.governance.promotions import GovernanceRules
from lockgate.domain.governance.retirement import RetirementStatus
from lockgate.domain.governance.tiers import RiskTier
from lockgate.domain.identity import Actor, Uuid7Factory
from lockgate.domain.tracking import ProjectId, RunEnvironment
from lockgate.server import composition
from lockgate.server.composition import Platform, build_platform
from lockgate.services import (
    DecommissionService,
    PromotionService,
    Retirement,
    ServiceContext,
    decommission,
)
from lockgate.services.promotion_gates import policy_gates
from lockgate.settings import Settings
from lockgate.store.artifacts import LocalBlobStore
from lockgate.store.protocols import UnitOfWork
from lockgate.store.sql import SqlMetadataStore

ALICE = Caller.local(Actor("user:alice"))
DAYS = 30
START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


class StepClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.moment = START

    def now(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


@dataclass
class World:
    platform: Platform
    clock: StepClock
    blobs: LocalBlobStore
    run_id: str
    shared_run_id: str

    def blob_exists(self, digest: str) -> bool:
        return self.blobs.exists(digest)

    def digest(self, version: int, path: str = "m.bin") -> str:
        found = self.platform.registry.get_version(ALICE, "clf", version).files
        return next(f.digest for f in found if f.path == path)


@pytest.fixture
def clock() -> StepClock:
    return StepClock()


@pytest.fixture
def platform(
    db_url: str, tmp_path: Path, clock: StepClock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Platform]:
    monkeypatch.setattr(composition, "SystemClock", lambda: clock)
    settings = Settings(
        home=tmp_path / "home",
        metadata_url=db_url,
        artifacts_url=(tmp_path / "artifacts").as_uri(),
        actor="user:alice",
        artifact_retention_days=DAYS,
    )
    built = build_platform(settings)
    yield built
    built.close()


def _log(platform: Platform, run_id: str, path: str, data: bytes) -> None:
    platform.artifacts.upload(ALICE, run_id, path, io.BytesIO(data))


@pytest.fixture
def world(platform: Platform, clock: StepClock, tmp_path: Path) -> World:
    """Model `clf`: versions 1 and 2 from run A (`model/m.bin` differs, `model/common.txt`
    is shared with version 3), version 3 from run B; `champion` on 1, `challenger` on 2."""
    platform.tracking.create_project(ALICE, "churn")
    platform.registry.create_model(ALICE, "churn", "clf", "growth", "churn model", {})
    run_a = platform.tracking.start_run(ALICE, "churn", "a", {}, RunEnvironment()).run.id
    _log(platform, run_a, "model/m.bin", b"weights one")
    _log(platform, run_a, "model/common.txt", b"shared vocabulary")
    _log(platform, run_a, "plots/roc.png", b"a plot")
    platform.registry.create_version(ALICE, "clf", run_a, "model", None, "", {})
    _log(platform, run_a, "model2/m.bin", b"weights two")
    _log(platform, run_a, "model2/common.txt", b"shared vocabulary")
    platform.registry.create_version(ALICE, "clf", run_a, "model2", None, "", {})
    run_b = platform.tracking.start_run(ALICE, "churn", "b", {}, RunEnvironment()).run.id
    _log(platform, run_b, "model/m.bin", b"weights three")
    _log(platform, run_b, "model/common.txt", b"shared vocabulary")
    platform.registry.create_version(ALICE, "clf", run_b, "model", None, "", {})
    platform.registry.set_alias(ALICE, "clf", "champion", 1)
    platform.registry.set_alias(ALICE, "clf", "challenger", 2)
    clock.advance(hours=1)
    return World(platform, clock, LocalBlobStore(tmp_path / "artifacts"), run_a, run_b)


def _actions(platform: Platform) -> list[str]:
    return [e.action for e in platform.audit.list_events(ALICE, 0, 1000)]


def _events(platform: Platform, action: str) -> list[AuditEvent]:
    return [e for e in platform.audit.list_events(ALICE, 0, 1000) if e.action == action]


def test_retiring_a_version_archives_it_and_removes_its_aliases(world: World) -> None:
    platform = world.platform

    retirement = platform.decommission.retire_version(ALICE, "clf", 1, "superseded by v3")

    assert retirement.status is RetirementStatus.ARCHIVED
    assert retirement.environments == retirement.requests == ()
    assert retirement.removed_aliases == ("champion",)
    assert retirement.archive is not None
    assert retirement.archive.archived_at == world.clock.now()
    assert retirement.archive.archived_by == "user:alice"
    assert retirement.archive.reason == "superseded by v3"
    assert retirement.archive.retain_until == world.clock.now() + timedelta(days=DAYS)
    version = platform.registry.get_version(ALICE, "clf", 1)
    assert version.archive == retirement.archive
    assert version.archived_at == world.clock.now()
    assert version.archived_by == "user:alice"
    assert version.aliases == ()
    moves = platform.registry.alias_history(ALICE, "clf", "champion")
    assert [(m.version, m.previous_version) for m in moves] == [(1, None), (None, 1)]
    archived = _events(platform, "model_version.archived")
    assert [(e.subject_type, e.subject_id) for e in archived] == [("model_version", "clf/1")]
    assert archived[0].details["reason"] == "superseded by v3"
    assert archived[0].details["removed_aliases"] == ["champion"]
    assert archived[0].details["retain_until"] == retirement.archive.retain_until.isoformat()
    assert _actions(platform)[-2:] == ["alias.deleted", "model_version.archived"]
    assert platform.audit.verify(ALICE).ok


def test_an_archived_version_is_readable_but_not_listed_aliased_or_latest(world: World) -> None:
    platform = world.platform
    platform.decommission.retire_version(ALICE, "clf", 3, "broken")

    listed = platform.registry.list_versions(ALICE, "clf", 10, None).items
    assert [v.version for v in listed] == [2, 1]
    every = platform.registry.list_versions(ALICE, "clf", 10, None, include_archived=True).items
    assert [(v.version, v.archive is not None) for v in every] == [
        (3, True),
        (2, False),
        (1, False),
    ]
    assert platform.registry.resolve(ALICE, "clf").version == 2
    assert platform.registry.resolve(ALICE, "clf/3").archive is not None
    with pytest.raises(ConflictError, match="clf/3 is retired; it takes no aliases"):
        platform.registry.set_alias(ALICE, "clf", "champion", 3)
    assert platform.registry.get_version(ALICE, "clf", 1).aliases == ("champion",)
    subject = [e for e in platform.audit.list_events(ALICE, 0, 1000) if e.subject_id == "clf/3"]
    assert [e.action for e in subject] == ["model_version.created", "model_version.archived"]


def test_retiring_twice_or_without_a_reason_is_refused_and_changes_nothing(world: World) -> None:
    platform = world.platform
    with pytest.raises(InvalidInputError, match="reason is required") as raised:
        platform.decommission.retire_version(ALICE, "clf", 1, "  ")
    assert raised.value.field == "reason"
    platform.decommission.retire_version(ALICE, "clf", 1, "old")
    before = _actions(platform)

    with pytest.raises(ConflictError, match="clf/1 is archived already"):
        platform.decommission.retire_version(ALICE, "clf", 1, "again")
    with pytest.raises(NotFoundError, match="has no version 9"):
        platform.decommission.retire_version(ALICE, "clf", 9, "missing")

    assert _actions(platform) == before


def test_retiring_a_model_archives_every_version_then_the_model(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(decommission, "VERSIONS_PAGE", 2)  # its versions come in two pages
    platform = world.platform
    platform.decommission.retire_version(ALICE, "clf", 2, "first")
    world.clock.advance(days=1)

    retired = platform.decommission.retire_model(ALICE, "clf", "product sunset")

    assert [(r.version, r.status) for r in retired.versions] == [
        (3, RetirementStatus.ARCHIVED),
        (2, RetirementStatus.ALREADY_ARCHIVED),
        (1, RetirementStatus.ARCHIVED),
    ]
    assert retired.archive is not None
    assert retired.archive.reason == "product sunset"
    model = platform.registry.get_model(ALICE, "clf")
    assert model.archive == retired.archive
    assert model.archived_by == "user:alice"
    assert platform.registry.list_models(ALICE, None, 10, None).items == []
    listed = platform.registry.list_models(ALICE, None, 10, None, include_archived=True).items
    assert [m.name for m in listed] == ["clf"]
    assert platform.registry.list_versions(ALICE, "clf", 10, None).items == []
    versions = platform.registry.list_versions(ALICE, "clf", 10, None, include_archived=True)
    assert all(v.archive is not None for v in versions.items)
    event = _events(platform, "model.archived")[0]
    assert (event.subject_type, event.subject_id) == ("model", "clf")
    assert event.details["reason"] == "product sunset"
    assert _actions(platform)[-2:] == ["model_version.archived", "model.archived"]
    assert "model.retirement_requested" not in _actions(platform)
    with pytest.raises(ConflictError, match="model clf is archived already"):
        platform.decommission.retire_model(ALICE, "clf", "again")
    with pytest.raises(ConflictError, match="model clf is retired; it takes no new versions"):
        platform.registry.create_version(ALICE, "clf", world.run_id, "model", None, "", {})
    with pytest.raises(NotFoundError, match="no versions yet"):
        platform.registry.resolve(ALICE, "clf")


def test_retirement_needs_promotion_request(world: World) -> None:
    platform = world.platform
    platform.principals.create(ALICE, PrincipalKind.USER, "rita")
    platform.principals.grant(ALICE, "churn", "user:rita", Role.REVIEWER)
    reviewer = platform.credentials.authenticate_token(
        platform.credentials.issue_token(ALICE, "user:rita", "t").secret
    )
    platform.principals.create(ALICE, PrincipalKind.USER, "carl")
    platform.principals.grant(ALICE, "churn", "user:carl", Role.CONTRIBUTOR)
    contributor = platform.credentials.authenticate_token(
        platform.credentials.issue_token(ALICE, "user:carl", "t").secret
    )

    with pytest.raises(PermissionDeniedError, match=r"promotion\.request"):
        platform.decommission.retire_version(reviewer, "clf", 1, "no")
    with pytest.raises(PermissionDeniedError, match=r"promotion\.request"):
        platform.decommission.retire_model(reviewer, "clf", "no")
    assert platform.registry.get_version(ALICE, "clf", 1).archive is None

    assert platform.decommission.retire_version(contributor, "clf", 1, "yes").version == 1
    with pytest.raises(PermissionDeniedError, match=r"retention\.apply"):
        platform.decommission.apply_retention(contributor)
    with pytest.raises(PermissionDeniedError, match=r"audit\.read"):
        platform.decommission.list_purges(contributor, 10, None)


def test_retention_waits_for_retain_until_then_purges_what_only_retired_versions_hold(
    world: World,
) -> None:
    platform = world.platform
    one, shared, plot = world.digest(1), world.digest(1, "common.txt"), "plots/roc.png"
    platform.decommission.retire_version(ALICE, "clf", 1, "old")

    world.clock.advance(days=DAYS - 1)
    early = platform.decommission.apply_retention(ALICE)
    assert early.plan.purge == ()
    assert early.purges == ()

    world.clock.advance(days=1)
    plan = platform.decommission.plan_retention(ALICE)
    # Run A also fed version 2, which is live: it keeps every file it logged.
    assert plan.purge == ()
    assert {k.digest: k.reason for k in plan.kept} == {
        one: f"a file of run {world.run_id}, which is not retired",
        shared: "held by live version clf/2, clf/3",
    }

    platform.decommission.retire_version(ALICE, "clf", 2, "old too")
    world.clock.advance(days=DAYS)
    outcome = platform.decommission.apply_retention(ALICE)

    two = world.digest(2)
    assert [(p.digest, p.versions) for p in outcome.purges] == sorted(
        [(one, ("clf/1",)), (two, ("clf/2",))]
    )
    assert {k.digest for k in outcome.plan.kept} == {shared}  # version 3 still holds it
    assert not world.blob_exists(one)
    assert not world.blob_exists(two)
    assert world.blob_exists(shared)
    roc = platform.artifacts.list(ALICE, world.run_id, "plots")[0]
    assert roc.path == plot
    assert world.blob_exists(roc.digest)  # no version held it: tracking data stays


def test_retention_records_each_purge_and_audits_the_pass(world: World) -> None:
    platform = world.platform
    platform.decommission.retire_model(ALICE, "clf", "sunset")
    world.clock.advance(days=DAYS, seconds=1)

    outcome = platform.decommission.apply_retention(ALICE)

    digests = {world.digest(n) for n in (1, 2, 3)} | {world.digest(1, "common.txt")}
    assert {p.digest for p in outcome.purges} == digests
    shared = next(p for p in outcome.purges if p.digest == world.digest(1, "common.txt"))
    assert shared.versions == ("clf/1", "clf/2", "clf/3")
    assert shared.size == len(b"shared vocabulary")
    assert shared.purged_at == world.clock.now()
    assert outcome.purged_bytes == sum(p.size for p in outcome.purges)
    listed = platform.decommission.list_purges(ALICE, 10, None).items
    assert sorted(p.digest for p in listed) == sorted(digests)
    applied = _events(platform, "retention.applied")
    assert len(applied) == 1
    assert applied[0].details["purged_blobs"] == 4
    assert applied[0].details["purged_bytes"] == outcome.purged_bytes
    assert applied[0].details["versions"] == ["clf/1", "clf/2", "clf/3"]
    per_version = _events(platform, "model_version.artifacts_purged")
    assert [e.subject_id for e in per_version] == ["clf/1", "clf/2", "clf/3"]
    assert per_version[2].details["digests"] == sorted(
        [world.digest(3), world.digest(3, "common.txt")]
    )
    # A second pass finds nothing left to do.
    again = platform.decommission.apply_retention(ALICE)
    assert again.purges == ()
    assert _events(platform, "retention.applied")[-1].details["purged_blobs"] == 0
    assert platform.audit.verify(ALICE).ok


def test_the_dry_run_changes_nothing(world: World) -> None:
    platform = world.platform
    platform.decommission.retire_model(ALICE, "clf", "sunset")
    world.clock.advance(days=DAYS)
    before = _actions(platform)

    plan = platform.decommission.plan_retention(ALICE)

    assert len(plan.purge) == 4
    assert all(world.blob_exists(c.digest) for c in plan.purge)
    assert _actions(platform) == before
    assert platform.decommission.list_purges(ALICE, 10, None).items == []


def test_a_purged_file_answers_gone_with_the_reason(world: World) -> None:
    platform = world.platform
    platform.decommission.retire_model(ALICE, "clf", "sunset")
    world.clock.advance(days=DAYS)
    platform.decommission.apply_retention(ALICE)

    with pytest.raises(GoneError, match=r"purged by artifact retention at .*clf/1") as raised:
        platform.packages.open_file(ALICE, "clf", 1, "m.bin")
    assert raised.value.code == "gone"
    assert isinstance(raised.value, NotFoundError)
    with pytest.raises(GoneError, match="audit trail and evidence remain"):
        platform.artifacts.open(ALICE, world.run_id, "model/m.bin")
    # Metadata stays: the version, its manifest, its audit trail.
    assert platform.registry.get_version(ALICE, "clf", 1).files
    assert platform.packages.manifest(ALICE, "clf", 1)
    # A blob missing for another reason is still a plain not-found.
    world.blobs.delete(world.digest(1, "common.txt"))
    platform.principals.create(ALICE, PrincipalKind.USER, "x")  # unrelated activity
    run_c = platform.tracking.start_run(ALICE, "churn", "c", {}, RunEnvironment()).run.id
    _log(platform, run_c, "lost.bin", b"lost bytes")
    world.blobs.delete(platform.artifacts.list(ALICE, run_c, None)[0].digest)
    with pytest.raises(NotFoundError) as plain:
        platform.artifacts.open(ALICE, run_c, "lost.bin")
    assert not isinstance(plain.value, GoneError)


def test_bytes_uploaded_again_after_a_purge_are_kept_then_purged_in_their_turn(
    world: World,
) -> None:
    platform = world.platform
    platform.decommission.retire_model(ALICE, "clf", "sunset")
    world.clock.advance(days=DAYS)
    platform.decommission.apply_retention(ALICE)
    one = world.digest(1)
    platform.registry.create_model(ALICE, "churn", "clf2", "growth", "reborn", {})
    run_c = platform.tracking.start_run(ALICE, "churn", "c", {}, RunEnvironment()).run.id
    world.clock.advance(hours=1)
    _log(platform, run_c, "model/m.bin", b"weights one")
    assert world.blob_exists(one)
    assert platform.decommission.plan_retention(ALICE).purge == ()

    platform.registry.create_version(ALICE, "clf2", run_c, "model", None, "", {})
    platform.decommission.retire_version(ALICE, "clf2", 1, "again")
    world.clock.advance(days=DAYS)
    outcome = platform.decommission.apply_retention(ALICE)

    assert [(p.digest, p.versions) for p in outcome.purges] == [(one, ("clf/1", "clf2/1"))]
    assert not world.blob_exists(one)


def test_a_failed_delete_is_reported_and_retried_by_the_next_pass(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    platform = world.platform
    platform.decommission.retire_version(ALICE, "clf", 3, "broken")
    world.clock.advance(days=DAYS)
    three = world.digest(3)
    real_delete = LocalBlobStore.delete

    def failing(self: LocalBlobStore, digest: str) -> None:
        raise LockgateError(f"disk on fire while deleting {digest}")

    monkeypatch.setattr(LocalBlobStore, "delete", failing)
    outcome = platform.decommission.apply_retention(ALICE)
    assert outcome.purges == ()
    assert outcome.failed == ((three, f"disk on fire while deleting {three}"),)
    assert _events(platform, "retention.applied")[-1].details["failed_blobs"] == 1
    assert world.blob_exists(three)

    monkeypatch.setattr(LocalBlobStore, "delete", real_delete)
    retried = platform.decommission.apply_retention(ALICE)
    assert [p.digest for p in retried.purges] == [three]
    assert not world.blob_exists(three)


class _RaisingAudit:
    def __init__(self, inner: object) -> None:
        self._inner = inner

    def append(self, draft: AuditDraft, *, event_id: str, at: datetime) -> None:
        raise LockgateError("the audit log is down")

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)


class _BrokenAuditUnit:
    """A unit of work whose audit log refuses every append."""

    def __init__(self, unit: UnitOfWork) -> None:
        self._unit = unit

    def __enter__(self) -> UnitOfWork:
        unit = self._unit.__enter__()
        unit.audit = _RaisingAudit(unit.audit)  # type: ignore[assignment]  # a failing fake
        return unit

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._unit.__exit__(exc_type, exc, tb)


def test_retirement_fails_closed_when_its_audit_event_cannot_be_written(world: World) -> None:
    platform = world.platform

    def broken(*, read_only: bool = False) -> UnitOfWork:
        return _BrokenAuditUnit(platform.store.unit_of_work(read_only=read_only))  # type: ignore[return-value]

    context = ServiceContext(broken, world.clock, Uuid7Factory())
    service = DecommissionService(context, world.blobs, DAYS)

    with pytest.raises(LockgateError, match="the audit log is down"):
        service.retire_version(ALICE, "clf", 1, "old")
    with pytest.raises(LockgateError, match="the audit log is down"):
        service.retire_model(ALICE, "clf", "sunset")

    version = platform.registry.get_version(ALICE, "clf", 1)
    assert version.archive is None
    assert version.aliases == ("champion",)
    assert platform.registry.get_model(ALICE, "clf").archive is None
    assert platform.decommission.retire_version(ALICE, "clf", 1, "old").version == 1


def test_the_retention_setting_is_checked(world: World) -> None:
    with pytest.raises(InvalidInputError, match="retention must be 0 to"):
        DecommissionService(
            ServiceContext(world.platform.store.unit_of_work, world.clock, Uuid7Factory()),
            world.blobs,
            -1,
        )


# Through environments: retirement requests and the same gates as a promotion.


@dataclass
class Staged:
    """`clf` at tier low: version 1 current in dev and staging, version 2 in dev (a
    promotion to production open); rita reviews."""

    world: World
    rita: Caller
    production_request: str


@pytest.fixture
def staged(world: World) -> Staged:
    platform = world.platform
    platform.environments.set_tier(ALICE, "clf", "low", None)
    platform.principals.create(ALICE, PrincipalKind.USER, "rita")
    platform.principals.grant(ALICE, "churn", "user:rita", Role.REVIEWER)
    rita = platform.credentials.authenticate_token(
        platform.credentials.issue_token(ALICE, "user:rita", "t").secret
    )
    promotions = platform.promotions
    assert promotions.request_promotion(ALICE, "clf", 1, "dev", "try").request.status == "promoted"
    staging = promotions.request_promotion(ALICE, "clf", 1, "staging", "ship").request
    promotions.approve(rita, staging.id)
    promotions.request_promotion(ALICE, "clf", 2, "dev", "try")
    production = promotions.request_promotion(ALICE, "clf", 1, "production", "go").request
    assert production.status == "open"
    world.clock.advance(hours=1)
    return Staged(world, rita, production.id)


def _current(platform: Platform) -> dict[str, int]:
    return {c.environment: c.version for c in platform.environments.current_versions(ALICE, "clf")}


def test_a_version_in_environments_leaves_each_through_a_retirement_request(
    staged: Staged,
) -> None:
    platform, clock = staged.world.platform, staged.world.clock
    assert _current(platform) == {"dev": 2, "staging": 1}

    retirement = platform.decommission.retire_version(ALICE, "clf", 1, "replaced")

    # Low tier: leaving staging needs one approval, as entering it did.
    assert retirement.status is RetirementStatus.PENDING
    assert retirement.archive is None
    assert retirement.environments == ("staging",)
    (request_id,) = retirement.requests
    request = platform.promotions.get_request(ALICE, request_id).request
    assert (request.kind, request.status, request.environment) == (
        "retirement",
        "open",
        "staging",
    )
    assert platform.registry.get_version(ALICE, "clf", 1).archive is None
    decision = platform.promotions.decisions(ALICE, request_id)[-1]
    assert decision.input_document["request"]["kind"] == "retirement"  # type: ignore[index,call-overload]
    assert not decision.allowed
    # Asking again finds the open request instead of opening another.
    again = platform.decommission.retire_version(ALICE, "clf", 1, "replaced")
    assert again.requests == (request_id,)

    clock.advance(minutes=5)
    detail = platform.promotions.approve(staged.rita, request_id)

    assert detail.request.status == "promoted"
    version = platform.registry.get_version(ALICE, "clf", 1)
    assert version.archive is not None
    assert version.archive.archived_at == clock.now()
    assert version.archive.archived_by == "user:alice"  # who asked for the retirement
    assert version.archive.reason == "replaced"
    assert version.aliases == ()
    assert _current(platform) == {"dev": 2}
    left = platform.environments.history(ALICE, "clf", "staging")[-1]
    assert (left.version, left.previous_version, left.request_id) == (None, 1, request_id)
    assert platform.registry.alias_history(ALICE, "clf", "staging")[-1].version is None
    # The promotion to production opened before the retirement was cancelled with it.
    production = platform.promotions.get_request(ALICE, staged.production_request).request
    assert (production.status, production.comment) == ("cancelled", "the version was retired")
    tail = [(e.action, e.actor) for e in platform.audit.list_events(ALICE, 0, 1000)][-6:]
    assert tail == [
        ("promotion.approved", "user:rita"),
        ("promotion.checked", "user:rita"),
        ("promotion.retired", "user:rita"),
        ("alias.deleted", "user:rita"),  # champion: every alias goes with the archive
        ("promotion.cancelled", "user:rita"),
        ("model_version.archived", "user:rita"),
    ]
    archived = _events(platform, "model_version.archived")[-1]
    assert archived.details["retirement_requests"] == [request_id]
    assert archived.details["archived_by"] == "user:alice"
    with pytest.raises(ConflictError, match="clf/1 is retired; it cannot be promoted"):
        platform.promotions.request_promotion(ALICE, "clf", 1, "staging", "back")
    assert platform.audit.verify(ALICE).ok


def test_a_retirement_the_gates_allow_at_once_archives_in_the_same_call(staged: Staged) -> None:
    platform = staged.world.platform

    retirement = platform.decommission.retire_version(ALICE, "clf", 2, "never mind")

    # Low tier: leaving dev needs no approval.
    assert retirement.status is RetirementStatus.ARCHIVED
    assert retirement.environments == ("dev",)
    assert retirement.archive is not None
    assert _current(platform) == {"staging": 1}
    (request_id,) = retirement.requests
    assert platform.promotions.get_request(ALICE, request_id).request.status == "promoted"
    assert retirement.removed_aliases == ("challenger",)
    assert _actions(platform)[-5:] == [
        "promotion.requested",
        "promotion.checked",
        "promotion.retired",
        "alias.deleted",
        "model_version.archived",
    ]


def test_a_rejected_retirement_request_leaves_the_version_live(staged: Staged) -> None:
    platform = staged.world.platform
    (request_id,) = platform.decommission.retire_version(ALICE, "clf", 1, "maybe").requests

    platform.promotions.reject(staged.rita, request_id, "still needed")

    assert platform.registry.get_version(ALICE, "clf", 1).archive is None
    assert _current(platform) == {"dev": 2, "staging": 1}
    retried = platform.decommission.retire_version(ALICE, "clf", 1, "now really")
    assert retried.requests != (request_id,)


def test_a_model_retirement_waits_for_its_versions_then_archives_the_model(
    staged: Staged,
) -> None:
    platform = staged.world.platform

    retired = platform.decommission.retire_model(ALICE, "clf", "sunset")

    assert retired.archive is None
    by_version = {r.version: r.status for r in retired.versions}
    assert by_version == {
        3: RetirementStatus.ARCHIVED,
        2: RetirementStatus.ARCHIVED,  # dev needs no approval at tier low
        1: RetirementStatus.PENDING,
    }
    assert platform.registry.get_model(ALICE, "clf").archive is None
    assert _events(platform, "model.retirement_requested")[-1].details["reason"] == "sunset"
    pending = next(r for r in retired.versions if r.version == 1)

    platform.promotions.approve(staged.rita, pending.requests[0])

    model = platform.registry.get_model(ALICE, "clf")
    assert model.archive is not None
    assert (model.archive.reason, model.archive.archived_by) == ("sunset", "user:alice")
    assert _actions(platform)[-2:] == ["model_version.archived", "model.archived"]
    with pytest.raises(ConflictError, match="model clf is archived already"):
        platform.decommission.retire_model(ALICE, "clf", "again")


def test_retiring_a_model_with_no_versions_archives_it_at_once(world: World) -> None:
    platform = world.platform
    platform.registry.create_model(ALICE, "churn", "empty", "growth", "never trained", {})

    retired = platform.decommission.retire_model(ALICE, "empty", "unused")

    assert retired.versions == ()
    assert retired.archive is not None
    assert platform.registry.get_model(ALICE, "empty").archive == retired.archive


class _MeetingGates:
    """The built-in gates, but each evaluation of a retirement request waits for the other
    one at a barrier: both transactions then apply their decisions at the same moment (on
    PostgreSQL; SQLite runs writers one at a time, so there it meets no one)."""

    def __init__(self, parties: int) -> None:
        self.barrier = threading.Barrier(parties) if parties > 1 else None

    def __call__(
        self,
        uow: UnitOfWork,
        project_id: ProjectId,
        tier: RiskTier,
        document: Mapping[str, JsonValue],
    ) -> PolicyDecision:
        decision = policy_gates(uow, project_id, tier, document)
        request = document["request"]
        meets = isinstance(request, Mapping) and request["kind"] == "retirement"
        if self.barrier is not None and meets and document["approvals"]:
            self.barrier.wait(timeout=30)
        return decision


def test_concurrent_approvals_of_the_last_two_retirement_requests_archive_once(
    staged: Staged, dialect: str, db_url: str
) -> None:
    """Two server replicas (two stores on one database) each apply one request, moving the
    version out of one environment; applied at the same moment, each would see it still in
    the other. The model's row lock makes the second see the first, so the version is
    archived exactly once."""
    platform, world = staged.world.platform, staged.world
    platform.principals.create(ALICE, PrincipalKind.USER, "dora")
    platform.principals.grant(ALICE, "churn", "user:dora", Role.REVIEWER)
    dora = platform.credentials.authenticate_token(
        platform.credentials.issue_token(ALICE, "user:dora", "t").secret
    )
    platform.promotions.approve(staged.rita, staged.production_request)
    assert _current(platform) == {"dev": 2, "staging": 1, "production": 1}
    retirement = platform.decommission.retire_version(ALICE, "clf", 1, "replaced")
    assert retirement.status is RetirementStatus.PENDING
    by_environment = dict(zip(retirement.environments, retirement.requests, strict=True))
    gates = _MeetingGates(2 if dialect == "postgresql" else 1)
    rules = GovernanceRules()
    stores = [SqlMetadataStore.from_url(db_url) for _ in range(2)]
    replicas = []
    for store in stores:
        context = ServiceContext(store.unit_of_work, world.clock, Uuid7Factory())
        hook = DecommissionService(context, world.blobs, DAYS, rules, gates)
        replicas.append(PromotionService(context, rules, gates, retirement=hook))

    def approve(replica: PromotionService, reviewer: Caller, environment: str) -> str:
        return replica.approve(reviewer, by_environment[environment]).request.status

    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            statuses = list(
                pool.map(approve, replicas, [staged.rita, dora], ["staging", "production"])
            )
    finally:
        for store in stores:
            store.dispose()

    assert statuses == ["promoted", "promoted"]
    assert _current(platform) == {"dev": 2}
    assert platform.registry.get_version(ALICE, "clf", 1).archive is not None
    assert len(_events(platform, "model_version.archived")) == 1
    assert platform.audit.verify(ALICE).ok


def test_the_audit_trail_and_evidence_outlive_the_retired_version(world: World) -> None:
    platform = world.platform
    platform.decommission.retire_model(ALICE, "clf", "sunset")
    world.clock.advance(days=DAYS)
    platform.decommission.apply_retention(ALICE)

    sink = io.BytesIO()
    export = platform.evidence.export(ALICE, "clf", 1, sink)

    assert export.size == len(sink.getvalue())
    with zipfile.ZipFile(sink) as bundle:
        text = b"".join(bundle.read(name) for name in bundle.namelist())
    for action in (b"model_version.created", b"model_version.archived"):
        assert action in text
    events = platform.audit.list_events(ALICE, 0, 1000)
    about = [e.action for e in events if e.subject_id == "clf/1"]
    assert about[-3:] == [
        "model_version.archived",
        "model_version.artifacts_purged",
        "evidence.exported",
    ]
    assert platform.audit.verify(ALICE).ok


def test_retiring_a_model_again_while_it_waits_reuses_its_requests(staged: Staged) -> None:
    platform = staged.world.platform
    first = platform.decommission.retire_model(ALICE, "clf", "sunset")

    again = platform.decommission.retire_model(ALICE, "clf", "sunset, really")

    assert again.archive is None
    pending = [r for r in again.versions if r.status is RetirementStatus.PENDING]
    assert [r.requests for r in pending] == [
        r.requests for r in first.versions if r.status is RetirementStatus.PENDING
    ]
    assert len(_events(platform, "model.retirement_requested")) == 1
    platform.promotions.approve(staged.rita, pending[0].requests[0])
    model = platform.registry.get_model(ALICE, "clf")
    assert model.archive is not None
    assert model.archive.reason == "sunset"  # the first request's reason


def test_a_version_replaced_meanwhile_is_archived_directly_and_its_stale_requests_end(
    staged: Staged,
) -> None:
    platform = staged.world.platform
    (stale,) = platform.decommission.retire_version(ALICE, "clf", 1, "replaced").requests
    promotion = platform.promotions.request_promotion(ALICE, "clf", 2, "staging", "newer")
    platform.promotions.approve(staged.rita, promotion.request.id)
    assert _current(platform) == {"dev": 2, "staging": 2}

    retirement = platform.decommission.retire_version(ALICE, "clf", 1, "replaced")

    assert retirement.status is RetirementStatus.ARCHIVED
    assert set(retirement.cancelled_requests) == {stale, staged.production_request}
    for request_id in (stale, staged.production_request):
        request = platform.promotions.get_request(ALICE, request_id).request
        assert (request.status, request.comment) == ("cancelled", "the version was retired")


def test_recording_a_pending_retirement_writes_nothing(world: World) -> None:
    platform = world.platform
    before = _actions(platform)
    pending = Retirement("clf", 1, RetirementStatus.PENDING, requests=("r",))

    with platform.store.unit_of_work() as uow:
        platform.decommission.record_retirement(uow, Actor("user:alice"), pending)
        uow.commit()

    assert _actions(platform) == before
