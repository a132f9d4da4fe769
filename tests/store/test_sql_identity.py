"""Contract of the identity repositories (principals, grants, credentials) on every dialect."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lockgate.domain.access import (
    Grant,
    PlatformRole,
    PrincipalKind,
    ProjectFilter,
    Role,
    TokenScope,
)
from lockgate.domain.errors import AlreadyExistsError, NotFoundError
from lockgate.domain.identity import Actor, Uuid7Factory
from lockgate.domain.principals import ApiToken, LoginSession, Principal, PrincipalRef
from tests.store.sql_builders import UowFactory, make_project

IDS = Uuid7Factory()
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
ROOT = Actor("user:root")


def _principal(kind: PrincipalKind, name: str, **extra: object) -> Principal:
    return Principal(IDS.new_id(), kind, name, name, NOW, ROOT, **extra)  # type: ignore[arg-type]


def test_principals_read_back_list_by_kind_and_name_and_refuse_duplicates(
    uow_factory: UowFactory,
) -> None:
    alice = _principal(PrincipalKind.USER, "alice", platform_role=PlatformRole.ADMIN)
    bot = _principal(PrincipalKind.SERVICE_ACCOUNT, "alice")
    team = _principal(PrincipalKind.TEAM, "ml")
    with uow_factory() as uow:
        uow.principals.add(alice, "argon2-hash")
        uow.principals.add(bot, None)
        uow.principals.add(team, None)
        with pytest.raises(AlreadyExistsError, match="user:alice already exists"):
            uow.principals.add(_principal(PrincipalKind.USER, "alice"), None)
        uow.commit()
    with uow_factory() as uow:
        got = uow.principals.get_by_ref(PrincipalRef(PrincipalKind.USER, "alice"))
        assert got == Principal(**{**_fields(alice), "has_password": True})
        assert uow.principals.password_hash(alice.id) == "argon2-hash"
        assert uow.principals.password_hash(bot.id) is None
        first = uow.principals.list_page(None, 2, None)
        rest = uow.principals.list_page(None, 2, first.next_cursor)
        assert [str(p.ref) for p in first.items + rest.items] == [
            "sa:alice",
            "team:ml",
            "user:alice",
        ]
        assert [p.name for p in uow.principals.list_page(PrincipalKind.TEAM, 10, None).items] == [
            "ml"
        ]
        assert uow.principals.count_platform_admins() == 1
        with pytest.raises(NotFoundError, match="user:bob does not exist"):
            uow.principals.get_by_ref(PrincipalRef(PrincipalKind.USER, "bob"))


def _fields(principal: Principal) -> dict[str, object]:
    return {f: getattr(principal, f) for f in Principal.__dataclass_fields__}


def test_updates_and_team_membership(uow_factory: UowFactory) -> None:
    alice = _principal(PrincipalKind.USER, "alice")
    team = _principal(PrincipalKind.TEAM, "ml")
    with uow_factory() as uow:
        uow.principals.add(alice, None)
        uow.principals.add(team, None)
        assert uow.principals.add_member(team.id, alice.id) is True
        assert uow.principals.add_member(team.id, alice.id) is False
        uow.principals.set_platform_role(alice.id, PlatformRole.AUDITOR)
        uow.principals.set_password_hash(alice.id, "h")
        uow.commit()
    with uow_factory() as uow:
        assert uow.principals.teams_of(alice.id) == [team.id]
        assert [p.id for p in uow.principals.members_of(team.id)] == [alice.id]
        assert uow.principals.get(alice.id).platform_role is PlatformRole.AUDITOR
        uow.principals.set_disabled(team.id, True)
        assert uow.principals.teams_of(alice.id) == []  # a disabled team grants nothing
        assert uow.principals.remove_member(team.id, alice.id) is True
        assert uow.principals.remove_member(team.id, alice.id) is False
        with pytest.raises(NotFoundError):
            uow.principals.set_disabled("0" * 32, True)


def test_grants_give_roles_and_filter_listings_in_the_query(uow_factory: UowFactory) -> None:
    alice = _principal(PrincipalKind.USER, "alice")
    team = _principal(PrincipalKind.TEAM, "ml")
    churn, fraud, other = make_project("churn"), make_project("fraud"), make_project("other")
    with uow_factory() as uow:
        for project in (churn, fraud, other):
            uow.projects.add(project)
        uow.principals.add(alice, None)
        uow.principals.add(team, None)
        grant = Grant(churn.id, alice.id, "user:alice", Role.VIEWER, NOW, ROOT)
        assert uow.grants.add(grant) is True
        assert uow.grants.add(grant) is False
        uow.grants.add(Grant(fraud.id, team.id, "team:ml", Role.CONTRIBUTOR, NOW, ROOT))
        uow.commit()
    with uow_factory() as uow:
        assert uow.grants.roles(churn.id, (alice.id,)) == {Role.VIEWER}
        assert uow.grants.roles(fraud.id, (alice.id, team.id)) == {Role.CONTRIBUTOR}
        assert uow.grants.roles(other.id, (alice.id, team.id)) == frozenset()
        assert uow.grants.roles(churn.id, ()) == frozenset()
        seen = uow.projects.list_page(10, None, ProjectFilter((alice.id, team.id)))
        assert [p.name for p in seen.items] == ["churn", "fraud"]
        first = uow.projects.list_page(1, None, ProjectFilter((alice.id,)))
        assert [p.name for p in first.items] == ["churn"]
        assert first.next_cursor is None  # no hint that other projects exist
        scoped = uow.projects.list_page(10, None, ProjectFilter(None, fraud.id))
        assert [p.name for p in scoped.items] == ["fraud"]
        assert uow.projects.list_page(10, None, ProjectFilter(())).items == []
        listed = uow.grants.list_for_project(churn.id)
        assert [(g.principal, g.role) for g in listed] == [("user:alice", Role.VIEWER)]
        assert uow.grants.remove(churn.id, alice.id, Role.VIEWER) is True
        assert uow.grants.remove(churn.id, alice.id, Role.VIEWER) is False


def test_tokens_and_sessions_are_found_by_digest_and_revoked(uow_factory: UowFactory) -> None:
    alice = _principal(PrincipalKind.USER, "alice")
    churn = make_project("churn")
    token = ApiToken(
        IDS.new_id(),
        alice.id,
        "ci",
        "d" * 64,
        "lgt_abcd",
        NOW,
        ROOT,
        NOW + timedelta(days=1),
        TokenScope(churn.id, Role.VIEWER),
    )
    session = LoginSession("s" * 64, alice.id, "c" * 64, NOW, NOW + timedelta(hours=8))
    with uow_factory() as uow:
        uow.projects.add(churn)
        uow.principals.add(alice, None)
        uow.credentials.add_token(token)
        uow.credentials.add_session(session)
        uow.commit()
    with uow_factory() as uow:
        assert uow.credentials.token_by_digest("d" * 64) == token
        assert uow.credentials.token_by_digest("e" * 64) is None
        assert uow.credentials.list_tokens(alice.id) == [token]
        assert uow.credentials.revoke_token(token.id, NOW) is True
        assert uow.credentials.revoke_token(token.id, NOW) is False
        assert not uow.credentials.get_token(token.id).usable_at(NOW)
        assert uow.credentials.session_by_digest("s" * 64) == session
        assert uow.credentials.revoke_sessions(NOW, principal_id=alice.id) == 1
        assert uow.credentials.revoke_sessions(NOW, digest="s" * 64) == 0
        revoked = uow.credentials.session_by_digest("s" * 64)
        assert revoked is not None
        assert not revoked.usable_at(NOW)
        with pytest.raises(NotFoundError):
            uow.credentials.get_token("0" * 32)


def test_login_failures_count_inside_the_window_and_are_forgotten(
    uow_factory: UowFactory,
) -> None:
    with uow_factory() as uow:
        for minutes in (30, 10, 5):
            uow.credentials.add_login_failure("alice", NOW - timedelta(minutes=minutes))
        uow.credentials.add_login_failure("bob", NOW)
        uow.commit()
    with uow_factory() as uow:
        recent = uow.credentials.login_failures_since("alice", NOW - timedelta(minutes=15))
        assert recent == [NOW - timedelta(minutes=10), NOW - timedelta(minutes=5)]
        uow.credentials.forget_login_failures("alice", before=NOW - timedelta(minutes=15))
        assert len(uow.credentials.login_failures_since("alice", NOW - timedelta(days=1))) == 2
        uow.credentials.forget_login_failures("alice")
        assert uow.credentials.login_failures_since("alice", NOW - timedelta(days=1)) == []
        assert len(uow.credentials.login_failures_since("bob", NOW - timedelta(days=1))) == 1
