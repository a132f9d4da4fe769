"""Evidence bundles: the layout of the zip an auditor receives about one model version, the
signed manifest that lists every member, and the audit proof that ties the bundle's events
to the live hash chain.

`manifest.json` names every other member with its sha256 and size, the subject, who exported
it and when, and the audit chain head at export time. Its canonical bytes are signed with
the registry's Ed25519 key, and `signature.json` carries the signature and the public key.
`evidence_verify.check_bundle` checks all of it offline; `write_bundle` makes a bundle.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import struct
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from lockgate.domain.audit import ChainHead, StoredEvent
from lockgate.domain.packaging import (
    SIGNATURE_ALGORITHM,
    PackageSignature,
    Signer,
    canonical_json,
)

__all__ = [
    "AUDIT_EVENTS_MEMBER",
    "AUDIT_PROOF_FORMAT",
    "AUDIT_PROOF_MEMBER",
    "BUNDLE_FORMAT",
    "MANIFEST_MEMBER",
    "PACKAGE_MEMBERS",
    "REQUIRED_MEMBERS",
    "SIGNATURE_MEMBER",
    "AuditProof",
    "BundleManifest",
    "BundleSignature",
    "BundleSubject",
    "CanonicalZipWriter",
    "MemberEntry",
    "ZipSink",
    "bundle_member_order",
    "check_audit_segment",
    "decision_member",
    "event_line",
    "is_layout_member",
    "key_fingerprint",
    "member_name_problem",
    "package_signature_document",
    "package_signature_from_document",
    "parse_event_line",
    "raw_public_key",
    "strict_json",
    "write_bundle",
]

BUNDLE_FORMAT = "lockgate.evidence/1"
AUDIT_PROOF_FORMAT = "lockgate.audit-proof/1"

MANIFEST_MEMBER = "manifest.json"
SIGNATURE_MEMBER = "signature.json"
AUDIT_EVENTS_MEMBER = "audit/events.jsonl"
AUDIT_PROOF_MEMBER = "audit/proof.json"

REQUIRED_MEMBERS = frozenset(
    {
        "model_card.json",
        "model_card.md",
        "lineage.json",
        "openlineage.json",
        "approvals.json",
        "exceptions.json",
        "promotions.json",
        AUDIT_EVENTS_MEMBER,
        AUDIT_PROOF_MEMBER,
    }
)
"""Members every bundle has (besides the manifest and the signature)."""

PACKAGE_MEMBERS = ("package/manifest.json", "package/signature.json", "package/sbom.json")
"""The version's signed package: all three, or none for a version registered before
manifests existed."""

_DECISION = re.compile(r"decisions/([A-Za-z0-9_-]{1,64})\.json")
_HEX64 = re.compile(r"[0-9a-f]{64}")
# The DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410); the raw key follows.
_ED25519_SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")
_RAW_KEY_SIZE = 32
_SIGNATURE_SIZE = 64


def decision_member(decision_id: str) -> str:
    """The member name of one gate decision; ValueError for an id the layout cannot hold."""
    name = f"decisions/{decision_id}.json"
    if not _DECISION.fullmatch(name):
        raise ValueError(f"decision id {decision_id!r} cannot name a bundle member")
    return name


def is_layout_member(name: str) -> bool:
    """Whether `name` is a member the bundle layout allows."""
    return (
        name in {MANIFEST_MEMBER, SIGNATURE_MEMBER}
        or name in REQUIRED_MEMBERS
        or name in PACKAGE_MEMBERS
        or _DECISION.fullmatch(name) is not None
    )


def member_name_problem(name: str) -> str | None:
    """Why a zip member name is a path trick (absolute, `..`, backslashes, drive letters,
    empty or `.` segments, control characters, a directory), or None."""
    if not name:
        return "an empty member name"
    if name.startswith("/") or "\\" in name or ":" in name:
        return f"member {name!r} is an absolute or non-POSIX path"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        return f"member {name!r} holds control characters"
    if name.endswith("/"):
        return f"member {name!r} is a directory entry"
    if any(part in {"", ".", ".."} for part in name.split("/")):
        return f"member {name!r} has an empty, '.' or '..' path segment"
    return None


def strict_json(data: bytes) -> object:
    """Parse UTF-8 JSON refusing duplicate keys and NaN/Infinity; ValueError otherwise."""

    def pairs(items: list[tuple[str, object]]) -> dict[str, object]:
        document: dict[str, object] = {}
        for key, value in items:
            if key in document:
                raise ValueError(f"duplicate key {key!r}")
            document[key] = value
        return document

    def constant(name: str) -> object:
        raise ValueError(f"{name} is not JSON")

    text = data.decode("utf-8")  # UnicodeDecodeError is a ValueError
    return json.loads(text, object_pairs_hook=pairs, parse_constant=constant)


def _object(value: object, what: str) -> Mapping[str, object]:
    if not isinstance(value, dict):
        raise ValueError(f"{what} is not a JSON object")
    return value


def _keys(document: Mapping[str, object], expected: set[str], what: str) -> None:
    if set(document) != expected:
        unexpected = sorted(set(document) - expected)
        missing = sorted(expected - set(document))
        raise ValueError(f"{what} has unexpected keys {unexpected} or misses {missing}")


def _text(document: Mapping[str, object], key: str) -> str:
    value = document[key]
    if not isinstance(value, str):
        raise ValueError(f"{key} is not a string")
    return value


def _integer(document: Mapping[str, object], key: str) -> int:
    value = document[key]
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{key} is not a non-negative integer")
    return value


def _hex64(document: Mapping[str, object], key: str) -> str:
    value = _text(document, key)
    if not _HEX64.fullmatch(value):
        raise ValueError(f"{key} is not a lowercase sha256 hex digest")
    return value


def _time(document: Mapping[str, object], key: str) -> datetime:
    moment = datetime.fromisoformat(_text(document, key))
    if moment.tzinfo is None:
        raise ValueError(f"{key} has no time zone")
    return moment


def _base64(text: str, key: str) -> bytes:
    try:
        value = base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise ValueError(f"{key} is not base64") from exc
    # Trailing bits a lax decoder ignores would let two texts carry one value.
    if base64.b64encode(value).decode() != text:
        raise ValueError(f"{key} is not canonical base64")
    return value


def raw_public_key(pem: str) -> bytes:
    """The 32 raw bytes of an Ed25519 public key in PEM (SubjectPublicKeyInfo); ValueError
    for anything else."""
    lines = [line.strip() for line in pem.strip().splitlines()]
    if len(lines) < 3 or lines[0] != "-----BEGIN PUBLIC KEY-----":
        raise ValueError("not a PEM public key")
    if lines[-1] != "-----END PUBLIC KEY-----":
        raise ValueError("not a PEM public key")
    try:
        der = base64.b64decode("".join(lines[1:-1]), validate=True)
    except binascii.Error as exc:
        raise ValueError("not a PEM public key") from exc
    if len(der) != len(_ED25519_SPKI_PREFIX) + _RAW_KEY_SIZE or not der.startswith(
        _ED25519_SPKI_PREFIX
    ):
        raise ValueError("not an Ed25519 public key")
    return der[len(_ED25519_SPKI_PREFIX) :]


def key_fingerprint(raw_key: bytes) -> str:
    """The sha256 of a raw public key, in hex: the key id the registry shows."""
    return hashlib.sha256(raw_key).hexdigest()


@dataclass(frozen=True, slots=True)
class BundleSubject:
    """The model version a bundle is about, and its project."""

    model: str
    version: int
    project: str

    def __str__(self) -> str:
        return f"{self.model}/{self.version}"


@dataclass(frozen=True, slots=True)
class MemberEntry:
    """One member as the manifest lists it."""

    name: str
    sha256: str
    size: int


@dataclass(frozen=True, slots=True)
class BundleManifest:
    """What the bundle holds, in the one form that is signed."""

    subject: BundleSubject
    exported_at: datetime
    exported_by: str
    lockgate_version: str
    audit_head: ChainHead
    members: tuple[MemberEntry, ...]  # sorted by name

    def document(self) -> dict[str, object]:
        return {
            "format": BUNDLE_FORMAT,
            "subject": {
                "model": self.subject.model,
                "version": self.subject.version,
                "project": self.subject.project,
            },
            "exported_at": self.exported_at.isoformat(timespec="microseconds"),
            "exported_by": self.exported_by,
            "lockgate_version": self.lockgate_version,
            "audit_head": {"seq": self.audit_head.seq, "hash": self.audit_head.hash},
            "members": [{"name": m.name, "sha256": m.sha256, "size": m.size} for m in self.members],
        }

    def canonical(self) -> bytes:
        """The signed bytes, stored as `manifest.json` exactly."""
        return canonical_json(self.document())

    @classmethod
    def from_document(cls, value: object) -> BundleManifest:
        """Read a manifest back, strictly; ValueError names what is wrong."""
        document = _object(value, "the manifest")
        _keys(
            document,
            {
                "format",
                "subject",
                "exported_at",
                "exported_by",
                "lockgate_version",
                "audit_head",
                "members",
            },
            "the manifest",
        )
        if document["format"] != BUNDLE_FORMAT:
            raise ValueError(f"the manifest is not {BUNDLE_FORMAT}")
        subject = _object(document["subject"], "subject")
        _keys(subject, {"model", "version", "project"}, "subject")
        head = _object(document["audit_head"], "audit_head")
        _keys(head, {"seq", "hash"}, "audit_head")
        members = document["members"]
        if not isinstance(members, list):
            raise ValueError("members is not a list")
        return cls(
            subject=BundleSubject(
                _text(subject, "model"), _integer(subject, "version"), _text(subject, "project")
            ),
            exported_at=_time(document, "exported_at"),
            exported_by=_text(document, "exported_by"),
            lockgate_version=_text(document, "lockgate_version"),
            audit_head=ChainHead(_integer(head, "seq"), _hex64(head, "hash")),
            members=tuple(_member_entry(m) for m in members),
        )


def _member_entry(value: object) -> MemberEntry:
    entry = _object(value, "a member entry")
    _keys(entry, {"name", "sha256", "size"}, "a member entry")
    return MemberEntry(_text(entry, "name"), _hex64(entry, "sha256"), _integer(entry, "size"))


@dataclass(frozen=True, slots=True)
class BundleSignature:
    """The Ed25519 signature over the manifest's bytes and the public key that made it."""

    public_key: bytes  # raw, 32 bytes
    value: bytes  # 64 bytes
    manifest_sha256: str

    @property
    def key_fingerprint(self) -> str:
        return key_fingerprint(self.public_key)

    def document(self) -> dict[str, object]:
        return {
            "algorithm": SIGNATURE_ALGORITHM,
            "public_key": base64.b64encode(self.public_key).decode(),
            "key_fingerprint": self.key_fingerprint,
            "manifest_sha256": self.manifest_sha256,
            "signature": base64.b64encode(self.value).decode(),
        }

    def canonical(self) -> bytes:
        """The bytes stored as `signature.json`."""
        return canonical_json(self.document())

    @classmethod
    def from_document(cls, value: object) -> BundleSignature:
        """Read `signature.json` back, strictly; ValueError names what is wrong (an
        unsupported algorithm, a key or signature of the wrong size, a fingerprint that is
        not the key's)."""
        document = _object(value, "the signature")
        _keys(
            document,
            {"algorithm", "public_key", "key_fingerprint", "manifest_sha256", "signature"},
            "the signature",
        )
        if document["algorithm"] != SIGNATURE_ALGORITHM:
            raise ValueError(f"unsupported signature algorithm {document['algorithm']!r}")
        public_key = _base64(_text(document, "public_key"), "public_key")
        signature = _base64(_text(document, "signature"), "signature")
        if len(public_key) != _RAW_KEY_SIZE:
            raise ValueError("public_key is not a raw Ed25519 key (32 bytes)")
        if len(signature) != _SIGNATURE_SIZE:
            raise ValueError("signature is not an Ed25519 signature (64 bytes)")
        found = cls(public_key, signature, _hex64(document, "manifest_sha256"))
        if _hex64(document, "key_fingerprint") != found.key_fingerprint:
            raise ValueError("key_fingerprint is not the sha256 of public_key")
        return found


