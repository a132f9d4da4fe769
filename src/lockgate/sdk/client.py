"""The SDK entry point: `Client(url)` with one resource per area and `start_run`."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress
from types import TracebackType
from typing import Any

import httpx

from lockgate.api.tracking import EnvironmentIn
from lockgate.domain.errors import AlreadyExistsError
from lockgate.sdk.active_run import ActiveRun
from lockgate.sdk.artifacts import Artifacts
from lockgate.sdk.audit import Audit
from lockgate.sdk.environment import capture_environment as environment_of_this_process
from lockgate.sdk.http import DEFAULT_URL, HttpSession
from lockgate.sdk.identity import Auth, Grants, Principals, Teams, Tokens
from lockgate.sdk.registry import Models
from lockgate.sdk.tracking import Projects, Runs

__all__ = ["Client"]


class Client:
    """A connection to a Lockgate server.

    Args:
        url: The server's root URL.
        token: An API token, sent as a bearer token (needed when the server has auth on;
            `client.auth.whoami()` tells who it stands for).
        transport: An httpx transport to use instead of the network (e.g. the in-process
            app in tests, or `lockgate.embedded_client()`).
        timeout: Seconds (or an `httpx.Timeout`) for connect, read and write.

    Example:
        >>> client = Client("http://127.0.0.1:8420")  # doctest: +SKIP
        >>> with client.start_run("churn", "baseline") as run:  # doctest: +SKIP
        ...     run.log_param("max_depth", 6)
        ...     run.log_metric("val_auc", 0.87)
    """

    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        token: str | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float | httpx.Timeout = 30.0,
    ) -> None:
        self._http = HttpSession(url, token=token, transport=transport, timeout=timeout)
        self.projects = Projects(self._http)
        self.runs = Runs(self._http)
        self.models = Models(self._http)
        self.artifacts = Artifacts(self._http)
        self.audit = Audit(self._http)
        self.auth = Auth(self._http)
        self.principals = Principals(self._http)
        self.teams = Teams(self._http)
        self.tokens = Tokens(self._http)
        self.grants = Grants(self._http)

    @property
    def url(self) -> str:
        """The server's root URL."""
        return self._http.url

    def health(self) -> dict[str, Any]:
        """The server's status, version and metadata schema revision."""
        data: dict[str, Any] = self._http.request("GET", "/health").json()
        return data

    def start_run(
        self,
        project: str,
        name: str | None = None,
        *,
        tags: Mapping[str, str] | None = None,
        seed: int | None = None,
        capture_environment: bool = True,
        environment: EnvironmentIn | None = None,
        create_project: bool = False,
    ) -> ActiveRun:
        """Start a run and return it; use it as a context manager to end it on exit.

        Args:
            project: The project's name; it must exist unless `create_project` is True.
            name: A display name for the run.
            tags: First tags, e.g. `{"team": "growth"}`.
            seed: The random seed the code uses, kept with the environment.
            capture_environment: Record git sha and dirty flag, Python version and the
                installed packages.
            environment: An environment captured elsewhere (e.g. by a job launcher), used
                as given instead of capturing this process's.
            create_project: Create the project first if it does not exist.

        Raises:
            NotFoundError: The project does not exist (and `create_project` is False).
        """
        if create_project and not self.projects.exists(project):
            with suppress(AlreadyExistsError):  # another process created it meanwhile
                self.projects.create(project)
        if environment is None:
            environment = (
                environment_of_this_process(seed)
                if capture_environment
                else EnvironmentIn(seed=seed)
            )
        info = self.runs.create(project, name=name or "", tags=tags, environment=environment)
        return ActiveRun(info, runs=self.runs, artifacts=self.artifacts, models=self.models)

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
