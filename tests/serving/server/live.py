"""An inference server on a real socket, in a thread, for clients that speak HTTP themselves."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from lockgate.serving.server import InferenceServer


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(server: InferenceServer) -> Iterator[str]:
    """Run `server` until the block ends; yields its `host:port`."""
    app, logger = server.build()
    if logger is not None:
        logger.start()
    instance = uvicorn.Server(server.config(app))
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not instance.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the inference server did not start")
        time.sleep(0.01)
    try:
        yield f"{server.host}:{server.port}"
    finally:
        instance.should_exit = True
        thread.join(timeout=20)
        if logger is not None:
            logger.close()
