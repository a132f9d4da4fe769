"""Routes for evidence bundles of model versions and the compliance report."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import IO

from fastapi import APIRouter
from starlette.responses import StreamingResponse

from lockgate.api import ERROR_RESPONSES
from lockgate.api.evidence import ComplianceReportOut
from lockgate.api.limits import NameText, VersionNumber
from lockgate.domain.access import Permission
from lockgate.server.deps import CallerDep, PlatformDep
from lockgate.server.permissions import requires

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["governance"], responses=ERROR_RESPONSES)

_SPOOL_BYTES = 8 * 1024 * 1024
_CHUNK = 1024 * 1024


def _drain(spool: IO[bytes]) -> Iterator[bytes]:
    try:
        spool.seek(0)
        while chunk := spool.read(_CHUNK):
            yield chunk
    finally:
        spool.close()


@router.get(
    "/models/{name}/versions/{version}/evidence",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/zip": {}}, "description": "The bundle."}},
    openapi_extra=requires(Permission.AUDIT_READ),
)
def export_evidence(
    name: NameText, version: VersionNumber, platform: PlatformDep, caller: CallerDep
) -> StreamingResponse:
    """The version's signed evidence bundle (a zip); the ETag is its sha256."""
    spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)  # noqa: SIM115 (closed by _drain)
    try:
        exported = platform.evidence.export(caller, name, version, spool)
    except BaseException:
        spool.close()
        raise
    filename = f"{name}-{version}-evidence.zip"
    return StreamingResponse(
        _drain(spool),
        media_type="application/zip",
        headers={
            "ETag": f'"{exported.sha256}"',
            "Content-Length": str(exported.size),
            "Content-Disposition": f'attachment; filename="{filename}"',
        },
    )


@router.get("/compliance", openapi_extra=requires(Permission.AUDIT_READ))
def platform_compliance(platform: PlatformDep, caller: CallerDep) -> ComplianceReportOut:
    """The compliance report over every project's production models."""
    return ComplianceReportOut.from_domain(platform.compliance.report(caller, None))


@router.get("/projects/{project}/compliance", openapi_extra=requires(Permission.PROJECT_READ))
def project_compliance(
    project: NameText, platform: PlatformDep, caller: CallerDep
) -> ComplianceReportOut:
    """The compliance report over one project's production models."""
    return ComplianceReportOut.from_domain(platform.compliance.report(caller, project))
