"""Reading a flavor's loading configuration from a descriptor: the file comes with the package,
so every value is checked before a flavor acts on it (`field` is always `package`)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from lockgate.domain.errors import InvalidInputError
from lockgate.domain.registry import Signature
from lockgate.serving.flavors.base import DESCRIPTOR

__all__ = [
    "config_file",
    "config_flag",
    "config_int",
    "config_names",
    "config_text",
    "input_order",
]


def _bad(key: str, what: str) -> InvalidInputError:
    return InvalidInputError(f"{DESCRIPTOR}: config.{key} must be {what}", field="package")


def config_text(
    config: Mapping[str, Any],
    key: str,
    *,
    choices: Collection[str] | None = None,
    default: str | None = None,
) -> str:
    """A string value, one of `choices` when given; `default` when absent (required without)."""
    value = config.get(key, default)
    if not isinstance(value, str) or (choices is not None and value not in choices):
        expected = f"one of {', '.join(sorted(choices))}" if choices is not None else "a string"
        raise _bad(key, expected)
    return value


def config_flag(config: Mapping[str, Any], key: str, *, default: bool = False) -> bool:
    """A boolean value; `default` when absent."""
    value = config.get(key, default)
    if not isinstance(value, bool):
        raise _bad(key, "true or false")
    return value


def config_int(config: Mapping[str, Any], key: str, *, default: int, minimum: int = 0) -> int:
    """An integer of at least `minimum`; `default` when absent."""
    value = config.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise _bad(key, f"an integer of at least {minimum}")
    return value


def config_names(config: Mapping[str, Any], key: str) -> list[str]:
    """A non-empty list of distinct strings (column names, in order)."""
    value = config.get(key)
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(item, str) for item in value)
        or len(set(value)) != len(value)
    ):
        raise _bad(key, "a list of distinct names")
    return value


def config_file(config: Mapping[str, Any], key: str, directory: Path) -> Path:
    """A file of the package, named by a plain file name (no directories, so a descriptor
    cannot point a flavor outside its package)."""
    name = config_text(config, key)
    if not name or name != Path(name).name or name in {".", ".."}:
        raise _bad(key, "a file name in the package")
    path = directory / name
    if not path.is_file():
        raise InvalidInputError(f"the package has no {name}", field="package")
    return path


def input_order(config: Mapping[str, Any], signature: Signature) -> list[str]:
    """The input columns in the order the model takes them, each one of the signature's."""
    order = config_names(config, "inputs")
    known = {column.name for column in signature.inputs}
    missing = [name for name in order if name not in known]
    if missing:
        raise InvalidInputError(
            f"the model takes inputs {', '.join(missing)}, which the signature does not have",
            field="signature.inputs",
        )
    return order
