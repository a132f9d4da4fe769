"""EvidenceService on both dialects, through the real services: a version promoted through
dev and staging to production exports a bundle that verifies offline against the registry's
key; the bundle's audit head is an event of the live chain; a changed byte fails; exporting
needs audit.read and is itself audited. Also the audit log's range reads the export uses.

`GovernanceWorld` and `build_world` are shared with test_compliance.py."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lockgate.domain.access import Caller, PlatformRole, PrincipalKind, Role
from lockgate.domain.errors import NotFoundError, PermissionDeniedError
from lockgate.domain.identity import Actor
from lockgate.domain.tracking import DatasetInput, RunEnvironment
from lockgate.sdk.evidence import verify_bundle
from lockgate.server import composition
from lockgate.server.composition import Platform, build_platform
from lockgate.services import EvidenceExport, MetricPoint
from lockgate.settings import Settings

ALICE = Caller.local(Actor("user:alice"))
START = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


class StepClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.moment = START

    def now(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


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
    )
    built = build_platform(settings)
    yield built
    built.close()


@dataclass
class GovernanceWorld:
    """Users: bob (contributor) asks, carol (reviewer) approves, dana is an auditor, erin a
    viewer of `churn` only."""

    platform: Platform
    clock: StepClock
    bob: Caller
    carol: Caller
    dana: Caller
    erin: Caller

    def user(
        self, name: str, roles: dict[str, Role], platform_role: PlatformRole | None = None
    ) -> Caller:
        return _user(self.platform, name, roles, platform_role)

    def model(
        self,
        project: str,
        name: str,
        *,
        dataset: bool = True,
        metadata: dict[str, str] | None = None,
    ) -> None:
        """A low-tier model with version 1, from a run that logged a metric (and read a
        dataset version unless `dataset` is False)."""
        p = self.platform
        p.registry.create_model(ALICE, project, name, "growth", f"{name} model", {})
        run = p.tracking.start_run(ALICE, project, f"train-{name}", {}, RunEnvironment()).run.id
        p.tracking.log_metrics(ALICE, run, [MetricPoint("auc", 0.9)])
        if dataset:
            fingerprint = (name.encode().hex() + "0" * 16)[:16]
            p.tracking.log_input(
                ALICE, run, DatasetInput("customers", fingerprint, 100, (("age", "int"),))
            )
        p.artifacts.upload(ALICE, run, "model/m.bin", io.BytesIO(f"weights {name}".encode()))
        p.registry.create_version(ALICE, name, run, "model", None, "", metadata or {})
        p.environments.set_tier(ALICE, name, "low", None)

    def promote(self, name: str, environment: str, *, approve: bool = True) -> None:
        """Ask for version 1 to enter an environment, with carol's approval when it waits."""
        p = self.platform
        detail = p.promotions.request_promotion(self.bob, name, 1, environment, "ready")
        if detail.request.status.value == "open" and approve:
            detail = p.promotions.approve(self.carol, detail.request.id, "looks good")
        assert detail.request.status.value == "promoted", detail.decision

    def to_production(self, name: str) -> None:
        for environment in ("dev", "staging", "production"):
            self.promote(name, environment)


def _user(
    platform: Platform, name: str, roles: dict[str, Role], platform_role: PlatformRole | None
) -> Caller:
    ref = f"user:{name}"
    platform.principals.create(ALICE, PrincipalKind.USER, name, platform_role=platform_role)
    for project, role in roles.items():
        platform.principals.grant(ALICE, project, ref, role)
    issued = platform.credentials.issue_token(ALICE, ref, "tests")
    return platform.credentials.authenticate_token(issued.secret)


def build_world(platform: Platform, clock: StepClock, projects: tuple[str, ...]) -> GovernanceWorld:
    for project in projects:
        platform.tracking.create_project(ALICE, project)
    everywhere = dict.fromkeys(projects, Role.CONTRIBUTOR)
    reviewing = dict.fromkeys(projects, Role.REVIEWER)
    return GovernanceWorld(
        platform,
        clock,
        bob=_user(platform, "bob", everywhere, None),
        carol=_user(platform, "carol", reviewing, None),
        dana=_user(platform, "dana", {}, PlatformRole.AUDITOR),
        erin=_user(platform, "erin", {projects[0]: Role.VIEWER}, None),
    )