def package_signature_document(
    signature: PackageSignature, manifest_sha256: str
) -> dict[str, object]:
    """`package/signature.json`: the registry's signature over the package manifest."""
    return {
        "algorithm": signature.algorithm,
        "key_id": signature.key_id,
        "manifest_sha256": manifest_sha256,
        "signature": base64.b64encode(signature.value).decode(),
    }


def package_signature_from_document(value: object) -> tuple[PackageSignature, str]:
    """The inverse of `package_signature_document`: the signature and the manifest sha256 it
    names; ValueError for anything else."""
    document = _object(value, "the package signature")
    _keys(
        document, {"algorithm", "key_id", "manifest_sha256", "signature"}, "the package signature"
    )
    if document["algorithm"] != SIGNATURE_ALGORITHM:
        raise ValueError(f"unsupported signature algorithm {document['algorithm']!r}")
    signature = PackageSignature(
        SIGNATURE_ALGORITHM,
        _hex64(document, "key_id"),
        _base64(_text(document, "signature"), "signature"),
    )
    return signature, _hex64(document, "manifest_sha256")


def event_line(event: StoredEvent) -> bytes:
    """One stored event as a line of `audit/events.jsonl` (canonical JSON, the details as
    the exact text that was hashed)."""
    return (
        canonical_json(
            {
                "seq": event.seq,
                "id": event.id,
                "occurred_at": event.occurred_at.isoformat(timespec="microseconds"),
                "action": event.action,
                "actor": event.actor,
                "subject_type": event.subject_type,
                "subject_id": event.subject_id,
                "details_json": event.details_json,
                "prev_hash": event.prev_hash,
                "hash": event.hash,
            }
        )
        + b"\n"
    )


