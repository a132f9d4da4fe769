"""Every answered or failed prediction reaches the prediction log under the id the client was
given; a stalled sink neither fails nor holds up a prediction, and loses no record."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from lockgate.serving.prediction_log import PredictionLogger, PredictionStatus
from lockgate.serving.server import InferenceApp, ServingOptions
from tests.serving.memory_sink import MemorySink, wait_until
from tests.serving.server.models import served

ROWS = [{"age": float(n), "tenure": 1.0, "spend": 0.5} for n in range(4)]


def _logger(sink: MemorySink, tmp_path: Path) -> PredictionLogger:
    return PredictionLogger(
        sink,
        spill_directory=tmp_path / "spill",
        queue_size=64,
        batch_size=16,
        flush_interval=0.02,
        write_timeout=0.1,
        retry_initial=0.02,
        retry_max=0.05,
    )


async def _send(app: InferenceApp, requests: int) -> list[httpx.Response]:
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://serve.test") as http:
        responses: list[httpx.Response] = []
        for start in range(0, requests, 25):
            responses += await asyncio.gather(
                *(
                    http.post("/invocations", json={"dataframe_records": ROWS})
                    for _ in range(start, min(requests, start + 25))
                )
            )
        return responses


def test_records_carry_what_the_client_saw(tmp_path: Path) -> None:
    sink = MemorySink()
    logger = _logger(sink, tmp_path)
    logger.start()
    app = InferenceApp([served()], ServingOptions(), prediction_log=logger)
    bad = {"dataframe_records": [{"age": 1.0, "tenure": 1.0, "spend": -5.0}]}

    async def calls() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://serve.test") as http:
            ok = await http.post(
                "/invocations", json={"dataframe_records": ROWS}, headers={"x-request-id": "r-1"}
            )
            failed = await http.post("/invocations", json=bad)
            invalid = await http.post("/invocations", json={"dataframe_records": [{"age": 1}]})
            return [ok, failed, invalid]

    ok, failed, invalid = asyncio.run(calls())
    logger.close()

    assert (ok.status_code, failed.status_code, invalid.status_code) == (200, 500, 400)
    records = {record.prediction_id: record for record in sink.records}
    assert len(records) == 2  # a request that never reached the model is not a prediction
    answered = records[ok.headers["x-prediction-id"]]
    assert (answered.model, answered.version, answered.request_id) == ("churn", 3, "r-1")
    assert answered.status == PredictionStatus.OK
    assert answered.latency_ms > 0
    assert list(answered.inputs["age"]) == [0.0, 1.0, 2.0, 3.0]  # type: ignore[call-overload]
    assert answered.outputs is not None
    assert list(answered.outputs["score"]) == ok.json()["predictions"]  # type: ignore[call-overload]
    (failure,) = [r for r in sink.records if r.status == PredictionStatus.ERROR]
    assert failure.outputs is None
    assert "spend must not be negative" in (failure.error or "")


def test_a_stalled_sink_fails_no_prediction_and_loses_no_record(tmp_path: Path) -> None:
    sink = MemorySink()
    sink.released.clear()  # every write blocks until released
    logger = _logger(sink, tmp_path)
    logger.start()
    app = InferenceApp([served()], ServingOptions(), prediction_log=logger)

    responses = asyncio.run(_send(app, 300))

    assert all(r.status_code == 200 for r in responses)
    wait_until(sink.blocked.is_set)
    assert logger.stats().spilled > 0  # the records went to disk while the sink hung
    sink.released.set()
    wait_until(lambda: logger.stats().spill_segments == 0 and logger.stats().in_memory == 0)
    logger.close()

    given = {r.headers["x-prediction-id"] for r in responses}
    assert len(given) == 300
    assert set(sink.ids()) == given  # at least once: every prediction, nothing else
    assert logger.stats().dropped == 0


def test_prediction_ids_are_uuid7_and_sort_by_time(tmp_path: Path) -> None:
    sink = MemorySink()
    logger = _logger(sink, tmp_path)
    logger.start()
    app = InferenceApp([served()], ServingOptions(), prediction_log=logger)

    async def one_by_one() -> list[str]:
        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://serve.test") as http:
            ids = []
            for _ in range(5):
                response = await http.post("/invocations", json={"dataframe_records": ROWS})
                ids.append(response.headers["x-prediction-id"])
            return ids

    ids = asyncio.run(one_by_one())
    logger.close()
    assert ids == sorted(ids)
    assert all(len(i) == 32 and i[12] == "7" for i in ids)  # the UUID version nibble
    assert set(sink.ids()) == set(ids)


def test_requests_scored_in_one_batch_are_logged_each_with_its_own_rows(tmp_path: Path) -> None:
    sink = MemorySink()
    logger = _logger(sink, tmp_path)
    logger.start()
    model = served()
    app = InferenceApp([model], ServingOptions(), prediction_log=logger)

    async def together() -> list[tuple[list[float], httpx.Response]]:
        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://serve.test") as http:
            ages = [[float(n)] * (1 + n % 3) for n in range(12)]
            bodies = [
                {"dataframe_records": [{"age": a, "tenure": 2.0, "spend": 1.0} for a in age]}
                for age in ages
            ]
            responses = await asyncio.gather(
                *(http.post("/invocations", json=body) for body in bodies)
            )
            return list(zip(ages, responses, strict=True))

    sent = asyncio.run(together())
    logger.close()

    assert max(model.predictor.batches) > 3  # type: ignore[attr-defined]  # a WeightedSum
    logged = {record.prediction_id: record for record in sink.records}
    assert len(logged) == 12
    for ages, response in sent:
        record = logged[response.headers["x-prediction-id"]]
        assert record.inputs is not None
        assert record.outputs is not None
        assert record.inputs["age"] == ages
        assert record.inputs["tenure"] == [2.0] * len(ages)
        assert record.outputs["score"] == response.json()["predictions"]
