"""What `lockgate serve` and `lockgate score` share: the options that say where verified
packages are kept and which key must have signed them, and the fetch they lead to."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from lockgate.cli.context import CliState
from lockgate.sdk import Client

if TYPE_CHECKING:
    from lockgate.serving.loader import VerifiedPackage

__all__ = ["fetch_verified", "package_options"]

F = TypeVar("F", bound=Callable[..., Any])

_cache_dir = click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where verified packages are kept (default: HOME/packages).",
)
_trusted_key = click.option(
    "--trusted-key",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="PEM public key that must have signed the packages (default: the registry's).",
)


def package_options(function: F) -> F:
    """`--cache-dir` and `--trusted-key`, passed as `cache_dir` and `trusted_key`."""
    return _cache_dir(_trusted_key(function))


def fetch_verified(
    state: CliState,
    client: Client,
    ref: str,
    cache_dir: Path | None,
    trusted_key: Path | None,
) -> VerifiedPackage:
    """Fetch and verify the package `ref` names, as the two options say."""
    from lockgate.serving.loader import fetch_package

    key = trusted_key.read_text(encoding="utf-8") if trusted_key is not None else None
    cache = cache_dir or state.settings().home / "packages"
    return fetch_package(client, ref, cache, trusted_key_pem=key)
