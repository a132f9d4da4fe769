"""The retention rule, pure: a blob's bytes go only when every version holding it is archived
past its retention, every run file pointing at it belongs to a retired run, and nothing
stored it again since its last purge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lockgate.domain.errors import InvalidInputError
from lockgate.domain.governance.retention import (
    BlobHolds,
    KeptBlob,
    PurgeCandidate,
    RunHold,
    VersionHold,
    check_retention_days,
    is_purged_already,
    keep_reason,
    plan_retention,
    retain_until,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
NOW = T0 + timedelta(days=400)
PAST = NOW - timedelta(days=1)  # a retain_until that has passed
FUTURE = NOW + timedelta(days=1)  # one that has not
A = "a" * 64
B = "b" * 64
C = "c" * 64


def version(
    number: int, until: datetime | None, *, model: str = "clf", created: datetime = T0
) -> VersionHold:
    return VersionHold(model, number, created, until)


def run(
    run_id: str, *sources: datetime | None, created: datetime = T0, path: str = "model/m.bin"
) -> RunHold:
    return RunHold(run_id, path, created, tuple(sources))


def holds(
    digest: str = A,
    versions: tuple[VersionHold, ...] = (),
    runs: tuple[RunHold, ...] = (),
    last_purged_at: datetime | None = None,
) -> BlobHolds:
    return BlobHolds(digest, 10, versions, runs, last_purged_at)


def test_retain_until_adds_whole_days() -> None:
    assert retain_until(T0, 30) == T0 + timedelta(days=30)
    assert retain_until(T0, 0) == T0


@pytest.mark.parametrize("days", [-1, 100 * 366 + 1, True])
def test_retention_days_are_bounded(days: int) -> None:
    with pytest.raises(InvalidInputError, match="retention must be 0 to") as raised:
        check_retention_days(days)
    assert raised.value.field == "artifact_retention_days"


def test_a_blob_only_expired_versions_and_their_retired_run_hold_is_purged() -> None:
    blob = holds(versions=(version(1, PAST), version(2, PAST)), runs=(run("r1", PAST, PAST),))

    assert keep_reason(blob, NOW) is None
    plan = plan_retention([blob], NOW)
    assert plan.purge == (PurgeCandidate(A, 10, ("clf/1", "clf/2")),)
    assert plan.kept == ()
    assert plan.purged_bytes == 10
    assert plan.versions == ("clf/1", "clf/2")


def test_retain_until_exactly_now_counts_as_passed() -> None:
    assert keep_reason(holds(versions=(version(1, NOW),), runs=(run("r1", NOW),)), NOW) is None


@pytest.mark.parametrize(
    ("blob", "reason"),
    [
        (holds(), "no model version holds it"),
        (holds(versions=(version(1, PAST), version(2, None))), "held by live version clf/2"),
        (
            holds(versions=(version(1, PAST), version(3, FUTURE, model="other"))),
            "held by version other/3 until its retention ends",
        ),
        # A run that fed a live version keeps every file it logged.
        (
            holds(versions=(version(1, PAST),), runs=(run("r1", PAST, None),)),
            "a file of run r1, which is not retired",
        ),
        # A run that fed a version still in its retention period too.
        (
            holds(versions=(version(1, PAST),), runs=(run("r1", PAST, FUTURE),)),
            "a file of run r1, which is not retired",
        ),
        # A run that fed no version at all is tracking data: retention never touches it.
        (
            holds(versions=(version(1, PAST),), runs=(run("r1", PAST), run("r2"))),
            "a file of run r2, which is not retired",
        ),
    ],
    ids=[
        "no-version",
        "live-version",
        "retained-version",
        "run-with-live-version",
        "run-with-retained-version",
        "run-without-versions",
    ],
)
def test_any_live_holder_keeps_the_blob(blob: BlobHolds, reason: str) -> None:
    assert keep_reason(blob, NOW) == reason
    plan = plan_retention([blob], NOW)
    assert plan.purge == ()
    assert plan.kept == (KeptBlob(A, reason),)


def test_a_blob_purged_after_all_its_holders_appeared_is_not_purged_again() -> None:
    purged = holds(
        versions=(version(1, PAST),), runs=(run("r1", PAST),), last_purged_at=T0 + timedelta(1)
    )

    assert is_purged_already(purged)
    assert plan_retention([purged], NOW) == plan_retention([], NOW)


def test_bytes_stored_again_after_a_purge_are_judged_afresh() -> None:
    purged_at = T0 + timedelta(days=10)
    again = T0 + timedelta(days=20)
    reuploaded = holds(
        versions=(version(1, PAST),),
        runs=(run("r1", PAST), run("r9", created=again)),
        last_purged_at=purged_at,
    )
    reregistered = holds(
        versions=(version(1, PAST), version(2, PAST, created=again)),
        runs=(run("r1", PAST, PAST),),
        last_purged_at=purged_at,
    )

    assert not is_purged_already(reuploaded)
    assert keep_reason(reuploaded, NOW) == "a file of run r9, which is not retired"
    assert not is_purged_already(reregistered)
    assert plan_retention([reregistered], NOW).purge == (PurgeCandidate(A, 10, ("clf/1", "clf/2")),)


def test_the_plan_is_ordered_by_digest_and_splits_purged_from_kept() -> None:
    plan = plan_retention(
        [
            holds(C, versions=(version(3, PAST),)),
            holds(A, versions=(version(1, PAST),)),
            holds(B, versions=(version(2, None),)),
        ],
        NOW,
    )

    assert [c.digest for c in plan.purge] == [A, C]
    assert [k.digest for k in plan.kept] == [B]
    assert plan.purged_bytes == 20
    assert plan.now == NOW