_EVENT_KEYS = {
    "seq",
    "id",
    "occurred_at",
    "action",
    "actor",
    "subject_type",
    "subject_id",
    "details_json",
    "prev_hash",
    "hash",
}


def parse_event_line(line: bytes) -> StoredEvent:
    """The inverse of `event_line`; ValueError for anything else."""
    document = _object(strict_json(line), "an audit event")
    _keys(document, _EVENT_KEYS, "an audit event")
    return StoredEvent(
        seq=_integer(document, "seq"),
        id=_text(document, "id"),
        occurred_at=_time(document, "occurred_at"),
        action=_text(document, "action"),
        actor=_text(document, "actor"),
        subject_type=_text(document, "subject_type"),
        subject_id=_text(document, "subject_id"),
        details_json=_text(document, "details_json"),
        prev_hash=_hex64(document, "prev_hash"),
        hash=_hex64(document, "hash"),
    )


@dataclass(frozen=True, slots=True)
class AuditProof:
    """Where the bundle's audit segment sits in the chain.

    The segment is every stored event from `first_seq` to `head.seq`; the event at
    `first_seq` follows `first_prev_hash`. `subjects` are the (subject_type, subject_id)
    pairs that concern the version; `subject_seqs` are the events in the segment about
    them. The segment starts at the first of those (or is the head alone when none exist).
    """

    first_seq: int
    first_prev_hash: str
    head: ChainHead
    subjects: tuple[tuple[str, str], ...]
    subject_seqs: tuple[int, ...]

    def document(self) -> dict[str, object]:
        return {
            "format": AUDIT_PROOF_FORMAT,
            "first_seq": self.first_seq,
            "first_prev_hash": self.first_prev_hash,
            "head": {"seq": self.head.seq, "hash": self.head.hash},
            "subjects": [{"type": t, "id": i} for t, i in self.subjects],
            "subject_seqs": list(self.subject_seqs),
        }

    @classmethod
    def from_document(cls, value: object) -> AuditProof:
        """Read `audit/proof.json` back, strictly; ValueError names what is wrong."""
        document = _object(value, "the audit proof")
        _keys(
            document,
            {"format", "first_seq", "first_prev_hash", "head", "subjects", "subject_seqs"},
            "the audit proof",
        )
        if document["format"] != AUDIT_PROOF_FORMAT:
            raise ValueError(f"the audit proof is not {AUDIT_PROOF_FORMAT}")
        head = _object(document["head"], "head")
        _keys(head, {"seq", "hash"}, "head")
        subjects, seqs = document["subjects"], document["subject_seqs"]
        if not isinstance(subjects, list) or not isinstance(seqs, list):
            raise ValueError("subjects and subject_seqs are lists")
        pairs = []
        for item in subjects:
            subject = _object(item, "a subject")
            _keys(subject, {"type", "id"}, "a subject")
            pairs.append((_text(subject, "type"), _text(subject, "id")))
        numbers = [_integer({"seq": s}, "seq") for s in seqs]
        return cls(
            first_seq=_integer(document, "first_seq"),
            first_prev_hash=_hex64(document, "first_prev_hash"),
            head=ChainHead(_integer(head, "seq"), _hex64(head, "hash")),
            subjects=tuple(pairs),
            subject_seqs=tuple(numbers),
        )


