"""Pages of results and the opaque cursors that continue them (keyset pagination)."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeAlias, TypeVar

from lockgate.domain.errors import InvalidInputError

__all__ = ["MAX_PAGE_SIZE", "Page", "check_page_size", "decode_cursor", "encode_cursor"]

MAX_PAGE_SIZE = 1000

CursorValue: TypeAlias = str | int | float | bool | None
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of items and the cursor for the next page (None on the last page)."""

    items: Sequence[T]
    next_cursor: str | None


def check_page_size(size: int, *, field: str = "page_size") -> int:
    """A page size between 1 and MAX_PAGE_SIZE."""
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise InvalidInputError(f"{field} must be between 1 and {MAX_PAGE_SIZE}", field=field)
    return size


def encode_cursor(values: Sequence[CursorValue]) -> str:
    """The opaque cursor for the last row of a page: its sort key values."""
    raw = json.dumps(list(values), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *, arity: int, field: str = "page_token") -> list[CursorValue]:
    """The sort key values inside a cursor, checked for shape."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{field} is not a cursor this server issued", field=field) from exc
    if not isinstance(values, list) or len(values) != arity:
        raise InvalidInputError(f"{field} does not fit this query", field=field)
    for value in values:
        if value is not None and not isinstance(value, str | int | float | bool):
            raise InvalidInputError(f"{field} does not fit this query", field=field)
    return values
