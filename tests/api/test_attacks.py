"""The security baseline against the whole API with authentication on, on SQLite and
PostgreSQL: traversal payloads in every name and path parameter, hostile archives, pickles
and URLs that try to make the server fetch something. A canary file outside the artifact
root and a canary HTTP server on loopback prove nothing got through."""

from __future__ import annotations

import ast
import io
import os
import pickle
import re
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.api.test_access import BODIES, Call, api_calls
from tests.api.world import World, auth, fill, world

__all__ = ["world"]  # the fixture, imported for pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "lockgate"

TRAVERSAL = [
    "..",
    "../escape.txt",
    "../../../../etc/passwd",
    "..%2fescape.txt",
    "%2e%2e%2fescape.txt",
    "%252e%252e%252fescape.txt",
    "..\\escape.txt",
    "a\\..\\..\\escape.txt",
    "/etc/passwd",
    "//escape.txt",
    "file:///etc/passwd",
    "file:escape.txt",
    "C:\\escape.txt",
    "\\\\server\\share\\x",
    "escape.txt%00.png",
    "a/../../escape.txt",
    "..;/escape.txt",
]


@pytest.fixture
def canary(world: World) -> Path:
    path = world.root / "escape.txt"
    path.write_text("canary")
    return path


def _outside_files(world: World) -> set[Path]:
    """Every file under the test's directory but outside the stores."""
    stores = {world.root / "artifacts", world.root / "home"}
    return {
        p for p in world.root.rglob("*") if p.is_file() and not any(s in p.parents for s in stores)
    }


def _send(world: World, call: Call, values: dict[str, str]) -> httpx.Response:
    url = re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], call.template)
    headers = auth(world.tokens["root"])
    body = BODIES.get((call.method, call.template))
    if isinstance(body, bytes):
        headers["content-type"] = "application/octet-stream"
        return world.client.request(call.method, url, content=body, headers=headers)
    if isinstance(body, dict):
        return world.client.request(call.method, url, json=fill(body, values), headers=headers)
    return world.client.request(call.method, url, headers=headers)


def test_traversal_payloads_in_every_name_and_path_never_escape(world: World, canary: Path) -> None:
    before = _outside_files(world)
    calls = [c for c in api_calls(world.app) if "{" in c.template]
    for call in calls:
        for name in re.findall(r"\{(\w+)\}", call.template):
            for payload in TRAVERSAL:
                values = {**world.values, name: payload}
                response = _send(world, call, values)
                assert response.status_code < 500, (call, name, payload, response.text)
                if call.method in {"PUT", "POST", "DELETE"} and name == "path":
                    assert 400 <= response.status_code < 500, (call, payload, response.text)
    assert canary.read_text() == "canary"
    assert _outside_files(world) == before


def _tar(members: list[tarfile.TarInfo], data: bytes = b"x") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for info in members:
            if info.isreg():
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
            else:
                archive.addfile(info)
    return buffer.getvalue()


