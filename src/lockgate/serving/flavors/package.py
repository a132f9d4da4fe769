"""A model package directory: a model saved by its flavor with the descriptor beside it, its
signature inferred from an example, and the package loaded back as a `Predictor`."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import numpy.typing as npt

from lockgate.domain.errors import InvalidInputError
from lockgate.domain.registry import Signature
from lockgate.serving.flavors.base import Descriptor, Flavor, Predictor
from lockgate.serving.flavors.catalog import flavor_for, get_flavor
from lockgate.serving.signature import columns_from_example, infer_signature

__all__ = ["load_model_directory", "save_model"]

_EXAMPLE_OPTION = "example"
"""A flavor option that `save_model` fills with the input example's columns (for tracing)."""


def _configured(
    flavor: Flavor, options: dict[str, Any], example: dict[str, npt.NDArray[Any]] | None
) -> Flavor:
    """The flavor with `options` applied: every flavor of the registry is a frozen dataclass
    whose fields are its options."""
    record: Any = flavor
    fields = {f.name for f in dataclasses.fields(record)}
    changes = dict(options)
    if _EXAMPLE_OPTION in fields and example is not None:
        changes.setdefault(_EXAMPLE_OPTION, example)
    unknown = sorted(set(changes) - fields)
    if unknown:
        takes = ", ".join(sorted(fields - {_EXAMPLE_OPTION})) or "none"
        raise InvalidInputError(
            f"the {flavor.name} flavor has no option {unknown[0]!r} (its options: {takes})",
            field=f"options.{unknown[0]}",
        )
    configured: Flavor = dataclasses.replace(record, **changes)
    return configured


def _prepare(directory: Path) -> None:
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise InvalidInputError(f"{directory} is not an empty directory", field="directory")
    directory.mkdir(parents=True, exist_ok=True)


def save_model(
    model: object,
    directory: str | os.PathLike[str],
    *,
    signature: Signature | None = None,
    input_example: object = None,
    flavor: str | None = None,
    **options: Any,
) -> tuple[str, Signature]:
    """Save `model` into `directory` (created, or empty) with its flavor and descriptor.

    With an input example the package is loaded back and scored on it: that checks it loads,
    and gives the signature's outputs when `signature` is None (its inputs come from the
    example).

    Args:
        model: The model object; its flavor is found from its type unless `flavor` names it.
        directory: Where the package's files go.
        signature: The inputs and outputs, when not inferred from `input_example`.
        input_example: A sample batch (numpy array, DataFrame, dict of arrays, Arrow table).
        flavor: A flavor name (`lockgate.domain.packaging.FLAVORS`).
        options: The flavor's options (e.g. `method="predict_proba"` for scikit-learn).

    Returns:
        The flavor's name and the signature.

    Raises:
        InvalidInputError: No flavor takes the model, an option is unknown, or there is
            neither a signature nor an example (`field` names which).
    """
    chosen = get_flavor(flavor) if flavor is not None else flavor_for(model)
    if signature is None:
        if input_example is None:
            raise InvalidInputError(
                "give a signature or an input_example to infer it from", field="input_example"
            )
        signature = Signature(infer_signature(input_example).inputs, ())
    signature.check()
    example = None if input_example is None else columns_from_example(input_example, signature)
    configured = _configured(chosen, options, example)
    root = Path(directory)
    _prepare(root)
    config = configured.save(model, root, signature)
    Descriptor(chosen.name, config).write(root)
    if example is None:
        return chosen.name, signature
    # These files were written just now from the caller's own object: loading them trusts
    # nothing that was not already in this process.
    answer = configured.load(root, config, signature, verified=True).predict(example)
    outputs = infer_signature(example, answer).outputs
    if signature.outputs and [c.name for c in outputs] != [c.name for c in signature.outputs]:
        raise InvalidInputError(
            f"the model answers {', '.join(answer)}, the signature's outputs are "
            f"{', '.join(c.name for c in signature.outputs)}",
            field="signature.outputs",
        )
    final = Signature(signature.inputs, signature.outputs or outputs)
    final.check()
    return chosen.name, final


def load_model_directory(
    directory: str | os.PathLike[str], signature: Signature | None, *, verified: bool
) -> Predictor:
    """Load the package in `directory` with the flavor its descriptor names.

    Args:
        directory: The package's files, with `lockgate-model.json` at the root.
        signature: The version's signature (columns are named and ordered by it).
        verified: Whether every file's digest and the manifest's signature were checked;
            formats that run code as they load (pickle, custom Python, TorchScript) refuse
            without it.

    Raises:
        InvalidInputError: The descriptor is missing or bad, or there is no signature.
        UnverifiedPackageError: The format runs code and `verified` is False.
    """
    root = Path(directory)
    descriptor = Descriptor.read(root)
    if signature is None:
        raise InvalidInputError(
            "the version has no signature: log it with an input_example or a signature",
            field="signature",
        )
    return get_flavor(descriptor.flavor).load(root, descriptor.config, signature, verified=verified)
