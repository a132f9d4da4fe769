"""The inference server's routes, answers, errors and metrics, through its ASGI interface."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from lockgate.serving.server import InferenceApp, ServingOptions
from tests.serving.server.models import WeightedSum, served

ROW = {"age": 30.0, "tenure": 2.0, "spend": 1.5}
SPLIT = {"dataframe_split": {"columns": list(ROW), "data": [list(ROW.values())]}}


def _v2(rows: list[dict[str, float]]) -> dict[str, object]:
    return {
        "inputs": [
            {
                "name": name,
                "shape": [len(rows)],
                "datatype": "FP64",
                "data": [r[name] for r in rows],
            }
            for name in ROW
        ]
    }


@pytest.fixture
def app() -> InferenceApp:
    return InferenceApp([served()], ServingOptions(max_body_bytes=4096, max_request_rows=100))


@pytest.fixture
def http(app: InferenceApp) -> Iterator[httpx.AsyncClient]:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://serve.test")


def _run(coroutine: object) -> httpx.Response:
    return asyncio.run(coroutine)  # type: ignore[arg-type]


def test_health_and_metadata(http: httpx.AsyncClient) -> None:
    async def calls() -> list[httpx.Response]:
        return [
            await http.get("/ping"),
            await http.get("/v2/health/live"),
            await http.get("/v2/health/ready"),
            await http.get("/v2"),
            await http.get("/v2/models/churn"),
            await http.get("/v2/models/churn/versions/3"),
            await http.get("/v2/models/churn/ready"),
        ]

    ping, live, ready, server, model, versioned, model_ready = asyncio.run(calls())
    assert ping.status_code == live.status_code == ready.status_code == 200
    assert server.json()["name"] == "lockgate"
    assert "binary_tensor_data" in server.json()["extensions"]
    assert model.json() == versioned.json()
    assert model.json()["versions"] == ["3"]
    assert [i["name"] for i in model.json()["inputs"]] == list(ROW)
    assert model.json()["inputs"][0] == {"name": "age", "datatype": "FP64", "shape": [-1]}
    assert model_ready.json() == {"name": "churn", "ready": True}


def test_invocations_answers_like_mlflow(http: httpx.AsyncClient) -> None:
    response = _run(http.post("/invocations", json=SPLIT))
    assert response.status_code == 200, response.text
    assert response.json() == {"predictions": [30.0 + 20.0 + 150.0]}
    assert len(response.headers["x-prediction-id"]) == 32
    assert response.headers["x-request-id"]


def test_v2_infer_answers_with_typed_tensors(http: httpx.AsyncClient) -> None:
    rows = [ROW, {"age": 1.0, "tenure": 1.0, "spend": 1.0}]
    response = _run(http.post("/v2/models/churn/versions/3/infer", json={"id": "r1", **_v2(rows)}))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model_name"] == "churn"
    assert body["model_version"] == "3"
    assert body["id"] == "r1"
    assert body["outputs"] == [
        {"name": "score", "datatype": "FP64", "shape": [2], "data": [200.0, 111.0]}
    ]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "/invocations",
            {"dataframe_split": {"columns": ["age"], "data": [[1.0]]}},
            "dataframe_split.columns",
        ),
        (
            "/invocations",
            {"dataframe_records": [{**ROW, "spend": "lots"}]},
            "dataframe_records.spend",
        ),
        ("/invocations", {"nothing": []}, "body"),
        (
            "/v2/models/churn/infer",
            {
                "inputs": [
                    {"name": name, "shape": [2], "datatype": "FP64", "data": [1.0, 2.0][:size]}
                    for name, size in (("age", 1), ("tenure", 2), ("spend", 2))
                ]
            },
            "inputs[0].data",
        ),
    ],
)
def test_bad_input_gets_a_problem_naming_the_field(
    http: httpx.AsyncClient, path: str, body: object, field: str
) -> None:
    response = _run(http.post(path, json=body))
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["field"] == field
    assert problem["status"] == 400
    assert problem["code"] == "invalid_input"
    assert problem["error"] == problem["detail"]  # what Triton's clients show
    assert problem["request_id"] == response.headers["x-request-id"]


def test_unknown_models_and_routes_are_404(http: httpx.AsyncClient) -> None:
    async def calls() -> list[httpx.Response]:
        return [
            await http.post("/v2/models/other/infer", json=_v2([ROW])),
            await http.get("/v2/models/churn/versions/9"),
            await http.get("/v2/models/churn/explain"),
            await http.get("/nothing"),
            await http.get("/invocations"),
        ]

    for response in asyncio.run(calls()):
        assert response.status_code == 404, response.request.url
        assert response.json()["code"] == "not_found"


def test_oversized_bodies_and_other_media_types_are_refused(http: httpx.AsyncClient) -> None:
    async def calls() -> list[httpx.Response]:
        return [
            await http.post("/invocations", content=b"{" + b" " * 5000 + b"}"),
            await http.post(
                "/invocations", content=b"<xml/>", headers={"content-type": "application/xml"}
            ),
            await http.post(
                "/invocations",
                json={"dataframe_split": {"columns": list(ROW), "data": [[1, 2, 3]] * 101}},
            ),
        ]

    too_big, xml, too_many_rows = asyncio.run(calls())
    assert too_big.status_code == 413
    assert too_big.json()["field"] == "body"
    assert xml.status_code == 415
    assert too_many_rows.status_code == 413


def test_a_failing_model_fails_only_its_request(http: httpx.AsyncClient) -> None:
    async def together() -> list[httpx.Response]:
        bad = {"dataframe_records": [{**ROW, "spend": -1.0}]}
        return list(
            await asyncio.gather(
                http.post("/invocations", json=SPLIT),
                http.post("/invocations", json=bad),
                http.post("/invocations", json=SPLIT),
            )
        )

    first, bad, third = asyncio.run(together())
    assert first.status_code == third.status_code == 200
    assert bad.status_code == 500
    assert bad.json()["code"] == "prediction_failed"
    assert "spend must not be negative" in bad.json()["detail"]


def test_concurrent_requests_are_batched(app: InferenceApp, http: httpx.AsyncClient) -> None:
    async def many() -> list[httpx.Response]:
        return list(
            await asyncio.gather(*(http.post("/invocations", json=SPLIT) for _ in range(20)))
        )

    responses = asyncio.run(many())
    assert all(r.json() == {"predictions": [200.0]} for r in responses)
    model = app._by_name["churn"].predictor
    assert isinstance(model, WeightedSum)
    assert sum(model.batches) == 20
    assert max(model.batches) > 1


def test_several_models_in_one_process() -> None:
    app = InferenceApp([served("churn", 3), served("fraud", 7)], ServingOptions())
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://serve.test")

    async def calls() -> list[httpx.Response]:
        return [
            await http.post("/v2/models/fraud/infer", json=_v2([ROW])),
            await http.post("/invocations", json=SPLIT),
            await http.post("/invocations?model=fraud", json=SPLIT),
        ]

    fraud, ambiguous, chosen = asyncio.run(calls())
    assert fraud.json()["model_name"] == "fraud"
    assert fraud.json()["model_version"] == "7"
    assert ambiguous.status_code == 400
    assert ambiguous.json()["field"] == "model"
    assert chosen.json() == {"predictions": [200.0]}


def test_metrics_count_requests_errors_latency_and_batches(http: httpx.AsyncClient) -> None:
    async def calls() -> httpx.Response:
        await http.post("/invocations", json=SPLIT)
        await http.post("/v2/models/churn/infer", json=_v2([ROW, ROW]))
        await http.post("/invocations", json={"nothing": 1})
        return await http.get("/metrics")

    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(asyncio.run(calls()).text)
        for sample in family.samples
    }
    model = (("model", "churn"), ("version", "3"))

    def value(name: str, **labels: str) -> float:
        return samples[(name, tuple(sorted((*model, *labels.items()))))]

    total = "lockgate_inference_requests_total"
    assert value(total, protocol="invocations", status="ok") == 1
    assert value(total, protocol="v2", status="ok") == 1
    assert value(total, protocol="invocations", status="error") == 1
    assert value("lockgate_inference_errors_total", code="invalid_input") == 1
    assert value("lockgate_inference_rows_total") == 3
    assert value("lockgate_inference_request_duration_seconds_count") == 2
    assert value("lockgate_inference_batch_rows_bucket", le="2.0") == 2
    assert value("lockgate_inference_batch_rows_bucket", le="1.0") == 1
    assert not [name for name, _ in samples if name.endswith("_created")]


def test_an_app_needs_a_model() -> None:
    with pytest.raises(ValueError, match="at least one model"):
        InferenceApp([], ServingOptions())


def test_a_content_length_of_other_digits_is_not_a_crash(app: InferenceApp) -> None:
    """'¹' is a digit to str.isdigit() but not to int(): the header is ignored, not a 500."""
    body = orjson.dumps(SPLIT)
    sent: list[dict[str, object]] = []
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/invocations",
        "query_string": b"",
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", "¹".encode("latin-1")),
        ],
    }

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 200
    assert orjson.loads(sent[1]["body"]) == {"predictions": [200.0]}  # type: ignore[arg-type]
