"""The one table from error code to HTTP status and the one handler that renders every error
as RFC 9457 problem+json with `code`, `field` and `request_id`."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

from lockgate.api import Problem
from lockgate.domain.errors import LockgateError, RateLimitedError, UnauthenticatedError

__all__ = ["STATUS_BY_CODE", "install_error_handlers", "problem_response"]

log = logging.getLogger("lockgate.server")

STATUS_BY_CODE: dict[str, int] = {
    "invalid_input": 422,
    "payload_too_large": 413,
    "not_found": 404,
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
        media_type="application/problem+json",
    )


def _field_of(location: tuple[Any, ...]) -> str:
    parts = [str(p) for p in location if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


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
        {"field": _field_of(tuple(e.get("loc", ()))), "message": str(e.get("msg", ""))}
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


def install_error_handlers(app: FastAPI) -> None:
    """Route every error through problem+json."""
    app.add_exception_handler(LockgateError, _on_lockgate_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_unexpected)
