"""Artifact resource of the SDK: streamed uploads and downloads of run files, sha256-checked."""

from __future__ import annotations

import builtins
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from pydantic import TypeAdapter

from lockgate.api.artifacts import ArtifactOut
from lockgate.domain.errors import InvalidInputError, LockgateError
from lockgate.domain.names import check_artifact_path
from lockgate.sdk.http import HttpSession, segment

__all__ = [
    "CHUNK_BYTES",
    "Artifacts",
    "DigestMismatchError",
    "ProgressCallback",
    "TransferProgress",
    "download_verified",
    "quote_artifact_path",
]

CHUNK_BYTES = 1024 * 1024

_ARTIFACT_LIST = TypeAdapter(list[ArtifactOut])


class DigestMismatchError(LockgateError):
    """The bytes transferred do not hash to the digest the server stated; nothing was kept."""

    code = "digest_mismatch"


@dataclass(frozen=True, slots=True)
class TransferProgress:
    """Where a transfer stands: the run path, bytes moved so far and the total if known."""

    path: str
    done: int
    total: int | None


ProgressCallback = Callable[[TransferProgress], None]


def join_artifact_path(*parts: str | None) -> str:
    """Run paths joined with `/`, skipping empty parts (`None`, `""`)."""
    return "/".join(part.strip("/") for part in parts if part and part.strip("/"))


class Artifacts:
    """Files logged by runs (`client.artifacts`). Bytes stream in 1 MiB chunks both ways,
    so no file is ever held in memory whole."""

    def __init__(self, http: HttpSession) -> None:
        self._http = http

    def upload(
        self,
        run_id: str,
        local_path: str | os.PathLike[str],
        path: str | None = None,
        *,
        progress: ProgressCallback | None = None,
    ) -> ArtifactOut:
        """Upload one file to a run.

        Args:
            run_id: The run, which must still be running.
            local_path: The file to send.
            path: Its path within the run (`model/model.onnx`); the file's name by default.
            progress: Called after every chunk with a `TransferProgress`.

        Raises:
            DigestMismatchError: The server stored bytes of another digest than were sent.
        """
        source = Path(local_path)
        if not source.is_file():
            raise InvalidInputError(f"{source} is not a file", field="local_path")
        target = path or source.name
        size = source.stat().st_size
        hasher = hashlib.sha256()
        chunks = _read_chunks(source, hasher.update, target, size, progress)
        response = self._http.request(
            "PUT",
            f"/runs/{segment(run_id)}/artifacts/{quote_artifact_path(target)}",
            content=chunks,
            headers={"Content-Type": "application/octet-stream", "Content-Length": str(size)},
        )
        artifact = ArtifactOut.model_validate_json(response.content)
        if artifact.digest != hasher.hexdigest():
            raise DigestMismatchError(
                f"{target}: sent sha256 {hasher.hexdigest()}, the server stored {artifact.digest}"
            )
        return artifact

    def upload_archive(
        self,
        run_id: str,
        local_path: str | os.PathLike[str],
        path: str,
        *,
        progress: ProgressCallback | None = None,
    ) -> list[ArtifactOut]:
        """Upload a tar (plain, .gz, .bz2, .xz) or zip archive that the server unpacks into
        run files under `path`, all or nothing (links, devices, absolute paths or `..` in
        any member reject the whole archive).

        Raises:
            InvalidInputError: The archive is unsafe or not an archive (field `archive`).
        """
        source = Path(local_path)
        if not source.is_file():
            raise InvalidInputError(f"{source} is not a file", field="local_path")
        size = source.stat().st_size
        chunks = _read_chunks(source, lambda _: None, path, size, progress)
        response = self._http.request(
            "PUT",
            f"/runs/{segment(run_id)}/archives/{quote_artifact_path(path)}",
            content=chunks,
            headers={"Content-Type": "application/octet-stream", "Content-Length": str(size)},
        )
        return [ArtifactOut.model_validate(item) for item in response.json()]

    def upload_dir(
        self,
        run_id: str,
        local_dir: str | os.PathLike[str],
        prefix: str | None = None,
        *,
        progress: ProgressCallback | None = None,
    ) -> builtins.list[ArtifactOut]:
        """Upload every file below a directory, keeping relative paths under `prefix`."""
        root = Path(local_dir)
        if not root.is_dir():
            raise InvalidInputError(f"{root} is not a directory", field="local_dir")
        files = sorted(p for p in root.rglob("*") if p.is_file())
        return [
            self.upload(
                run_id,
                file,
                join_artifact_path(prefix, file.relative_to(root).as_posix()),
                progress=progress,
            )
            for file in files
        ]

    def list(self, run_id: str, prefix: str | None = None) -> builtins.list[ArtifactOut]:
        """A run's files ordered by path, optionally only those below a directory."""
        response = self._http.request(
            "GET", f"/runs/{segment(run_id)}/artifacts", params={"prefix": prefix}
        )
        return _ARTIFACT_LIST.validate_json(response.content)

    def download(
        self,
        run_id: str,
        path: str,
        dest: str | os.PathLike[str],
        *,
        progress: ProgressCallback | None = None,
    ) -> Path:
        """Download one run file to `dest` (a file path, or an existing directory to put
        it in) and return where it was written.

        The bytes go to a temporary file beside the target, hashed on the way; the file
        takes its final name only when its sha256 equals the server's ETag.

        Raises:
            DigestMismatchError: The bytes do not match the ETag (nothing is left behind).
            NotFoundError: The run or the file does not exist.
        """
        url = f"/runs/{segment(run_id)}/artifacts/{quote_artifact_path(path)}"
        return download_verified(self._http, url, path, dest, progress=progress)

    def download_dir(
        self,
        run_id: str,
        prefix: str | None,
        dest: str | os.PathLike[str],
        *,
        progress: ProgressCallback | None = None,
    ) -> builtins.list[Path]:
        """Download every run file below `prefix` (all files when None) into directory
        `dest`, keeping their paths relative to the prefix."""
        root = Path(dest)
        written = []
        for artifact in self.list(run_id, prefix):
            relative = artifact.path
            if prefix:
                relative = artifact.path.removeprefix(prefix.strip("/")).lstrip("/")
            target = root.joinpath(*PurePosixPath(relative).parts)
            written.append(self.download(run_id, artifact.path, target, progress=progress))
        return written


