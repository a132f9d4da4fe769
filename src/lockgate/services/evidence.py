"""Evidence use cases: export a model version's evidence bundle, signed with the registry's
key, with a segment of the audit log up to the chain head read in the same transaction."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from lockgate.domain.access import Caller, Permission
from lockgate.domain.audit import ChainHead
from lockgate.domain.errors import ConflictError
from lockgate.domain.governance.cards import CardFormat, render_card
from lockgate.domain.governance.evidence import (
    AUDIT_EVENTS_MEMBER,
    AUDIT_PROOF_MEMBER,
    PACKAGE_MEMBERS,
    AuditProof,
    BundleManifest,
    BundleSubject,
    ZipSink,
    decision_member,
    event_line,
    package_signature_document,
    write_bundle,
)
from lockgate.domain.governance.evidence_documents import (
    approvals_document,
    decision_document,
    exceptions_document,
    json_bytes,
    lineage_document,
    promotions_document,
)
from lockgate.domain.governance.lineage import LineageDirection, LineageNode, lineage_gaps
from lockgate.domain.governance.openlineage import producer_uri
from lockgate.domain.names import check_name
from lockgate.domain.packaging import Signer, canonical_json, sbom_document
from lockgate.domain.registry import RegisteredModel
from lockgate.domain.tracking import Project
from lockgate.services.context import ServiceContext
from lockgate.services.lineage import export_openlineage, version_lineage
from lockgate.services.model_cards import build_card
from lockgate.services.promotions import version_governance
from lockgate.store.protocols import UnitOfWork

__all__ = ["EvidenceExport", "EvidenceService"]

LINEAGE_DEPTH = 3
"""How far the bundle's lineage graph reaches from the version, both ways: the datasets its
run read, and the evaluations, comparisons and promotions that followed."""


@dataclass(frozen=True, slots=True)
class EvidenceExport:
    """What an export wrote: the signed manifest, and the sha256 and size of the zip."""

    manifest: BundleManifest
    sha256: str
    size: int


class _HashingSink:
    """Passes bytes on to the real sink, hashing and counting them."""

    def __init__(self, sink: ZipSink) -> None:
        self._sink = sink
        self.hasher = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes, /) -> object:
        self.hasher.update(data)
        self.size += len(data)
        return self._sink.write(data)


class EvidenceService:
    """Evidence bundles of model versions.

    Args:
        signer: The registry's signing key (the one that signs package manifests).
        tool_version: Lockgate's version, named in the bundle, the SBOM and the card.
    """

    def __init__(self, context: ServiceContext, signer: Signer, tool_version: str) -> None:
        self._ctx = context
        self._signer = signer
        self._tool_version = tool_version

    def export(self, caller: Caller, model_name: str, version: int, out: ZipSink) -> EvidenceExport:
        """Write the evidence bundle of a version to `out` (a zip; see
        docs/howto/evidence.md): its card, lineage, every gate decision with its input,
        approvals, exceptions, promotions, signed package and SBOM, and the audit log from
        the version's registration to the chain head, all read in one read-only
        transaction. The export is then audited as `evidence.exported`.

        Needs `audit.read` (platform admins and auditors): the audit segment holds other
        projects' events too (docs/decisions/0008).

        Raises:
            PermissionDeniedError: The caller lacks audit.read.
            NotFoundError: The model or version does not exist.
        """
        sink = _HashingSink(out)
        with self._ctx.uow(read_only=True) as uow:
            model = uow.models.get_model(check_name(model_name, field="model"))
            ref = f"{model.name}/{version}"
            self._ctx.authorize(uow, caller, Permission.AUDIT_READ, subject=("model_version", ref))
            uow.models.get_version(model.name, version)  # NotFoundError naming the version
            project = uow.projects.get(model.project_id)
            now = self._ctx.clock.now()
            members = self._records(uow, model, project, version, now)
            # The head is read after the records: on PostgreSQL a read-only transaction is
            # READ COMMITTED, so a record read above may have been committed after an earlier
            # head; read now, the head is at or after the audit event of every record.
            head = uow.audit.head()
            members.update(self._audit(uow, model, version, head))
            manifest = write_bundle(
                sink,
                sorted(members.items()),
                subject=BundleSubject(model.name, version, project.name),
                exported_at=now,
                exported_by=caller.actor,
                lockgate_version=self._tool_version,
                audit_head=head,
                signer=self._signer,
            )
        exported = EvidenceExport(manifest, sink.hasher.hexdigest(), sink.size)
        with self._ctx.uow() as uow:
            self._ctx.record(
                uow,
                "evidence.exported",
                caller,
                ("model_version", ref),
                {
                    "bundle_sha256": exported.sha256,
                    "size": exported.size,
                    "audit_head_seq": head.seq,
                    "audit_head_hash": head.hash,
                    "members": len(manifest.members),
                },
            )
            uow.commit()
        return exported

    def _records(
        self,
        uow: UnitOfWork,
        model: RegisteredModel,
        project: Project,
        version: int,
        now: datetime,
    ) -> dict[str, Iterable[bytes]]:
        card = build_card(uow, model, version, at=now)
        governance = version_governance(uow, model, version)
        graph = version_lineage(
            uow, model.id, model.project_id, version, LineageDirection.BOTH, LINEAGE_DEPTH
        )
        gaps = lineage_gaps(graph, LineageNode.model_version(model.id, version))
        openlineage = export_openlineage(
            uow, graph, project=project, producer=producer_uri(self._tool_version)
        )
        members: dict[str, Iterable[bytes]] = {
            "model_card.json": [
                render_card(card, CardFormat.JSON, tool_version=self._tool_version).encode()
            ],
            "model_card.md": [
                render_card(card, CardFormat.MARKDOWN, tool_version=self._tool_version).encode()
            ],
            "lineage.json": [json_bytes(lineage_document(graph, gaps))],
            "openlineage.json": [json_bytes(openlineage)],
            "approvals.json": [json_bytes(approvals_document(governance.approvals))],
            "exceptions.json": [json_bytes(exceptions_document(governance.exceptions, now))],
            "promotions.json": [
                json_bytes(
                    promotions_document(
                        governance.requests, governance.changes, governance.current_in
                    )
                )
            ],
        }
        for decision in governance.decisions:
            members[decision_member(decision.id)] = [json_bytes(decision_document(decision))]
        members.update(self._package(uow, model, version))
        return members

    def _package(
        self, uow: UnitOfWork, model: RegisteredModel, version: int
    ) -> dict[str, Iterable[bytes]]:
        signed = uow.packages.get(model.id, version)
        if signed is None:
            return {}
        manifest, signature = signed
        sbom = sbom_document(manifest, tool_version=self._tool_version)
        documents = (
            canonical_json(manifest.document()),
            canonical_json(package_signature_document(signature, manifest.digest)),
            json_bytes(sbom),
        )
        return {name: [data] for name, data in zip(PACKAGE_MEMBERS, documents, strict=True)}

    @staticmethod
    def _audit(
        uow: UnitOfWork, model: RegisteredModel, version: int, head: ChainHead
    ) -> dict[str, Iterable[bytes]]:
        # Every governance event about a version (promotions, approvals, decisions,
        # exceptions, card edits, exports) is recorded with the version as its subject.
        subjects = (("model_version", f"{model.name}/{version}"),)
        seqs = uow.audit.seqs_about(subjects, through_seq=head.seq)
        if not seqs:
            raise ConflictError(
                f"the audit log holds no event about {model.name}/{version}: it cannot be "
                "proven (was the log truncated?)"
            )
        first = seqs[0]
        events = iter(uow.audit.stored_range(first, head.seq))
        opening = next(events)
        proof = AuditProof(first, opening.prev_hash, head, subjects, tuple(seqs))

        def lines() -> Iterator[bytes]:
            yield event_line(opening)
            for event in events:
                yield event_line(event)

        return {
            AUDIT_EVENTS_MEMBER: lines(),
            AUDIT_PROOF_MEMBER: [json_bytes(proof.document())],
        }
