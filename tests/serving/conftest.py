"""Serving tests run the loader and the inference server against the real registry
in-process, on each metadata dialect (the fixtures of tests/clients)."""

from tests.clients.conftest import client, invoke, project, settings, transport

__all__ = ["client", "invoke", "project", "settings", "transport"]
