"""Artifact blob stores: content-addressed bytes on the local filesystem or in S3.

`open_blob_store` is what the composition root calls to pick one by the `artifacts_url`.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from lockgate.domain.errors import InvalidInputError
from lockgate.store.artifacts.local import LocalBlobStore
from lockgate.store.artifacts.s3 import S3BlobStore
from lockgate.store.protocols import BlobStore

__all__ = ["LocalBlobStore", "S3BlobStore", "open_blob_store"]


def open_blob_store(url: str, *, s3_endpoint_url: str | None = None) -> BlobStore:
    """The blob store an artifacts URL names; no I/O happens until it is used.

    Args:
        url: `file:///ABSOLUTE/PATH` for a local directory, or `s3://BUCKET/PREFIX` for a
            bucket (the prefix is optional).
        s3_endpoint_url: Endpoint of an S3-compatible server (the `s3_endpoint_url` setting).

    Raises:
        InvalidInputError: The URL has another scheme or lacks a path or bucket
            (field "artifacts_url").
    """
    parts = urlsplit(url)
    if parts.query or parts.fragment:
        raise _invalid("artifacts_url takes no query or fragment")
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
            raise _invalid("artifacts_url file:// URLs need an absolute path (file:///PATH)")
        return LocalBlobStore(Path(unquote(parts.path)))
    if parts.scheme == "s3":
        if not parts.netloc:
            raise _invalid("artifacts_url s3:// URLs need a bucket (s3://BUCKET/PREFIX)")
        return S3BlobStore(parts.netloc, parts.path, endpoint_url=s3_endpoint_url)
    raise _invalid("artifacts_url must be a file:// or s3:// URL")


def _invalid(message: str) -> InvalidInputError:
    return InvalidInputError(message, field="artifacts_url")
