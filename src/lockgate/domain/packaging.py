"""The model package: a version's manifest, its signature, and the checks a loader runs before
it trusts a single byte.

The manifest names everything a version is: its files with their sha256, the input/output
signature, the environment it was trained in (pinned requirements, Python version), the run
it came from and its flavor. Its canonical JSON is what the registry signs (Ed25519), so a
changed file, a changed manifest or a signature from another key is each caught, and named.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from lockgate.domain.registry import ColumnSpec, ModelVersion, Signature
from lockgate.domain.tracking import RunEnvironment

__all__ = [
    "FLAVORS",
    "MANIFEST_FORMAT",
    "SIGNATURE_ALGORITHM",
    "Manifest",
    "PackageSignature",
    "PackageVerdict",
    "Signer",
    "Verifier",
    "build_manifest",
    "canonical_json",
    "check_package",
    "sbom_document",
    "signature_from_document",
]

MANIFEST_FORMAT = "lockgate.manifest/1"
SIGNATURE_ALGORITHM = "ed25519"
FLAVORS = ("sklearn", "xgboost", "lightgbm", "onnx", "pytorch", "python", "unknown")
"""Model formats a package may declare; `unknown` until a flavor-aware `log_model` says."""


@dataclass(frozen=True, slots=True)
class Manifest:
    """What a model version is, in the one form that is signed."""

    model: str
    version: int
    flavor: str
    files: tuple[tuple[str, str, int], ...]  # (path, sha256, size), sorted by path
    signature: Mapping[str, object] | None
    requirements: tuple[str, ...]
    python_version: str | None
    run_id: str | None
    created_at: datetime

    def document(self) -> dict[str, object]:
        return {
            "format": MANIFEST_FORMAT,
            "model": self.model,
            "version": self.version,
            "flavor": self.flavor,
            "files": [{"path": p, "sha256": d, "size": s} for p, d, s in self.files],
            "signature": dict(self.signature) if self.signature is not None else None,
            "requirements": list(self.requirements),
            "python_version": self.python_version,
            "run_id": self.run_id,
            "created_at": self.created_at.isoformat(),
        }

    def canonical(self) -> bytes:
        """The signed bytes: sorted keys, no whitespace, UTF-8."""
        return canonical_json(self.document())

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.canonical()).hexdigest()

    @classmethod
    def from_document(cls, document: Mapping[str, object]) -> Manifest:
        """Read a stored manifest back (the inverse of `document`)."""
        if document.get("format") != MANIFEST_FORMAT:
            raise ValueError(f"not a {MANIFEST_FORMAT} manifest")
        files = document["files"]
        signature = document.get("signature")
        requirements = document.get("requirements") or []
        if not isinstance(files, list) or not isinstance(requirements, list):
            raise ValueError("a manifest lists its files and requirements")
        return cls(
            model=str(document["model"]),
            version=int(str(document["version"])),
            flavor=str(document["flavor"]),
            files=tuple((str(f["path"]), str(f["sha256"]), int(f["size"])) for f in files),
            signature=signature if isinstance(signature, dict) else None,
            requirements=tuple(str(r) for r in requirements),
            python_version=_optional(document.get("python_version")),
            run_id=_optional(document.get("run_id")),
            created_at=datetime.fromisoformat(str(document["created_at"])),
        )


def _optional(value: object) -> str | None:
    return None if value is None else str(value)


def canonical_json(document: object) -> bytes:
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def _signature_document(signature: Signature | None) -> dict[str, object] | None:
    if signature is None:
        return None

    def columns(specs: Iterable[ColumnSpec]) -> list[dict[str, object]]:
        return [{"name": c.name, "type": c.type, "shape": list(c.shape)} for c in specs]

    return {"inputs": columns(signature.inputs), "outputs": columns(signature.outputs)}


def signature_from_document(document: Mapping[str, object] | None) -> Signature | None:
    """A manifest's signature document as a `Signature` (the inverse of how it was written)."""
    if document is None:
        return None

    def columns(label: str) -> tuple[ColumnSpec, ...]:
        specs = document.get(label)
        if not isinstance(specs, list):
            raise ValueError(f"a manifest signature lists its {label}")
        return tuple(
            ColumnSpec(str(c["name"]), str(c["type"]), tuple(int(d) for d in c["shape"]))
            for c in specs
        )

    return Signature(columns("inputs"), columns("outputs"))


def build_manifest(
    version: ModelVersion, environment: RunEnvironment | None, flavor: str
) -> Manifest:
    """The manifest of a new version, from its files and the run that made it."""
    return Manifest(
        model=version.model_name,
        version=version.version,
        flavor=flavor,
        files=tuple(sorted((f.path, f.digest, f.size) for f in version.files)),
        signature=_signature_document(version.signature),
        requirements=tuple(sorted(environment.packages)) if environment else (),
        python_version=environment.python_version if environment else None,
        run_id=version.run_id,
        created_at=version.created_at,
    )


