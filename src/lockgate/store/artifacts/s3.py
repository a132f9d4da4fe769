"""Blobs in S3-compatible object storage: spooled and hashed locally, then uploaded once.

boto3 is imported on the first request, so the core runs without the `s3` extra. Keys are
`<prefix>/blobs/sha256/ab/cd/<digest>`; credentials come from the standard AWS chain.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from lockgate.domain.artifacts import BlobRef, check_digest
from lockgate.domain.errors import LockgateError, NotFoundError
from lockgate.store.artifacts.hashing import CHUNK_SIZE, copy_hashed

if TYPE_CHECKING:
    from boto3.s3.transfer import TransferConfig
    from botocore.exceptions import ClientError
    from botocore.response import StreamingBody
    from mypy_boto3_s3.client import S3Client

__all__ = ["S3BlobStore"]

_NOT_FOUND_CODES = frozenset({"404", "NoSuchKey", "NotFound"})
_DEFAULT_MULTIPART_THRESHOLD = 8 * 1024 * 1024


class S3BlobStore:
    """A `BlobStore` in an S3 bucket (AWS, MinIO, Ceph or any S3-compatible server).

    `put` spools the bytes to a local temporary file while hashing and counting them, then
    uploads the file to the blob's final key unless that key already exists. An S3 PUT (single
    or multipart) is atomic, so a blob is visible whole or not at all; the spool file is
    unlinked from creation on, so a crash leaves nothing behind. Concurrent puts of the same
    bytes in one process upload once.

    Args:
        bucket: The bucket; it must exist.
        prefix: Key prefix under which the store lives (no leading or trailing slash needed).
        endpoint_url: Endpoint of an S3-compatible server; None means AWS.
        spool_dir: Where uploads are spooled; None means the system temporary directory.
        multipart_threshold: Uploads of at least this many bytes go in parts of this size
            (S3 requires parts of at least 5 MiB).
    """

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        spool_dir: Path | None = None,
        multipart_threshold: int = _DEFAULT_MULTIPART_THRESHOLD,
    ) -> None:
        self._bucket = bucket
        self._prefix = prefix.strip("/")
        self._endpoint_url = endpoint_url
        self._spool_dir = spool_dir
        self._multipart_threshold = multipart_threshold
        self._client: S3Client | None = None
        self._lock = threading.Lock()  # guards _client and _uploads
        self._uploads: dict[str, _Upload] = {}

    @property
    def bucket(self) -> str:
        """The bucket."""
        return self._bucket

    @property
    def prefix(self) -> str:
        """The key prefix, without slashes at either end."""
        return self._prefix

    def put(self, chunks: Iterable[bytes], *, max_bytes: int) -> BlobRef:
        """Stream bytes in, then upload them under their sha256 digest unless already stored.

        Raises:
            PayloadTooLargeError: Past `max_bytes`; nothing is uploaded.
        """
        with tempfile.TemporaryFile(dir=self._spool_dir) as spool:
            ref = copy_hashed(chunks, spool, max_bytes=max_bytes)
            with self._uploading(ref.digest):
                if self._head(ref.digest) is None:
                    spool.seek(0)
                    with self._errors("store", ref.digest):
                        self._s3().upload_fileobj(
                            spool,
                            self._bucket,
                            self.key(ref.digest),
                            Config=self._transfer_config(),
                        )
        return ref

    def open(self, digest: str) -> Iterator[bytes]:
        """Stream a blob out in chunks of 1 MiB.

        Raises:
            NotFoundError: No blob has this digest.
        """
        key = self.key(digest)
        with self._errors("read", digest):
            response = self._s3().get_object(Bucket=self._bucket, Key=key)
        return self._stream(response["Body"], digest)

    def exists(self, digest: str) -> bool:
        """Whether the blob is stored."""
        return self._head(digest) is not None

    def size(self, digest: str) -> int:
        """The blob's size in bytes.

        Raises:
            NotFoundError: No blob has this digest.
        """
        size = self._head(digest)
        if size is None:
            raise NotFoundError(f"blob {digest} not found", field="digest")
        return size

    def delete(self, digest: str) -> None:
        """Remove a blob for good (one DeleteObject; S3 answers the same whether or not the
        object existed, so deleting a missing blob is no error).

        On a versioned bucket this leaves a delete marker: lifecycle rules decide when the
        old version's bytes go.
        """
        key = self.key(digest)
        with self._errors("delete", digest):
            self._s3().delete_object(Bucket=self._bucket, Key=key)

    def key(self, digest: str) -> str:
        """The object key of a blob (the digest is validated first)."""
        check_digest(digest)
        relative = f"blobs/sha256/{digest[:2]}/{digest[2:4]}/{digest}"
        return f"{self._prefix}/{relative}" if self._prefix else relative

    def _head(self, digest: str) -> int | None:
        """The stored size of a blob, or None when it is missing."""
        key = self.key(digest)
        try:
            with self._errors("inspect", digest):
                response = self._s3().head_object(Bucket=self._bucket, Key=key)
        except NotFoundError:
            return None
        return response["ContentLength"]

    @contextmanager
    def _uploading(self, digest: str) -> Iterator[None]:
        """Serialize this process's uploads of one digest: the first uploads, the others then
        find the object and skip the transfer. Uploads from other processes may still overlap;
        that only overwrites an object with the same bytes."""
        with self._lock:
            upload = self._uploads.setdefault(digest, _Upload())
            upload.users += 1
        try:
            with upload.lock:
                yield
        finally:
            with self._lock:
                upload.users -= 1
                if upload.users == 0:
                    del self._uploads[digest]

    def _stream(self, body: StreamingBody, digest: str) -> Iterator[bytes]:
        try:
            with self._errors("read", digest):
                yield from body.iter_chunks(CHUNK_SIZE)
        finally:
            body.close()

    def _s3(self) -> S3Client:
        with self._lock:
            if self._client is None:
                try:
                    import boto3
                except ImportError as exc:
                    raise _missing_boto3() from exc
                # A session per store: boto3's default session is not thread-safe to create.
                session = boto3.session.Session()
                self._client = session.client("s3", endpoint_url=self._endpoint_url)
            return self._client

    def _transfer_config(self) -> TransferConfig:
        from boto3.s3.transfer import TransferConfig

        return TransferConfig(
            multipart_threshold=self._multipart_threshold,
            multipart_chunksize=self._multipart_threshold,
        )

    @contextmanager
    def _errors(self, action: str, digest: str) -> Iterator[None]:
        """Turn boto errors into domain errors naming the bucket (never credentials)."""
        try:
            from boto3.exceptions import Boto3Error
            from botocore.exceptions import BotoCoreError, ClientError
        except ImportError as exc:
            raise _missing_boto3() from exc

        try:
            yield
        except ClientError as exc:
            code = _client_error_code(exc)
            if code in _NOT_FOUND_CODES:
                raise NotFoundError(f"blob {digest} not found", field="digest") from exc
            raise self._failure(action, digest, code) from exc
        except (BotoCoreError, Boto3Error) as exc:
            cause = exc.__cause__ or exc.__context__
            reason = (
                _client_error_code(cause) if isinstance(cause, ClientError) else type(exc).__name__
            )
            raise self._failure(action, digest, reason) from exc

    def _failure(self, action: str, digest: str, reason: str) -> LockgateError:
        return LockgateError(
            f"S3 bucket {self._bucket!r}: cannot {action} blob {digest} ({reason})"
        )


@dataclass(slots=True)
class _Upload:
    """The lock of one digest's upload and how many threads hold or await it."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    users: int = 0


def _client_error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", "unknown"))


def _missing_boto3() -> LockgateError:
    return LockgateError("artifacts on S3 need boto3: install lockgate[s3]")
