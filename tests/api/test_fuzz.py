"""Schemathesis fuzzes every operation of the real app in-process, with valid and invalid input:
no request may cause a 5xx, and every response must be one the OpenAPI schema documents (status,
media type and body), and input the schema forbids must be refused. Path parameters name real
objects half of the time (a seeded project, run, metric, artifact, model version and alias), so
the fuzzer reaches past the 404s.

Bounded and deterministic: derandomized Hypothesis and a few examples per operation;
SQLite gets the full run, PostgreSQL a smaller one. One test per operation, so a failure names
the route and xdist spreads the work.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import hypothesis
import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.routing import APIRoute
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.python.asgi import shutdown_lifespans

from lockgate.server.app import create_app
from lockgate.server.guard import LOOPBACK_HOSTS
from lockgate.server.routes import ROUTERS
from lockgate.settings import Settings
from tests.api.world import COMPARISON_BODY, EVALUATION_BODY, fill

EXAMPLES = {"sqlite": 15, "postgresql": 4}  # per operation, both modes together

# No `positive_data_acceptance`: the domain refuses input the schema cannot express (a blank
# owner, a control character, an id that names nothing) with a documented 4xx, which is right.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]

# Refusing invalid input includes refusing it for its size.
CONFIG = schemathesis.Config.from_dict(
    {"checks": {"negative_data_rejection": {"expected-statuses": ["4xx"]}}}
)

# Schemathesis' in-process client sends `Host: testserver`.
FUZZ_HOST = "testserver"


def _operations() -> list[tuple[str, str]]:
    """(method, OpenAPI path) of every route, known without building an app."""
    found = set()
    for router in ROUTERS:
        for route in router.routes:
            assert isinstance(route, APIRoute)
            path = route.path.replace(":path}", "}")
            found |= {(method, path) for method in route.methods}
    return sorted(found, key=lambda operation: (operation[1], operation[0]))


async def _seed(app: FastAPI) -> dict[str, Any]:
    """Objects for path parameters to name: a project, a run with a param, a metric and an
    artifact, a model with versions 1 and 2 from that run, an alias on 1, an evaluation of 1
    and a comparison of 2 with 1."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:

        async def call(method: str, path: str, **kwargs: Any) -> Any:
            response = await client.request(method, f"/api/v1{path}", **kwargs)
            assert response.is_success, response.text
            return response.json() if response.content else None

        await call("POST", "/projects", json={"name": "fuzz", "description": "fuzzed"})
        run_id = (await call("POST", "/projects/fuzz/runs", json={"name": "seed"}))["id"]
        await call("POST", f"/runs/{run_id}/params", json={"params": {"lr": "0.1"}})
        metric = {"key": "loss", "value": 1.0}
        await call("POST", f"/runs/{run_id}/metrics", json={"metrics": [metric]})
        await call(
            "PUT",
            f"/runs/{run_id}/artifacts/model/model.json",
            content=b"{}",
            headers={"content-type": "application/octet-stream"},
        )
        model = {"name": "fuzz-model", "project": "fuzz", "owner": "qa", "description": "d"}
        await call("POST", "/models", json=model)
        version = {"run_id": run_id, "artifact_path": "model"}
        await call("POST", "/models/fuzz-model/versions", json=version)
        await call("PUT", "/models/fuzz-model/aliases/champion", json={"version": 1})
        await call("POST", "/models/fuzz-model/versions", json=version)
        digests = {
            f"digest_{n}": (await call("GET", f"/models/fuzz-model/versions/{n}/manifest"))[
                "manifest_sha256"
            ]
            for n in (1, 2)
        }
        evaluation = await call(
            "POST",
            "/models/fuzz-model/versions/1/evaluations",
            json=fill(EVALUATION_BODY, digests),
        )
        comparison = await call(
            "POST", "/models/fuzz-model/comparisons", json=fill(COMPARISON_BODY, digests)
        )
    return {
        "project": "fuzz",
        "run_id": run_id,
        "key": "loss",
        "path": "model/model.json",
        "name": "fuzz-model",
        "version": 1,
        "alias": "champion",
        "evaluation_id": evaluation["id"],
        "comparison_id": comparison["id"],
    }


def _cases(operation: schemathesis.APIOperation, real: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Cases of both modes, half of them with the path naming the seeded objects (the path
    parameters that name no seeded object stay generated)."""
    strategies = []
    names = {parameter.name for parameter in operation.path_parameters}
    fixed = {name: real[name] for name in names if name in real}
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        if fixed:
            strategies.append(operation.as_strategy(generation_mode=mode, path_parameters=fixed))
        strategies.append(operation.as_strategy(generation_mode=mode))
    return st.one_of(strategies)


@pytest.mark.parametrize(("method", "path"), _operations())
def test_operation_answers_as_documented(
    settings: Settings, dialect: str, method: str, path: str
) -> None:
    fuzz_settings = settings.model_copy(update={"allowed_hosts": [*LOOPBACK_HOSTS, FUZZ_HOST]})
    app = create_app(fuzz_settings)
    real = asyncio.run(_seed(app))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=CONFIG)
    operation = schema[path][method]

    @hypothesis.settings(
        max_examples=EXAMPLES[dialect],
        derandomize=True,
        database=None,
        deadline=None,
        # Large generated bodies are slow to build, and rejected examples are expected.
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    @hypothesis.given(case=_cases(operation, real))
    def answers_as_documented(case: schemathesis.Case) -> None:
        case.call_and_validate(checks=CHECKS)

    try:
        answers_as_documented()
    finally:
        # Schemathesis keeps the app's lifespan running for the whole process; end it here,
        # which closes the platform's database connections.
        shutdown_lifespans()
