"""Blobs in a local directory: content-addressed, atomic and durable writes, no symlink escapes.

Layout under the root: `blobs/sha256/ab/cd/<digest>` for blobs and `tmp/<random>.part` for
uploads in progress (same filesystem, so publishing a blob is one rename). POSIX only: paths
inside the store are walked with directory file descriptors and `O_NOFOLLOW`.
"""

from __future__ import annotations

import errno
import os
import stat
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from typing import BinaryIO

from lockgate.domain.artifacts import BlobRef, check_digest
from lockgate.domain.errors import LockgateError, NotFoundError
from lockgate.store.artifacts.hashing import CHUNK_SIZE, copy_hashed

__all__ = ["LocalBlobStore"]

_DIR_MODE = 0o750
_FILE_MODE = 0o640
_BLOBS = ("blobs", "sha256")
_TMP = "tmp"
_TMP_SUFFIX = ".part"
# A store directory must never be a symlink: O_NOFOLLOW makes opening one fail.
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
# O_NONBLOCK so that a FIFO planted at a blob's place cannot hang a reader.
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK
_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW


class LocalBlobStore:
    """A `BlobStore` in a directory of the local filesystem.

    A blob is written to a temporary file under `<root>/tmp/`, fsynced, renamed into
    `<root>/blobs/sha256/ab/cd/<digest>` and its directory fsynced, so it is visible whole or
    not at all, even across a crash. A crash leaves at most a temporary file, which
    `sweep_temp` removes. Symlinks inside the root are never followed.

    Args:
        root: The store's directory; created on the first `put`.
    """

    def __init__(self, root: Path) -> None:
        self._root = Path(os.path.abspath(root))

    @property
    def root(self) -> Path:
        """The store's directory."""
        return self._root

    def put(self, chunks: Iterable[bytes], *, max_bytes: int) -> BlobRef:
        """Stream bytes in and publish them atomically under their sha256 digest.

        Raises:
            PayloadTooLargeError: Past `max_bytes`; nothing is kept.
        """
        with ExitStack() as stack:
            with self._storing():
                tmp_fd = stack.enter_context(self._directory((_TMP,), create=True))
                name = f"{uuid.uuid4().hex}{_TMP_SUFFIX}"
                sink = os.fdopen(os.open(name, _WRITE_FLAGS, _FILE_MODE, dir_fd=tmp_fd), "wb")
            try:
                with sink:
                    # Not under _storing: errors of the caller's stream propagate unchanged.
                    ref = copy_hashed(chunks, sink, max_bytes=max_bytes)
                    with self._storing():
                        sink.flush()
                        os.fsync(sink.fileno())
                with self._storing():
                    self._publish(name, tmp_fd, ref.digest)
            except BaseException:
                with suppress(OSError):
                    _remove(name, tmp_fd)
                raise
        return ref

    def open(self, digest: str) -> Iterator[bytes]:
        """Stream a blob out in chunks of 1 MiB.

        Raises:
            NotFoundError: No blob has this digest.
        """
        check_digest(digest)
        self._check_inside_root(digest)
        with self._read_errors(digest):
            with self._directory(_blob_dir(digest), create=False) as dir_fd:
                fd = os.open(digest, _READ_FLAGS, dir_fd=dir_fd)
            blob = os.fdopen(fd, "rb")
            if not stat.S_ISREG(os.fstat(blob.fileno()).st_mode):
                blob.close()
                raise self._tampered(digest)
        return _read_chunks(blob)

    def exists(self, digest: str) -> bool:
        """Whether the blob is stored."""
        try:
            self.size(digest)
        except NotFoundError:
            return False
        return True

    def size(self, digest: str) -> int:
        """The blob's size in bytes.

        Raises:
            NotFoundError: No blob has this digest.
        """
        check_digest(digest)
        self._check_inside_root(digest)
        with (
            self._read_errors(digest),
            self._directory(_blob_dir(digest), create=False) as dir_fd,
        ):
            size = self._stored_size(digest, dir_fd)
        if size is None:
            raise NotFoundError(f"blob {digest} not found", field="digest")
        return size

    def delete(self, digest: str) -> None:
        """Remove a blob for good: unlink it and fsync its directory, so the removal is
        durable when this returns. A blob that is not stored is no error.

        Raises:
            LockgateError: The blob's path holds something other than a regular file.
        """
        check_digest(digest)
        self._check_inside_root(digest)
        try:
            with (
                self._read_errors(digest),
                self._directory(_blob_dir(digest), create=False) as dir_fd,
            ):
                if self._stored_size(digest, dir_fd) is None:
                    return
                _remove(digest, dir_fd)
                os.fsync(dir_fd)
        except NotFoundError:
            return  # its directory was never created: nothing to delete

    def sweep_temp(self, older_than_seconds: float) -> int:
        """Delete temporary files left by interrupted uploads.

        Only files last modified more than `older_than_seconds` ago are removed; choose a
        margin longer than the slowest upload, since an upload whose temporary file is swept
        fails.

        Returns:
            How many files were removed.
        """
        cutoff = time.time() - older_than_seconds
        removed = 0
        try:
            with (
                self._directory((_TMP,), create=False) as tmp_fd,
                os.scandir(tmp_fd) as entries,
            ):
                for entry in entries:
                    if _is_stale_temp(entry, cutoff) and _remove(entry.name, tmp_fd):
                        removed += 1
        except FileNotFoundError:
            return 0
        return removed

    def _publish(self, name: str, tmp_fd: int, digest: str) -> None:
        """Rename the temporary file into the blob's place, unless the blob already exists."""
        self._check_inside_root(digest)
        with self._directory(_blob_dir(digest), create=True) as dir_fd:
            if self._stored_size(digest, dir_fd) is not None:
                _remove(name, tmp_fd)
                return
            os.replace(name, digest, src_dir_fd=tmp_fd, dst_dir_fd=dir_fd)
            os.fsync(dir_fd)

    def _stored_size(self, digest: str, dir_fd: int) -> int | None:
        """The size of the regular file named `digest` in `dir_fd`, or None when missing."""
        try:
            info = os.stat(digest, dir_fd=dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            return None
        if not stat.S_ISREG(info.st_mode):
            raise self._tampered(digest)
        return info.st_size

    @contextmanager
    def _directory(self, parts: Sequence[str], *, create: bool) -> Iterator[int]:
        """A file descriptor of the directory `root/parts...`, reached without following any
        symlink below the root (the root itself is configuration and may be one)."""
        if create:
            os.makedirs(self._root, mode=_DIR_MODE, exist_ok=True)
        fd = os.open(self._root, os.O_RDONLY | os.O_DIRECTORY)
        try:
            for part in parts:
                created = create and _make_dir(part, fd)
                child = os.open(part, _DIR_FLAGS, dir_fd=fd)
                if created:
                    os.fsync(fd)  # make the new directory entry durable
                os.close(fd)
                fd = child
            yield fd
        finally:
            os.close(fd)

    def _check_inside_root(self, digest: str) -> None:
        """Refuse a blob whose resolved path leaves the root (a planted symlink). The
        O_NOFOLLOW walk in `_directory` enforces the same without a race; this check gives
        the clear error early."""
        real_root = os.path.realpath(self._root)
        real_path = os.path.realpath(self._root.joinpath(*_blob_dir(digest), digest))
        if os.path.commonpath([real_root, real_path]) != real_root:
            raise self._tampered(digest)

    @contextmanager
    def _storing(self) -> Iterator[None]:
        """Turn OS errors met while storing a blob into domain errors."""
        try:
            yield
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                raise self._tampered("being stored") from exc
            raise LockgateError(
                f"blob store {self._root}: cannot store a blob: {exc.strerror}"
            ) from exc

    @contextmanager
    def _read_errors(self, digest: str) -> Iterator[None]:
        """Turn OS errors met while reading a blob into domain errors."""
        try:
            yield
        except FileNotFoundError as exc:
            raise NotFoundError(f"blob {digest} not found", field="digest") from exc
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                raise self._tampered(digest) from exc
            raise LockgateError(
                f"blob store {self._root}: cannot access blob {digest}: {exc.strerror}"
            ) from exc

    def _tampered(self, digest: str) -> LockgateError:
        return LockgateError(
            f"blob store {self._root}: the path of the blob {digest} holds a symlink or another "
            "unexpected entry; refusing to follow it"
        )


def _blob_dir(digest: str) -> tuple[str, ...]:
    return (*_BLOBS, digest[:2], digest[2:4])


def _read_chunks(blob: BinaryIO) -> Iterator[bytes]:
    with blob:
        while chunk := blob.read(CHUNK_SIZE):
            yield chunk


def _make_dir(name: str, dir_fd: int) -> bool:
    """Create a directory; False when it already exists."""
    try:
        os.mkdir(name, _DIR_MODE, dir_fd=dir_fd)
    except FileExistsError:
        return False
    return True


def _remove(name: str, dir_fd: int) -> bool:
    """Unlink a file; False when it is already gone (a concurrent sweep or cleanup)."""
    try:
        os.unlink(name, dir_fd=dir_fd)
    except FileNotFoundError:
        return False
    return True


def _is_stale_temp(entry: os.DirEntry[str], cutoff: float) -> bool:
    try:
        return (
            entry.name.endswith(_TMP_SUFFIX)
            and entry.is_file(follow_symlinks=False)
            and entry.stat(follow_symlinks=False).st_mtime < cutoff
        )
    except FileNotFoundError:  # removed meanwhile by its upload or another sweep
        return False
