"""Hashing while copying: the one loop both blob stores use to take bytes in."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import IO

from lockgate.domain.artifacts import BlobRef
from lockgate.domain.errors import InvalidInputError, LockgateError, PayloadTooLargeError

__all__ = ["CHUNK_SIZE", "copy_hashed"]

CHUNK_SIZE = 1024 * 1024
"""Bytes per chunk when a store streams a blob out."""


def copy_hashed(chunks: Iterable[bytes], sink: IO[bytes], *, max_bytes: int) -> BlobRef:
    """Write chunks to `sink`, hashing (sha256) and counting them as they come.

    Args:
        chunks: The bytes, in any chunking; empty chunks are allowed.
        sink: Where the bytes go; the caller owns it and discards it on any error.
        max_bytes: The most bytes accepted.

    Returns:
        The digest and size of everything written.

    Raises:
        PayloadTooLargeError: As soon as the bytes exceed `max_bytes` (field "body");
            `sink` then holds a partial copy the caller must discard.
        InvalidInputError: When `max_bytes` is negative.
        LockgateError: When writing to `sink` fails (a full disk); errors raised by
            `chunks` itself propagate unchanged.
    """
    if max_bytes < 0:
        raise InvalidInputError("max_bytes must not be negative", field="max_bytes")
    hasher = hashlib.sha256()
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > max_bytes:
            raise PayloadTooLargeError(
                f"upload exceeds the limit of {max_bytes} bytes", field="body"
            )
        hasher.update(chunk)
        try:
            sink.write(chunk)
        except OSError as exc:  # the disk, not the caller's stream: report it as ours
            raise LockgateError(f"cannot spool an upload: {exc.strerror}") from exc
    return BlobRef(digest=hasher.hexdigest(), size=size)
