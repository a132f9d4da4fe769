"""Column codecs: domain values to stored values and back (time, JSON text, NaN, cursors)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from lockgate.domain.errors import AlreadyExistsError, NotFoundError
from lockgate.domain.identity import from_micros, to_micros
from lockgate.domain.pagination import CursorValue, Page, encode_cursor

__all__ = [
    "decode_float",
    "dialect_insert",
    "dialect_insert_for",
    "encode_float",
    "from_json",
    "from_micros",
    "maybe_from_micros",
    "maybe_micros",
    "page_of",
    "to_json",
    "to_micros",
    "translate_integrity",
]


T = TypeVar("T")


def page_of(
    items: Sequence[T], page_size: int, sort_key: Callable[[T], list[CursorValue]]
) -> Page[T]:
    """The page of a query that fetched up to page_size + 1 items: the extra item only says
    that a next page exists, and the cursor is the sort key of this page's last item."""
    page = list(items[:page_size])
    if len(items) <= page_size:
        return Page(page, None)
    return Page(page, encode_cursor(sort_key(page[-1])))


def to_json(value: object) -> str:
    """Canonical JSON text: sorted keys, no spaces, UTF-8 kept as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def from_json(text: str) -> object:
    """The value of stored JSON text."""
    return json.loads(text)


def maybe_micros(moment: datetime | None) -> int | None:
    """Microseconds since the epoch, passing None through."""
    return None if moment is None else to_micros(moment)


def maybe_from_micros(micros: int | None) -> datetime | None:
    """The UTC time of stored microseconds, passing None through."""
    return None if micros is None else from_micros(micros)


def encode_float(value: float) -> float | None:
    """A metric value as stored: NaN becomes NULL (SQLite does so anyway; one representation
    on every dialect); infinities stay."""
    return None if math.isnan(value) else value


def decode_float(value: float | None) -> float:
    """A stored metric value: NULL is NaN."""
    return math.nan if value is None else float(value)


def dialect_insert(connection: sa.Connection, table: sa.Table) -> sqlite.Insert | postgresql.Insert:
    """The dialect's INSERT, which knows ON CONFLICT."""
    return dialect_insert_for(connection.dialect.name, table)


def dialect_insert_for(dialect_name: str, table: sa.Table) -> sqlite.Insert | postgresql.Insert:
    """The INSERT of a dialect named `postgresql` or `sqlite`."""
    if dialect_name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def _is_unique_violation(error: sa.exc.IntegrityError) -> bool:
    sqlstate = getattr(error.orig, "sqlstate", None)
    if sqlstate is not None:
        return bool(sqlstate == "23505")
    return "UNIQUE constraint failed" in str(error.orig)


@contextmanager
def translate_integrity(
    connection: sa.Connection,
    *,
    duplicate: str,
    missing: str | None = None,
    field: str | None = None,
) -> Iterator[None]:
    """Run statements in a savepoint and turn a unique violation into AlreadyExistsError (and
    a foreign-key violation into NotFoundError when `missing` is given); the surrounding
    transaction stays usable after either."""
    try:
        with connection.begin_nested():
            yield
    except sa.exc.IntegrityError as exc:
        if _is_unique_violation(exc):
            raise AlreadyExistsError(duplicate, field=field) from exc
        if missing is not None:
            raise NotFoundError(missing) from exc
        raise
