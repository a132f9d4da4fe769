"""Every request is bounded: the app's own OpenAPI schema gives every string, list and map a
limit (so a new schema without one fails here), and the server refuses what exceeds them with
a 422 naming the field, changing nothing."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from lockgate.api.limits import ALIAS_PATTERN, ID_PATTERN, KEY_PATTERN, NAME_PATTERN
from lockgate.domain.errors import InvalidInputError
from lockgate.domain.identity import check_id
from lockgate.domain.names import check_alias, check_key, check_name
from lockgate.server.app import create_app
from lockgate.server.inprocess import InProcessTransport
from lockgate.settings import Settings
from lockgate.store.sql import upgrade
from tests.api.conftest import audit_count

JsonSchema = dict[str, Any]

# A format fixes the shape (and so the length) of a string.
_BOUNDED_FORMATS = {"date-time", "date", "time", "uuid", "binary"}
_PAGE_SIZE = re.compile(r"page_size|limit")


@pytest.fixture(scope="module")
def openapi(tmp_path_factory: pytest.TempPathFactory) -> JsonSchema:
    home = tmp_path_factory.mktemp("openapi")
    url = f"sqlite:///{home / 'lockgate.db'}"
    upgrade(url)
    return create_app(Settings(home=home, metadata_url=url)).openapi()


def _resolve(spec: JsonSchema, schema: JsonSchema) -> JsonSchema:
    while "$ref" in schema:
        name = schema["$ref"].removeprefix("#/components/schemas/")
        schema = spec["components"]["schemas"][name]
    return schema


def _children(schema: JsonSchema) -> Iterator[tuple[str, JsonSchema]]:
    for name, child in schema.get("properties", {}).items():
        yield f".{name}", child
    for key in ("items", "additionalProperties", "propertyNames"):
        if isinstance(schema.get(key), dict):
            yield f"[{key}]", schema[key]
    for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
        for index, child in enumerate(schema.get(key, [])):
            yield f"[{key}{index}]", child


def _missing_limits(name: str, schema: JsonSchema) -> list[str]:
    kind = schema.get("type")
    missing = []
    if kind == "array" and "maxItems" not in schema:
        missing.append("maxItems")
    is_map = schema.get("additionalProperties", False) is not False
    if kind == "object" and is_map and "maxProperties" not in schema:
        missing.append("maxProperties")
    bounded_string = "enum" in schema or "const" in schema or "maxLength" in schema
    if kind == "string" and not bounded_string and schema.get("format") not in _BOUNDED_FORMATS:
        missing.append("maxLength")
    leaf = name.rsplit(".", 1)[-1]
    if kind == "integer" and _PAGE_SIZE.fullmatch(leaf) and "maximum" not in schema:
        missing.append("maximum")
    return missing


def _unbounded(spec: JsonSchema, where: str, schema: JsonSchema, seen: set[str]) -> Iterator[str]:
    """Every place under `schema` that lacks a limit, as `where: limit`."""
    if "$ref" in schema:
        if schema["$ref"] in seen:
            return
        seen = seen | {schema["$ref"]}
    schema = _resolve(spec, schema)
    for limit in _missing_limits(where, schema):
        yield f"{where}: {limit}"
    for suffix, child in _children(schema):
        yield from _unbounded(spec, where + suffix, child, seen)


def _request_schemas(
    spec: JsonSchema, *, path_parameters: bool
) -> Iterator[tuple[str, JsonSchema]]:
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            label = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                if (parameter["in"] == "path") == path_parameters:
                    yield f"{label} {parameter['in']}.{parameter['name']}", parameter["schema"]
            if path_parameters:
                continue
            for media_type, content in operation.get("requestBody", {}).get("content", {}).items():
                if "schema" in content:
                    yield f"{label} body({media_type})", content["schema"]


def test_every_request_body_and_query_parameter_is_bounded(openapi: JsonSchema) -> None:
    unbounded = [
        problem
        for where, schema in _request_schemas(openapi, path_parameters=False)
        for problem in _unbounded(openapi, where, schema, set())
    ]
    assert not unbounded, "give these a limit in lockgate.api:\n" + "\n".join(unbounded)


def test_every_path_parameter_is_bounded(openapi: JsonSchema) -> None:
    unbounded = [
        problem
        for where, schema in _request_schemas(openapi, path_parameters=True)
        for problem in _unbounded(openapi, where, schema, set())
    ]
    assert not unbounded, "annotate these with a lockgate.api.limits type:\n" + "\n".join(unbounded)


def test_the_walk_finds_a_missing_limit() -> None:
    spec: JsonSchema = {
        "components": {
            "schemas": {
                "In": {
                    "type": "object",
                    "properties": {
                        "names": {"type": "array", "items": {"type": "string"}},
                        "tags": {"type": "object", "additionalProperties": {"type": "string"}},
                        "at": {"type": "string", "format": "date-time"},
                        "page_size": {"type": "integer"},
                    },
                }
            }
        }
    }
    found = list(_unbounded(spec, "body", {"$ref": "#/components/schemas/In"}, set()))
    assert found == [
        "body.names: maxItems",
        "body.names[items]: maxLength",
        "body.tags: maxProperties",
        "body.tags[additionalProperties]: maxLength",
        "body.page_size: maximum",
    ]


def test_every_operation_documents_its_problem_responses(openapi: JsonSchema) -> None:
    undocumented = []
    for path, item in openapi["paths"].items():
        for method, operation in item.items():
            for status in ("400", "404", "413", "415", "422"):
                content = operation["responses"].get(status, {}).get("content", {})
                if "application/problem+json" not in content:
                    undocumented.append(f"{method.upper()} {path} {status}")
    assert not undocumented, (
        "pass responses=lockgate.api.ERROR_RESPONSES to these routers:\n" + "\n".join(undocumented)
    )


def _refused(response: httpx.Response, field: str) -> None:
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "invalid_input"
    assert problem["field"] == field


def test_too_many_params_change_nothing(api: httpx.Client, run_id: str) -> None:
    before = audit_count(api)
    params = {f"p{i}": "1" for i in range(1001)}
    _refused(api.post(f"/api/v1/runs/{run_id}/params", json={"params": params}), "params")
    tags = {f"t{i}": "x" for i in range(1001)}
    _refused(api.post(f"/api/v1/runs/{run_id}/tags", json={"tags": tags}), "tags")
    assert audit_count(api) == before
    run = api.get(f"/api/v1/runs/{run_id}").json()
    assert run["params"] == {}
    assert run["tags"] == {}


@pytest.fixture
def roomy_api(settings: Settings) -> Iterator[httpx.Client]:
    """The app with a body limit large enough for 10,001 metric points."""
    roomy = settings.model_copy(update={"max_body_bytes": 4 * 1024 * 1024})
    transport = InProcessTransport(create_app(roomy))
    with httpx.Client(transport=transport, base_url="http://lockgate.test") as client:
        yield client
    transport.close()


def test_too_many_metric_points_change_nothing(roomy_api: httpx.Client, run_id: str) -> None:
    api = roomy_api
    before = audit_count(api)
    points = [{"key": "loss", "value": 0.5, "step": step} for step in range(10_001)]
    _refused(api.post(f"/api/v1/runs/{run_id}/metrics", json={"metrics": points}), "metrics")
    assert audit_count(api) == before
    assert api.get(f"/api/v1/runs/{run_id}").json()["metrics"] == {}
    accepted = api.post(f"/api/v1/runs/{run_id}/metrics", json={"metrics": points[:10_000]})
    assert accepted.status_code == 204, accepted.text


def test_oversized_metadata_and_strings_change_nothing(api: httpx.Client, project: str) -> None:
    before = audit_count(api)
    model = {"name": "m", "project": project, "owner": "o", "description": "d"}
    metadata = {f"k{i}": "v" for i in range(201)}
    _refused(api.post("/api/v1/models", json={**model, "metadata": metadata}), "metadata")
    _refused(api.post("/api/v1/models", json={**model, "owner": "o" * 257}), "owner")
    long_key = "k" * 251
    response = api.post("/api/v1/models", json={**model, "metadata": {long_key: "v"}})
    _refused(response, f"metadata.{long_key}")
    _refused(
        api.post("/api/v1/projects", json={"name": "p", "description": "d" * 6001}),
        "description",
    )
    assert audit_count(api) == before
    assert api.get("/api/v1/models").json()["items"] == []


def test_nested_limits_name_the_nested_field(api: httpx.Client, project: str) -> None:
    packages = ["pkg==1"] * 5001
    response = api.post(
        f"/api/v1/projects/{project}/runs", json={"environment": {"packages": packages}}
    )
    _refused(response, "environment.packages")
    signature = {"inputs": [{"name": "x", "type": "int64", "shape": [1] * 9}], "outputs": []}
    response = api.post(
        "/api/v1/models/m/versions",
        json={"run_id": "0" * 32, "artifact_path": "model", "signature": signature},
    )
    _refused(response, "signature.inputs[0].shape")


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/projects", "page_size"),
        ("/api/v1/models", "page_size"),
        ("/api/v1/models/m/versions", "page_size"),
        ("/api/v1/audit/events", "limit"),
    ],
)
def test_page_sizes_over_the_maximum_are_refused(api: httpx.Client, path: str, field: str) -> None:
    _refused(api.get(path, params={field: 1001}), field)


def test_search_and_history_page_sizes_are_bounded(api: httpx.Client, run_id: str) -> None:
    project = api.get(f"/api/v1/runs/{run_id}").json()["project"]
    search = api.post(f"/api/v1/projects/{project}/runs/search", json={"page_size": 1001})
    _refused(search, "page_size")
    history = api.get(f"/api/v1/runs/{run_id}/metrics/loss/history", params={"page_size": 100_001})
    _refused(history, "page_size")


def test_limits_leave_valid_input_alone(api: httpx.Client, run_id: str) -> None:
    params = {f"p{i}": "v" for i in range(999)} | {"k" * 250: "v" * 6000}
    response = api.post(f"/api/v1/runs/{run_id}/params", json={"params": params})
    assert response.status_code == 204, response.text
    assert len(api.get(f"/api/v1/runs/{run_id}").json()["params"]) == 1000


@pytest.mark.parametrize(
    ("pattern", "check", "value"),
    [
        (NAME_PATTERN, check_name, value)
        for value in ["churn", "a", "0.b_c-d", "Churn", "-a", "a b", "é", "a/b", ""]
    ]
    + [
        (ALIAS_PATTERN, check_alias, value)
        for value in ["champion", "a-1_b", "1a", "Champion", "a.b", ""]
    ]
    + [(ID_PATTERN, check_id, value) for value in ["0" * 32, "a" * 32, "A" * 32, "0" * 31]]
    + [(KEY_PATTERN, check_key, value) for value in ["val_auc", "a b/c:d.e-f", "a!", "ü", ""]],
)
def test_published_patterns_agree_with_the_domain(
    pattern: str, check: Callable[..., str], value: str
) -> None:
    try:
        check(value, field="f")
    except InvalidInputError:
        accepted = False
    else:
        accepted = True
    assert (re.search(pattern, value) is not None) == accepted


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/models/m/versions/99999999999999999999",
        "/api/v1/audit/events?after_seq=99999999999999999999",
    ],
)
def test_integers_beyond_the_columns_are_refused(api: httpx.Client, url: str) -> None:
    assert api.get(url).status_code == 422
