"""The ASGI app factory: one app per Platform, errors as problem+json, edge guards."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.telemetry import TelemetryConfig

from lockgate.domain.identity import Uuid7Factory
from lockgate.server.auth import Authenticator
from lockgate.server.composition import Platform, bootstrap_from_settings, build_platform
from lockgate.server.cors import install_cors
from lockgate.server.errors import install_error_handlers
from lockgate.server.guard import EdgeGuard
from lockgate.server.routes import ROUTERS
from lockgate.server.routes.tracking import MetricsExpressRoute
from lockgate.server.threads import ServerThreads
from lockgate.settings import Settings
from lockgate.version import __version__

__all__ = ["create_app"]


def create_app(settings: Settings | None = None, *, platform: Platform | None = None) -> FastAPI:
    """Build the app. Raises SchemaOutdatedError when the database is behind the code."""
    settings = settings or Settings()
    platform = platform or build_platform(settings)
    bootstrap_from_settings(platform)
    threads = ServerThreads()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        threads.close()  # the calls under way finish before the store closes
        platform.close()

    app = FastAPI(
        title="Lockgate",
        version=__version__,
        summary="Governed MLOps: tracking, registry, audit.",
        lifespan=lifespan,
        telemetry=_telemetry(settings),
    )
    app.state.platform = platform
    # Before the routers: single-point metric logging is the hottest request; what the lane
    # does not serve, the regular route does (see MetricsExpressRoute).
    app.router.routes.append(MetricsExpressRoute(app.router, threads))
    for router in ROUTERS:
        app.include_router(router)
    install_error_handlers(app)
    # The last added runs first: CORS, the edge guard, authentication, then the routes.
    app.add_middleware(
        Authenticator,
        credentials=platform.credentials,
        local_caller=platform.local_caller,
        threads=threads,
    )
    app.add_middleware(
        EdgeGuard,
        ids=Uuid7Factory(),
        max_body_bytes=settings.max_body_bytes,
        allowed_hosts=settings.allowed_hosts,
    )
    # Outermost: preflights are answered before auth, and refusals carry CORS headers.
    install_cors(app, settings.cors_origins)
    return app


def _telemetry(settings: Settings) -> TelemetryConfig:
    """FastAPI's native OpenTelemetry instrumentation, through the process's global providers,
    when the settings ask for it. Off, a request skips its checks (about 20 µs of CPU each:
    it looks the providers up on every request)."""
    enabled = settings.otel_enabled
    return {"tracing": enabled, "metrics": enabled, "logs": enabled}
