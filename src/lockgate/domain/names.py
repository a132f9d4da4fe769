"""Rules for names users choose: projects, models, aliases, keys and artifact paths.

Names are checked once, here, so no layer ever dereferences an unchecked name.
"""

from __future__ import annotations

import re
import unicodedata

from lockgate.domain.errors import InvalidInputError

__all__ = [
    "MAX_KEY_LENGTH",
    "MAX_VALUE_LENGTH",
    "check_alias",
    "check_artifact_path",
    "check_key",
    "check_name",
    "check_text",
]

MAX_KEY_LENGTH = 250
MAX_VALUE_LENGTH = 6000
MAX_PATH_LENGTH = 1024

_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,127}")
_ALIAS = re.compile(r"[a-z][a-z0-9_-]{0,63}")
# Keys of params, metrics and tags: printable, no control characters, no leading slash.
_KEY = re.compile(r"[A-Za-z0-9_\-. /:]+")
_PATH_SEGMENT = re.compile(r"[A-Za-z0-9_\-.+=@ ]+")


def check_name(value: str, *, field: str) -> str:
    """A project or model name: lowercase letters, digits, `.`, `_`, `-`; at most 128."""
    if not _NAME.fullmatch(value) or value in {".", ".."}:
        raise InvalidInputError(
            f"{field} {value!r} must be 1-128 lowercase letters, digits, '.', '_' or '-', "
            "starting with a letter or digit",
            field=field,
        )
    return value


def check_alias(value: str, *, field: str = "alias") -> str:
    """An alias such as `champion`: a lowercase letter, then letters, digits, `_` or `-`."""
    if not _ALIAS.fullmatch(value) or value == "latest":
        raise InvalidInputError(
            f"{field} {value!r} must start with a lowercase letter and hold only lowercase "
            "letters, digits, '_' or '-' (and 'latest' is reserved)",
            field=field,
        )
    return value


def check_key(value: str, *, field: str) -> str:
    """A param, metric or tag key."""
    if (
        not value
        or len(value) > MAX_KEY_LENGTH
        or not _KEY.fullmatch(value)
        or value.startswith("/")
        or ".." in value.split("/")
    ):
        raise InvalidInputError(
            f"{field} {value!r} must be 1-{MAX_KEY_LENGTH} characters of letters, digits, "
            "'_', '-', '.', ' ', '/' or ':'",
            field=field,
        )
    return value


def check_text(value: str, *, field: str, max_length: int = MAX_VALUE_LENGTH) -> str:
    """A free-text value: bounded length, no NUL or other control characters but tab/newline."""
    if len(value) > max_length:
        raise InvalidInputError(f"{field} is longer than {max_length} characters", field=field)
    if any(unicodedata.category(ch) == "Cc" and ch not in "\t\n\r" for ch in value):
        raise InvalidInputError(f"{field} contains a control character", field=field)
    return value


def check_artifact_path(value: str, *, field: str = "path") -> str:
    """A relative POSIX path inside a run's artifacts.

    Refuses anything that could name a place outside: absolute paths, `..`, empty or `.`
    segments, backslashes, drive letters, URI schemes, percent-encoding and control bytes.
    """
    problem = _artifact_path_problem(value)
    if problem:
        raise InvalidInputError(f"{field} {value!r} {problem}", field=field)
    return value


def _artifact_path_problem(value: str) -> str | None:
    if not value or len(value) > MAX_PATH_LENGTH:
        return f"must be 1-{MAX_PATH_LENGTH} characters"
    if value.startswith("/") or "\\" in value or ":" in value or "%" in value:
        return "must be a relative path with '/' separators (no '\\', ':' or '%')"
    for segment in value.split("/"):
        if segment in {"", ".", ".."}:
            return "must not contain empty, '.' or '..' segments"
        if not _PATH_SEGMENT.fullmatch(segment):
            return "may only hold letters, digits, ' ', '_', '-', '.', '+', '=', '@' and '/'"
    return None