def _proof_shape_problem(proof: AuditProof) -> str | None:
    seqs = proof.subject_seqs
    if list(seqs) != sorted(set(seqs)):
        return "the audit proof's subject_seqs are not ascending and distinct"
    if proof.first_seq < 1 or proof.first_seq > proof.head.seq:
        return f"the audit segment starts at {proof.first_seq}, outside 1..{proof.head.seq}"
    expected_first = seqs[0] if seqs else proof.head.seq
    if proof.first_seq != expected_first:
        return (
            f"the audit segment starts at {proof.first_seq}, not at the first event about "
            f"the version ({expected_first})"
        )
    if seqs and seqs[-1] > proof.head.seq:
        return f"subject event {seqs[-1]} lies after the chain head {proof.head.seq}"
    return None


def _event_problem(event: StoredEvent, expected_seq: int, expected_prev: str) -> str | None:
    if event.seq != expected_seq:
        return f"audit event {expected_seq} is missing (found {event.seq}): not contiguous"
    if event.prev_hash != expected_prev:
        return f"audit event {event.seq} does not link to its predecessor's hash"
    if event.content_hash() != event.hash:
        return f"audit event {event.seq}: hash does not match its content (edited)"
    return None


def check_audit_segment(events: Iterable[StoredEvent], proof: AuditProof) -> str | None:
    """Recompute every hash of the segment, check the links from `first_prev_hash` to the
    head, and that `subject_seqs` are exactly the segment's events about `subjects`. None
    when it holds; otherwise the first problem."""
    problem = _proof_shape_problem(proof)
    if problem is not None:
        return problem
    subjects = set(proof.subjects)
    about: list[int] = []
    expected_seq, expected_prev = proof.first_seq, proof.first_prev_hash
    for event in events:
        if expected_seq > proof.head.seq:
            return f"audit event {event.seq} lies after the chain head {proof.head.seq}"
        problem = _event_problem(event, expected_seq, expected_prev)
        if problem is not None:
            return problem
        if (event.subject_type, event.subject_id) in subjects:
            about.append(event.seq)
        expected_seq, expected_prev = event.seq + 1, event.hash
    if expected_seq != proof.head.seq + 1:
        return f"the audit segment ends at {expected_seq - 1}, before the head {proof.head.seq}"
    if expected_prev != proof.head.hash:
        return f"the last audit event's hash is not the recorded head {proof.head.hash[:16]}..."
    if tuple(about) != proof.subject_seqs:
        return "the audit proof's subject_seqs are not the segment's events about the version"
    return None