def _member(name: str, kind: bytes = tarfile.REGTYPE, target: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info


def _zip(names: list[str], *, symlink: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            info = zipfile.ZipInfo(name)
            if symlink:
                info.external_attr = (0o120777 << 16) | 0
            archive.writestr(info, b"../../escape.txt" if symlink else b"x")
    return buffer.getvalue()


def _hostile_archives(canary: Path) -> dict[str, bytes]:
    return {
        "tar-dotdot": _tar([_member("ok.txt"), _member("../escape.txt")]),
        "tar-absolute": _tar([_member(str(canary))]),
        "tar-symlink": _tar([_member("link", tarfile.SYMTYPE, str(canary))]),
        "tar-symlink-relative": _tar([_member("d/link", tarfile.SYMTYPE, "../../../escape.txt")]),
        "tar-hardlink": _tar([_member("ok.txt"), _member("hard", tarfile.LNKTYPE, str(canary))]),
        "tar-device": _tar([_member("dev", tarfile.CHRTYPE)]),
        "tar-fifo": _tar([_member("fifo", tarfile.FIFOTYPE)]),
        "zip-slip": _zip(["ok.txt", "../../escape.txt"]),
        "zip-absolute": _zip(["/tmp/escape.txt"]),
        "zip-backslash": _zip(["a\\..\\..\\escape.txt"]),
        "zip-symlink": _zip(["link"], symlink=True),
        "not-an-archive": b"plain text, not an archive",
        "pickle": pickle.dumps({"a": 1}),
    }


def test_hostile_archives_are_rejected_whole_and_write_nothing(world: World, canary: Path) -> None:
    run_id = world.values["run_id"]
    headers = {**auth(world.tokens["root"]), "content-type": "application/octet-stream"}
    listed_before = world.client.get(f"/api/v1/runs/{run_id}/artifacts", headers=headers).json()
    blobs_before = sorted((world.root / "artifacts").rglob("*"))
    outside_before = _outside_files(world)
    for name, body in _hostile_archives(canary).items():
        response = world.client.put(
            f"/api/v1/runs/{run_id}/archives/upload", content=body, headers=headers
        )
        assert response.status_code in {413, 422}, (name, response.text)
        assert response.json()["field"] == "archive", name
    listed = world.client.get(f"/api/v1/runs/{run_id}/artifacts", headers=headers).json()
    assert listed == listed_before
    assert sorted((world.root / "artifacts").rglob("*")) == blobs_before
    assert _outside_files(world) == outside_before
    assert canary.read_text() == "canary"


def test_a_good_archive_unpacks_into_run_files(world: World) -> None:
    run_id = world.values["run_id"]
    headers = {**auth(world.tokens["root"]), "content-type": "application/octet-stream"}
    body = _tar([_member("model/", tarfile.DIRTYPE), _member("model/w.bin"), _member("c.json")])
    response = world.client.put(
        f"/api/v1/runs/{run_id}/archives/bundle", content=body, headers=headers
    )
    assert response.status_code == 201, response.text
    assert sorted(f["path"] for f in response.json()) == ["bundle/c.json", "bundle/model/w.bin"]
    got = world.client.get(f"/api/v1/runs/{run_id}/artifacts/bundle/model/w.bin", headers=headers)
    assert got.content == b"x"


class _Trap:
    """Unpickling this creates the trap file: if it ever exists, something unpickled."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (str(self.path), "w"))


def test_no_endpoint_unpickles_what_it_is_sent(world: World) -> None:
    trap = world.root / "unpickled"
    payload = pickle.dumps(_Trap(trap))
    root = auth(world.tokens["root"])
    run_id = world.values["run_id"]
    raw = {**root, "content-type": "application/octet-stream"}
    stored = world.client.put(
        f"/api/v1/runs/{run_id}/artifacts/model.pkl", content=payload, headers=raw
    )
    assert stored.status_code == 201
    world.client.put(f"/api/v1/runs/{run_id}/archives/p", content=payload, headers=raw)
    for call in api_calls(world.app):
        if call.method in {"POST", "PUT"}:
            url = re.sub(r"\{(\w+)\}", lambda m: world.values[m.group(1)], call.template)
            world.client.request(call.method, url, content=payload, headers=raw)
            json_headers = {**root, "content-type": "application/json"}
            world.client.request(call.method, url, content=payload, headers=json_headers)
    world.client.get("/api/v1/auth/whoami", headers={"authorization": f"Bearer {payload!r}"})
    world.client.get("/api/v1/auth/whoami", headers={"cookie": f"lockgate_session={payload.hex()}"})
    back = world.client.get(f"/api/v1/runs/{run_id}/artifacts/model.pkl", headers=root)
    assert back.content == payload
    assert not trap.exists()


UNSAFE_MODULES = {
    "pickle",
    "cPickle",
    "_pickle",
    "dill",
    "cloudpickle",
    "joblib",
    "marshal",
    "shelve",
}
UNSAFE_CALLS = {("yaml", "load"), ("yaml", "unsafe_load"), ("torch", "load"), ("numpy", "load")}
REVIEWED = {
    # The scikit-learn flavor's pickle format: it loads only from a package whose digests and
    # signature the loader verified (refused otherwise: tests/serving/flavors/test_sklearn.py),
    # and only the loader passes verified=True (test below).
    "serving/flavors/sklearn.py:pickle",
}


def test_the_source_imports_no_deserializer_of_code() -> None:
    offenders = []
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module.split(".")[0]]
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                owner = node.func.value
                if isinstance(owner, ast.Name) and (owner.id, node.func.attr) in UNSAFE_CALLS:
                    offenders.append(f"{path}:{node.lineno} {owner.id}.{node.func.attr}")
            offenders.extend(f"{path}:{node.lineno} {n}" for n in names if n in UNSAFE_MODULES)
    reviewed = {f"{SRC / entry.split(':')[0]}:{entry.split(':')[1]}" for entry in REVIEWED}
    unreviewed = [o for o in offenders if f"{o.split(':')[0]}:{o.split()[-1]}" not in reviewed]
    assert not unreviewed, unreviewed


VOUCHERS = {
    # Right after it checked every file's digest and the manifest's signature.
    "serving/loader.py",
    # save_model scores the example on the package it has just written itself, in-process.
    "serving/flavors/package.py",
}


def test_only_the_loader_vouches_that_a_package_was_verified() -> None:
    """`verified=True` lets a flavor run code as it loads; only reviewed callers pass it (a
    flavor passing on its caller's flag is fine)."""
    vouching = set()
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (
                isinstance(node, ast.keyword)
                and node.arg == "verified"
                and isinstance(node.value, ast.Constant)
                and node.value.value is not False
            ):
                vouching.add(path.relative_to(SRC).as_posix())
    assert vouching == VOUCHERS


class _Canary(BaseHTTPRequestHandler):
    hits: list[str] = []

    def _hit(self) -> None:
        type(self).hits.append(f"{self.command} {self.path}")
        self.send_response(200)
        self.end_headers()

    do_GET = do_POST = do_PUT = do_HEAD = _hit

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def canary_server() -> Iterator[str]:
    _Canary.hits = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Canary)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def _with_url(value: object, url: str) -> object:
    if isinstance(value, str):
        return url
    if isinstance(value, dict):
        return {k: _with_url(v, url) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_url(v, url) for v in value]
    return value


def test_no_endpoint_fetches_a_url_it_is_given(world: World, canary_server: str) -> None:
    urls = [
        f"{canary_server}/x",
        canary_server.replace("127.0.0.1", "2130706433"),
        canary_server.replace("127.0.0.1", "[::ffff:127.0.0.1]"),
        canary_server.replace("http://127.0.0.1", "file:///etc/passwd#"),
    ]
    root = auth(world.tokens["root"])
    for call in api_calls(world.app):
        body = BODIES.get((call.method, call.template))
        url = re.sub(r"\{(\w+)\}", lambda m: world.values[m.group(1)], call.template)
        for target in urls:
            if isinstance(body, dict):
                world.client.request(call.method, url, json=_with_url(body, target), headers=root)
            world.client.request(
                call.method, url, params={"url": target, "source": target}, headers=root
            )
    dataset = {"name": "d", "fingerprint": "a" * 64, "source": f"{canary_server}/data.csv"}
    inputs = world.client.post(
        f"/api/v1/runs/{world.values['run_id']}/inputs", json=dataset, headers=root
    )
    assert inputs.status_code in {204, 409}, inputs.text
    assert _Canary.hits == []
    assert os.environ.get("LOCKGATE_EGRESS_ALLOW") is None


def test_a_symlink_planted_in_the_artifact_store_is_never_followed(
    world: World, canary: Path
) -> None:
    root = auth(world.tokens["root"])
    run_id = world.values["run_id"]
    raw = {**root, "content-type": "application/octet-stream"}
    stored = world.client.put(
        f"/api/v1/runs/{run_id}/artifacts/planted.bin", content=b"p", headers=raw
    )
    digest = stored.json()["digest"]
    (blob,) = [p for p in (world.root / "artifacts").rglob(digest) if p.is_file()]
    blob.unlink()
    blob.symlink_to(canary)
    response = world.client.get(f"/api/v1/runs/{run_id}/artifacts/planted.bin", headers=root)
    assert b"canary" not in response.content
    assert 400 <= response.status_code < 600, response.text
    again = world.client.put(
        f"/api/v1/runs/{run_id}/artifacts/again.bin", content=b"p", headers=raw
    )
    assert again.status_code < 500, again.text
    assert canary.read_text() == "canary"
    assert not canary.is_symlink()
