"""Routes for run artifacts: raw-byte uploads and downloads, streamed both ways."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Annotated

import anyio.from_thread
from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.responses import StreamingResponse

from lockgate.api import ERROR_RESPONSES
from lockgate.api.artifacts import ArtifactOut
from lockgate.api.limits import ArtifactPathText, IdText
from lockgate.domain.access import Permission
from lockgate.server.deps import CallerDep, PlatformDep
from lockgate.server.permissions import requires

__all__ = ["archives", "router"]

router = APIRouter(
    prefix="/api/v1/runs/{run_id}/artifacts", tags=["artifacts"], responses=ERROR_RESPONSES
)
archives = APIRouter(
    prefix="/api/v1/runs/{run_id}/archives", tags=["artifacts"], responses=ERROR_RESPONSES
)


def _pull(stream: AsyncIterator[bytes]) -> Iterator[bytes]:
    """Hand the request body to a worker thread chunk by chunk, never buffering it whole."""

    async def next_chunk() -> bytes | None:
        try:
            return await stream.__anext__()
        except StopAsyncIteration:
            return None

    while (chunk := anyio.from_thread.run(next_chunk)) is not None:
        if chunk:
            yield chunk


@router.put(
    "/{path:path}",
    status_code=201,
    responses={200: {"model": ArtifactOut, "description": "The same bytes were already there."}},
    openapi_extra=requires(
        Permission.RUN_WRITE,
        requestBody={"content": {"application/octet-stream": {}}, "required": True},
    ),
)
async def upload_artifact(
    run_id: IdText,
    path: ArtifactPathText,
    request: Request,
    response: Response,
    platform: PlatformDep,
    caller: CallerDep,
) -> ArtifactOut:
    """Store the request body as a run file (raw bytes, streamed)."""
    stored = await run_in_threadpool(
        platform.artifacts.upload, caller, run_id, path, _pull(request.stream().__aiter__())
    )
    if not stored.created:
        response.status_code = 200
    return ArtifactOut.from_domain(stored.artifact)


@router.get("", openapi_extra=requires(Permission.PROJECT_READ))
def list_artifacts(
    run_id: IdText,
    platform: PlatformDep,
    caller: CallerDep,
    prefix: Annotated[str | None, Query(max_length=1024)] = None,
) -> list[ArtifactOut]:
    """A run's files, optionally below a directory."""
    return [ArtifactOut.from_domain(a) for a in platform.artifacts.list(caller, run_id, prefix)]


@router.get(
    "/{path:path}",
    response_class=StreamingResponse,
    openapi_extra=requires(Permission.PROJECT_READ),
)
def download_artifact(
    run_id: IdText, path: ArtifactPathText, platform: PlatformDep, caller: CallerDep
) -> StreamingResponse:
    """A run file's bytes; the ETag is their sha256."""
    artifact, chunks = platform.artifacts.open(caller, run_id, path)
    return StreamingResponse(
        chunks,
        media_type="application/octet-stream",
        headers={"ETag": f'"{artifact.digest}"', "Content-Length": str(artifact.size)},
    )


@archives.put(
    "/{path:path}",
    status_code=201,
    openapi_extra=requires(
        Permission.RUN_WRITE,
        requestBody={"content": {"application/octet-stream": {}}, "required": True},
    ),
)
async def upload_archive(
    run_id: IdText,
    path: ArtifactPathText,
    request: Request,
    platform: PlatformDep,
    caller: CallerDep,
) -> list[ArtifactOut]:
    """Unpack a tar (plain, gzip, bzip2 or xz) or zip archive into run files under `path`,
    all or nothing: links, devices, absolute paths or `..` reject the whole archive."""
    files = await run_in_threadpool(
        platform.artifacts.upload_archive, caller, run_id, path, _pull(request.stream().__aiter__())
    )
    return [ArtifactOut.from_domain(f) for f in files]
