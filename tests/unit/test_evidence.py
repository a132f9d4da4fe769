"""Evidence bundles in isolation: the layout, the writer, the audit proof, and offline
verification refusing every altered byte, every zip trick and every inconsistent document."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import struct
import warnings
import zipfile
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from lockgate.domain.audit import (
    GENESIS_HASH,
    AuditDraft,
    ChainHead,
    JsonValue,
    StoredEvent,
    canonical_details,
    seal,
)
from lockgate.domain.governance import document_sha256
from lockgate.domain.governance.evidence import (
    AUDIT_EVENTS_MEMBER,
    AUDIT_PROOF_MEMBER,
    AuditProof,
    BundleSubject,
    CanonicalZipWriter,
    bundle_member_order,
    check_audit_segment,
    decision_member,
    event_line,
    key_fingerprint,
    member_name_problem,
    package_signature_document,
    parse_event_line,
    raw_public_key,
    strict_json,
    write_bundle,
)
from lockgate.domain.governance.evidence_verify import EvidenceVerdict
from lockgate.domain.identity import Actor
from lockgate.domain.packaging import Manifest, canonical_json, sbom_document
from lockgate.sdk.evidence import fingerprint_of_pem, verify_bundle
from lockgate.store.keys import Ed25519Signer

AT = datetime(2026, 3, 4, 5, 6, 7, 123456, tzinfo=UTC)
KEY = Ed25519Signer(Ed25519PrivateKey.generate())
OTHER_KEY = Ed25519Signer(Ed25519PrivateKey.generate())
SUBJECTS = (("model_version", "m/3"), ("promotion_request", "r1"))

# The chain: two events before the version, then the version's life among other projects'.
_DRAFTS = [
    ("project.created", "project", "churn"),
    ("model.created", "model", "m"),
    ("model_version.created", "model_version", "m/3"),
    ("run.created", "run", "someone-else"),
    ("promotion.requested", "promotion_request", "r1"),
    ("model_version.created", "model_version", "n/1"),
    ("promotion.approved", "promotion_request", "r1"),
    ("run.ended", "run", "someone-else"),
]


def stored(draft: AuditDraft, head: ChainHead, i: int) -> StoredEvent:
    event = seal(draft, head=head, event_id=f"{i:032x}", at=AT + timedelta(seconds=i))
    return StoredEvent(
        event.seq,
        event.id,
        event.occurred_at,
        event.action,
        event.actor,
        event.subject_type,
        event.subject_id,
        canonical_details(event.details),
        event.prev_hash,
        event.hash,
    )


def chain() -> list[StoredEvent]:
    head, events = ChainHead(0, GENESIS_HASH), []
    for i, (action, subject_type, subject_id) in enumerate(_DRAFTS):
        details: dict[str, JsonValue] = {
            "i": i,
            "text": "naïve \u2713",
            "nested": {"b": [1, 2.5, None]},
        }
        event = stored(
            AuditDraft(action, Actor("user:a"), subject_type, subject_id, details), head, i
        )
        events.append(event)
        head = ChainHead(event.seq, event.hash)
    return events


def segment_and_proof(events: list[StoredEvent]) -> tuple[list[StoredEvent], AuditProof]:
    seqs = tuple(e.seq for e in events if (e.subject_type, e.subject_id) in SUBJECTS)
    segment = [e for e in events if e.seq >= seqs[0]]
    head = ChainHead(events[-1].seq, events[-1].hash)
    proof = AuditProof(seqs[0], segment[0].prev_hash, head, SUBJECTS, seqs)
    return segment, proof


def package(signer: Ed25519Signer = KEY, version: int = 3) -> dict[str, bytes]:
    manifest = Manifest(
        model="m",
        version=version,
        flavor="sklearn",
        files=(("model.skops", "a" * 64, 10),),
        signature=None,
        requirements=("numpy==1.26.4",),
        python_version="3.11.9",
        run_id="run-1",
        created_at=AT,
    )
    signature = signer.sign(manifest.canonical())
    sbom = sbom_document(manifest, tool_version="0.1.0")
    return {
        "package/manifest.json": canonical_json(manifest.document()),
        "package/signature.json": canonical_json(
            package_signature_document(signature, manifest.digest)
        ),
        "package/sbom.json": json.dumps(sbom, indent=2).encode(),
    }


def decision(decision_id: str = "d1") -> bytes:
    document: dict[str, JsonValue] = {
        "schema": 1,
        "request": {"id": "r1", "kind": "promotion"},
        "approvals": [],
    }
    return json.dumps(
        {
            "id": decision_id,
            "request_id": "r1",
            "allowed": True,
            "input": document,
            "input_sha256": document_sha256(document),
            "results": [{"gate": "approvals", "passed": True, "reasons": []}],
        },
        indent=2,
    ).encode()


def members(events: list[StoredEvent] | None = None) -> dict[str, bytes]:
    segment, proof = segment_and_proof(events or chain())
    found = {
        "model_card.json": b'{"sections": {"intended_use": "churn scoring"}}',
        "model_card.md": "# m/3\n\nIntended use: churn scoring \u2713\n".encode(),
        "lineage.json": b'{"nodes": [], "edges": []}',
        "openlineage.json": b"[]",
        "approvals.json": b'[{"reviewer": "user:carol"}]',
        "exceptions.json": b"[]",
        "promotions.json": b"[]",
        decision_member("d1"): decision("d1"),
        decision_member("d2"): decision("d2"),
        AUDIT_EVENTS_MEMBER: b"".join(event_line(e) for e in segment),
        AUDIT_PROOF_MEMBER: json.dumps(proof.document(), indent=2).encode(),
    }
    found.update(package())
    return found


def build(
    content: Mapping[str, bytes] | None = None,
    *,
    signer: Ed25519Signer = KEY,
    head: ChainHead | None = None,
) -> bytes:
    content = members() if content is None else content
    if head is None:
        proof = json.loads(content[AUDIT_PROOF_MEMBER])["head"]
        head = ChainHead(proof["seq"], proof["hash"])
    out = io.BytesIO()
    write_bundle(
        out,
        sorted((name, [data]) for name, data in content.items()),
        subject=BundleSubject("m", 3, "churn"),
        exported_at=AT,
        exported_by="user:auditor",
        lockgate_version="0.1.0",
        audit_head=head,
        signer=signer,
    )
    return out.getvalue()


BUNDLE = build()


def read_members(bundle: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def rezip(content: Mapping[str, bytes], order: list[str] | None = None) -> bytes:
    """The members (manifest and signature included) in a canonical zip, as they are."""
    out = io.BytesIO()
    writer = CanonicalZipWriter(out, AT)
    for name in order or bundle_member_order(content):
        writer.add(name, [content[name]])
    writer.close()
    return out.getvalue()


def verify(bundle: bytes, **options: str) -> EvidenceVerdict:
    return verify_bundle(bundle, **options)


def refused(bundle: bytes, match: str, **options: str) -> None:
    verdict = verify(bundle, **options)
    assert not verdict.ok
    assert verdict.problem is not None
    assert match in verdict.problem, verdict.problem


# -- a sound bundle ---------------------------------------------------------------------------


def test_a_sound_bundle_verifies_and_says_what_was_checked() -> None:
    verdict = verify(BUNDLE)
    assert verdict.ok, verdict.problem
    assert verdict.problem is None
    assert verdict.subject == "m/3"
    assert verdict.key_fingerprint == KEY.key_id
    assert not verdict.key_pinned
    assert verdict.exported_by == "user:auditor"
    assert verdict.exported_at == AT
    assert verdict.audit_head == ChainHead(8, chain()[-1].hash)
    assert len(verdict.members) == 14
    text = "\n".join(verdict.checks)
    for expected in (
        "no duplicates or path tricks",
        "NOT pinned",
        "14 sha256 digests",
        "events 3..8 (6)",
        "3 about the version",
        "decisions: 2",
        "package: manifest signature verifies",
        "canonical serialization",
    ):
        assert expected in text


def test_a_pinned_key_is_required_to_be_the_signer() -> None:
    pinned = verify(BUNDLE, trusted_key_fingerprint=KEY.key_id.upper())
    assert pinned.ok
    assert pinned.key_pinned
    assert "(pinned)" in pinned.checks[1]
    refused(BUNDLE, "not the trusted key", trusted_key_fingerprint=OTHER_KEY.key_id)


def test_a_bundle_is_read_from_a_path_or_a_file(tmp_path: Path) -> None:
    path = tmp_path / "bundle.zip"
    path.write_bytes(BUNDLE)
    assert verify_bundle(path).ok
    assert verify_bundle(str(path)).ok
    with path.open("rb") as handle:
        assert verify_bundle(handle).ok


def test_the_bundle_is_a_plain_zip_any_tool_reads() -> None:
    with zipfile.ZipFile(io.BytesIO(BUNDLE)) as archive:
        assert archive.testzip() is None
        names = archive.namelist()
        assert names[-2:] == ["manifest.json", "signature.json"]
        assert names[:-2] == sorted(names[:-2])
        manifest = json.loads(archive.read("manifest.json"))
    assert manifest["format"] == "lockgate.evidence/1"
    assert manifest["subject"] == {"model": "m", "version": 3, "project": "churn"}
    entry = next(m for m in manifest["members"] if m["name"] == "model_card.md")
    data = read_members(BUNDLE)["model_card.md"]
    assert entry == {
        "name": "model_card.md",
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
    }


def test_the_same_members_always_make_the_same_bytes() -> None:
    assert build() == BUNDLE
    assert rezip(read_members(BUNDLE)) == BUNDLE


def test_a_bundle_with_no_package_verifies() -> None:
    content = {k: v for k, v in members().items() if not k.startswith("package/")}
    verdict = verify(build(content))
    assert verdict.ok, verdict.problem
    assert "package: none" in verdict.checks[-2]


# -- altered bytes ----------------------------------------------------------------------------


def _positions(size: int, every_byte: bool) -> range | list[int]:
    if every_byte:
        return range(size)
    step = max(1, size // 24)
    return sorted({*range(0, size, step), size - 1})


@pytest.mark.parametrize("name", bundle_member_order(read_members(BUNDLE)))
def test_one_flipped_byte_in_any_member_is_refused(name: str) -> None:
    """Inside the manifest and the signature (which no digest covers) every byte is flipped
    in turn; inside the other members a spread of positions."""
    content = read_members(BUNDLE)
    original = content[name]
    for position in _positions(len(original), name in {"manifest.json", "signature.json"}):
        altered = bytearray(original)
        altered[position] ^= 0x01
        verdict = verify(rezip({**content, name: bytes(altered)}))
        assert not verdict.ok, (name, position)


def test_one_flipped_byte_anywhere_in_the_zip_file_is_refused() -> None:
    """Headers, timestamps, attributes, data descriptors, the central directory: the file
    must be byte for byte the canonical form of what was signed."""
    for position in range(len(BUNDLE)):
        altered = bytearray(BUNDLE)
        altered[position] ^= 0x01
        assert not verify(bytes(altered)).ok, position


def test_bytes_added_before_or_after_the_zip_are_refused() -> None:
    refused(b"junk" + BUNDLE, "not byte for byte")
    refused(BUNDLE + b"junk", "not")


def test_a_member_changed_in_the_zip_names_the_member() -> None:
    content = read_members(BUNDLE)
    content["approvals.json"] = b'[{"reviewer": "user:mallory"}]'
    refused(rezip(content), "member 'approvals.json'")


def test_a_manifest_with_changed_content_fails_the_signature() -> None:
    content = read_members(BUNDLE)
    content["manifest.json"] = content["manifest.json"].replace(b"user:auditor", b"user:mallory")
    refused(rezip(content), "manifest.json is not the manifest that was signed")


def test_a_manifest_re_signed_by_another_key_fails_only_when_pinned() -> None:
    forged = build(signer=OTHER_KEY)
    # the package inside is still signed by KEY: caught even without a pin
    refused(forged, "package: signed by another key")
    content = {**members(), **package(OTHER_KEY)}
    forged = build(content, signer=OTHER_KEY)
    assert verify(forged).ok
    assert not verify(forged).key_pinned
    refused(forged, "not the trusted key", trusted_key_fingerprint=KEY.key_id)


def test_a_signature_swapped_in_from_another_bundle_is_refused() -> None:
    other = read_members(build({**members(), "exceptions.json": b'[{"id": "x"}]'}))
    content = read_members(BUNDLE)
    content["signature.json"] = other["signature.json"]
    refused(rezip(content), "not the manifest that was signed")


# -- zip tricks -------------------------------------------------------------------------------


def _raw_zip(entries: list[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names
        with zipfile.ZipFile(out, "w") as archive:
            for name, data in entries:
                archive.writestr(name, data)
    return out.getvalue()


def test_an_extra_member_is_refused() -> None:
    content = read_members(BUNDLE)
    refused(rezip({**content, "decisions/d9.json": decision("d9")}), "not in the signed manifest")
    refused(rezip({**content, "notes.txt": b"hi"}), "unknown member 'notes.txt'")


def test_a_renamed_member_is_refused() -> None:
    content = read_members(BUNDLE)
    data = content.pop("decisions/d2.json")
    refused(rezip({**content, "decisions/d3.json": data}), "missing member 'decisions/d2.json'")
    content = read_members(BUNDLE)
    data = content.pop("exceptions.json")
    refused(rezip({**content, "exceptions.jsn": data}), "unknown member 'exceptions.jsn'")


def test_a_missing_member_is_refused() -> None:
    content = read_members(BUNDLE)
    del content["promotions.json"]
    refused(rezip(content), "missing member 'promotions.json'")
    content = read_members(BUNDLE)
    del content["signature.json"]
    refused(
        rezip(content, order=bundle_member_order(content)[:-1]), "missing member 'signature.json'"
    )


def test_a_required_member_left_out_of_a_signed_manifest_is_refused() -> None:
    content = members()
    del content["lineage.json"]
    refused(build(content), "missing member 'lineage.json': every bundle has it")
    content = members()
    del content["package/sbom.json"]
    refused(build(content), "the package members come together")


def test_duplicate_members_are_refused() -> None:
    entries = list(read_members(BUNDLE).items())
    refused(_raw_zip([*entries, ("approvals.json", b"[]")]), "duplicate member 'approvals.json'")


@pytest.mark.parametrize(
    "name",
    [
        "../approvals.json",
        "/approvals.json",
        "audit\\events.jsonl",
        "decisions/../x.json",
        "c:x",
        "decisions/",
        "a//b",
        "./manifest.json",
        "x\x01y",
    ],
)
def test_path_tricks_in_member_names_are_refused(name: str) -> None:
    entries = list(read_members(BUNDLE).items())
    refused(_raw_zip([*entries, (name, b"{}")]), "path trick")


def test_a_name_cut_short_by_a_nul_byte_is_refused() -> None:
    entries = list(read_members(BUNDLE).items())
    refused(_raw_zip([*entries, ("approvals.json\x00.txt", b"[]")]), "duplicate member")


def test_member_names_outside_the_layout_are_refused() -> None:
    assert member_name_problem("decisions/d1.json") is None
    with pytest.raises(ValueError, match="cannot name"):
        decision_member("../x")
    refused(
        _raw_zip([*read_members(BUNDLE).items(), ("decisions/a.b.json", b"{}")]), "unknown member"
    )


def test_a_recompressed_or_reordered_zip_of_the_same_members_is_refused() -> None:
    content = read_members(BUNDLE)
    refused(_raw_zip(list(content.items())), "not byte for byte")
    reordered = bundle_member_order(content)
    reordered[0], reordered[1] = reordered[1], reordered[0]
    refused(rezip(content, order=reordered), "not byte for byte")


def test_garbage_is_not_a_bundle() -> None:
    refused(b"not a zip at all", "not a readable zip archive")
    refused(b"", "not a readable zip archive")


# -- documents that disagree (a bundle re-signed by a faulty or dishonest exporter) -----------


def _with_events(events: list[StoredEvent], proof: AuditProof) -> bytes:
    content = members()
    content[AUDIT_EVENTS_MEMBER] = b"".join(event_line(e) for e in events)
    content[AUDIT_PROOF_MEMBER] = json.dumps(proof.document()).encode()
    return build(content, head=proof.head)


def test_an_edited_audit_event_is_refused_even_when_re_signed() -> None:
    segment, proof = segment_and_proof(chain())
    edited = dataclasses.replace(segment[1], details_json='{"i":99}')
    refused(
        _with_events([segment[0], edited, *segment[2:]], proof),
        "audit event 4: hash does not match",
    )


def test_a_removed_audit_event_is_refused() -> None:
    segment, proof = segment_and_proof(chain())
    refused(_with_events([segment[0], *segment[2:]], proof), "audit event 4 is missing")


def test_a_segment_that_stops_before_the_head_is_refused() -> None:
    segment, proof = segment_and_proof(chain())
    refused(_with_events(segment[:-1], proof), "ends at 7, before the head 8")


def test_a_proof_head_other_than_the_manifests_is_refused() -> None:
    _, proof = segment_and_proof(chain())
    content = members()
    refused(build(content, head=ChainHead(8, "f" * 64)), "not the chain head the manifest recorded")
    assert proof.head.seq == 8


def test_a_proof_hiding_an_event_about_the_version_is_refused() -> None:
    segment, proof = segment_and_proof(chain())
    hiding = dataclasses.replace(proof, subject_seqs=proof.subject_seqs[:-1])
    refused(_with_events(segment, hiding), "not the segment's events about the version")


def test_a_segment_that_starts_after_the_first_event_about_the_version_is_refused() -> None:
    segment, proof = segment_and_proof(chain())
    late = dataclasses.replace(
        proof, first_seq=5, first_prev_hash=segment[1].hash, subject_seqs=proof.subject_seqs[1:]
    )
    refused(_with_events(segment[2:], late), "does not begin with the version's registration")


def test_a_decision_whose_input_does_not_match_its_hash_is_refused() -> None:
    document = json.loads(decision("d1"))
    document["input"]["approvals"] = [{"reviewer": "user:mallory"}]
    content = {**members(), "decisions/d1.json": json.dumps(document).encode()}
    refused(build(content), "decisions/d1.json: the input document does not match")
    content = {**members(), "decisions/d1.json": decision("d2")}
    refused(build(content), "holds decision 'd2'")


def test_a_package_of_another_version_or_with_another_sbom_is_refused() -> None:
    refused(build({**members(), **package(version=4)}), "the manifest is of m/4")
    sbom = json.loads(members()["package/sbom.json"])
    sbom["metadata"]["component"]["properties"][1]["value"] = "0" * 64
    content = {**members(), "package/sbom.json": json.dumps(sbom).encode()}
    refused(build(content), "the SBOM is not the SBOM of the signed package manifest")


def test_a_json_member_that_is_not_json_is_refused() -> None:
    refused(build({**members(), "approvals.json": b"[1, 2"}), "approvals.json is not valid JSON")


# -- the pieces -------------------------------------------------------------------------------


def test_check_audit_segment_accepts_the_head_alone_when_nothing_concerns_the_version() -> None:
    events = chain()
    head = ChainHead(events[-1].seq, events[-1].hash)
    proof = AuditProof(head.seq, events[-1].prev_hash, head, (("model_version", "z/1"),), ())
    assert check_audit_segment([events[-1]], proof) is None
    assert "not at the first event" in (
        check_audit_segment(events[-2:], dataclasses.replace(proof, first_seq=7)) or ""
    )


def test_check_audit_segment_refuses_events_past_the_head() -> None:
    events = chain()
    segment, proof = segment_and_proof(events)
    short = dataclasses.replace(proof, head=ChainHead(7, events[6].hash))
    assert "after the chain head" in (check_audit_segment(segment, short) or "")


def test_event_lines_round_trip_exactly() -> None:
    for event in chain():
        assert parse_event_line(event_line(event).rstrip(b"\n")) == event
    with pytest.raises(ValueError, match="unexpected keys"):
        parse_event_line(b'{"seq": 1}')


def test_the_public_key_fingerprint_is_the_registry_key_id() -> None:
    assert key_fingerprint(raw_public_key(KEY.public_key_pem())) == KEY.key_id
    assert fingerprint_of_pem(KEY.public_key_pem()) == KEY.key_id
    with pytest.raises(ValueError, match="not a PEM public key"):
        raw_public_key("hello")


def test_strict_json_refuses_duplicate_keys_and_nan() -> None:
    with pytest.raises(ValueError, match="duplicate key"):
        strict_json(b'{"a": 1, "a": 2}')
    with pytest.raises(ValueError, match="NaN is not JSON"):
        strict_json(b"[NaN]")


def test_write_bundle_refuses_members_out_of_order_or_outside_the_layout() -> None:
    def write(entries: list[tuple[str, bytes]]) -> Callable[[], object]:
        return lambda: write_bundle(
            io.BytesIO(),
            [(name, [data]) for name, data in entries],
            subject=BundleSubject("m", 3, "churn"),
            exported_at=AT,
            exported_by="user:a",
            lockgate_version="0.1.0",
            audit_head=ChainHead(1, "0" * 64),
            signer=KEY,
        )

    with pytest.raises(ValueError, match="out of order"):
        write([("promotions.json", b"[]"), ("approvals.json", b"[]")])()
    with pytest.raises(ValueError, match="not in the bundle layout"):
        write([("notes.txt", b"")])()
    with pytest.raises(ValueError, match="written by write_bundle"):
        write([("manifest.json", b"{}")])()


def test_the_canonical_zip_holds_stored_members_with_data_descriptors() -> None:
    header = struct.unpack("<IHHH", BUNDLE[:10])
    assert header == (0x04034B50, 20, 0x0808, 0)  # signature, version, flags, stored
