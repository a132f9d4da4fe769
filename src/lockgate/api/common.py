"""Wire types shared by every area: the error envelope and the error responses every route
documents, pages, and floats that may be NaN."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, PlainSerializer

__all__ = [
    "API_VERSION",
    "ERROR_RESPONSES",
    "PROBLEM_MEDIA_TYPE",
    "ApiModel",
    "JsonFloat",
    "PageOut",
    "Problem",
    "UtcDatetime",
]

API_VERSION = "v1"

T = TypeVar("T")

_SPECIAL = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def _parse_float(value: object) -> object:
    if isinstance(value, str) and value in _SPECIAL:
        return _SPECIAL[value]
    return value


def _dump_float(value: float) -> float | str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


# Non-finite floats travel as the strings "NaN", "Infinity" and "-Infinity" (the proto3 JSON
# mapping), so every payload stays standard JSON.
JsonFloat = Annotated[
    float,
    BeforeValidator(_parse_float),
    PlainSerializer(_dump_float, return_type=float | str, when_used="json"),
]


def _require_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("timestamps must carry a timezone (e.g. 2026-01-01T00:00:00Z)")
    return value


UtcDatetime = Annotated[datetime, AfterValidator(_require_utc)]


class ApiModel(BaseModel):
    """Base of every request and response: unknown fields are refused, not ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Problem(ApiModel):
    """RFC 9457 problem details, with Lockgate's stable `code`, the `field` at fault and
    the `request_id` to quote in a report."""

    model_config = ConfigDict(extra="allow", frozen=True)

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    code: str
    field: str | None = None
    request_id: str | None = None
    errors: list[dict[str, str]] | None = None


PROBLEM_MEDIA_TYPE = "application/problem+json"

_ERROR_MEANINGS = {
    400: "A malformed request, or a Host header the server does not answer (`code` says which).",
    401: "No valid credentials (`unauthenticated`).",
    403: "The caller may not do this, or a policy gate denied it.",
    404: "A named object, or the route, does not exist.",
    409: "The name is taken, a stale write, or an illegal state transition.",
    413: "The body is larger than the configured limit.",
    415: "The body is not of the expected media type.",
    422: "The input breaks a rule; `field` names the part at fault.",
    429: "Too many attempts; `Retry-After` says when to try again.",
}

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {
        "description": meaning,
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    for status, meaning in _ERROR_MEANINGS.items()
}
"""The error responses of every route, as FastAPI's `responses=` takes them: each a problem+json
body (`Problem`, which `lockgate.server.errors` adds to the OpenAPI components). Documented so
clients and the schema fuzzer know every status a route may answer."""


class PageOut(ApiModel, Generic[T]):
    """A page of items; pass `next_page_token` back as `page_token` for the next page."""

    items: list[T]
    next_page_token: str | None = None
