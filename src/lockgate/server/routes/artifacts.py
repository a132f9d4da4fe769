"""Routes for run artifacts: raw-byte uploads and downloads, streamed both ways."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Annotated

import anyio.from_thread
from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.responses import StreamingResponse

from lockgate.api.artifacts import ArtifactOut
from lockgate.server.deps import ActorDep, PlatformDep

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/runs/{run_id}/artifacts", tags=["artifacts"])


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
    openapi_extra={"requestBody": {"content": {"application/octet-stream": {}}, "required": True}},
)
async def upload_artifact(
    run_id: str,
    path: str,
    request: Request,
    response: Response,
    platform: PlatformDep,
    actor: ActorDep,
) -> ArtifactOut:
    """Store the request body as a run file (raw bytes, streamed)."""
    stored = await run_in_threadpool(
        platform.artifacts.upload, actor, run_id, path, _pull(request.stream().__aiter__())
    )
    if not stored.created:
        response.status_code = 200
    return ArtifactOut.from_domain(stored.artifact)


@router.get("")
def list_artifacts(
    run_id: str,
    platform: PlatformDep,
    prefix: Annotated[str | None, Query(max_length=1024)] = None,
) -> list[ArtifactOut]:
    """A run's files, optionally below a directory."""
    return [ArtifactOut.from_domain(a) for a in platform.artifacts.list(run_id, prefix)]


@router.get("/{path:path}", response_class=StreamingResponse)
def download_artifact(run_id: str, path: str, platform: PlatformDep) -> StreamingResponse:
    """A run file's bytes; the ETag is their sha256."""
    artifact, chunks = platform.artifacts.open(run_id, path)
    return StreamingResponse(
        chunks,
        media_type="application/octet-stream",
        headers={"ETag": f'"{artifact.digest}"', "Content-Length": str(artifact.size)},
    )
