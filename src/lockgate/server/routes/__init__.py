"""One router per area."""

from lockgate.server.routes import (
    artifacts,
    audit,
    evaluation,
    health,
    identity,
    registry,
    tracking,
    web,
)

ROUTERS = (
    health.router,
    identity.router,
    tracking.router,
    registry.router,
    evaluation.router,
    artifacts.router,
    artifacts.archives,
    audit.router,
    web.router,
)

__all__ = ["ROUTERS"]
