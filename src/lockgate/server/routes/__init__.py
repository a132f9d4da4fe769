"""One router per area."""

from lockgate.server.routes import (
    artifacts,
    audit,
    decommission,
    evaluation,
    evidence,
    health,
    identity,
    lineage,
    model_cards,
    policies,
    promotions,
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
    policies.router,
    promotions.router,
    model_cards.router,
    lineage.router,
    decommission.router,
    artifacts.router,
    artifacts.archives,
    audit.router,
    evidence.router,
    web.router,
)

__all__ = ["ROUTERS"]
