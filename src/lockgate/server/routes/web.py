"""The web UI's pages. The sign-in page posts JSON to `/api/v1/auth/login`; its only script is
allowed by hash in a strict Content-Security-Policy, and it may not be framed."""

from __future__ import annotations

import base64
import hashlib
import re
from importlib import resources

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from lockgate.api import ERROR_RESPONSES
from lockgate.server.permissions import requires

__all__ = ["router"]

router = APIRouter(tags=["web"], responses=ERROR_RESPONSES)

_LOGIN = resources.files("lockgate.server.web").joinpath("login.html").read_text()


def _csp(page: str) -> str:
    scripts = re.findall(r"<script>(.*?)</script>", page, flags=re.DOTALL)
    styles = re.findall(r"<style>(.*?)</style>", page, flags=re.DOTALL)

    def hashes(blocks: list[str]) -> str:
        return " ".join(
            f"'sha256-{base64.b64encode(hashlib.sha256(b.encode()).digest()).decode()}'"
            for b in blocks
        )

    return (
        f"default-src 'none'; script-src {hashes(scripts)}; style-src {hashes(styles)}; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )


_HEADERS = {
    "Content-Security-Policy": _csp(_LOGIN),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


@router.get(
    "/login", response_class=HTMLResponse, include_in_schema=True, openapi_extra=requires("public")
)
async def login_page() -> HTMLResponse:
    """The sign-in page of the web UI."""
    return HTMLResponse(_LOGIN, headers=_HEADERS)
