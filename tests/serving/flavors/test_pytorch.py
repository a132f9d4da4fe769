"""The PyTorch flavor: TorchScript saved with torch.jit.save (a plain module traced on the input
example), loaded on the CPU from verified packages only, scored under inference mode."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from lockgate.domain.errors import InvalidInputError
from lockgate.domain.registry import ColumnSpec, Signature
from lockgate.serving.flavors import UnverifiedPackageError
from tests.serving.flavors.packages import save

RNG = np.random.default_rng(17)
X = RNG.normal(size=(32, 4)).astype(np.float32)


def _network() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 2))


def _expected(module: nn.Module, inputs: np.ndarray) -> np.ndarray:
    module.eval()
    with torch.no_grad():
        return np.asarray(module(torch.from_numpy(inputs)).numpy())


class TwoHeads(nn.Module):
    """A module of two inputs and two outputs."""

    def __init__(self) -> None:
        super().__init__()
        self.left = nn.Linear(3, 1)
        self.right = nn.Linear(2, 1)

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.left(a).squeeze(1), self.right(b).squeeze(1) + a.sum(dim=1)


def test_a_plain_module_is_traced_on_the_example_and_round_trips(tmp_path: Path) -> None:
    network = _network()
    network.train()
    package = save(network, tmp_path / "pkg", input_example=X[:5])
    assert network.training, "tracing leaves the caller's module in the mode it was in"
    assert package.flavor == "pytorch"
    assert package.descriptor.config["format"] == "torchscript"
    assert package.signature.outputs == (ColumnSpec("prediction", "float32", (-1, 2)),)
    predicted = package.predict(X, verified=True)["prediction"]
    np.testing.assert_allclose(predicted, _expected(network, X), rtol=1e-6)
    assert predicted.dtype == np.float32


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
def test_a_scripted_module_is_saved_as_it_is(tmp_path: Path) -> None:
    network = _network()
    scripted = torch.jit.script(network)
    signature = Signature(
        (ColumnSpec("features", "float32", (-1, 4)),),
        (ColumnSpec("low", "float32"), ColumnSpec("high", "float32")),
    )
    package = save(scripted, tmp_path / "pkg", signature=signature)
    answer = package.predict(X, verified=True)
    expected = _expected(network, X)
    np.testing.assert_allclose(answer["low"], expected[:, 0], rtol=1e-6)
    np.testing.assert_allclose(answer["high"], expected[:, 1], rtol=1e-6)


def test_several_inputs_and_tuple_outputs_are_named(tmp_path: Path) -> None:
    module = TwoHeads()
    example = {"a": X[:, :3], "b": X[:, 2:]}
    package = save(module, tmp_path / "pkg", input_example={k: v[:4] for k, v in example.items()})
    assert [c.name for c in package.signature.outputs] == ["output_0", "output_1"]
    answer = package.predict(example, verified=True)
    with torch.no_grad():
        left, right = module(torch.from_numpy(example["a"]), torch.from_numpy(example["b"]))
    np.testing.assert_allclose(answer["output_0"], left.numpy(), rtol=1e-6)
    np.testing.assert_allclose(answer["output_1"], right.numpy(), rtol=1e-6)


def test_scalar_columns_stack_into_one_matrix_when_asked(tmp_path: Path) -> None:
    network = _network()
    example = {name: X[:, index] for index, name in enumerate("abcd")}
    package = save(network, tmp_path / "pkg", input_example=example, stack_inputs=True)
    np.testing.assert_allclose(
        package.predict(example, verified=True)["prediction"], _expected(network, X), rtol=1e-6
    )


def test_torchscript_loads_only_from_a_verified_package(tmp_path: Path) -> None:
    package = save(_network(), tmp_path / "pkg", input_example=X[:3])
    with pytest.raises(UnverifiedPackageError, match="TorchScript module is a program"):
        package.load(verified=False)


def test_a_plain_module_without_an_example_is_refused(tmp_path: Path) -> None:
    signature = Signature((ColumnSpec("x", "float32", (-1, 4)),), ())
    with pytest.raises(InvalidInputError, match="traced on the input example") as refused:
        save(_network(), tmp_path / "pkg", signature=signature)
    assert refused.value.field == "input_example"


def test_text_inputs_are_refused(tmp_path: Path) -> None:
    signature = Signature((ColumnSpec("text", "string"),), ())
    with pytest.raises(InvalidInputError, match="not numbers") as refused:
        save(_network(), tmp_path / "pkg", signature=signature)
    assert refused.value.field == "signature.inputs"
