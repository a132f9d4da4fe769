"""The PyTorch flavor: TorchScript modules (`torch.jit.script` or `torch.jit.trace` results, or
a plain module traced on the input example), saved with `torch.jit.save`, never with pickle."""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import numpy.typing as npt

from lockgate.domain.errors import InvalidInputError, UserCodeError
from lockgate.domain.registry import Signature
from lockgate.serving.flavors.base import (
    Columns,
    UnverifiedPackageError,
    as_float_matrix,
    is_instance_named,
    missing_framework,
    name_outputs,
    user_code,
)
from lockgate.serving.flavors.config import config_file, config_flag, config_text, input_order
from lockgate.serving.signature import DEFAULT_OUTPUT

if TYPE_CHECKING:
    import torch

__all__ = ["PytorchFlavor", "PytorchPredictor"]

_FILE = "model.pt"
_TENSOR_TYPES = frozenset(
    {"bool", "int8", "int16", "int32", "int64", "uint8", "float16", "float32", "float64"}
)
"""The signature types a torch tensor holds."""


@contextmanager
def _torchscript() -> Iterator[None]:
    """TorchScript is deprecated upstream in favour of `torch.export`. The flavor uses it on
    purpose (a format that loads without pickle), so the warning is for us, not the caller."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message=r"`torch\.jit\.\w+` is deprecated", category=DeprecationWarning
        )
        yield


def _torch() -> Any:
    try:
        import torch
    except ImportError as exc:
        raise missing_framework("torch", "pytorch") from exc
    return torch


def _tensors(
    columns: Mapping[str, npt.NDArray[Any]], order: Sequence[str], *, stack: bool
) -> list[torch.Tensor]:
    torch = _torch()
    arrays = [as_float_matrix(columns, list(order))] if stack else [columns[n] for n in order]
    return [torch.from_numpy(np.ascontiguousarray(array)) for array in arrays]


def _output_columns(result: object, names: Sequence[str]) -> Columns:
    """A module's answer (a tensor, a tuple of tensors or a dict of them) as output columns."""
    torch = _torch()

    def array(value: object) -> npt.NDArray[Any]:
        if not isinstance(value, torch.Tensor):
            raise UserCodeError(f"the PyTorch module returned a {type(value).__name__}")
        return np.asarray(value.detach().cpu().numpy())

    if isinstance(result, Mapping):
        values = {str(key): array(value) for key, value in result.items()}
        missing = [name for name in names if name not in values]
        if missing:
            raise UserCodeError(f"the PyTorch module returned no {', '.join(missing)}")
        return {name: values[name] for name in names} if names else values
    if isinstance(result, tuple | list):
        labels = list(names) or [f"output_{index}" for index in range(len(result))]
        if len(labels) != len(result):
            raise UserCodeError(
                f"the PyTorch module returned {len(result)} values for {len(labels)} outputs"
            )
        return {label: array(value) for label, value in zip(labels, result, strict=True)}
    return name_outputs(array(result), list(names) or [DEFAULT_OUTPUT])


@dataclass(frozen=True, slots=True)
class PytorchPredictor:
    """A TorchScript module in eval mode, called under `torch.inference_mode()` with one
    tensor per input column (or one matrix of them all)."""

    module: torch.jit.ScriptModule
    order: tuple[str, ...]
    outputs: tuple[str, ...]
    stack_inputs: bool = False

    def predict(self, inputs: Mapping[str, npt.NDArray[Any]]) -> Columns:
        """Score a batch."""
        torch = _torch()
        tensors = _tensors(inputs, self.order, stack=self.stack_inputs)
        with torch.inference_mode(), user_code("the PyTorch module"):
            result = self.module(*tensors)
        return _output_columns(result, self.outputs)


@dataclass(frozen=True, slots=True)
class PytorchFlavor:
    """PyTorch modules as TorchScript.

    Options: `stack_inputs` passes the input columns as one matrix instead of one tensor
    each. `example` (the input example's columns, which `save_model` fills in) is what a
    module that is not TorchScript yet is traced on.
    """

    name: ClassVar[str] = "pytorch"
    stack_inputs: bool = False
    example: Mapping[str, npt.NDArray[Any]] | None = None

    def accepts(self, model: object) -> bool:
        """A `torch.nn.Module` (TorchScript or not)."""
        return is_instance_named(model, "torch", "Module")

    def save(self, model: object, directory: Path, signature: Signature) -> dict[str, Any]:
        """Write `model.pt` with `torch.jit.save`, tracing a plain module first."""
        torch = _torch()
        if not isinstance(model, torch.nn.Module):
            raise InvalidInputError("the model is not a torch.nn.Module", field="model")
        order = [column.name for column in signature.inputs]
        unfit = [c.name for c in signature.inputs if c.type not in _TENSOR_TYPES]
        if unfit:
            raise InvalidInputError(
                f"inputs {', '.join(unfit)} are not numbers, which a tensor needs",
                field="signature.inputs",
            )
        script = model if isinstance(model, torch.jit.ScriptModule) else self._trace(model, order)
        with _torchscript():
            torch.jit.save(script, str(directory / _FILE))
        return {
            "format": "torchscript",
            "file": _FILE,
            "inputs": order,
            "stack_inputs": self.stack_inputs,
        }

    def _trace(self, model: torch.nn.Module, order: list[str]) -> torch.jit.ScriptModule:
        if self.example is None:
            raise InvalidInputError(
                "a module that is not TorchScript is traced on the input example: give "
                "input_example, or pass torch.jit.script(module)",
                field="input_example",
            )
        jit, no_grad = _torch().jit, _torch().no_grad
        tensors = _tensors(self.example, order, stack=self.stack_inputs)
        was_training = model.training
        model.eval()  # trace what inference runs (no dropout, frozen batch norm)
        try:
            with _torchscript(), no_grad(), user_code("tracing the PyTorch module"):
                traced: torch.jit.ScriptModule = jit.trace(model, tuple(tensors))
        finally:
            model.train(was_training)
        return traced

    def load(
        self, directory: Path, config: Mapping[str, Any], signature: Signature, *, verified: bool
    ) -> PytorchPredictor:
        """Load the TorchScript module on the CPU, from a verified package only: no Python
        pickle is involved, but a TorchScript program's operators include file I/O, so it is
        treated as code."""
        if not verified:
            raise UnverifiedPackageError(
                "a TorchScript module is a program (its operators can read and write files): it "
                "loads only from a package whose files and signature were verified",
                field="package",
            )
        torch = _torch()
        config_text(config, "format", choices=("torchscript",))
        path = config_file(config, "file", directory)
        with _torchscript():
            module = torch.jit.load(str(path), map_location="cpu")
        module.eval()
        return PytorchPredictor(
            module,
            tuple(input_order(config, signature)),
            tuple(column.name for column in signature.outputs),
            stack_inputs=config_flag(config, "stack_inputs"),
        )
