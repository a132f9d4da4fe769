"""Credentials end to end, on SQLite and PostgreSQL: web logins with CSRF and rate limits,
token expiry, revocation and scopes, listings filtered in the query, the settings bootstrap,
and local mode bound to loopback only."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from lockgate.domain.errors import InvalidInputError
from lockgate.server.app import create_app
from lockgate.server.inprocess import InProcessTransport
from lockgate.server.run import check_binding, describe_mode
from lockgate.settings import Settings
from tests.api.world import World, auth, world

__all__ = ["world"]  # the fixture, imported for pytest

PASSWORD = "correct horse battery staple"


def _events(world: World, action: str) -> list[dict[str, object]]:
    events = world.client.get(
        "/api/v1/audit/events", params={"limit": 1000}, headers=auth(world.tokens["root"])
    ).json()
    return [e for e in events if e["action"] == action]


def _with_password(world: World, ref: str = "user:viewer-user") -> None:
    response = world.client.put(
        f"/api/v1/principals/{ref}/password",
        json={"password": PASSWORD},
        headers=auth(world.tokens["root"]),
    )
    assert response.status_code == 204, response.text


def _login(world: World, password: str = PASSWORD) -> httpx.Response:
    body = {"username": "viewer-user", "password": password}
    return world.client.post("/api/v1/auth/login", json=body)


def test_a_login_opens_a_session_that_needs_the_csrf_token_to_change_state(
    world: World,
) -> None:
    _with_password(world)
    response = _login(world)
    assert response.status_code == 200, response.text
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Secure" in cookie
    csrf = response.json()["csrf_token"]
    session = world.client.cookies.get("lockgate_session")
    assert session
    # httpx keeps Secure cookies from plain-HTTP test URLs; send the cookie by hand.
    world.client.cookies.clear()
    jar = {"cookie": f"lockgate_session={session}"}
    whoami = world.client.get("/api/v1/auth/whoami", headers=jar).json()
    assert (whoami["actor"], whoami["via"]) == ("user:viewer-user", "session")
    grant = {"principal": "user:victim", "role": "viewer"}
    url = "/api/v1/projects/churn/grants"
    without = world.client.put(url, json=grant, headers=jar)
    assert without.status_code == 403
    assert "X-CSRF-Token" in without.text
    forged = world.client.put(url, json=grant, headers={**jar, "x-csrf-token": "forged"})
    assert forged.status_code == 403
    with_token = world.client.put(url, json=grant, headers={**jar, "x-csrf-token": csrf})
    assert with_token.status_code == 403  # past the CSRF check, refused by the policy point
    assert with_token.json()["code"] == "permission_denied"
    out = world.client.post("/api/v1/auth/logout", headers={**jar, "x-csrf-token": csrf})
    assert out.status_code == 204
    assert world.client.get("/api/v1/auth/whoami", headers=jar).status_code == 401
    assert _events(world, "auth.login")[-1]["actor"] == "user:viewer-user"
    assert _events(world, "auth.logout")[-1]["actor"] == "user:viewer-user"


def test_failed_logins_are_recorded_and_rate_limited_per_user_name(world: World) -> None:
    _with_password(world)
    for _ in range(5):
        assert _login(world, "wrong password!").status_code == 401
    limited = _login(world)
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) > 0
    assert limited.json()["field"] == "username"
    failures = _events(world, "auth.login_failed")
    assert len(failures) == 5
    assert failures[-1]["actor"] == "user:viewer-user"


def test_unknown_users_and_password_less_users_get_the_same_answer(world: World) -> None:
    ghost = world.client.post("/api/v1/auth/login", json={"username": "ghost", "password": "x"})
    passwordless = _login(world, "anything at all")
    assert ghost.status_code == passwordless.status_code == 401
    assert ghost.json()["detail"] == passwordless.json()["detail"]


def test_a_disabled_user_cannot_sign_in_and_its_tokens_stop(world: World) -> None:
    _with_password(world)
    root = auth(world.tokens["root"])
    state = world.client.put(
        "/api/v1/principals/user:viewer-user/state", json={"disabled": True}, headers=root
    )
    assert state.status_code == 200
    assert state.json()["disabled"] is True
    assert _login(world).status_code == 401
    viewer = auth(world.tokens["viewer"])
    assert world.client.get("/api/v1/projects/churn", headers=viewer).status_code == 401


def test_a_revoked_token_stops_at_once(world: World) -> None:
    viewer = auth(world.tokens["viewer"])
    assert world.client.get("/api/v1/projects/churn", headers=viewer).status_code == 200
    tokens = world.client.get("/api/v1/principals/user:viewer-user/tokens", headers=viewer)
    token_id = tokens.json()[0]["id"]
    revoked = world.client.delete(f"/api/v1/tokens/{token_id}", headers=viewer)
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"]
    assert world.client.get("/api/v1/projects/churn", headers=viewer).status_code == 401
    assert _events(world, "token.revoked")[-1]["actor"] == "user:viewer-user"


def test_an_expired_token_is_refused(world: World, db_url: str) -> None:
    viewer = auth(world.tokens["viewer"])
    past = int((datetime.now(UTC) - timedelta(seconds=1)).timestamp() * 1_000_000)
    engine = sa.create_engine(db_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE api_tokens SET expires_at = :t"), {"t": past})
    engine.dispose()
    assert world.client.get("/api/v1/projects/churn", headers=viewer).status_code == 401
    in_the_past = {"name": "late", "expires_at": "2020-01-01T00:00:00Z"}
    refused = world.client.post(
        "/api/v1/principals/user:victim/tokens",
        json=in_the_past,
        headers=auth(world.tokens["root"]),
    )
    assert refused.status_code in {401, 422}


def test_a_scoped_token_is_held_to_its_project_and_role(world: World) -> None:
    root = auth(world.tokens["root"])
    world.client.post("/api/v1/projects", json={"name": "other", "description": ""}, headers=root)
    scoped = world.client.post(
        "/api/v1/principals/user:contributor-user/tokens",
        json={"name": "ci", "scope_project": "churn", "scope_role": "viewer"},
        headers=root,
    )
    assert scoped.status_code == 201, scoped.text
    token = auth(scoped.json()["token"])
    assert scoped.json()["token"].startswith("lgt_")
    assert world.client.get("/api/v1/projects/churn", headers=token).status_code == 200
    run_id = world.values["run_id"]
    write = world.client.post(
        f"/api/v1/runs/{run_id}/tags", json={"tags": {"a": "b"}}, headers=token
    )
    assert write.status_code == 403  # the principal may write; the scope may not
    projects = world.client.get("/api/v1/projects", headers=root).json()["items"]
    assert {p["name"] for p in projects} == {"churn", "other"}
    visible = world.client.get("/api/v1/projects", headers=token).json()["items"]
    assert [p["name"] for p in visible] == ["churn"]
    mint = world.client.post(
        "/api/v1/principals/user:contributor-user/tokens", json={"name": "escape"}, headers=token
    )
    assert mint.status_code == 403


def test_listings_show_only_granted_projects_and_page_without_leaking(world: World) -> None:
    root = auth(world.tokens["root"])
    for name in ("p1", "p2", "p3"):
        world.client.post("/api/v1/projects", json={"name": name, "description": ""}, headers=root)
    viewer = auth(world.tokens["viewer"])
    first = world.client.get("/api/v1/projects", params={"page_size": 1}, headers=viewer).json()
    assert [p["name"] for p in first["items"]] == ["churn"]
    assert first["next_page_token"] is None
    models = world.client.get("/api/v1/models", headers=auth(world.tokens["nobody-user"])).json()
    assert models["items"] == []


def test_a_new_project_is_administered_by_its_creator(world: World) -> None:
    nobody = auth(world.tokens["nobody-user"])
    created = world.client.post(
        "/api/v1/projects", json={"name": "mine", "description": ""}, headers=nobody
    )
    assert created.status_code == 201
    grants = world.client.get("/api/v1/projects/mine/grants", headers=nobody).json()
    assert [(g["principal"], g["role"]) for g in grants] == [("user:nobody", "admin")]
    sa_token = auth(world.tokens["nobody-sa"])
    machine = world.client.post(
        "/api/v1/projects", json={"name": "bots", "description": ""}, headers=sa_token
    )
    assert machine.status_code == 403


def test_team_grants_reach_their_members(world: World) -> None:
    root = auth(world.tokens["root"])
    world.client.put("/api/v1/teams/team:victims/members/user:nobody", headers=root)
    grant = {"principal": "team:victims", "role": "contributor"}
    assert world.client.put("/api/v1/projects/churn/grants", json=grant, headers=root).is_success
    nobody = auth(world.tokens["nobody-user"])
    run = world.client.post("/api/v1/projects/churn/runs", json={"name": "x"}, headers=nobody)
    assert run.status_code == 201, run.text
    world.client.delete("/api/v1/teams/team:victims/members/user:nobody", headers=root)
    again = world.client.post("/api/v1/projects/churn/runs", json={"name": "y"}, headers=nobody)
    assert again.status_code == 403


def test_the_last_platform_admin_cannot_be_demoted(world: World) -> None:
    root = auth(world.tokens["root"])
    world.client.put(
        "/api/v1/principals/user:platform_admin-user/platform-role",
        json={"role": None},
        headers=root,
    )
    demote = world.client.put(
        "/api/v1/principals/user:root/platform-role", json={"role": None}, headers=root
    )
    assert demote.status_code == 409


def _settings(db_url: str, tmp_path: Path, **extra: object) -> Settings:
    return Settings(
        home=tmp_path / "home",
        metadata_url=db_url,
        artifacts_url=(tmp_path / "artifacts").as_uri(),
        **extra,  # type: ignore[arg-type]
    )


def test_the_settings_can_bootstrap_the_first_admin_once(db_url: str, tmp_path: Path) -> None:
    secret = "lgt_" + "s" * 40
    settings = _settings(
        db_url, tmp_path, auth_enabled=True, bootstrap_admin="ops", bootstrap_token=secret
    )
    app = create_app(settings)
    with httpx.Client(transport=InProcessTransport(app), base_url="http://localhost") as client:
        whoami = client.get("/api/v1/auth/whoami", headers=auth(secret))
        assert whoami.json()["actor"] == "user:ops"
        assert whoami.json()["platform_role"] == "platform_admin"
    again = _settings(
        db_url, tmp_path, auth_enabled=True, bootstrap_admin="other", bootstrap_token="x" * 40
    )
    second = create_app(again)
    with httpx.Client(transport=InProcessTransport(second), base_url="http://localhost") as client:
        assert client.get("/api/v1/auth/whoami", headers=auth("x" * 40)).status_code == 401


def test_local_mode_is_one_full_rights_user_on_loopback_only(db_url: str, tmp_path: Path) -> None:
    settings = _settings(db_url, tmp_path, actor="local:me")
    app = create_app(settings)
    with httpx.Client(transport=InProcessTransport(app), base_url="http://localhost") as client:
        assert client.get("/api/v1/auth/whoami").json()["via"] == "local"
    assert "LOCAL MODE" in describe_mode(settings)
    for host in ("127.0.0.1", "::1", "localhost"):
        check_binding(_settings(db_url, tmp_path, host=host))
    for host in ("0.0.0.0", "192.168.1.10", "::", "lockgate.example.com"):
        with pytest.raises(InvalidInputError, match="LOCKGATE_AUTH_ENABLED"):
            check_binding(_settings(db_url, tmp_path, host=host))
    check_binding(_settings(db_url, tmp_path, host="0.0.0.0", auth_enabled=True))


def test_the_sign_in_page_is_public_and_locked_down(world: World) -> None:
    page = world.client.get("/login")
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy
    script = page.text.split("<script>")[1].split("</script>")[0]
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in policy
    assert "/api/v1/auth/login" in script


def test_a_bad_egress_allow_list_stops_the_server_at_start(db_url: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="not a valid CIDR") as refused:
        create_app(_settings(db_url, tmp_path, egress_allow=["10.0.0.1/8"]))
    assert refused.value.field == "egress_allow"
