"""Lockgate: a self-hostable MLOps platform. `lockgate.Client` is the Python SDK."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["Client", "__version__", "embedded_client"]

from lockgate.version import __version__

if TYPE_CHECKING:
    from lockgate.sdk import Client


def __getattr__(name: str) -> Any:
    # Lazy, so `import lockgate` stays cheap and importing the SDK never pulls in the server.
    if name == "Client":
        from lockgate.sdk import Client

        return Client
    raise AttributeError(name)


def embedded_client(home: str | None = None) -> Client:
    """A Client bound to an in-process server on the embedded store (no network, no daemon).

    Needs the `server` extra. `home` defaults to `.lockgate` in the working directory.
    """
    from lockgate.server.inprocess import embedded_client as make

    return make(home)