def download_verified(
    http: HttpSession,
    url: str,
    path: str,
    dest: str | os.PathLike[str],
    *,
    progress: ProgressCallback | None = None,
) -> Path:
    """GET `url` into `dest` (a file path, or an existing directory to put the file named
    by `path` in): the bytes go to a temporary file beside the target, hashed on the way, and
    the file takes its final name only when its sha256 equals the server's ETag."""
    target = Path(dest)
    if target.is_dir():
        target = target / PurePosixPath(path).name
    target.parent.mkdir(parents=True, exist_ok=True)
    with http.stream("GET", url) as response:
        expected = response.headers.get("etag", "").removeprefix("W/").strip('"')
        if not expected:
            raise DigestMismatchError(f"{path}: the server sent no ETag to verify against")
        length = response.headers.get("content-length")
        total = int(length) if length and length.isdigit() else None
        handle, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        try:
            hasher = hashlib.sha256()
            with os.fdopen(handle, "wb") as out:
                done = 0
                for chunk in response.iter_bytes(CHUNK_BYTES):
                    out.write(chunk)
                    hasher.update(chunk)
                    done += len(chunk)
                    if progress is not None:
                        progress(TransferProgress(path, done, total))
            if hasher.hexdigest() != expected:
                raise DigestMismatchError(
                    f"{path}: downloaded bytes hash to {hasher.hexdigest()}, "
                    f"the server's ETag says {expected}"
                )
            os.replace(temp_name, target)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise
    return target


def quote_artifact_path(path: str) -> str:
    # Checked here too: httpx would quietly resolve `..` segments into another route.
    check_artifact_path(path, field="path")
    return "/".join(segment(part) for part in path.split("/"))


def _read_chunks(
    source: Path,
    update_digest: Callable[[bytes], None],
    path: str,
    total: int,
    progress: ProgressCallback | None,
) -> Iterator[bytes]:
    done = 0
    with source.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            update_digest(chunk)
            done += len(chunk)
            yield chunk
            if progress is not None:
                progress(TransferProgress(path, done, total))
