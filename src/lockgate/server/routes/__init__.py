"""One router per area."""

from lockgate.server.routes import artifacts, audit, health, registry, tracking

ROUTERS = (health.router, tracking.router, registry.router, artifacts.router, audit.router)

__all__ = ["ROUTERS"]