@pytest.fixture
def world(platform: Platform, clock: StepClock) -> GovernanceWorld:
    built = build_world(platform, clock, ("churn",))
    built.model("churn", "clf")
    built.platform.model_cards.set_section(ALICE, "clf", 1, "intended_use", "churn scoring", 0)
    built.to_production("clf")
    clock.advance(hours=1)
    return built


def export(world: GovernanceWorld, caller: Caller | None = None) -> tuple[bytes, EvidenceExport]:
    out = io.BytesIO()
    exported = world.platform.evidence.export(caller or world.dana, "clf", 1, out)
    return out.getvalue(), exported


def members(bundle: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_a_production_version_exports_a_bundle_that_verifies(world: GovernanceWorld) -> None:
    platform = world.platform
    head_before = platform.audit.list_events(ALICE, 0, 1000)[-1]
    bundle, exported = export(world)
    verdict = verify_bundle(bundle, trusted_key_fingerprint=platform.packages.key_id)
    assert verdict.ok, verdict.problem
    assert verdict.key_pinned
    assert verdict.subject == "clf/1"
    assert verdict.exported_by == "user:dana"
    assert verdict.audit_head is not None
    assert (verdict.audit_head.seq, verdict.audit_head.hash) == (head_before.seq, head_before.hash)
    assert exported.manifest.audit_head == verdict.audit_head

    found = members(bundle)
    decisions = sorted(n for n in found if n.startswith("decisions/"))
    # dev (allowed when opened), staging and production (blocked when opened, then allowed)
    assert len(decisions) == 5
    allowed = [json.loads(found[n])["allowed"] for n in decisions]
    assert sorted(allowed) == [False, False, True, True, True]
    decision = json.loads(found[decisions[-1]])
    assert decision["input"]["schema"] == 1
    approvals = json.loads(found["approvals.json"])
    assert [a["reviewer"] for a in approvals] == ["user:carol", "user:carol"]
    promotions = json.loads(found["promotions.json"])
    assert promotions["current_in"] == ["dev", "production", "staging"]
    assert [c["environment"] for c in promotions["changes"]] == ["dev", "staging", "production"]
    assert json.loads(found["lineage.json"])["complete"] is True
    assert json.loads(found["model_card.json"])
    assert b"churn scoring" in found["model_card.md"]
    assert json.loads(found["exceptions.json"]) == []
    assert {"package/manifest.json", "package/signature.json", "package/sbom.json"} <= set(found)
    assert json.loads(found["openlineage.json"])

    proof = json.loads(found["audit/proof.json"])
    events = [json.loads(line) for line in found["audit/events.jsonl"].splitlines()]
    assert events[0]["action"] == "model_version.created"
    assert events[0]["seq"] == proof["first_seq"]
    assert events[-1]["seq"] == proof["head"]["seq"] == head_before.seq
    about = [e["seq"] for e in events if e["subject_id"] == "clf/1"]
    assert proof["subject_seqs"] == about
    actions = {e["action"] for e in events if e["subject_id"] == "clf/1"}
    assert {"promotion.requested", "promotion.approved", "promotion.promoted"} <= actions


def test_the_bundles_head_is_an_event_of_the_live_chain(world: GovernanceWorld) -> None:
    platform = world.platform
    bundle, exported = export(world)
    head = exported.manifest.audit_head
    live = platform.audit.list_events(ALICE, head.seq - 1, 1)
    assert [(e.seq, e.hash) for e in live] == [(head.seq, head.hash)]
    assert platform.audit.verify(ALICE).ok
    later = platform.audit.list_events(ALICE, head.seq, 10)
    assert [e.action for e in later] == ["evidence.exported"]
    assert later[0].actor == "user:dana"
    assert later[0].details["bundle_sha256"] == exported.sha256
    assert exported.size == len(bundle)


def test_a_later_bundle_carries_the_earlier_export_in_its_segment(
    world: GovernanceWorld,
) -> None:
    _, first = export(world)
    world.clock.advance(minutes=5)
    bundle, second = export(world)
    assert verify_bundle(bundle).ok
    events = [json.loads(line) for line in members(bundle)["audit/events.jsonl"].splitlines()]
    exports = [e for e in events if e["action"] == "evidence.exported"]
    assert [e["seq"] for e in exports] == [first.manifest.audit_head.seq + 1]
    assert second.manifest.audit_head.seq == first.manifest.audit_head.seq + 1


def test_a_changed_byte_in_the_exported_bundle_fails(world: GovernanceWorld) -> None:
    bundle, _ = export(world)
    found = members(bundle)
    start = bundle.index(found["approvals.json"])
    altered = bytearray(bundle)
    altered[start + 5] ^= 0x01
    verdict = verify_bundle(bytes(altered))
    assert not verdict.ok
    assert verdict.problem is not None
    assert "approvals.json" in verdict.problem


def test_a_bundle_checked_against_another_key_fails(world: GovernanceWorld) -> None:
    bundle, _ = export(world)
    verdict = verify_bundle(bundle, trusted_key_fingerprint="0" * 64)
    assert not verdict.ok
    assert "not the trusted key" in (verdict.problem or "")


def test_a_version_never_promoted_exports_too(world: GovernanceWorld) -> None:
    world.model("churn", "fresh")
    out = io.BytesIO()
    world.platform.evidence.export(world.dana, "fresh", 1, out)
    found = members(out.getvalue())
    assert verify_bundle(out.getvalue()).ok
    assert not [n for n in found if n.startswith("decisions/")]
    assert json.loads(found["promotions.json"]) == {
        "changes": [],
        "current_in": [],
        "requests": [],
    }


def test_exporting_needs_audit_read_and_a_refusal_is_audited(world: GovernanceWorld) -> None:
    platform = world.platform
    for caller in (world.bob, world.carol, world.erin):
        with pytest.raises(PermissionDeniedError, match=r"audit\.read"):
            export(world, caller)
    refusals = [
        e
        for e in platform.audit.list_events(ALICE, 0, 1000)
        if e.action == "access.denied" and e.subject_id == "clf/1"
    ]
    assert [e.actor for e in refusals] == ["user:bob", "user:carol", "user:erin"]
    bundle, _ = export(world, ALICE)  # a platform admin may
    assert verify_bundle(bundle).ok


def test_exporting_a_missing_version_or_model_is_not_found(world: GovernanceWorld) -> None:
    with pytest.raises(NotFoundError):
        world.platform.evidence.export(world.dana, "clf", 9, io.BytesIO())
    with pytest.raises(NotFoundError):
        world.platform.evidence.export(world.dana, "nothing", 1, io.BytesIO())


def test_the_audit_log_reads_a_range_and_the_events_about_subjects(
    world: GovernanceWorld,
) -> None:
    with world.platform.store.unit_of_work(read_only=True) as uow:
        head = uow.audit.head()
        everything = list(uow.audit.stored_events())
        assert list(uow.audit.stored_range(3, 6)) == everything[2:6]
        assert list(uow.audit.stored_range(head.seq, head.seq)) == everything[-1:]
        assert list(uow.audit.stored_range(head.seq + 1, head.seq + 5)) == []
        about = uow.audit.seqs_about([("model_version", "clf/1")], through_seq=head.seq)
        expected = [
            e.seq
            for e in everything
            if (e.subject_type, e.subject_id) == ("model_version", "clf/1")
        ]
        assert about == expected
        assert len(about) > 5
        bounded = uow.audit.seqs_about([("model_version", "clf/1")], through_seq=about[2])
        assert bounded == about[:3]
        two = uow.audit.seqs_about(
            [("model_version", "clf/1"), ("model", "clf")], through_seq=head.seq
        )
        assert set(about) < set(two)
        assert uow.audit.seqs_about([], through_seq=head.seq) == []
