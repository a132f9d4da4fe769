"""Request-scoped dependencies: the platform of this app and the actor making the request."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from lockgate.domain.identity import Actor
from lockgate.server.composition import Platform

__all__ = ["ActorDep", "PageSize", "PageToken", "PlatformDep"]


def _platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


def _actor(request: Request) -> Actor:
    # Until identity lands every request acts as the configured local actor.
    platform: Platform = request.app.state.platform
    return platform.default_actor


PlatformDep = Annotated[Platform, Depends(_platform)]
ActorDep = Annotated[Actor, Depends(_actor)]
PageSize = Annotated[int, Query(ge=1, le=1000, description="Items per page (1-1000).")]
PageToken = Annotated[
    str | None, Query(max_length=4096, description="next_page_token of the previous page.")
]
