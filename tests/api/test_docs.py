"""The docs keep up with the code: every route, error code and setting is documented."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.routing import APIRoute

from lockgate.server.errors import STATUS_BY_CODE
from lockgate.server.routes import ROUTERS
from lockgate.settings import Settings

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _routes() -> set[tuple[str, str]]:
    found = set()
    for router in ROUTERS:
        for route in router.routes:
            assert isinstance(route, APIRoute)
            path = route.path.replace(":path}", "}")
            found |= {(method, path) for method in route.methods}
    return found


def test_every_route_is_in_the_rest_reference() -> None:
    text = (DOCS / "reference" / "rest.md").read_text()
    documented = {
        (method, path.split("?")[0])
        for method, path in re.findall(r"\| (GET|POST|PUT|DELETE|PATCH) \| `([^`]+)`", text)
    }
    missing = _routes() - documented
    assert not missing, f"document these routes in docs/reference/rest.md: {sorted(missing)}"


def test_every_error_code_is_in_the_rest_reference() -> None:
    text = (DOCS / "reference" / "rest.md").read_text()
    missing = [code for code in STATUS_BY_CODE if f"`{code}`" not in text]
    assert not missing, f"document these error codes in docs/reference/rest.md: {missing}"


def test_every_setting_is_documented() -> None:
    text = (DOCS / "reference" / "settings.md").read_text()
    missing = [name for name in Settings.model_fields if f"`{name}`" not in text]
    assert not missing, f"document these settings in docs/reference/settings.md: {missing}"
