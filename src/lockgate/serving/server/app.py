"""The inference server as a bare ASGI application: Open Inference Protocol v2, MLflow-style
`/invocations` and `/ping`, and Prometheus `/metrics`, for several models in one process.

No web framework sits on this path: a request is routed with one dictionary lookup, its body
decoded straight into the signature's numpy columns, scored through the model's adaptive
batcher, logged to the prediction log off the request path, and answered.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Awaitable, Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from lockgate.domain.errors import (
    InvalidInputError,
    LockgateError,
    NotFoundError,
    PayloadTooLargeError,
)
from lockgate.domain.identity import Uuid7Factory
from lockgate.serving.flavors.base import Columns
from lockgate.serving.prediction_log import Array, ColumnMatrix, PredictionLogger, Ticket
from lockgate.serving.protocol import (
    MatrixColumns,
    SignaturePlan,
    decode_infer_request,
    decode_invocations,
    encode_infer_response,
    encode_model_metadata,
    encode_predictions,
    encode_server_metadata,
)
from lockgate.serving.server.batching import AdaptiveBatcher
from lockgate.serving.server.metrics import CONTENT_TYPE, ModelMetrics, ServerMetrics
from lockgate.serving.server.models import ServedModel
from lockgate.serving.server.responses import Answer, problem

__all__ = ["InferenceApp", "ServingOptions"]

_JSON = b"application/json"
_PREDICTION_ID = b"x-prediction-id"

log = logging.getLogger("lockgate.serving")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class ServingOptions:
    """How the server batches, bounds and logs requests."""

    max_batch_size: int = 64
    max_batch_wait: float = 0.0
    max_body_bytes: int = 16 * 1024 * 1024
    max_request_rows: int = 10_000
    server_name: str = "lockgate"
    server_version: str = "0"


class InferenceApp:
    """Serves loaded models; `models` maps each name to its versions (the first is the
    default of `/v2/models/{name}/infer` and of `/invocations`)."""

    def __init__(
        self,
        models: Sequence[ServedModel],
        options: ServingOptions,
        *,
        prediction_log: PredictionLogger | None = None,
    ) -> None:
        if not models:
            raise ValueError("an inference server serves at least one model")
        self._options = options
        self._log = prediction_log
        self._ids = Uuid7Factory()
        self.metrics = ServerMetrics()
        if prediction_log is not None:
            self.metrics.watch_prediction_log(prediction_log.stats)
        self._by_name: dict[str, ServedModel] = {}
        self._by_version: dict[tuple[str, str], ServedModel] = {}
        self._instruments: dict[int, _Instruments] = {}
        for model in models:
            self._by_name.setdefault(model.name, model)
            self._by_version[(model.name, str(model.version))] = model
            metrics = self.metrics.for_model(model.name, model.version)
            batcher = AdaptiveBatcher(
                model.predictor.predict,
                max_batch_size=options.max_batch_size,
                max_wait=options.max_batch_wait,
                observe=metrics.batch_rows.observe,
                report=None if prediction_log is None else partial(self._record, model),
            )
            plan = SignaturePlan(model.signature, max_rows=options.max_request_rows)
            self._instruments[id(model)] = _Instruments(batcher, metrics, plan)
        self._server_metadata_body = encode_server_metadata(
            name=options.server_name, version=options.server_version
        )
        self._static: dict[tuple[str, str], Callable[[Scope, bytes], Awaitable[Answer]]] = {
            ("GET", "/ping"): self._ping,
            ("GET", "/health"): self._ping,
            ("GET", "/v2/health/live"): self._live,
            ("GET", "/v2/health/ready"): self._live,
            ("GET", "/v2"): self._server_metadata,
            ("GET", "/metrics"): self._metrics,
            ("POST", "/invocations"): self._invoke,
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = _request_id(scope)
        try:
            body = await self._body(scope, receive)
            answer = await self._route(scope, body)
        except LockgateError as exc:
            answer = problem(exc, request_id)
        except Exception as exc:  # the server's error boundary: a 500, logged
            log.exception("inference request %s failed", request_id)
            answer = problem(exc, request_id)
        await answer.send(send, request_id)

    async def _route(self, scope: Scope, body: bytes) -> Answer:
        method, path = scope["method"], scope["path"]
        handler = self._static.get((method, path))
        if handler is not None:
            return await handler(scope, body)
        if path.startswith("/v2/models/"):
            return await self._v2_model(method, path.split("/")[3:], scope, body)
        raise NotFoundError(f"no route {method} {path}")

    async def _v2_model(self, method: str, parts: list[str], scope: Scope, body: bytes) -> Answer:
        # parts: [name], [name, ready|infer], [name, versions, v], [name, versions, v, ...]
        name, rest = parts[0], parts[1:]
        version: str | None = None
        if len(rest) >= 2 and rest[0] == "versions":
            version, rest = rest[1], rest[2:]
        model = self._model(name, version)
        action = rest[0] if rest else ""
        if len(rest) > 1 or (method, action) not in {
            ("GET", ""),
            ("GET", "ready"),
            ("POST", "infer"),
        }:
            raise NotFoundError(f"no route {method} {scope['path']}")
        tools = self._instruments[id(model)]
        if action == "ready":
            return Answer.json(200, {"name": model.name, "ready": True})
        if action == "":
            metadata = encode_model_metadata(
                tools.plan, name=model.name, versions=[model.version], platform=model.flavor
            )
            return Answer(200, metadata, _JSON)
        return await self._infer_v2(model, tools, scope, body)

    async def _infer_v2(
        self, model: ServedModel, tools: _Instruments, scope: Scope, body: bytes
    ) -> Answer:
        started = time.perf_counter()
        try:
            length = _header(scope, b"inference-header-content-length")
            request = decode_infer_request(tools.plan, body, length)
        except LockgateError as exc:
            tools.metrics.failed("v2", exc.code)
            raise
        outputs, prediction_id = await self._predict(model, tools, "v2", request.inputs, scope)
        encoded = encode_infer_response(
            tools.plan, outputs, model_name=model.name, model_version=model.tag, request=request
        )
        tools.metrics.succeeded("v2", time.perf_counter() - started, _rows(outputs))
        headers = tuple(encoded.headers[2:])  # content-type and -length are the Answer's
        return Answer(
            200,
            encoded.body,
            encoded.content_type.encode(),
            (*headers, (_PREDICTION_ID, prediction_id.encode())),
        )

    async def _invoke(self, scope: Scope, body: bytes) -> Answer:
        model = self._invocation_model(scope)
        tools = self._instruments[id(model)]
        started = time.perf_counter()
        try:
            inputs = decode_invocations(tools.plan, body, _header(scope, b"content-type"))
        except LockgateError as exc:
            tools.metrics.failed("invocations", exc.code)
            raise
        outputs, prediction_id = await self._predict(model, tools, "invocations", inputs, scope)
        encoded = encode_predictions(tools.plan, outputs)
        tools.metrics.succeeded("invocations", time.perf_counter() - started, _rows(outputs))
        return Answer(200, encoded, _JSON, ((_PREDICTION_ID, prediction_id.encode()),))

    async def _predict(
        self,
        model: ServedModel,
        tools: _Instruments,
        protocol: str,
        inputs: Columns,
        scope: Scope,
    ) -> tuple[Columns, str]:
        """Score through the batcher, which reports each batch to the prediction log."""
        prediction_id = self._ids.new_id()  # UUIDv7: prediction ids sort by time
        # The batcher hands the ticket to `_record` with the batch this request was scored in.
        ticket = (prediction_id, time.perf_counter(), scope.get("lockgate.request_id"))
        try:
            outputs = await tools.batcher.predict(inputs, _rows(inputs), ticket)
        except Exception:
            tools.metrics.failed(protocol, "prediction_failed")
            raise
        return outputs, prediction_id

    def _record(
        self,
        model: ServedModel,
        tickets: list[Ticket],
        inputs: Columns,
        rows: list[int],
        outputs: Columns | None,
        error: Exception | None,
    ) -> None:
        """Log a batch the model scored: one prediction per request, all answered or failed.
        Only a tuple is made here; the log's thread makes it a batch and checks it."""
        if self._log is None:
            return
        text = None if error is None else f"{type(error).__name__}: {error}"[:1000]
        answered = time.perf_counter()
        logged: Mapping[str, Array] = inputs
        if type(inputs) is MatrixColumns:
            # Cut from one matrix: the log holds just that, and the mapping and its views go
            # back to the allocator now, while their memory is in cache. (Holding them made
            # each request at one connection about 7 µs slower: fresh memory for every one.)
            logged = ColumnMatrix(inputs.names, inputs.matrix.T)
        self._log.log_scored(
            (model.name, model.version, time.time_ns() // 1000, answered, tickets, rows, logged,
             outputs, text)
        )  # fmt: skip

    def _model(self, name: str, version: str | None) -> ServedModel:
        found = (
            self._by_name.get(name) if version is None else self._by_version.get((name, version))
        )
        if found is None:
            label = name if version is None else f"{name}/{version}"
            raise NotFoundError(f"this server does not serve {label!r}", field="model")
        return found

    def _invocation_model(self, scope: Scope) -> ServedModel:
        if len(self._by_name) == 1:
            return next(iter(self._by_name.values()))
        query = scope.get("query_string", b"").decode("latin-1")
        for pair in query.split("&"):
            key, _, value = pair.partition("=")
            if key == "model" and value:
                return self._model(value, None)
        raise InvalidInputError(
            f"this server serves {len(self._by_name)} models: say which with ?model=NAME",
            field="model",
        )

    async def _body(self, scope: Scope, receive: Receive) -> bytes:
        limit = self._options.max_body_bytes
        length = _header(scope, b"content-length")
        if length is not None and length.isascii() and length.isdigit() and int(length) > limit:
            raise PayloadTooLargeError(f"the body is larger than {limit} bytes", field="body")
        message = await receive()
        body: bytes = message.get("body", b"")
        if not message.get("more_body"):
            return body
        chunks = [body]
        size = len(body)
        while message.get("more_body"):
            message = await receive()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise PayloadTooLargeError(f"the body is larger than {limit} bytes", field="body")
            chunks.append(chunk)
        return b"".join(chunks)

    async def _ping(self, scope: Scope, body: bytes) -> Answer:
        return Answer(200, b"\n", b"text/plain; charset=utf-8")

    async def _live(self, scope: Scope, body: bytes) -> Answer:
        return Answer.json(200, {"live": True, "ready": True})

    async def _server_metadata(self, scope: Scope, body: bytes) -> Answer:
        return Answer(200, self._server_metadata_body, _JSON)

    async def _metrics(self, scope: Scope, body: bytes) -> Answer:
        return Answer(200, self.metrics.render(), CONTENT_TYPE.encode())

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return


@dataclass(frozen=True, slots=True)
class _Instruments:
    """What serving one model takes besides the model: its batcher, metrics and plan."""

    batcher: AdaptiveBatcher[Ticket]
    metrics: ModelMetrics
    plan: SignaturePlan


def _rows(columns: Columns) -> int:
    for column in columns.values():
        return int(column.shape[0])
    return 0


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _request_id(scope: Scope) -> str:
    given = _header(scope, b"x-request-id")
    request_id = (
        given if given and len(given) <= 128 and given.isprintable() else os.urandom(16).hex()
    )
    scope["lockgate.request_id"] = request_id
    return request_id
