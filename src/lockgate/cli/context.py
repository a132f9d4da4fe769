"""What every CLI command shares: the state on the click context (settings overrides, the
server URL and API token, an optional transport for tests) and the options that fill it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import click
import httpx
from click.core import ParameterSource

from lockgate.sdk import Client
from lockgate.sdk.http import DEFAULT_URL
from lockgate.settings import Settings

__all__ = [
    "CliState",
    "json_option",
    "pass_state",
    "settings_options",
    "token_option",
    "url_option",
]

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class CliState:
    """The state of one CLI invocation.

    Attributes:
        transport: An httpx transport for every client the CLI makes (tests pass one over
            the in-process app); None means the network.
        url: The server URL commands talk to.
        token: The API token sent as a bearer token; None sends none (local mode).
        settings_overrides: Settings fields given on the command line; the rest come from
            `LOCKGATE_*` environment variables through `Settings`.
    """

    transport: httpx.BaseTransport | None = None
    url: str = DEFAULT_URL
    token: str | None = None
    settings_overrides: dict[str, Any] = field(default_factory=dict)

    def client(self) -> Client:
        """A client for the server at `url` (or over the injected transport, which the
        client borrows: closing the client leaves it open for the next command)."""
        transport = None if self.transport is None else _BorrowedTransport(self.transport)
        return Client(self.url, token=self.token, transport=transport)

    def settings(self, **overrides: Any) -> Settings:
        """The Settings of this invocation: command-line values over the environment."""
        values = {**self.settings_overrides, **overrides}
        return Settings(**{key: value for key, value in values.items() if value is not None})


class _BorrowedTransport(httpx.BaseTransport):
    """A transport owned by someone else: requests pass through, close() does nothing."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self._inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._inner.handle_request(request)


pass_state = click.make_pass_decorator(CliState, ensure=True)


def _remember(setting: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    def callback(ctx: click.Context, _: click.Parameter, value: Any) -> None:
        if value is not None:
            ctx.ensure_object(CliState).settings_overrides[setting] = value

    return callback


def settings_options(function: F) -> F:
    """`--home`, `--metadata-url` and `--artifacts-url`, mapped onto `Settings` fields.

    They are accepted on the root command (for every subcommand) and on each command that
    uses the local store; the one nearer the command wins.
    """
    options = [
        click.option(
            "--home",
            type=click.Path(file_okay=False, path_type=Path),
            expose_value=False,
            callback=_remember("home"),
            help="Directory of the embedded store (LOCKGATE_HOME; default .lockgate).",
        ),
        click.option(
            "--metadata-url",
            expose_value=False,
            callback=_remember("metadata_url"),
            help="Metadata store URL, sqlite:///PATH or postgresql://... (LOCKGATE_METADATA_URL).",
        ),
        click.option(
            "--artifacts-url",
            expose_value=False,
            callback=_remember("artifacts_url"),
            help="Artifact store URL, file:///PATH or s3://BUCKET/PREFIX (LOCKGATE_ARTIFACTS_URL).",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _set_url(ctx: click.Context, _: click.Parameter, value: str) -> None:
    ctx.ensure_object(CliState).url = value


def _set_token(ctx: click.Context, _: click.Parameter, value: str | None) -> None:
    # A token given on `lockgate` itself stays unless the command names another: the
    # environment only fills in a token nobody gave.
    if not value:
        return
    state = ctx.ensure_object(CliState)
    from_env = ctx.get_parameter_source("token") is ParameterSource.ENVIRONMENT
    if state.token is None or not from_env:
        state.token = value


token_option = click.option(
    "--token",
    envvar="LOCKGATE_TOKEN",
    default=None,
    metavar="TOKEN",
    expose_value=False,
    callback=_set_token,
    help="API token, sent as a bearer token (LOCKGATE_TOKEN); needed when the server has auth on.",
)
"""`--token`: on `lockgate` itself and on every command that talks to a server."""

_url = click.option(
    "--url",
    envvar="LOCKGATE_URL",
    default=DEFAULT_URL,
    show_default=True,
    expose_value=False,
    callback=_set_url,
    help="Server URL (LOCKGATE_URL).",
)


def url_option(function: F) -> F:
    """`--url` and `--token` of every command that talks to a server."""
    return _url(token_option(function))


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
"""`--json` of every list and show command."""
