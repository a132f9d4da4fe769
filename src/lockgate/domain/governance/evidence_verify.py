"""Checking an evidence bundle offline: the zip's names, the signature over the manifest, every
member's digest, the audit segment against the signed chain head, the package signature and
each decision's input hash. The first problem found is named; nothing after it is trusted.

The signature check itself needs an Ed25519 implementation, which the domain does not carry:
the caller passes `verifier_for` (raw public key -> Verifier). `lockgate.sdk.evidence.
verify_bundle` is this check with the `cryptography` implementation plugged in.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from os import PathLike
from typing import IO

from lockgate.domain.audit import ChainHead, StoredEvent
from lockgate.domain.governance.decisions import document_sha256
from lockgate.domain.governance.evidence import (
    AUDIT_EVENTS_MEMBER,
    AUDIT_PROOF_MEMBER,
    MANIFEST_MEMBER,
    PACKAGE_MEMBERS,
    REQUIRED_MEMBERS,
    SIGNATURE_MEMBER,
    AuditProof,
    BundleManifest,
    BundleSignature,
    CanonicalZipWriter,
    bundle_member_order,
    check_audit_segment,
    is_layout_member,
    member_name_problem,
    package_signature_from_document,
    parse_event_line,
    strict_json,
)
from lockgate.domain.packaging import (
    SIGNATURE_ALGORITHM,
    Manifest,
    PackageSignature,
    Verifier,
)

__all__ = ["EvidenceVerdict", "VerifierFor", "check_bundle"]

VerifierFor = Callable[[bytes], Verifier]
"""Makes a signature verifier for a raw Ed25519 public key (32 bytes)."""

MAX_DOCUMENT_BYTES = 64 * 1024 * 1024
"""The largest JSON member read into memory (the audit events are streamed)."""

_READ_CHUNK = 1 << 20
_CREATED = "model_version.created"
# What zipfile raises on damaged structures: bad CRCs, truncated data, names that are not
# UTF-8, features it does not implement.
_ZIP_ERRORS = (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError)


@dataclass(frozen=True, slots=True)
class EvidenceVerdict:
    """The outcome of checking a bundle.

    `checks` says what was verified, in order, up to the first problem; `problem` names that
    problem (None when `ok`). `key_pinned` is False when no trusted fingerprint was given:
    the bundle is then only proven consistent with the key inside it.
    """

    ok: bool
    problem: str | None
    checks: tuple[str, ...] = ()
    subject: str | None = None
    key_fingerprint: str | None = None
    key_pinned: bool = False
    exported_at: datetime | None = None
    exported_by: str | None = None
    audit_head: ChainHead | None = None
    members: tuple[str, ...] = field(default=())


class _Refused(Exception):
    """The first problem found; ends the check."""


@dataclass
class _Progress:
    checks: list[str] = field(default_factory=list)
    signature: BundleSignature | None = None
    manifest: BundleManifest | None = None
    pinned: bool = False


def check_bundle(
    source: str | PathLike[str] | bytes | IO[bytes],
    *,
    verifier_for: VerifierFor,
    trusted_key_fingerprint: str | None = None,
) -> EvidenceVerdict:
    """Check a bundle (a path, its bytes or a binary file) and name the first problem.

    Args:
        verifier_for: makes the Ed25519 verifier of a raw public key.
        trusted_key_fingerprint: the sha256 (hex) of the key that must have signed; without
            it any key is accepted, and the verdict says the key was not pinned.
    """
    progress = _Progress()
    try:
        _check(source, verifier_for, trusted_key_fingerprint, progress)
    except _Refused as refused:
        return _verdict(progress, str(refused))
    return _verdict(progress, None)


def _verdict(progress: _Progress, problem: str | None) -> EvidenceVerdict:
    manifest, signature = progress.manifest, progress.signature
    return EvidenceVerdict(
        ok=problem is None,
        problem=problem,
        checks=tuple(progress.checks),
        subject=str(manifest.subject) if manifest else None,
        key_fingerprint=signature.key_fingerprint if signature else None,
        key_pinned=progress.pinned,
        exported_at=manifest.exported_at if manifest else None,
        exported_by=manifest.exported_by if manifest else None,
        audit_head=manifest.audit_head if manifest else None,
        members=tuple(m.name for m in manifest.members) if manifest else (),
    )


def _check(
    source: str | PathLike[str] | bytes | IO[bytes],
    verifier_for: VerifierFor,
    pinned: str | None,
    progress: _Progress,
) -> None:
    archive = _open(source)
    with archive:
        infos = _check_names(archive)
        progress.checks.append(f"zip layout: {len(infos)} members, no duplicates or path tricks")
        manifest_bytes = _read_small(archive, infos, MANIFEST_MEMBER)
        signature = _check_signature(archive, infos, manifest_bytes, verifier_for, pinned)
        progress.signature, progress.pinned = signature, pinned is not None
        pin_note = "pinned" if pinned is not None else "NOT pinned: any key would pass"
        progress.checks.append(
            f"signature: {SIGNATURE_ALGORITHM} over manifest.json by key "
            f"{signature.key_fingerprint} ({pin_note})"
        )
        manifest = _parse_manifest(manifest_bytes)
        progress.manifest = manifest
        progress.checks.append(
            f"manifest: {manifest.subject} of project {manifest.subject.project}, exported "
            f"{manifest.exported_at.isoformat()} by {manifest.exported_by} "
            f"(Lockgate {manifest.lockgate_version})"
        )
        _check_member_set(manifest, infos)
        for entry in manifest.members:
            _check_digest(archive, infos[entry.name], entry.sha256, entry.size)
        progress.checks.append(
            f"members: {len(manifest.members)} sha256 digests and sizes match the manifest"
        )
        progress.checks.append(_check_audit(archive, infos, manifest))
        progress.checks.extend(_check_contents(archive, infos, manifest, signature, verifier_for))
        if _source_digest(source) != _rebuilt_digest(archive, infos, manifest):
            raise _Refused(
                "the zip is not byte for byte the canonical form of its members (its "
                "structure, order, timestamps or attributes were altered, or bytes were added)"
            )
        progress.checks.append("zip bytes: exactly the canonical serialization of the members")


def _open(source: str | PathLike[str] | bytes | IO[bytes]) -> zipfile.ZipFile:
    target = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
        return zipfile.ZipFile(target)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise _Refused(f"not a readable zip archive: {exc}") from exc


def _check_names(archive: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    infos: dict[str, zipfile.ZipInfo] = {}
    for info in archive.infolist():
        problem = member_name_problem(info.filename)
        if problem is not None:
            raise _Refused(f"path trick: {problem}")
        if info.filename in infos:
            raise _Refused(f"duplicate member {info.filename!r}")
        if not is_layout_member(info.filename):
            raise _Refused(f"unknown member {info.filename!r}: not in the bundle layout")
        if info.flag_bits & 0x1:
            raise _Refused(f"member {info.filename!r} is encrypted")
        if info.compress_type not in {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED}:
            raise _Refused(f"member {info.filename!r} uses an unsupported compression")
        infos[info.filename] = info
    for name in (MANIFEST_MEMBER, SIGNATURE_MEMBER):
        if name not in infos:
            raise _Refused(f"missing member {name!r}")
    return infos


def _read_small(archive: zipfile.ZipFile, infos: Mapping[str, zipfile.ZipInfo], name: str) -> bytes:
    info = infos[name]
    if info.file_size > MAX_DOCUMENT_BYTES:
        raise _Refused(f"member {name!r} is larger than {MAX_DOCUMENT_BYTES} bytes")
    try:
        with archive.open(info) as member:
            data = member.read(MAX_DOCUMENT_BYTES + 1)
    except _ZIP_ERRORS as exc:
        raise _Refused(f"member {name!r} is corrupt: {exc}") from exc
    if len(data) > MAX_DOCUMENT_BYTES:
        raise _Refused(f"member {name!r} is larger than {MAX_DOCUMENT_BYTES} bytes")
    return data


def _json(data: bytes, name: str) -> object:
    try:
        return strict_json(data)
    except ValueError as exc:
        raise _Refused(f"{name} is not valid JSON: {exc}") from exc


def _check_signature(
    archive: zipfile.ZipFile,
    infos: Mapping[str, zipfile.ZipInfo],
    manifest_bytes: bytes,
    verifier_for: VerifierFor,
    pinned: str | None,
) -> BundleSignature:
    data = _read_small(archive, infos, SIGNATURE_MEMBER)
    try:
        signature = BundleSignature.from_document(_json(data, SIGNATURE_MEMBER))
    except ValueError as exc:
        raise _Refused(f"signature.json: {exc}") from exc
    if signature.canonical() != data:
        raise _Refused("signature.json is not in its canonical form (it was edited)")
    if pinned is not None and signature.key_fingerprint != pinned.strip().lower():
        raise _Refused(
            f"signed by key {signature.key_fingerprint}, not the trusted key {pinned.strip()}"
        )
    if hashlib.sha256(manifest_bytes).hexdigest() != signature.manifest_sha256:
        raise _Refused("manifest.json is not the manifest that was signed (sha256 differs)")
    verifier = verifier_for(signature.public_key)
    signed = PackageSignature(SIGNATURE_ALGORITHM, signature.key_fingerprint, signature.value)
    if not verifier.verify(manifest_bytes, signed):
        raise _Refused("the signature over manifest.json does not verify")
    return signature


def _parse_manifest(data: bytes) -> BundleManifest:
    try:
        manifest = BundleManifest.from_document(_json(data, MANIFEST_MEMBER))
    except ValueError as exc:
        raise _Refused(f"manifest.json: {exc}") from exc
    if manifest.canonical() != data:
        raise _Refused("manifest.json is not in its canonical form")
    return manifest


def _check_member_set(manifest: BundleManifest, infos: Mapping[str, zipfile.ZipInfo]) -> None:
    listed = [m.name for m in manifest.members]
    if listed != sorted(set(listed)):
        raise _Refused("the manifest lists members out of order or twice")
    for name in listed:
        if name in {MANIFEST_MEMBER, SIGNATURE_MEMBER} or not is_layout_member(name):
            raise _Refused(f"the manifest lists {name!r}, which the bundle layout does not allow")
        if name not in infos:
            raise _Refused(f"missing member {name!r}: the manifest lists it")
    extra = sorted(set(infos) - set(listed) - {MANIFEST_MEMBER, SIGNATURE_MEMBER})
    if extra:
        raise _Refused(f"unknown member {extra[0]!r}: not in the signed manifest")
    missing = sorted(REQUIRED_MEMBERS - set(listed))
    if missing:
        raise _Refused(f"missing member {missing[0]!r}: every bundle has it")
    package = [name for name in PACKAGE_MEMBERS if name in infos]
    if package and len(package) != len(PACKAGE_MEMBERS):
        absent = next(name for name in PACKAGE_MEMBERS if name not in infos)
        raise _Refused(f"missing member {absent!r}: the package members come together")


def _chunks(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Iterator[bytes]:
    try:
        with archive.open(info) as member:
            while chunk := member.read(_READ_CHUNK):
                yield chunk
    except _ZIP_ERRORS as exc:
        raise _Refused(f"member {info.filename!r} is corrupt: {exc}") from exc


def _check_digest(archive: zipfile.ZipFile, info: zipfile.ZipInfo, sha256: str, size: int) -> None:
    if info.file_size != size:
        raise _Refused(f"member {info.filename!r} is {info.file_size} bytes, not the signed {size}")
    hasher, found = hashlib.sha256(), 0
    for chunk in _chunks(archive, info):
        hasher.update(chunk)
        found += len(chunk)
    if found != size:
        raise _Refused(f"member {info.filename!r} is {found} bytes, not the signed {size}")
    if hasher.hexdigest() != sha256:
        raise _Refused(
            f"member {info.filename!r}: sha256 {hasher.hexdigest()[:16]}... is not the signed "
            f"{sha256[:16]}..."
        )


def _lines(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Iterator[bytes]:
    pending = b""
    for chunk in _chunks(archive, info):
        pending += chunk
        *complete, pending = pending.split(b"\n")
        yield from complete
    if pending:
        raise _Refused(f"{info.filename} does not end with a newline")


def _check_audit(
    archive: zipfile.ZipFile, infos: Mapping[str, zipfile.ZipInfo], manifest: BundleManifest
) -> str:
    try:
        proof = AuditProof.from_document(
            _json(_read_small(archive, infos, AUDIT_PROOF_MEMBER), AUDIT_PROOF_MEMBER)
        )
    except ValueError as exc:
        raise _Refused(f"{AUDIT_PROOF_MEMBER}: {exc}") from exc
    if proof.head != manifest.audit_head:
        raise _Refused("the audit proof's head is not the chain head the manifest recorded")
    created = ("model_version", str(manifest.subject))
    if created not in proof.subjects:
        raise _Refused(f"the audit proof does not name the version {created} as a subject")
    first: list[StoredEvent] = []

    def events() -> Iterator[StoredEvent]:
        for number, line in enumerate(_lines(archive, infos[AUDIT_EVENTS_MEMBER]), start=1):
            try:
                event = parse_event_line(line)
            except ValueError as exc:
                raise _Refused(f"{AUDIT_EVENTS_MEMBER} line {number}: {exc}") from exc
            if not first:
                first.append(event)
            yield event

    problem = check_audit_segment(events(), proof)
    if problem is not None:
        raise _Refused(f"audit segment: {problem}")
    # Every version's life begins with its registration, so the segment must too: a segment
    # that starts later would leave events about the version outside it.
    if (first[0].action, first[0].subject_type, first[0].subject_id) != (
        _CREATED,
        *created,
    ):
        raise _Refused("audit segment: it does not begin with the version's registration")
    count = proof.head.seq - proof.first_seq + 1
    return (
        f"audit segment: events {proof.first_seq}..{proof.head.seq} ({count}) recomputed and "
        f"linked to the signed head {proof.head.hash[:16]}...; {len(proof.subject_seqs)} "
        "about the version"
    )


def _check_contents(
    archive: zipfile.ZipFile,
    infos: Mapping[str, zipfile.ZipInfo],
    manifest: BundleManifest,
    signature: BundleSignature,
    verifier_for: VerifierFor,
) -> list[str]:
    checks: list[str] = []
    for entry in manifest.members:
        if entry.name.endswith(".json"):
            _json(_read_small(archive, infos, entry.name), entry.name)
    checks.append("documents: every .json member is valid JSON")
    decisions = [m.name for m in manifest.members if m.name.startswith("decisions/")]
    for name in decisions:
        _check_decision(archive, infos, name)
    checks.append(f"decisions: {len(decisions)}, each input document matches its sha256")
    if PACKAGE_MEMBERS[0] in infos:
        checks.append(_check_package(archive, infos, manifest, signature, verifier_for))
    else:
        checks.append("package: none (the version has no signed package)")
    return checks


def _check_decision(
    archive: zipfile.ZipFile, infos: Mapping[str, zipfile.ZipInfo], name: str
) -> None:
    document = _json(_read_small(archive, infos, name), name)
    if not isinstance(document, dict):
        raise _Refused(f"{name} is not a JSON object")
    decision_id = name.removeprefix("decisions/").removesuffix(".json")
    if document.get("id") != decision_id:
        raise _Refused(f"{name} holds decision {document.get('id')!r}")
    inputs = document.get("input")
    if not isinstance(inputs, dict) or document_sha256(inputs) != document.get("input_sha256"):
        raise _Refused(f"{name}: the input document does not match its input_sha256")


def _check_package(
    archive: zipfile.ZipFile,
    infos: Mapping[str, zipfile.ZipInfo],
    manifest: BundleManifest,
    signature: BundleSignature,
    verifier_for: VerifierFor,
) -> str:
    manifest_name, signature_name, sbom_name = PACKAGE_MEMBERS
    try:
        package = Manifest.from_document(
            _mapping(_json(_read_small(archive, infos, manifest_name), manifest_name))
        )
        package_signature, signed_digest = package_signature_from_document(
            _json(_read_small(archive, infos, signature_name), signature_name)
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise _Refused(f"package: {exc}") from exc
    if signed_digest != package.digest:
        raise _Refused("package: the signature names another manifest than package/manifest.json")
    if (package.model, package.version) != (manifest.subject.model, manifest.subject.version):
        raise _Refused(f"package: the manifest is of {package.model}/{package.version}")
    if package_signature.key_id != signature.key_fingerprint:
        raise _Refused("package: signed by another key than the bundle")
    if not verifier_for(signature.public_key).verify(package.canonical(), package_signature):
        raise _Refused("package: the signature over the package manifest does not verify")
    sbom = _mapping(_json(_read_small(archive, infos, sbom_name), sbom_name))
    if _sbom_manifest_digest(sbom) != package.digest:
        raise _Refused("package: the SBOM is not the SBOM of the signed package manifest")
    return f"package: manifest signature verifies (sha256 {package.digest[:16]}...), SBOM matches"


def _mapping(value: object) -> Mapping[str, object]:
    if not isinstance(value, dict):
        raise _Refused("a package document is not a JSON object")
    return value


def _sbom_manifest_digest(sbom: Mapping[str, object]) -> str | None:
    metadata = sbom.get("metadata")
    component = metadata.get("component") if isinstance(metadata, dict) else None
    properties = component.get("properties") if isinstance(component, dict) else None
    if not isinstance(properties, list):
        return None
    for item in properties:
        if isinstance(item, dict) and item.get("name") == "lockgate:manifest_sha256":
            value = item.get("value")
            return value if isinstance(value, str) else None
    return None


class _HashSink:
    def __init__(self) -> None:
        self.hasher = hashlib.sha256()

    def write(self, data: bytes, /) -> object:
        self.hasher.update(data)
        return None


def _rebuilt_digest(
    archive: zipfile.ZipFile, infos: Mapping[str, zipfile.ZipInfo], manifest: BundleManifest
) -> str:
    sink = _HashSink()
    writer = CanonicalZipWriter(sink, manifest.exported_at)
    for name in bundle_member_order(infos):
        writer.add(name, _chunks(archive, infos[name]))
    writer.close()
    return sink.hasher.hexdigest()


def _source_digest(source: str | PathLike[str] | bytes | IO[bytes]) -> str:
    if isinstance(source, bytes):
        return hashlib.sha256(source).hexdigest()
    hasher = hashlib.sha256()
    if isinstance(source, str | PathLike):
        with open(source, "rb") as handle:
            while chunk := handle.read(_READ_CHUNK):
                hasher.update(chunk)
        return hasher.hexdigest()
    source.seek(0)
    while chunk := source.read(_READ_CHUNK):
        hasher.update(chunk)
    return hasher.hexdigest()
