"""The one table from error code to HTTP status and the one handler that renders every error
as RFC 9457 problem+json with `code`, `field` and `request_id` (and the `Problem` schema in
OpenAPI, which `lockgate.api.ERROR_RESPONSES` refers to)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

from lockgate.api import Problem
from lockgate.api.common import PROBLEM_MEDIA_TYPE
from lockgate.domain.errors import LockgateError, RateLimitedError, UnauthenticatedError

__all__ = ["STATUS_BY_CODE", "install_error_handlers", "problem_response"]

log = logging.getLogger("lockgate.server")

STATUS_BY_CODE: dict[str, int] = {
    "invalid_input": 422,
    "payload_too_large": 413,
    "not_found": 404,
    "gone": 410,
    "already_exists": 409,
    "conflict": 409,
    "policy_violation": 403,
    "permission_denied": 403,
    "unauthenticated": 401,
    "rate_limited": 429,
    "destination_not_allowed": 422,
    "method_not_allowed": 405,
    "unsupported_media_type": 415,
    "schema_outdated": 503,
    "user_code_error": 422,
    "package_integrity": 422,
    "host_not_allowed": 400,
    "lockgate_error": 400,
    "internal_error": 500,
}

_CODE_BY_HTTP_STATUS = {
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def request_id_of(request: Request) -> str | None:
    value = request.scope.get("state", {}).get("request_id")
    return value if isinstance(value, str) else None


def problem_response(
    request: Request,
    code: str,
    detail: str,
    *,
    field: str | None = None,
    errors: list[dict[str, str]] | None = None,
) -> JSONResponse:
    """A problem+json response for a stable error code."""
    status = STATUS_BY_CODE.get(code, 400)
    problem = Problem(
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        code=code,
        field=field,
        request_id=request_id_of(request),
        errors=errors,
    )
    return JSONResponse(
        problem.model_dump(exclude_none=True),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
    )


def _field_of(location: tuple[Any, ...]) -> str:
    """A pydantic error location in the domain's spelling: `metrics[1].key`, `tags.team`."""
    field = ""
    for part in location:
        if part in ("body", "query", "path", "header", "[key]"):
            continue  # `[key]`: the key of a map entry failed, and the field names that key
        field += f"[{part}]" if isinstance(part, int) else f".{part}"
    return field.removeprefix(".") or "body"


async def _on_lockgate_error(request: Request, exc: Exception) -> JSONResponse:
    error = exc if isinstance(exc, LockgateError) else LockgateError(str(exc))
    response = problem_response(request, error.code, error.message, field=error.field)
    if isinstance(error, UnauthenticatedError):
        response.headers["WWW-Authenticate"] = 'Bearer realm="lockgate"'
    elif isinstance(error, RateLimitedError):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    details = exc.errors() if isinstance(exc, RequestValidationError) else []
    errors = [
        {
            # A body that is not JSON at all is at fault as a whole, not at a character offset.
            "field": "body"
            if e.get("type") == "json_invalid"
            else _field_of(tuple(e.get("loc", ()))),
            "message": str(e.get("msg", "")),
        }
        for e in details
    ]
    first = errors[0] if errors else {"field": "body", "message": "invalid request"}
    return problem_response(
        request,
        "invalid_input",
        f"{first['field']}: {first['message']}",
        field=first["field"],
        errors=errors,
    )


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    status = exc.status_code if isinstance(exc, StarletteHTTPException) else 400
    code = _CODE_BY_HTTP_STATUS.get(status, "lockgate_error")
    return problem_response(request, code, str(getattr(exc, "detail", exc)))


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    # The traceback goes to the log only; the caller gets the request id to quote.
    log.exception("unhandled error (request_id=%s)", request_id_of(request), exc_info=exc)
    return problem_response(request, "internal_error", "an internal error occurred")


def _document_problem(app: FastAPI) -> None:
    """Add `Problem` to the OpenAPI components: routes refer to it from their error responses
    (FastAPI would file a `model=` response under application/json, which is not what they
    send)."""
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()  # which caches it in app.openapi_schema
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["Problem"] = Problem.model_json_schema(mode="serialization")
        return schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented extension point


def install_error_handlers(app: FastAPI) -> None:
    """Route every error through problem+json, and document its schema."""
    _document_problem(app)
    app.add_exception_handler(LockgateError, _on_lockgate_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_unexpected)
