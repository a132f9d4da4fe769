"""Cross-origin access for browsers: off unless exact origins are configured, and then only
for those origins, the API's methods and the headers the web UI sends."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

__all__ = ["CORS_HEADERS", "CORS_METHODS", "install_cors"]

CORS_METHODS = ("GET", "POST", "PUT", "DELETE")
CORS_HEADERS = ("Authorization", "Content-Type", "X-CSRF-Token")


def install_cors(app: FastAPI, origins: Sequence[str]) -> None:
    """Let the browsers of `origins` (exact `scheme://host[:port]` values) call the API.

    With no origins nothing is installed, so browsers keep the same-origin policy. Origins are
    matched exactly (never a wildcard or a pattern), which is what makes credentials (the
    session cookie, with its CSRF token) safe to allow. Install it after the other middleware:
    the last added runs first, so even the edge guard's refusals carry the CORS headers a
    browser needs to show them.
    """
    if not origins:
        return
    if any("*" in origin for origin in origins):
        # Starlette would echo any origin back, with credentials: never.
        raise ValueError("CORS origins must be exact; a wildcard is refused")
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(origins),
        allow_methods=list(CORS_METHODS),
        allow_headers=list(CORS_HEADERS),
        allow_credentials=True,
        expose_headers=["X-Request-Id", "ETag", "Retry-After"],
        max_age=600,
    )