@dataclass(frozen=True, slots=True)
class PackageSignature:
    """A detached signature over a manifest's canonical bytes, and the key that made it."""

    algorithm: str
    key_id: str
    value: bytes


class Verifier(Protocol):
    """Checks signatures against one public key (the key lives in an adapter)."""

    @property
    def key_id(self) -> str:
        """sha256 of the raw public key, in hex."""

    def verify(self, data: bytes, signature: PackageSignature) -> bool:
        """Whether the signature is this key's, over exactly `data`."""


class Signer(Verifier, Protocol):
    """Signs manifests and checks signatures (the key lives in an adapter)."""

    def public_key_pem(self) -> str:
        """The public key, PEM (SubjectPublicKeyInfo)."""

    def sign(self, data: bytes) -> PackageSignature: ...


@dataclass(frozen=True, slots=True)
class PackageVerdict:
    """The outcome of checking a package; `problems` names each failure, in order."""

    ok: bool
    manifest_digest: str
    problems: tuple[str, ...] = field(default=())


def check_package(
    manifest: Manifest,
    signature: PackageSignature,
    signer: Verifier,
    actual: Mapping[str, tuple[str, int] | None],
) -> PackageVerdict:
    """Check a package: the signature over the manifest, then every file's digest and size
    (`actual` maps each manifest path to the sha256 and size found, or None when missing).
    A loader loads nothing unless `ok`."""
    problems: list[str] = []
    if signature.algorithm != SIGNATURE_ALGORITHM:
        problems.append(f"unsupported signature algorithm {signature.algorithm!r}")
    elif signature.key_id != signer.key_id:
        problems.append(f"signed by key {signature.key_id[:16]}, not this registry's key")
    elif not signer.verify(manifest.canonical(), signature):
        problems.append("the manifest signature does not match: the manifest was changed")
    for path, digest, size in manifest.files:
        found = actual.get(path)
        if found is None:
            problems.append(f"{path}: missing")
        elif found != (digest, size):
            problems.append(f"{path}: sha256 {found[0][:16]}... is not the signed {digest[:16]}...")
    extra = sorted(set(actual) - {p for p, _, _ in manifest.files})
    problems.extend(f"{path}: not in the manifest" for path in extra)
    return PackageVerdict(not problems, manifest.digest, tuple(problems))


def _requirement(text: str) -> tuple[str, str | None]:
    name, sep, version = text.partition("==")
    name = name.split("@")[0].split(";")[0].strip()
    return name, (version.strip() or None) if sep else None


def sbom_document(manifest: Manifest, *, tool_version: str) -> dict[str, object]:
    """A CycloneDX 1.6 SBOM of the version: the model, its files with their hashes, and the
    Python packages of the environment it was trained in (pinned when the run recorded
    versions). The serial number derives from the manifest digest, so the SBOM of a version
    is the same document every time it is asked for."""
    digest = manifest.digest
    serial = f"{digest[:8]}-{digest[8:12]}-5{digest[13:16]}-a{digest[17:20]}-{digest[20:32]}"
    model_ref = f"model:{manifest.model}@{manifest.version}"
    libraries = []
    for text in manifest.requirements:
        name, version = _requirement(text)
        if not name:
            continue
        purl = f"pkg:pypi/{name.lower()}" + (f"@{version}" if version else "")
        library: dict[str, object] = {
            "type": "library",
            "bom-ref": purl,
            "name": name,
            "purl": purl,
        }
        if version:
            library["version"] = version
        libraries.append(library)
    files = [
        {
            "type": "file",
            "bom-ref": f"file:{path}",
            "name": path,
            "hashes": [{"alg": "SHA-256", "content": sha256}],
            "properties": [{"name": "lockgate:size", "value": str(size)}],
        }
        for path, sha256, size in manifest.files
    ]
    properties = [
        {"name": "lockgate:flavor", "value": manifest.flavor},
        {"name": "lockgate:manifest_sha256", "value": digest},
    ]
    if manifest.python_version:
        properties.append({"name": "lockgate:python_version", "value": manifest.python_version})
    if manifest.run_id:
        properties.append({"name": "lockgate:run_id", "value": manifest.run_id})
    refs = sorted({str(c["bom-ref"]) for c in libraries})
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": f"urn:uuid:{serial}",
        "version": 1,
        "metadata": {
            "timestamp": manifest.created_at.isoformat(),
            "tools": {
                "components": [{"type": "application", "name": "lockgate", "version": tool_version}]
            },
            "component": {
                "type": "machine-learning-model",
                "bom-ref": model_ref,
                "name": manifest.model,
                "version": str(manifest.version),
                "properties": properties,
            },
        },
        "components": [*files, *_unique(libraries)],
        "dependencies": [{"ref": model_ref, "dependsOn": refs}, *({"ref": r} for r in refs)],
    }


def _unique(components: list[dict[str, object]]) -> list[dict[str, object]]:
    seen: dict[str, dict[str, object]] = {}
    for component in components:
        seen.setdefault(str(component["bom-ref"]), component)
    return list(seen.values())
