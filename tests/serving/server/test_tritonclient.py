"""The official Triton HTTP client (tritonclient[http]) works against the inference server:
health, readiness, metadata, and inference with JSON and binary tensor data."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import tritonclient.http as triton
from tritonclient.utils import InferenceServerException

from lockgate.serving.server import InferenceServer, ServingOptions
from tests.serving.server.live import free_port, serving
from tests.serving.server.models import FEATURES, served


@pytest.fixture(scope="module")
def client() -> Iterator[triton.InferenceServerClient]:
    server = InferenceServer([served()], ServingOptions(), port=free_port())
    with serving(server) as url:
        client = triton.InferenceServerClient(url=url)
        yield client
        client.close()


def _inputs(rows: np.ndarray, *, binary: bool) -> list[triton.InferInput]:
    inputs = []
    for index, name in enumerate(FEATURES):
        column = np.ascontiguousarray(rows[:, index])
        tensor = triton.InferInput(name, list(column.shape), "FP64")
        tensor.set_data_from_numpy(column, binary_data=binary)
        inputs.append(tensor)
    return inputs


def test_health_readiness_and_metadata(client: triton.InferenceServerClient) -> None:
    assert client.is_server_live()
    assert client.is_server_ready()
    assert client.is_model_ready("churn")
    assert client.is_model_ready("churn", "3")
    assert client.get_server_metadata()["name"] == "lockgate"
    metadata = client.get_model_metadata("churn")
    assert metadata["versions"] == ["3"]
    assert [tensor["name"] for tensor in metadata["inputs"]] == list(FEATURES)
    assert metadata["outputs"] == [{"name": "score", "datatype": "FP64", "shape": [-1]}]


@pytest.mark.parametrize("binary", [True, False])
def test_infer(client: triton.InferenceServerClient, binary: bool) -> None:
    rows = np.random.default_rng(7).uniform(0, 10, size=(5, 3))
    outputs = [triton.InferRequestedOutput("score", binary_data=binary)]

    result = client.infer(
        "churn", _inputs(rows, binary=binary), model_version="3", outputs=outputs, request_id="q1"
    )

    np.testing.assert_allclose(
        result.as_numpy("score"), rows[:, 0] + 10 * rows[:, 1] + 100 * rows[:, 2]
    )
    assert result.get_response()["id"] == "q1"


def test_errors_reach_the_client_as_its_exception(client: triton.InferenceServerClient) -> None:
    rows = np.ones((2, 3))
    with pytest.raises(InferenceServerException, match="spend"):
        client.infer("churn", _inputs(rows, binary=True)[:2])
    with pytest.raises(InferenceServerException, match="does not serve"):
        client.infer("fraud", _inputs(rows, binary=True))