class ZipSink(Protocol):
    """Where a bundle's bytes go: a file opened for writing, or anything with `write`."""

    def write(self, data: bytes, /) -> object: ...


_LOCAL_HEADER = struct.Struct("<IHHHHHIIIHH")
_DATA_DESCRIPTOR = struct.Struct("<IIII")
_CENTRAL_HEADER = struct.Struct("<IHHHHHHIIIHHHHHII")
_END_OF_DIRECTORY = struct.Struct("<IHHHHIIH")
_ZIP_LIMIT = 0xFFFFFFFF
_FLAGS = 0x0808  # sizes in a data descriptor after the data; UTF-8 names
_VERSION = 20  # ZIP 2.0: stored members, data descriptors
_MADE_ON_UNIX = 3 << 8
_FILE_MODE = 0o100644 << 16


class CanonicalZipWriter:
    """Writes a zip in the one form a bundle takes: stored (uncompressed) members, each
    streamed with a data descriptor, fixed attributes and one timestamp, no comments and no
    extra fields. The same members in the same order always give the same bytes, whatever
    the platform, so a verifier can rebuild the archive and compare it byte for byte.
    No zip64: a member or an archive past 4 GiB is refused."""

    def __init__(self, sink: ZipSink, stamp: datetime) -> None:
        self._sink = sink
        self._offset = 0
        self._central: list[bytes] = []
        self._date = ((max(stamp.year, 1980) - 1980) << 9) | (stamp.month << 5) | stamp.day
        self._time = (stamp.hour << 11) | (stamp.minute << 5) | (stamp.second // 2)

    def _emit(self, data: bytes) -> None:
        self._sink.write(data)
        self._offset += len(data)
        if self._offset > _ZIP_LIMIT:
            raise ValueError("an evidence bundle cannot exceed 4 GiB")

    def add(self, name: str, chunks: Iterable[bytes]) -> MemberEntry:
        """Stream one member; returns its sha256 and size."""
        encoded = name.encode()
        offset = self._offset
        self._emit(
            _LOCAL_HEADER.pack(
                0x04034B50, _VERSION, _FLAGS, 0, self._time, self._date, 0, 0, 0, len(encoded), 0
            )
            + encoded
        )
        hasher, crc, size = hashlib.sha256(), 0, 0
        for chunk in chunks:
            hasher.update(chunk)
            crc = zlib.crc32(chunk, crc)
            size += len(chunk)
            self._emit(chunk)
        self._emit(_DATA_DESCRIPTOR.pack(0x08074B50, crc, size, size))
        self._central.append(
            _CENTRAL_HEADER.pack(
                0x02014B50,
                _MADE_ON_UNIX | _VERSION,
                _VERSION,
                _FLAGS,
                0,
                self._time,
                self._date,
                crc,
                size,
                size,
                len(encoded),
                0,
                0,
                0,
                0,
                _FILE_MODE,
                offset,
            )
            + encoded
        )
        return MemberEntry(name, hasher.hexdigest(), size)

    def close(self) -> None:
        """Write the central directory and the end record."""
        if len(self._central) > 0xFFFF:
            raise ValueError("an evidence bundle holds at most 65535 members")
        start = self._offset
        for header in self._central:
            self._emit(header)
        self._emit(
            _END_OF_DIRECTORY.pack(
                0x06054B50,
                0,
                0,
                len(self._central),
                len(self._central),
                self._offset - start,
                start,
                0,
            )
        )


def bundle_member_order(names: Iterable[str]) -> list[str]:
    """The order members take in a bundle: by name, then the manifest, then the signature."""
    return [
        *sorted(set(names) - {MANIFEST_MEMBER, SIGNATURE_MEMBER}),
        MANIFEST_MEMBER,
        SIGNATURE_MEMBER,
    ]


def write_bundle(
    out: ZipSink,
    members: Iterable[tuple[str, Iterable[bytes]]],
    *,
    subject: BundleSubject,
    exported_at: datetime,
    exported_by: str,
    lockgate_version: str,
    audit_head: ChainHead,
    signer: Signer,
) -> BundleManifest:
    """Write a bundle to `out`: the members (in ascending name order), each streamed and
    hashed as it goes, then the manifest and its signature. ValueError for a member the
    layout does not allow, or one out of order."""
    raw_key = raw_public_key(signer.public_key_pem())
    if key_fingerprint(raw_key) != signer.key_id:
        raise ValueError("the signer's public key is not the key it names")
    writer = CanonicalZipWriter(out, exported_at)
    entries: list[MemberEntry] = []
    for name, chunks in members:
        if entries and name <= entries[-1].name:
            raise ValueError(f"member {name!r} out of order or given twice")
        if name in {MANIFEST_MEMBER, SIGNATURE_MEMBER}:
            raise ValueError(f"member {name!r} is written by write_bundle itself")
        if member_name_problem(name) or not is_layout_member(name):
            raise ValueError(f"member {name!r} is not in the bundle layout")
        entries.append(writer.add(name, chunks))
    manifest = BundleManifest(
        subject, exported_at, exported_by, lockgate_version, audit_head, tuple(entries)
    )
    manifest_bytes = manifest.canonical()
    signature = BundleSignature(
        raw_key, signer.sign(manifest_bytes).value, hashlib.sha256(manifest_bytes).hexdigest()
    )
    writer.add(MANIFEST_MEMBER, [manifest_bytes])
    writer.add(SIGNATURE_MEMBER, [signature.canonical()])
    writer.close()
    return manifest
