"""Archive uploads: safe trees stream back byte for byte; any unsafe member refuses the whole."""

from __future__ import annotations

import bz2
import gzip
import io
import pickle
import random
import stat
import struct
import tarfile
import tempfile
import zipfile
from collections.abc import Iterable
from typing import Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lockgate.domain.errors import InvalidInputError, LockgateError, PayloadTooLargeError
from lockgate.services.archives import (
    CHUNK_SIZE,
    Archive,
    ArchiveMember,
    _BoundedStream,
    _stream_member,
    open_archive,
)

_TarMode = Literal["w", "w:gz", "w:bz2", "w:xz"]
_TAR_MODES: dict[str, _TarMode] = {
    "tar": "w",
    "tar.gz": "w:gz",
    "tar.bz2": "w:bz2",
    "tar.xz": "w:xz",
}
MiB = 1024 * 1024

# -- building archives in memory ---------------------------------------------------------------


def _entry(
    name: str, data: bytes = b"", *, kind: bytes = tarfile.REGTYPE, **attrs: object
) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = len(data)
    for key, value in attrs.items():
        setattr(info, key, value)
    return info, data


def _tar(
    entries: Iterable[tuple[tarfile.TarInfo, bytes]],
    *,
    mode: _TarMode = "w",
    format: int = tarfile.PAX_FORMAT,
) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode, format=format) as archive:
        for info, data in entries:
            archive.addfile(info, io.BytesIO(data) if data else None)
    return buffer.getvalue()


def _zip(
    entries: Iterable[tuple[str | zipfile.ZipInfo, bytes]],
    *,
    compression: int = zipfile.ZIP_DEFLATED,
) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return buffer.getvalue()


def _zip_info(name: str, *, mode: int = 0, external: int = 0) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = (mode << 16) | external
    return info


def _build(kind: str, files: dict[str, bytes]) -> bytes:
    """An archive of `files` in the given format, with a directory entry for each parent."""
    if kind == "zip":
        parents = sorted({p.rpartition("/")[0] + "/" for p in files if "/" in p})
        return _zip([*((d, b"") for d in parents), *files.items()])
    directories = sorted({p.rpartition("/")[0] for p in files if "/" in p})
    entries = [_entry(d, kind=tarfile.DIRTYPE) for d in directories]
    entries += [_entry(path, data) for path, data in files.items()]
    return _tar(entries, mode=_TAR_MODES[kind])


def _patch(data: bytes, signature: bytes, offset: int, fmt: str, value: int) -> bytes:
    """Overwrite one field of the (only) zip header that starts with `signature`."""
    patched = bytearray(data)
    struct.pack_into(fmt, patched, data.index(signature) + offset, value)
    return bytes(patched)


def _patch_central(data: bytes, offset: int, fmt: str, value: int) -> bytes:
    return _patch(data, b"PK\x01\x02", offset, fmt, value)


# -- reading ---------------------------------------------------------------------------------


def _open(data: bytes, *, max_members: int = 100, max_total_bytes: int = 10 * MiB) -> Archive:
    return open_archive(io.BytesIO(data), max_members=max_members, max_total_bytes=max_total_bytes)


def _read(data: bytes, **limits: int) -> dict[str, bytes]:
    with _open(data, **limits) as archive:
        return {path: b"".join(chunks) for path, chunks in archive.iter_files()}


def _refused(data: bytes, match: str, **limits: int) -> InvalidInputError:
    with pytest.raises(InvalidInputError, match=match) as caught:
        _open(data, **limits)
    assert caught.value.field == "archive"
    return caught.value


FILES = {
    "model/model.onnx": b"\x00onnx" * 1000,
    "model/conf/params.json": b'{"lr": 0.1}',
    "plots/roc curve.svg": b"<svg/>",
    "README": b"",
    "big.bin": bytes(range(256)) * 1200,  # several chunks
}


@pytest.mark.parametrize("kind", ["tar", "tar.gz", "tar.bz2", "tar.xz", "zip"])
def test_a_tree_streams_back_exactly_the_bytes_put_in(kind: str) -> None:
    data = _build(kind, FILES)
    with _open(data) as archive:
        assert archive.members == tuple(ArchiveMember(p, len(b)) for p, b in FILES.items())
        read = {}
        for path, chunks in archive.iter_files():
            pieces = list(chunks)
            assert all(0 < len(piece) <= CHUNK_SIZE for piece in pieces)
            read[path] = b"".join(pieces)
    assert read == FILES


