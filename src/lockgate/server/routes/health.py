"""The health route, for load balancers and start-up checks."""

from __future__ import annotations

from fastapi import APIRouter

from lockgate.api import ERROR_RESPONSES
from lockgate.api.common import ApiModel
from lockgate.server.permissions import requires
from lockgate.version import __version__

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["health"], responses=ERROR_RESPONSES)


class HealthOut(ApiModel):
    status: str
    version: str


@router.get("/health", openapi_extra=requires("public"))
def health() -> HealthOut:
    """The server is up and its schema is current (it refuses to start otherwise)."""
    return HealthOut(status="ok", version=__version__)
