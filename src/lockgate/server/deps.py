"""Request-scoped dependencies: the platform of this app and the caller of the request.

They are coroutines on purpose: FastAPI runs a plain `def` dependency in the thread pool, a
hop per dependency per request for what is a dictionary lookup.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from lockgate.domain.access import Caller
from lockgate.domain.errors import UnauthenticatedError
from lockgate.server.composition import Platform

__all__ = ["CallerDep", "PageSize", "PageToken", "PlatformDep"]


async def _platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


async def _caller(request: Request) -> Caller:
    # The Authenticator middleware resolved it; only public routes can get here without.
    caller = request.scope.get("state", {}).get("caller")
    if not isinstance(caller, Caller):
        raise UnauthenticatedError("send an API token (Authorization: Bearer ...) or sign in")
    return caller


PlatformDep = Annotated[Platform, Depends(_platform)]
CallerDep = Annotated[Caller, Depends(_caller)]
PageSize = Annotated[int, Query(ge=1, le=1000, description="Items per page (1-1000).")]
PageToken = Annotated[
    str | None, Query(max_length=4096, description="next_page_token of the previous page.")
]