_SEGMENT = st.from_regex(r"[A-Za-z0-9_\-+=@ ]{1,6}", fullmatch=True)
# Files end in ".bin" and directories never hold a dot, so no file is ever also a directory.
_PATH = st.builds(
    lambda parents, name: "/".join([*parents, name + ".bin"]),
    st.lists(_SEGMENT, max_size=3),
    _SEGMENT,
)


@settings(max_examples=25, deadline=None)
@given(files=st.dictionaries(_PATH, st.binary(max_size=200), max_size=8))
@pytest.mark.parametrize("kind", ["tar.gz", "zip"])
def test_random_trees_round_trip(kind: str, files: dict[str, bytes]) -> None:
    assert _read(_build(kind, files)) == files


def test_a_spooled_upload_is_read_from_its_start_and_left_open() -> None:
    with tempfile.SpooledTemporaryFile(max_size=1024) as upload:
        upload.write(_build("tar.gz", FILES))  # the position is now at the end
        with open_archive(upload, max_members=10, max_total_bytes=MiB) as archive:
            assert [m.path for m in archive.members] == list(FILES)
        assert not upload.closed


def test_the_dot_slash_prefix_that_tar_writes_is_dropped() -> None:
    data = _tar(
        [
            _entry("./", kind=tarfile.DIRTYPE),
            _entry("./a", kind=tarfile.DIRTYPE),
            _entry("./a/b.txt", b"hi"),
        ]
    )
    assert _read(data) == {"a/b.txt": b"hi"}
    assert _read(_zip([("./", b""), ("./a/", b""), ("./a/b.txt", b"hi")])) == {"a/b.txt": b"hi"}


def test_long_gnu_and_pax_names_are_checked_like_any_other() -> None:
    long_path = "/".join(["segment"] * 40) + "/file.txt"
    for fmt in (tarfile.GNU_FORMAT, tarfile.PAX_FORMAT):
        assert _read(_tar([_entry(long_path, b"x")], format=fmt)) == {long_path: b"x"}
        escape = "/".join(["segment"] * 40) + "/../../../../../../../../../../../../x"
        _refused(_tar([_entry(escape, b"x")], format=fmt), match="invalid path")


def test_empty_archives_have_no_members() -> None:
    assert _open(_tar([])).members == ()
    assert _open(_zip([])).members == ()


# -- unsafe names --------------------------------------------------------------------------

UNSAFE_NAMES = [
    "../x",
    "a/../../x",
    "..",
    "a/..",
    ".",
    "C:\\x",
    "C:/x",
    "a\\..\\b",
    "a/./b",
    "./a/./b",  # only the leading `./` is dropped; the rest must be a clean path
    "././a",
    "a//b",
    "a/",
    "%2e%2e/x",
    "a\nb",
    "file:///etc/passwd",
]


@pytest.mark.parametrize("name", UNSAFE_NAMES)
def test_tar_names_an_upload_could_not_use_are_refused(name: str) -> None:
    data = _tar([_entry("ok.txt", b"fine"), _entry(name, b"x")])
    error = _refused(data, match="invalid path")
    assert repr(name) in error.message


# A trailing slash makes a zip directory entry, which is fine.
@pytest.mark.parametrize("name", [n for n in UNSAFE_NAMES if not n.endswith("/")])
def test_zip_names_an_upload_could_not_use_are_refused(name: str) -> None:
    error = _refused(_zip([("ok.txt", b"fine"), (name, b"x")]), match="invalid path")
    assert repr(name) in error.message


@pytest.mark.parametrize("name", ["/abs", "/etc/passwd", "/"])
def test_absolute_paths_are_refused(name: str) -> None:
    _refused(_tar([_entry(name, b"x")]), match="absolute path")
    _refused(_zip([(name, b"x")]), match="absolute path")


def test_absolute_directories_are_refused() -> None:
    _refused(_tar([_entry("/etc", kind=tarfile.DIRTYPE)]), match="absolute path")
    _refused(_zip([("/etc/", b"")]), match="absolute path")


