"""Run the API server with uvicorn, refusing to start on an outdated schema."""

from __future__ import annotations

import logging

import uvicorn

from lockgate.server.app import create_app
from lockgate.settings import Settings

__all__ = ["serve"]

log = logging.getLogger("lockgate.server")


def serve(settings: Settings) -> None:
    """Serve until interrupted. Raises SchemaOutdatedError before binding if the database
    schema is behind (the message names `lockgate db upgrade`)."""
    app = create_app(settings)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=False,
        server_header=False,
        http="httptools",
        loop="uvloop",
    )
