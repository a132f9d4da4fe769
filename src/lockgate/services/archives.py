"""Safe reading of uploaded tar and zip archives of run artifacts.

Every member is checked before `open_archive` returns, so an archive is taken whole or refused
whole; nothing here writes to the filesystem, and member bytes are only ever streamed.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial
from types import TracebackType
from typing import IO, Protocol, Self

from lockgate.domain.errors import InvalidInputError, PayloadTooLargeError
from lockgate.domain.names import check_artifact_path

__all__ = ["CHUNK_SIZE", "Archive", "ArchiveMember", "open_archive"]

CHUNK_SIZE = 64 * 1024
"""The most bytes one chunk of a streamed member holds."""

_FIELD = "archive"
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a local file header; an empty zip's end record
# tarfile reads a PAX record or a GNU long name whole; honest ones are a few KiB.
_MAX_TAR_HEADER_READ = 1024 * 1024
# Room per entry in the decompressed tar stream for headers and padding, beyond file bytes.
_TAR_ENTRY_OVERHEAD = 64 * 1024
# Deflate tops out near 1032:1, so only bzip2 and lzma members (or lying headers) get past this.
_MAX_ZIP_RATIO = 1100
_ZIP_RATIO_FLOOR = 1024 * 1024
_ZIP_ENCRYPTED = 0x01 | 0x40  # traditional and strong encryption
_ZIP_PATCH_DATA = 0x20  # compressed patched data, which zipfile cannot read
_ZIP_METHODS = frozenset(
    {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
)
_MSDOS_DIRECTORY = 0x10
_ONLY_FILES = "only regular files and directories are allowed"

_TAR_KINDS = {
    tarfile.SYMTYPE: "a symbolic link",
    tarfile.LNKTYPE: "a hard link",
    tarfile.CHRTYPE: "a character device",
    tarfile.BLKTYPE: "a block device",
    tarfile.FIFOTYPE: "a FIFO",
}
_ZIP_KINDS = {
    stat.S_IFLNK: "a symbolic link",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFSOCK: "a socket",
}

# What the stdlib readers raise on malformed input: bad headers, bad compressed data,
# truncation, undecodable names, zip versions zipfile does not know (NotImplementedError),
# and header chains deep enough to exhaust tarfile's recursion.
_CORRUPT = (
    tarfile.TarError,
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    EOFError,
    OSError,
    ValueError,
    NotImplementedError,
    RecursionError,
)


@dataclass(frozen=True, slots=True)
class ArchiveMember:
    """A regular file in an archive: its checked artifact path and declared size in bytes."""

    path: str
    size: int


_Entry = tuple[ArchiveMember, Callable[[], IO[bytes]]]


class Archive:
    """A validated archive: its regular files, ready to stream in archive order.

    Use it as a context manager (or call `close`); the upload file itself stays open, since it
    belongs to the caller.
    """

    def __init__(self, entries: list[_Entry], resources: ExitStack) -> None:
        self._entries = entries
        self._resources = resources

    @property
    def members(self) -> tuple[ArchiveMember, ...]:
        """The regular files, in archive order; directory entries are not listed."""
        return tuple(member for member, _ in self._entries)

    def iter_files(self) -> Iterator[tuple[str, Iterator[bytes]]]:
        """Yield each file's path and a stream of its bytes in chunks of at most CHUNK_SIZE.

        Drain each stream before moving on. A stream raises PayloadTooLargeError if the member
        holds more bytes than declared, and InvalidInputError if it holds fewer or is corrupt;
        since every member must match its declared size and the declared total was checked
        against max_total_bytes, the bytes streamed can never exceed it either.
        """
        for member, open_member in self._entries:
            yield member.path, _stream_member(member, open_member)

    def close(self) -> None:
        """Release the readers opened over the upload."""
        self._resources.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def open_archive(file: IO[bytes], *, max_members: int, max_total_bytes: int) -> Archive:
    """Open and check a zip or tar (plain, gzip, bzip2 or xz) upload, read from its start.

    Args:
        file: the seekable upload.
        max_members: the most entries (files and directories) the archive may hold.
        max_total_bytes: the most bytes its files may declare, all together.

    Raises:
        InvalidInputError: (field "archive") the upload is not a readable archive, or a
            member is unsafe: a path an artifact may not have, a link, a device, a FIFO, an
            encrypted or unsupported zip entry, or a path that appears twice or is both a
            file and a directory. The message names the member.
        PayloadTooLargeError: (field "archive") more than max_members entries, more than
            max_total_bytes declared, a tar header too large, or a likely zip bomb.
    """
    file.seek(0)
    magic = file.read(6)
    file.seek(0)
    ledger = _Ledger(max_members, max_total_bytes)
    with ExitStack() as resources:
        if magic.startswith(_ZIP_MAGIC):
            entries = _read_zip(file, ledger, resources)
        else:
            limit = max_total_bytes + (max_members + 1) * _TAR_ENTRY_OVERHEAD
            entries = _read_tar(_decompressed(file, magic, resources), limit, ledger, resources)
        return Archive(entries, resources.pop_all())


class _Ledger:
    """What an archive declares so far, checked entry by entry as the archive is read."""

    def __init__(self, max_members: int, max_total_bytes: int) -> None:
        self._max_members = max_members
        self._max_total_bytes = max_total_bytes
        self._count = 0
        self._total = 0
        self._files: set[str] = set()
        self._dirs: set[str] = set()  # listed directories and the parents that paths imply
        self._listed_dirs: set[str] = set()

    def admit(self, raw: str, *, is_dir: bool, size: int) -> ArchiveMember | None:
        """Check one entry; a file comes back as a member, a directory as None."""
        self._count += 1
        if self._count > self._max_members:
            raise PayloadTooLargeError(
                f"archive has more than {self._max_members} entries", field=_FIELD
            )
        path = _member_path(raw, is_dir=is_dir)
        if is_dir:
            self._admit_directory(raw, path, size)
            return None
        self._total += size
        if self._total > self._max_total_bytes:
            raise PayloadTooLargeError(
                f"archive unpacks to more than {self._max_total_bytes} bytes "
                f"(reached at member {raw!r})",
                field=_FIELD,
            )
        self._admit_file(raw, path)
        return ArchiveMember(path, size)

    def _admit_directory(self, raw: str, path: str, size: int) -> None:
        if size:
            raise InvalidInputError(
                f"archive member {raw!r} is a directory that holds {size} bytes", field=_FIELD
            )
        if not path:  # the archive's own root, as in `tar -cf x.tar .`
            return
        if path in self._listed_dirs:
            raise InvalidInputError(f"archive lists directory {path!r} twice", field=_FIELD)
        self._add_directories(raw, path)
        self._listed_dirs.add(path)

    def _admit_file(self, raw: str, path: str) -> None:
        if path in self._files:
            raise InvalidInputError(f"archive holds file {path!r} twice", field=_FIELD)
        if path in self._dirs:
            raise InvalidInputError(
                f"archive member {raw!r} is a file, but {path!r} is also a directory",
                field=_FIELD,
            )
        self._add_directories(raw, path.rpartition("/")[0])
        self._files.add(path)

    def _add_directories(self, raw: str, path: str) -> None:
        # Files and directories never share a path, so once a directory is known, so are
        # all of its parents, and the walk up can stop there.
        while path and path not in self._dirs:
            if path in self._files:
                raise InvalidInputError(
                    f"archive member {raw!r} needs {path!r} to be a directory, "
                    "but it is also a file",
                    field=_FIELD,
                )
            self._dirs.add(path)
            path = path.rpartition("/")[0]


def _member_path(raw: str, *, is_dir: bool) -> str:
    """The artifact path of a member name, or "" for the archive's root directory.

    Only the `./` prefix that `tar -C dir .` writes is dropped, and the trailing `/` of a
    directory; anything else must already be a path a single-file upload could use.
    """
    if not raw:
        raise InvalidInputError("archive has a member with an empty name", field=_FIELD)
    if "\x00" in raw:
        raise InvalidInputError(f"archive member {raw!r} has a NUL byte in its name", field=_FIELD)
    if raw.startswith("/"):
        raise InvalidInputError(f"archive member {raw!r} has an absolute path", field=_FIELD)
    path = raw.removeprefix("./")
    if is_dir:
        path = path.removesuffix("/")
        if path in {"", "."}:
            return ""
    try:
        check_artifact_path(path)
    except InvalidInputError as error:
        raise InvalidInputError(
            f"archive member {raw!r} has an invalid path: {error.message}", field=_FIELD
        ) from error
    return path


def _read_zip(file: IO[bytes], ledger: _Ledger, resources: ExitStack) -> list[_Entry]:
    try:
        archive = resources.enter_context(zipfile.ZipFile(file))
    except _CORRUPT as error:
        raise InvalidInputError(
            f"archive is not a readable zip file: {error}", field=_FIELD
        ) from error
    entries: list[_Entry] = []
    for info in archive.infolist():
        # orig_filename is the name as stored; zipfile cuts `filename` at a NUL byte.
        raw = info.orig_filename
        _check_zip_entry(raw, info)
        member = ledger.admit(raw, is_dir=_is_zip_directory(raw, info), size=info.file_size)
        if member is not None:
            entries.append((member, partial(archive.open, info)))
    return entries


def _check_zip_entry(raw: str, info: zipfile.ZipInfo) -> None:
    kind = _ZIP_KINDS.get(stat.S_IFMT(info.external_attr >> 16))
    if kind:
        raise InvalidInputError(f"archive member {raw!r} is {kind}; {_ONLY_FILES}", field=_FIELD)
    if info.flag_bits & _ZIP_ENCRYPTED:
        raise InvalidInputError(f"archive member {raw!r} is encrypted", field=_FIELD)
    if info.flag_bits & _ZIP_PATCH_DATA or info.compress_type not in _ZIP_METHODS:
        raise InvalidInputError(
            f"archive member {raw!r} uses an unsupported zip compression", field=_FIELD
        )
    if info.file_size > _ZIP_RATIO_FLOOR and info.file_size > _MAX_ZIP_RATIO * info.compress_size:
        raise PayloadTooLargeError(
            f"archive member {raw!r} expands {info.compress_size} bytes to {info.file_size}; "
            "refusing a likely zip bomb",
            field=_FIELD,
        )


def _is_zip_directory(raw: str, info: zipfile.ZipInfo) -> bool:
    # Some tools mark a directory only by its Unix mode or its MS-DOS attribute.
    return (
        raw.endswith("/")
        or stat.S_ISDIR(info.external_attr >> 16)
        or bool(info.external_attr & _MSDOS_DIRECTORY)
    )


class _Seekable(Protocol):
    def read(self, size: int, /) -> bytes: ...

    def seek(self, offset: int, /) -> int: ...

    def tell(self) -> int: ...


def _decompressed(file: IO[bytes], magic: bytes, resources: ExitStack) -> _Seekable:
    """The tar stream inside the upload: decompressed here rather than by tarfile, so that
    _BoundedStream can watch the bytes tarfile actually reads."""
    if magic.startswith(b"\x1f\x8b"):
        return resources.enter_context(gzip.GzipFile(fileobj=file, mode="rb"))
    if magic.startswith(b"BZh"):
        return resources.enter_context(bz2.BZ2File(file))
    if magic.startswith(b"\xfd7zXZ\x00"):
        return resources.enter_context(lzma.LZMAFile(file))
    return file


class _BoundedStream(io.RawIOBase):
    """A read-only tar stream that refuses large single reads and going past a limit.

    tarfile reads PAX records and GNU long names whole, and decompresses whatever it skips;
    these bounds keep a small upload from making the server hold or inflate gigabytes.
    """

    def __init__(self, inner: _Seekable, limit: int) -> None:
        super().__init__()
        self._inner = inner
        self._limit = limit

    def tell(self) -> int:
        return self._inner.tell()

    def seek(self, offset: int, whence: int = io.SEEK_SET, /) -> int:
        if whence != io.SEEK_SET:
            raise io.UnsupportedOperation("tar streams seek to absolute positions only")
        self._check_position(offset)
        return self._inner.seek(offset)

    def read(self, size: int = -1, /) -> bytes:
        if not 0 <= size <= _MAX_TAR_HEADER_READ:
            raise PayloadTooLargeError(
                f"archive holds a tar header larger than {_MAX_TAR_HEADER_READ} bytes",
                field=_FIELD,
            )
        self._check_position(self._inner.tell() + size)
        return self._inner.read(size)

    def _check_position(self, position: int) -> None:
        if position > self._limit:
            raise PayloadTooLargeError(
                f"archive unpacks to a tar stream of more than {self._limit} bytes", field=_FIELD
            )


def _read_tar(stream: _Seekable, limit: int, ledger: _Ledger, resources: ExitStack) -> list[_Entry]:
    try:
        archive = resources.enter_context(
            tarfile.TarFile(fileobj=_BoundedStream(stream, limit), mode="r")
        )
    except _CORRUPT as error:
        raise InvalidInputError(
            f"archive is not a zip file or a tar file (plain, gzip, bzip2 or xz): {error}",
            field=_FIELD,
        ) from error
    entries: list[_Entry] = []
    try:
        while (info := archive.next()) is not None:
            if not (info.isreg() or info.isdir()):
                kind = _TAR_KINDS.get(info.type, f"an entry of unsupported tar type {info.type!r}")
                raise InvalidInputError(
                    f"archive member {info.name!r} is {kind}; {_ONLY_FILES}", field=_FIELD
                )
            member = ledger.admit(info.name, is_dir=info.isdir(), size=info.size)
            if member is not None:
                entries.append((member, partial(_open_tar_member, archive, info)))
    except _CORRUPT as error:
        raise InvalidInputError(f"archive is corrupt: {error}", field=_FIELD) from error
    return entries


def _open_tar_member(archive: tarfile.TarFile, info: tarfile.TarInfo) -> IO[bytes]:
    stream = archive.extractfile(info)
    if stream is None:  # pragma: no cover - only regular files get here, checked on the way in
        raise InvalidInputError(f"archive member {info.name!r} is not a file", field=_FIELD)
    return stream


def _stream_member(member: ArchiveMember, open_member: Callable[[], IO[bytes]]) -> Iterator[bytes]:
    """Stream a member's bytes, holding it to exactly its declared size: headers can lie."""
    try:
        with open_member() as stream:
            remaining = member.size
            while remaining > 0:
                chunk = stream.read(min(CHUNK_SIZE, remaining))
                if not chunk:
                    raise InvalidInputError(
                        f"archive member {member.path!r} is shorter than its declared "
                        f"{member.size} bytes",
                        field=_FIELD,
                    )
                if len(chunk) > remaining:
                    raise _longer_than_declared(member)
                remaining -= len(chunk)
                yield chunk
            if stream.read(1):
                raise _longer_than_declared(member)
    except _CORRUPT as error:
        raise InvalidInputError(
            f"archive member {member.path!r} is corrupt: {error}", field=_FIELD
        ) from error


def _longer_than_declared(member: ArchiveMember) -> PayloadTooLargeError:
    return PayloadTooLargeError(
        f"archive member {member.path!r} holds more than its declared {member.size} bytes",
        field=_FIELD,
    )