def test_empty_names_are_refused() -> None:
    _refused(_zip([(zipfile.ZipInfo(""), b"x")]), match="empty name")
    _refused(_tar([_entry("", b"x")]), match="empty name")


def test_nul_bytes_in_names_are_refused() -> None:
    # zipfile cuts a name at NUL when writing, so plant the NUL in both headers by hand.
    data = _zip([("aX../../etc/passwd", b"x")]).replace(b"aX../", b"a\x00../")
    _refused(data, match="NUL byte")
    pax = _entry("x", b"x", pax_headers={"path": "a\x00/../../x"})
    _refused(_tar([pax], format=tarfile.PAX_FORMAT), match="NUL byte")


# -- unsafe kinds of member ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "label"),
    [
        (tarfile.SYMTYPE, "a symbolic link"),
        (tarfile.LNKTYPE, "a hard link"),
        (tarfile.CHRTYPE, "a character device"),
        (tarfile.BLKTYPE, "a block device"),
        (tarfile.FIFOTYPE, "a FIFO"),
        (b"Z", "unsupported tar type"),
    ],
)
def test_tar_links_devices_and_fifos_are_refused(kind: bytes, label: str) -> None:
    # Even a link that points inside the archive: the stored tree must hold files only.
    data = _tar([_entry("target", b"x"), _entry("link", kind=kind, linkname="target")])
    error = _refused(data, match=label)
    assert "'link'" in error.message


@pytest.mark.parametrize(
    ("mode", "label"),
    [
        (stat.S_IFLNK | 0o777, "a symbolic link"),
        (stat.S_IFCHR | 0o644, "a character device"),
        (stat.S_IFBLK | 0o644, "a block device"),
        (stat.S_IFIFO | 0o644, "a FIFO"),
        (stat.S_IFSOCK | 0o644, "a socket"),
    ],
)
def test_zip_entries_marked_as_links_or_devices_are_refused(mode: int, label: str) -> None:
    data = _zip([("ok.txt", b"x"), (_zip_info("link", mode=mode), b"/etc/passwd")])
    error = _refused(data, match=label)
    assert "'link'" in error.message


def test_zip_directories_marked_only_by_mode_or_msdos_attribute_are_skipped() -> None:
    data = _zip(
        [
            (_zip_info("d", mode=stat.S_IFDIR | 0o755), b""),
            (_zip_info("e", external=0x10), b""),
            ("d/x.txt", b"1"),
            ("e/y.txt", b"2"),
        ]
    )
    assert _read(data) == {"d/x.txt": b"1", "e/y.txt": b"2"}


def test_directories_that_hold_bytes_are_refused() -> None:
    _refused(_tar([_entry("d", b"abc", kind=tarfile.DIRTYPE)]), match="directory that holds")
    _refused(_zip([("d/", b"abc")]), match="directory that holds")


@pytest.mark.parametrize("flag", [0x01, 0x40])
def test_encrypted_zip_entries_are_refused(flag: int) -> None:
    data = _patch_central(_zip([("secret.txt", b"x")]), 8, "<H", flag)
    _refused(data, match="'secret.txt' is encrypted")


@pytest.mark.parametrize(("offset", "value"), [(10, 99), (8, 0x20)])
def test_zip_entries_in_formats_zipfile_cannot_read_are_refused(offset: int, value: int) -> None:
    data = _patch_central(_zip([("x.bin", b"x")]), offset, "<H", value)
    _refused(data, match="unsupported zip compression")


# -- duplicates ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entries", "match"),
    [
        ([_entry("a", b"1"), _entry("a", b"2")], "file 'a' twice"),
        ([_entry("./a", b"1"), _entry("a", b"2")], "file 'a' twice"),
        ([_entry("d", kind=tarfile.DIRTYPE), _entry("./d", kind=tarfile.DIRTYPE)], "twice"),
        ([_entry("a", kind=tarfile.DIRTYPE), _entry("a", b"1")], "'a' is also a directory"),
        ([_entry("a/b", b"1"), _entry("a", b"2")], "'a' is also a directory"),
        ([_entry("a", b"1"), _entry("a", kind=tarfile.DIRTYPE)], "'a' to be a directory"),
        ([_entry("a", b"1"), _entry("a/b/c", b"2")], "'a' to be a directory"),
        ([_entry("a/b/c", b"1"), _entry("a/b", b"2")], "'a/b' is also a directory"),
    ],
)
def test_a_path_may_appear_once_as_one_kind(
    entries: list[tuple[tarfile.TarInfo, bytes]], match: str
) -> None:
    _refused(_tar(entries), match=match)


