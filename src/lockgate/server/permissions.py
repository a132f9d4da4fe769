"""What each route needs, declared on the route and published in the OpenAPI document.

The services decide (through the policy point); the declaration says which permission a
route's service call checks, so the docs can show it and the role-matrix test can hold every
role against every route to it. A route without a declaration fails that test.
"""

from __future__ import annotations

from typing import Any, Literal

from lockgate.domain.access import Permission

__all__ = ["PERMISSION_KEY", "Requirement", "requires"]

PERMISSION_KEY = "x-lockgate-permission"

Requirement = Permission | Literal["public", "authenticated", "listing"]
"""A permission; or `public` (no credentials needed: the reviewed allow-list); or
`authenticated` (any caller: reading or ending one's own session); or `listing` (any caller,
who sees only the items of projects they may read, filtered inside the query)."""


def requires(requirement: Requirement, **extra: Any) -> dict[str, Any]:
    """The `openapi_extra` of a route that needs `requirement`."""
    return {PERMISSION_KEY: str(requirement), **extra}
