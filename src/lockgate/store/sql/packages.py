"""SqlPackageRepository: the signed manifest of each model version."""

from __future__ import annotations

import json

import sqlalchemy as sa

from lockgate.domain.packaging import Manifest, PackageSignature
from lockgate.domain.registry import ModelId
from lockgate.store.sql.tables import version_manifests

__all__ = ["SqlPackageRepository"]


class SqlPackageRepository:
    """Manifests in `version_manifests`, stored as the exact bytes that were signed.

    Args:
        connection: the unit of work's connection, inside its transaction.
    """

    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection

    def add(self, model_id: ModelId, manifest: Manifest, signature: PackageSignature) -> None:
        self._connection.execute(
            version_manifests.insert(),
            {
                "model_id": model_id,
                "version": manifest.version,
                "flavor": manifest.flavor,
                "manifest": manifest.canonical().decode(),
                "manifest_sha256": manifest.digest,
                "algorithm": signature.algorithm,
                "key_id": signature.key_id,
                "signature": signature.value.hex(),
            },
        )

    def get(self, model_id: ModelId, version: int) -> tuple[Manifest, PackageSignature] | None:
        row = (
            self._connection.execute(
                sa.select(version_manifests).where(
                    version_manifests.c.model_id == model_id,
                    version_manifests.c.version == version,
                )
            )
            .mappings()
            .first()
        )
        if row is None:
            return None
        manifest = Manifest.from_document(json.loads(row["manifest"]))
        signature = PackageSignature(
            row["algorithm"], row["key_id"], bytes.fromhex(row["signature"])
        )
        return manifest, signature
