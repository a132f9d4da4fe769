"""The floor of the serving benchmark: a bare HTTP/1.1 keep-alive server that calls `predict` once
per request, with nothing between the socket and the model but a header scan and orjson.

Every server in `benchmarks/serving.py` is compared with this one. It takes the body MLflow's and
Lockgate's `/invocations` take (`{"dataframe_split": {"columns": [...], "data": [[...]]}}`), reads
only `data`, and answers `{"predictions": [...]}`; any GET answers 200 (readiness). It runs on
uvloop when uvloop is installed (as Lockgate's and KServe's uvicorn do), else on asyncio's loop.

    .venv/bin/python benchmarks/serving_floor.py --model model.pkl --port 8000
"""

from __future__ import annotations

import argparse
import asyncio
import pickle
from pathlib import Path
from typing import Any, cast

import numpy as np
import orjson

HEADER_END = b"\r\n\r\n"
MAX_HEAD = 64 * 1024


def response(status: bytes, body: bytes) -> bytes:
    head = b"HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
    return head % (status, len(body)) + body


def content_length(head: bytes) -> int:
    """The Content-Length of a request head (0 when it has none)."""
    at = head.lower().find(b"\r\ncontent-length:")
    if at < 0:
        return 0
    start = at + len(b"\r\ncontent-length:")
    end = head.find(b"\r\n", start)
    return int(head[start : end if end >= 0 else len(head)])


class PredictProtocol(asyncio.Protocol):
    """One connection: parse each request as its bytes arrive, answer in order."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.buffer = bytearray()
        self.transport: asyncio.Transport  # set when the connection is made

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(HEADER_END)
            if end < 0:
                if len(self.buffer) > MAX_HEAD:
                    self.transport.close()
                return
            head = bytes(self.buffer[:end])
            try:
                length = content_length(head)
            except ValueError:
                self.transport.write(response(b"400 Bad Request", b"{}"))
                self.transport.close()
                return
            total = end + len(HEADER_END) + length
            if len(self.buffer) < total:
                return
            body = bytes(self.buffer[end + len(HEADER_END) : total])
            del self.buffer[:total]
            self.transport.write(self.answer(head, body))

    def answer(self, head: bytes, body: bytes) -> bytes:
        if not head.startswith(b"POST "):
            return response(b"200 OK", b"{}")
        try:
            rows = orjson.loads(body)["dataframe_split"]["data"]
            predictions = self.model.predict(np.asarray(rows, dtype=np.float64))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as error:
            return response(b"400 Bad Request", orjson.dumps({"error": str(error)}))
        payload = {"predictions": predictions}
        return response(b"200 OK", orjson.dumps(payload, option=orjson.OPT_SERIALIZE_NUMPY))


async def serve(model: Any, host: str, port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: PredictProtocol(model), host, port, backlog=1024)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True, help="a pickled scikit-learn model")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    with args.model.open("rb") as file:
        model = pickle.load(file)  # noqa: S301 - the benchmark's own model file
    try:
        import uvloop
    except ImportError:
        asyncio.run(serve(model, args.host, args.port))
    else:
        uvloop.run(serve(model, args.host, args.port))


if __name__ == "__main__":
    main()