def test_zip_duplicates_are_refused() -> None:
    with pytest.warns(UserWarning, match="Duplicate name"):
        twice = _zip([("a.txt", b"1"), ("a.txt", b"2")])
    _refused(twice, match="file 'a.txt' twice")
    _refused(_zip([("a/", b""), ("a", b"1")]), match="'a' is also a directory")


def test_shared_parents_are_fine() -> None:
    files = {"a/b/c.txt": b"1", "a/b/d.txt": b"2", "a/e.txt": b"3"}
    entries = [_entry("a", kind=tarfile.DIRTYPE), *(_entry(p, b) for p, b in files.items())]
    entries.append(_entry("a/b", kind=tarfile.DIRTYPE))  # listed after files that imply it
    assert _read(_tar(entries)) == files


# -- limits and bombs ------------------------------------------------------------------------


def test_more_entries_than_allowed_are_refused() -> None:
    files = {f"f{i}.txt": b"x" for i in range(3)}
    for kind in ("tar", "zip"):
        assert len(_open(_build(kind, files), max_members=3).members) == 3
        with pytest.raises(PayloadTooLargeError, match="more than 2 entries"):
            _open(_build(kind, files), max_members=2)
    # Directory entries count too.
    with pytest.raises(PayloadTooLargeError, match="more than 1 entries"):
        _open(_build("tar", {"d/f.txt": b"x"}), max_members=1)


def test_a_declared_total_over_the_limit_is_refused() -> None:
    files = {"a.bin": bytes(600), "b.bin": bytes(400)}
    for kind in ("tar.gz", "zip"):
        assert _read(_build(kind, files), max_total_bytes=1000) == files
        with pytest.raises(PayloadTooLargeError, match="more than 999 bytes") as caught:
            _open(_build(kind, files), max_total_bytes=999)
        assert "'b.bin'" in caught.value.message


@pytest.fixture(scope="module")
def zip_bomb() -> bytes:
    """200 MiB of zeros in one deflated member: a few hundred KiB on the wire."""
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive,
        archive.open("zeros.bin", "w", force_zip64=True) as member,
    ):
        chunk = bytes(MiB)
        for _ in range(200):
            member.write(chunk)
    return buffer.getvalue()


def test_a_zip_bomb_is_refused_by_its_declared_size(zip_bomb: bytes) -> None:
    assert len(zip_bomb) < 2 * MiB
    with pytest.raises(PayloadTooLargeError, match="more than"):
        _open(zip_bomb, max_total_bytes=100 * MiB)


def test_a_zip_bomb_that_lies_about_its_size_stops_at_the_declared_size(zip_bomb: bytes) -> None:
    liar = _patch_central(zip_bomb, 24, "<I", 1000)  # now declares 1000 bytes
    received = bytearray()
    with _open(liar, max_total_bytes=MiB) as archive:
        assert archive.members == (ArchiveMember("zeros.bin", 1000),)
        [(_, chunks)] = archive.iter_files()

        def drain() -> None:
            for chunk in chunks:
                received.extend(chunk)

        with pytest.raises(InvalidInputError, match=r"'zeros\.bin' is corrupt"):
            drain()
    assert len(received) <= 1000


def test_an_absurd_compression_ratio_is_refused_as_a_bomb() -> None:
    zeros = bytes(2 * MiB)
    with pytest.raises(PayloadTooLargeError, match="zip bomb"):
        _open(_zip([("z.bin", zeros)], compression=zipfile.ZIP_BZIP2), max_total_bytes=10 * MiB)
    # Deflate cannot pass about 1032:1, so honest zeros stored with it are still taken.
    assert _read(_zip([("z.bin", zeros)]), max_total_bytes=10 * MiB) == {"z.bin": zeros}


def test_a_member_shorter_than_declared_is_corrupt() -> None:
    data = _patch_central(_zip([("x.bin", b"x" * 1000)]), 24, "<I", 2000)
    with _open(data) as archive:
        [(_, chunks)] = archive.iter_files()
        with pytest.raises(InvalidInputError, match="shorter than its declared 2000 bytes"):
            b"".join(chunks)


