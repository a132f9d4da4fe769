"""The identity resources of the SDK against the real app with auth on, on each dialect: who
the caller is, principals, teams, tokens and grants, and what a role lets a token do."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lockgate.api.audit import AuditEventOut
from lockgate.api.tracking import DatasetIn
from lockgate.domain.errors import (
    AlreadyExistsError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    UnauthenticatedError,
)
from lockgate.sdk import Client, MetricPoint
from lockgate.sdk.identity import Auth, Grants, Principals, Teams, Tokens
from lockgate.server.app import create_app
from lockgate.server.composition import build_platform
from lockgate.server.inprocess import InProcessTransport
from lockgate.settings import Settings

Connect = Callable[[str | None], Client]
PASSWORD = "correct horse battery staple"


@pytest.fixture
def auth_settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(
        home=tmp_path / "home",
        metadata_url=db_url,
        artifacts_url=(tmp_path / "artifacts").as_uri(),
        auth_enabled=True,
        cookie_secure=False,
        allowed_hosts=["localhost", "127.0.0.1", "lockgate.test"],
    )


@pytest.fixture
def root_token(auth_settings: Settings) -> str:
    """The first platform admin, bootstrapped on the database as `lockgate admin bootstrap`
    does, before and apart from the server."""
    platform = build_platform(auth_settings)
    try:
        return platform.credentials.bootstrap_admin("root").secret
    finally:
        platform.close()


@pytest.fixture
def connect(auth_settings: Settings, root_token: str) -> Iterator[Connect]:
    """Makes clients of the in-process app, with a token or none."""
    transport = InProcessTransport(create_app(auth_settings))
    clients: list[Client] = []

    def make(token: str | None) -> Client:
        client = Client("http://localhost", token=token, transport=transport)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()
    transport.close()


@pytest.fixture
def admin(connect: Connect, root_token: str) -> Client:
    return connect(root_token)


def token_of(
    admin: Client, principal: str, *, project: str | None = None, role: str | None = None
) -> str:
    """A fresh token of `principal` (scoped, if asked), issued by the admin."""
    return admin.tokens.issue("test", principal=principal, project=project, role=role).token


def audit_tail(admin: Client, after: int) -> list[AuditEventOut]:
    return list(admin.audit.events(after_seq=after))


def last_seq(admin: Client) -> int:
    return max((e.seq for e in admin.audit.events()), default=0)


def test_whoami_tells_who_the_token_stands_for(connect: Connect, admin: Client) -> None:
    me = admin.auth.whoami()
    assert (me.actor, me.kind, me.platform_role, me.via) == (
        "user:root",
        "user",
        "platform_admin",
        "token",
    )
    assert me.scope_project_id is None
    assert admin.principals.get("user:root").platform_role == "platform_admin"
    for anonymous in (connect(None), connect("lgt_not-a-token")):
        with pytest.raises(UnauthenticatedError):
            anonymous.auth.whoami()
        with pytest.raises(UnauthenticatedError):
            list(anonymous.projects.list())


@pytest.fixture
def world(admin: Client, tmp_path: Path) -> dict[str, str]:
    """Project `churn` with a running run (params, metric, a file), a model version with the
    `champion` alias; user `alice` contributes, service account `ci-bot` views."""
    admin.projects.create("churn", "customer churn")
    admin.projects.create("fraud", "card fraud")
    run = admin.runs.create("churn", name="baseline")
    admin.runs.log_params(run.id, {"depth": 6})
    admin.runs.log_metrics(run.id, [MetricPoint("auc", 0.8, 0)])
    (tmp_path / "model.json").write_text('{"trees": 3}')
    admin.artifacts.upload(run.id, tmp_path / "model.json", "model/model.json")
    admin.models.create("churn-clf", project="churn", owner="ml", description="churn")
    admin.models.create_version("churn-clf", run_id=run.id, artifact_path="model")
    admin.models.set_alias("churn-clf", "champion", 1)
    assert admin.principals.create_user("alice", display_name="Alice").ref == "user:alice"
    bot = admin.principals.create_service_account("ci-bot")
    assert (bot.ref, bot.kind, bot.has_password) == ("sa:ci-bot", "sa", False)
    admin.grants.add("churn", "user:alice", "contributor")
    viewer = admin.grants.add("churn", "sa:ci-bot", "viewer")
    assert (viewer.principal, viewer.role, viewer.granted_by) == (
        "sa:ci-bot",
        "viewer",
        "user:root",
    )
    return {"run": run.id, "model_file": str(tmp_path / "model.json")}


def test_a_viewer_reads_but_every_write_is_refused_audited_and_changes_nothing(
    connect: Connect, admin: Client, world: dict[str, str], tmp_path: Path
) -> None:
    run_id = world["run"]
    viewer = connect(token_of(admin, "sa:ci-bot"))
    # Reads succeed, and show only what the viewer may read.
    assert [p.name for p in viewer.projects.list()] == ["churn"]
    assert viewer.runs.get(run_id).params == {"depth": "6"}
    assert [r.id for r in viewer.runs.search("churn")] == [run_id]
    assert viewer.models.resolve("churn-clf@champion").version == 1
    assert [a.path for a in viewer.artifacts.list(run_id)] == ["model/model.json"]
    viewer.artifacts.download(run_id, "model/model.json", tmp_path / "copy.json")
    # The creator of a project administers it.
    assert {(g.principal, g.role) for g in viewer.grants.list("churn")} == {
        ("user:root", "admin"),
        ("user:alice", "contributor"),
        ("sa:ci-bot", "viewer"),
    }
    assert viewer.auth.whoami().actor == "sa:ci-bot"
    admin.principals.create_team("admins")
    before = last_seq(admin)
    state_before = _snapshot(admin, run_id)
    writes: dict[str, Callable[[], object]] = {
        "create project": lambda: viewer.projects.create("mine"),
        "create run": lambda: viewer.runs.create("churn", name="sneaky"),
        "log params": lambda: viewer.runs.log_params(run_id, {"depth": 1}),
        "log metrics": lambda: viewer.runs.log_metrics(run_id, [MetricPoint("auc", 1.0, 1)]),
        "set tags": lambda: viewer.runs.set_tags(run_id, {"owned": "yes"}),
        "log input": lambda: viewer.runs.log_input(
            run_id, DatasetIn(name="train", fingerprint="a" * 64)
        ),
        "end run": lambda: viewer.runs.end(run_id, "failed"),
        "upload": lambda: viewer.artifacts.upload(run_id, world["model_file"], "model/x.json"),
        "create model": lambda: viewer.models.create(
            "evil", project="churn", owner="me", description="d"
        ),
        "create version": lambda: viewer.models.create_version(
            "churn-clf", run_id=run_id, artifact_path="model"
        ),
        "move alias": lambda: viewer.models.set_alias("churn-clf", "champion", 1),
        "delete alias": lambda: viewer.models.delete_alias("churn-clf", "champion"),
        "grant": lambda: viewer.grants.add("churn", "sa:ci-bot", "admin"),
        "revoke grant": lambda: viewer.grants.remove("churn", "user:alice", "contributor"),
        "create user": lambda: viewer.principals.create_user("mallory"),
        "platform role": lambda: viewer.principals.set_platform_role("sa:ci-bot", "platform_admin"),
        "disable": lambda: viewer.principals.disable("user:root"),
        "password": lambda: viewer.principals.set_password("user:root", PASSWORD),
        "token for another": lambda: viewer.tokens.issue("stolen", principal="user:root"),
        "team": lambda: viewer.teams.add_member("team:admins", "sa:ci-bot"),
        "audit": lambda: list(viewer.audit.events()),
    }
    for what, write in writes.items():
        with pytest.raises(PermissionDeniedError, match="permission denied"):
            write()
        assert what  # names the attempt in a failure's traceback
    assert _snapshot(admin, run_id) == state_before
    denials = audit_tail(admin, before)
    assert [(e.action, e.actor) for e in denials] == [("access.denied", "sa:ci-bot")] * len(writes)
    assert {e.details["permission"] for e in denials} >= {
        "project.create",
        "run.write",
        "model.write",
        "alias.move",
        "project.manage",
        "identity.manage",
        "credentials.manage",
        "audit.read",
    }
    assert admin.audit.verify().ok


def _snapshot(admin: Client, run_id: str) -> object:
    run = admin.runs.get(run_id)
    return (
        [p.name for p in admin.projects.list()],
        (run.status, run.params, run.metrics, run.tags, run.inputs),
        [a.path for a in admin.artifacts.list(run_id)],
        [m.name for m in admin.models.list()],
        [v.version for v in admin.models.list_versions("churn-clf")],
        [(m.alias, m.version) for m in admin.models.alias_history("churn-clf")],
        sorted((g.principal, g.role) for g in admin.grants.list("churn")),
        [(p.ref, p.platform_role, p.disabled) for p in admin.principals.list()],
        [t.id for t in admin.tokens.list(principal="user:root")],
    )


def test_a_contributor_writes_runs_but_not_aliases(
    connect: Connect, admin: Client, world: dict[str, str]
) -> None:
    alice = connect(token_of(admin, "user:alice"))
    run = alice.runs.create("churn", name="alice's")
    alice.runs.log_params(run.id, {"depth": 3})
    assert admin.runs.get(run.id).created_by == "user:alice"
    with pytest.raises(PermissionDeniedError, match=r"alias\.move"):
        alice.models.set_alias("churn-clf", "challenger", 1)
    with pytest.raises(PermissionDeniedError):
        alice.runs.create("fraud")


def test_a_revoked_token_stops_at_once(connect: Connect, admin: Client) -> None:
    admin.principals.create_user("alice")
    issued = admin.tokens.issue("laptop", principal="user:alice")
    assert issued.token.startswith("lgt_")
    assert issued.token.startswith(issued.hint)
    alice = connect(issued.token)
    assert alice.auth.whoami().actor == "user:alice"
    # Alice manages her own tokens: the default principal is the caller.
    spare = alice.tokens.issue("spare")
    assert {t.name for t in alice.tokens.list()} == {"laptop", "spare"}
    assert "token" not in alice.tokens.list()[0].model_dump()
    revoked = admin.tokens.revoke(issued.id)
    assert revoked.revoked_at is not None
    with pytest.raises(UnauthenticatedError, match="unknown, expired or revoked"):
        alice.auth.whoami()
    assert admin.tokens.revoke(issued.id).revoked_at == revoked.revoked_at  # a no-op
    listed = {t.name: t for t in admin.tokens.list(principal="user:alice")}
    assert listed["laptop"].revoked_at is not None
    assert listed["spare"].revoked_at is None
    # Disabling stops every token of the principal; enabling brings back the unrevoked ones.
    spare_client = connect(spare.token)
    assert admin.principals.disable("user:alice").disabled
    with pytest.raises(UnauthenticatedError):
        spare_client.auth.whoami()
    assert not admin.principals.enable("user:alice").disabled
    assert spare_client.auth.whoami().actor == "user:alice"
    spare_client.tokens.revoke(spare.id)
    with pytest.raises(UnauthenticatedError):
        spare_client.auth.whoami()
    with pytest.raises(NotFoundError):
        admin.tokens.revoke("0" * 32)


def test_a_project_scoped_token_sees_only_its_project(
    connect: Connect, admin: Client, world: dict[str, str]
) -> None:
    admin.grants.add("fraud", "user:alice", "contributor")
    unscoped = connect(token_of(admin, "user:alice"))
    assert [p.name for p in unscoped.projects.list()] == ["churn", "fraud"]
    scoped = connect(token_of(admin, "user:alice", project="churn"))
    assert [p.name for p in scoped.projects.list()] == ["churn"]
    assert scoped.auth.whoami().scope_project_id == admin.projects.get("churn").id
    assert scoped.projects.get("churn").name == "churn"
    with pytest.raises(PermissionDeniedError):
        scoped.projects.get("fraud")
    with pytest.raises(PermissionDeniedError):
        scoped.runs.create("fraud")
    assert [m.name for m in scoped.models.list()] == ["churn-clf"]
    scoped.runs.create("churn")
    # A scoped token cannot mint a token that would escape its scope.
    with pytest.raises(PermissionDeniedError):
        scoped.tokens.issue("wider")
    # A role scope narrows a contributor to reading.
    reader = connect(token_of(admin, "user:alice", role="viewer"))
    assert reader.auth.whoami().scope_role == "viewer"
    assert reader.runs.get(world["run"]).id == world["run"]
    with pytest.raises(PermissionDeniedError, match="scope"):
        reader.runs.create("churn")


def test_token_expiry_must_be_in_the_future_and_aware(admin: Client) -> None:
    past = datetime.now(UTC) - timedelta(days=1)
    before = len(admin.tokens.list())
    with pytest.raises(InvalidInputError, match="future") as refused:
        admin.tokens.issue("old", expires_at=past)
    assert refused.value.field == "expires_at"
    with pytest.raises(InvalidInputError) as naive:
        admin.tokens.issue("naive", expires_at=datetime(2999, 1, 1))  # noqa: DTZ001 - on purpose
    assert naive.value.field == "expires_at"
    assert len(admin.tokens.list()) == before
    later = datetime.now(UTC) + timedelta(days=30)
    issued = admin.tokens.issue("monthly", expires_at=later, project=None, role="viewer")
    assert issued.expires_at is not None
    assert abs(issued.expires_at - later) < timedelta(seconds=1)
    assert issued.scope_role == "viewer"


def test_principals_teams_and_grants(connect: Connect, admin: Client) -> None:
    admin.projects.create("churn")
    admin.principals.create_user("alice", password=PASSWORD)
    admin.principals.create_user("bob")
    admin.principals.create_service_account("ci-bot")
    team = admin.principals.create_team("ml", display_name="ML engineers")
    assert (team.ref, team.display_name) == ("team:ml", "ML engineers")
    with pytest.raises(AlreadyExistsError):
        admin.principals.create_user("alice")
    with pytest.raises(InvalidInputError) as short:
        admin.principals.create_user("carol", password="short")
    assert short.value.field == "password"
    with pytest.raises(InvalidInputError) as bad_role:
        admin.principals.create_user("carol", platform_role="root")
    assert bad_role.value.field == "platform_role"
    # Listing goes page by page, by kind and name.
    everyone = [p.ref for p in admin.principals.list(page_size=2)]
    assert sorted(everyone) == ["sa:ci-bot", "team:ml", "user:alice", "user:bob", "user:root"]
    assert [p.ref for p in admin.principals.list(kind="user")] == [
        "user:alice",
        "user:bob",
        "user:root",
    ]
    assert admin.principals.get("user:alice").has_password
    with pytest.raises(NotFoundError):
        admin.principals.get("user:nobody")
    # Team grants apply to the members.
    bob = connect(token_of(admin, "user:bob"))
    with pytest.raises(PermissionDeniedError):
        bob.projects.get("churn")
    admin.teams.add_member("ml", "user:bob")
    admin.teams.add_member("team:ml", "sa:ci-bot")
    assert [m.ref for m in admin.teams.members("ml")] == ["sa:ci-bot", "user:bob"]
    admin.grants.add("churn", "team:ml", "viewer")
    assert bob.projects.get("churn").name == "churn"
    admin.teams.remove_member("ml", "user:bob")
    with pytest.raises(PermissionDeniedError):
        bob.projects.get("churn")
    assert [m.ref for m in admin.teams.members("ml")] == ["sa:ci-bot"]
    # Taking a grant away.
    admin.grants.remove("churn", "team:ml", "viewer")
    assert [g.principal for g in admin.grants.list("churn")] == ["user:root"]
    with pytest.raises(NotFoundError):
        admin.grants.remove("churn", "team:ml", "viewer")
    # Platform roles: an auditor reads the audit log; the last admin stays an admin.
    assert admin.principals.set_platform_role("user:bob", "auditor").platform_role == "auditor"
    assert list(bob.audit.events())
    assert admin.principals.set_platform_role("user:bob", None).platform_role is None
    with pytest.raises(PermissionDeniedError):
        list(bob.audit.events())
    with pytest.raises(ConflictError, match="last platform admin"):
        admin.principals.set_platform_role("user:root", None)
    with pytest.raises(ConflictError):
        admin.principals.disable("user:root")


def test_login_and_passwords(connect: Connect, admin: Client) -> None:
    admin.principals.create_user("alice", password=PASSWORD)
    browser = connect(None)
    signed_in = browser.auth.login("alice", PASSWORD)
    assert signed_in.principal.ref == "user:alice"
    assert len(signed_in.csrf_token) >= 32
    assert signed_in.expires_at > datetime.now(UTC)
    # The session cookie now authenticates this client's reads.
    assert browser.auth.whoami().via == "session"
    browser.auth.logout()
    with pytest.raises(UnauthenticatedError):
        browser.auth.whoami()
    with pytest.raises(UnauthenticatedError, match="wrong user name or password"):
        connect(None).auth.login("alice", "not the password at all")
    # Alice sets her own password; the old one stops working.
    alice = connect(token_of(admin, "user:alice"))
    alice.principals.set_password("user:alice", "a brand new passphrase")
    with pytest.raises(UnauthenticatedError):
        connect(None).auth.login("alice", PASSWORD)
    assert connect(None).auth.login("alice", "a brand new passphrase").principal.name == "alice"
    with pytest.raises(InvalidInputError):
        admin.principals.set_password("sa:nobody", PASSWORD)


def test_identity_resources_are_pinned_and_documented() -> None:
    expected = {
        Auth: ["login", "logout", "whoami"],
        Principals: [
            "create_service_account",
            "create_team",
            "create_user",
            "disable",
            "enable",
            "get",
            "list",
            "set_password",
            "set_platform_role",
        ],
        Teams: ["add_member", "members", "remove_member"],
        Tokens: ["issue", "list", "revoke"],
        Grants: ["add", "list", "remove"],
    }
    client = Client("http://127.0.0.1:9")
    try:
        for cls, methods in expected.items():
            public = sorted(n for n, _ in inspect.getmembers(cls) if not n.startswith("_"))
            assert public == methods, cls.__name__
            assert inspect.getdoc(cls), cls.__name__
            for name in methods:
                assert inspect.getdoc(getattr(cls, name)), f"{cls.__name__}.{name}"
        assert isinstance(client.auth, Auth)
        assert isinstance(client.principals, Principals)
        assert isinstance(client.teams, Teams)
        assert isinstance(client.tokens, Tokens)
        assert isinstance(client.grants, Grants)
    finally:
        client.close()
