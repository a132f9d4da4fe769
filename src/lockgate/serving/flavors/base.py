"""What every flavor is: a way to save a framework's model into a package directory and to
load it back as a `Predictor` over named columns, plus the package's descriptor file."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np
import numpy.typing as npt

from lockgate.domain.errors import InvalidInputError, LockgateError, UserCodeError
from lockgate.domain.registry import Signature

__all__ = [
    "DESCRIPTOR",
    "DESCRIPTOR_FORMAT",
    "Columns",
    "Descriptor",
    "Flavor",
    "Predictor",
    "UnverifiedPackageError",
    "as_float_matrix",
    "is_instance_named",
    "missing_framework",
    "name_outputs",
    "output_names",
    "user_code",
]

DESCRIPTOR = "lockgate-model.json"
"""The file, at the root of a package directory, that names the flavor and how to load it."""
DESCRIPTOR_FORMAT = "lockgate.model/1"

Columns = dict[str, npt.NDArray[Any]]
"""A batch as named columns: each array's first dimension is the batch (rows), the rest is the
column's shape in the signature (a signature shape (-1,) is a column of scalars, shape (n,);
(-1, 30) a tensor of 30 values per row, shape (n, 30))."""


class UnverifiedPackageError(InvalidInputError):
    """A format that runs code on load (pickle, a custom Python model) was asked to load from a
    directory whose digests and signature were not verified against the registry's key."""


class Predictor(Protocol):
    """A loaded model: columns in, columns out, in the order and names of the signature."""

    def predict(self, inputs: Mapping[str, npt.NDArray[Any]]) -> Columns:
        """Score a batch. `inputs` holds every input column of the signature, already checked
        and cast to the signature's types; the result holds every output column, each with
        the same number of rows."""
        ...


class Flavor(Protocol):
    """Saves and loads the models of one framework."""

    name: ClassVar[str]
    """The flavor's name in the manifest, one of `lockgate.domain.packaging.FLAVORS`."""

    def accepts(self, model: object) -> bool:
        """Whether `model` is an object of this flavor's framework (checked without importing
        the framework when it is not already imported)."""
        ...

    def save(self, model: object, directory: Path, signature: Signature) -> dict[str, Any]:
        """Write the model's files into `directory` (which exists and is empty) and return the
        flavor's JSON-compatible loading configuration for the descriptor."""
        ...

    def load(
        self, directory: Path, config: Mapping[str, Any], signature: Signature, *, verified: bool
    ) -> Predictor:
        """Load the model saved in `directory`. `verified` says whether every file's digest
        and the manifest's signature were checked first; formats that run code on load refuse
        with `UnverifiedPackageError` when it is False."""
        ...


@dataclass(frozen=True, slots=True)
class Descriptor:
    """The contents of `lockgate-model.json`: the flavor and its loading configuration."""

    flavor: str
    config: Mapping[str, Any]

    def write(self, directory: Path) -> Path:
        path = directory / DESCRIPTOR
        document = {"format": DESCRIPTOR_FORMAT, "flavor": self.flavor, "config": self.config}
        path.write_text(json.dumps(document, sort_keys=True, indent=2) + "\n", encoding="utf-8")
        return path

    @classmethod
    def read(cls, directory: Path) -> Descriptor:
        """Raises InvalidInputError when the file is missing or not a descriptor."""
        path = directory / DESCRIPTOR
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InvalidInputError(f"the package has no {DESCRIPTOR}", field="package") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InvalidInputError(f"{DESCRIPTOR} is not JSON: {exc}", field="package") from exc
        if not isinstance(document, dict) or document.get("format") != DESCRIPTOR_FORMAT:
            raise InvalidInputError(f"{DESCRIPTOR} is not a {DESCRIPTOR_FORMAT}", field="package")
        config = document.get("config")
        if not isinstance(config, dict) or not isinstance(document.get("flavor"), str):
            raise InvalidInputError(f"{DESCRIPTOR} names no flavor or config", field="package")
        return cls(document["flavor"], config)


def as_float_matrix(inputs: Mapping[str, npt.NDArray[Any]], order: list[str]) -> npt.NDArray[Any]:
    """The input columns as one 2-D array, in `order`: a single tensor column as it is, scalar
    columns side by side (the usual shape of a tabular model's input)."""
    if len(order) == 1:
        only = inputs[order[0]]
        return only if only.ndim == 2 else only.reshape(-1, 1)
    matrix = getattr(inputs, "matrix", None)  # decoded from rows: the matrix is at hand
    if matrix is not None and matrix.shape[1] == len(order) and list(inputs) == order:
        return np.asarray(matrix)
    return np.column_stack([inputs[name] for name in order])


def output_names(signature: Signature, default: Sequence[str]) -> list[str]:
    """The signature's output names, or the flavor's `default` when it names none yet (while
    `save_model` infers the outputs from the model's own answer)."""
    return [column.name for column in signature.outputs] or list(default)


def name_outputs(result: npt.NDArray[Any], names: Sequence[str]) -> Columns:
    """One array of predictions as output columns: whole under a single name, or one column of
    a 2-D result per name (`predict_proba` into `p_no`, `p_yes`)."""
    if len(names) == 1:
        return {names[0]: result}
    if result.ndim == 2 and result.shape[1] == len(names):
        return {name: result[:, index] for index, name in enumerate(names)}
    raise InvalidInputError(
        f"the model returns {result.shape[1:] or 'one value'} per row, which does not split "
        f"into the {len(names)} outputs {', '.join(names)}",
        field="signature.outputs",
    )


def is_instance_named(obj: object, package: str, *names: str) -> bool:
    """Whether the class of `obj`, or one of its bases, is defined in `package` (or below it)
    and, when `names` are given, is called one of them; by name, so nothing is imported."""
    for cls in type(obj).__mro__:
        module = cls.__module__
        in_package = module == package or module.startswith(f"{package}.")
        if in_package and (not names or cls.__name__ in names):
            return True
    return False


def missing_framework(package: str, extra: str) -> ImportError:
    """The error for a framework that is not installed, naming the extra that brings it."""
    return ImportError(
        f"the {extra} flavor needs {package}, which is not installed: "
        f"pip install 'lockgate[serving,{extra}]'"
    )


@contextmanager
def user_code(what: str) -> Iterator[None]:
    """The user-code boundary: a failure inside (a model's predict, a custom model's load)
    becomes a `UserCodeError` naming `what`, with the cause chained; our own errors pass."""
    try:
        yield
    except LockgateError:
        raise
    except Exception as exc:
        raise UserCodeError(f"{what} failed: {type(exc).__name__}: {exc}") from exc