def test_a_member_longer_than_declared_stops_the_stream() -> None:
    member = ArchiveMember("x.bin", 3)
    with pytest.raises(PayloadTooLargeError, match="more than its declared 3 bytes"):
        list(_stream_member(member, lambda: io.BytesIO(b"abcd")))

    class Generous(io.BytesIO):
        def read(self, size: int | None = -1, /) -> bytes:
            return super().read()

    with pytest.raises(PayloadTooLargeError, match="more than its declared 3 bytes"):
        list(_stream_member(member, lambda: Generous(b"abcdef")))


def test_an_oversized_tar_header_is_refused() -> None:
    huge = _entry("x", b"x", pax_headers={"comment": "c" * (2 * MiB)})
    with pytest.raises(PayloadTooLargeError, match="tar header larger than"):
        _open(_tar([huge], mode="w:gz"), max_members=1000, max_total_bytes=100 * MiB)
    # Below the cap for one read, but far past what one entry may take up.
    large = _entry("x", b"x", pax_headers={"comment": "c" * (200 * 1024)})
    with pytest.raises(PayloadTooLargeError, match="tar stream of more than"):
        _open(_tar([large], mode="w:gz"), max_members=1, max_total_bytes=10)


def test_a_deep_chain_of_pax_headers_is_refused() -> None:
    record = b"11 a=bcdef\n"
    header = tarfile.TarInfo("pax")
    header.type = tarfile.XHDTYPE
    header.size = len(record)
    block = header.tobuf(format=tarfile.USTAR_FORMAT) + record.ljust(512, b"\0")
    data = block * 2000 + _tar([_entry("f", b"x")], format=tarfile.USTAR_FORMAT)
    _refused(data, match="recursion")


def test_tar_streams_seek_only_to_absolute_positions() -> None:
    stream = _BoundedStream(io.BytesIO(b"abc"), limit=10)
    with pytest.raises(io.UnsupportedOperation):
        stream.seek(0, io.SEEK_CUR)


# -- not archives at all ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"",
        random.Random(0).randbytes(4096),
        pickle.dumps({"weights": [1.0, 2.0]}),
        b"col_a,col_b\n1,2\n" * 100,
        gzip.compress(b"col_a,col_b\n1,2\n" * 100),
        bz2.compress(b"col_a,col_b\n1,2\n" * 100),
        b"\x1f\x8b" + bytes(600),
        b"\xfd7zXZ\x00" + bytes(600),
    ],
    ids=["empty", "random", "pickle", "csv", "csv.gz", "csv.bz2", "bad-gzip", "bad-xz"],
)
def test_things_that_are_not_archives_are_refused(data: bytes) -> None:
    _refused(data, match="not a zip file or a tar file")


def test_a_broken_zip_is_refused() -> None:
    _refused(b"PK\x03\x04" + bytes(100), match="not a readable zip file")
    _refused(_zip([("a.txt", b"x" * 100)])[:-30], match="not a readable zip file")


def test_a_zip_needing_a_newer_reader_is_refused() -> None:
    data = _patch_central(_zip([("a.txt", b"x")]), 6, "<B", 100)  # version needed: 10.0
    _refused(data, match="not a readable zip file: zip file version 10.0")


def test_a_truncated_tar_is_refused() -> None:
    data = _build("tar", FILES)
    _refused(data[: len(data) // 2], match="corrupt")


def test_a_truncated_compressed_tar_is_refused() -> None:
    data = _build("tar.gz", FILES)
    with pytest.raises(InvalidInputError, match=r"corrupt|unexpected end"):
        _read(data[: len(data) // 2])


_SMALL = {"a/b.txt": b"hello" * 50, "c.txt": b"world"}


@settings(max_examples=60, deadline=None)
@given(data=st.data())
@pytest.mark.parametrize("kind", ["tar", "tar.gz", "zip"])
def test_damaged_archives_fail_only_with_lockgate_errors(kind: str, data: st.DataObject) -> None:
    archive = bytearray(_build(kind, _SMALL))
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(archive) - 1))
        archive[position] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(archive)))
    try:
        _read(bytes(archive[:cut]))  # pytest turns any warning into an error as well
    except LockgateError as error:  # anything else fails the test
        field = error.field
    else:
        field = "archive"
    assert field == "archive"
