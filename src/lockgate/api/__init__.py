"""The wire contract: pydantic request/response schemas, the error envelope, the API version."""

from lockgate.api.common import (
    API_VERSION,
    ERROR_RESPONSES,
    ApiModel,
    JsonFloat,
    PageOut,
    Problem,
)

__all__ = ["API_VERSION", "ERROR_RESPONSES", "ApiModel", "JsonFloat", "PageOut", "Problem"]
