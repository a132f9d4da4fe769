"""Saving a model into a package directory and loading it back, for the flavor tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lockgate.domain.registry import Signature
from lockgate.serving.flavors import (
    Columns,
    Descriptor,
    Predictor,
    load_model_directory,
    save_model,
)
from lockgate.serving.signature import columns_from_example


@dataclass(frozen=True)
class Package:
    """A package saved in a test: where it is, its flavor, signature and descriptor."""

    directory: Path
    flavor: str
    signature: Signature

    @property
    def descriptor(self) -> Descriptor:
        return Descriptor.read(self.directory)

    def load(self, *, verified: bool = False) -> Predictor:
        return load_model_directory(self.directory, self.signature, verified=verified)

    def predict(self, batch: object, *, verified: bool = False) -> Columns:
        """Load the package and score `batch`, converted as a server would."""
        columns = columns_from_example(batch, self.signature)
        return self.load(verified=verified).predict(columns)


def save(model: object, directory: Path, **kwargs: Any) -> Package:
    flavor, signature = save_model(model, directory, **kwargs)
    return Package(directory, flavor, signature)
