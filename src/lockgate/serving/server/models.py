"""A model as the inference server holds it: a verified, loaded version and its identity."""

from __future__ import annotations

from dataclasses import dataclass

from lockgate.domain.registry import Signature
from lockgate.serving.flavors.base import Predictor
from lockgate.serving.loader import LoadedModel

__all__ = ["ServedModel"]


@dataclass(frozen=True, slots=True, eq=False)
class ServedModel:
    """One version served under a name (by default the registered model's)."""

    name: str
    version: int
    flavor: str
    signature: Signature | None
    predictor: Predictor
    manifest_sha256: str

    @property
    def tag(self) -> str:
        """The version as the wire names it."""
        return str(self.version)

    @classmethod
    def from_loaded(cls, loaded: LoadedModel, name: str | None = None) -> ServedModel:
        package = loaded.package
        return cls(
            name or package.name,
            package.version,
            package.flavor,
            package.model_signature,
            loaded.predictor,
            package.manifest.digest,
        )
