"""The ONNX flavor: a model graph (an `onnx.ModelProto` or the bytes of a `.onnx` file) run by
ONNX Runtime on the CPU; signature columns feed the graph's inputs and name its outputs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from lockgate.domain.errors import InvalidInputError, UserCodeError
from lockgate.domain.registry import Signature
from lockgate.serving.flavors.base import Columns, is_instance_named, missing_framework, user_code
from lockgate.serving.flavors.config import config_file, config_int

__all__ = ["ONNX_TENSOR_DTYPES", "OnnxFlavor", "OnnxPredictor"]

_FILE = "model.onnx"
ONNX_TENSOR_DTYPES: Mapping[str, np.dtype[Any]] = {
    "tensor(float)": np.dtype(np.float32),
    "tensor(double)": np.dtype(np.float64),
    "tensor(float16)": np.dtype(np.float16),
    "tensor(int8)": np.dtype(np.int8),
    "tensor(int16)": np.dtype(np.int16),
    "tensor(int32)": np.dtype(np.int32),
    "tensor(int64)": np.dtype(np.int64),
    "tensor(uint8)": np.dtype(np.uint8),
    "tensor(uint16)": np.dtype(np.uint16),
    "tensor(uint32)": np.dtype(np.uint32),
    "tensor(uint64)": np.dtype(np.uint64),
    "tensor(bool)": np.dtype(np.bool_),
    "tensor(string)": np.dtype(object),
}
"""The numpy dtype each ONNX input type is fed as (columns are cast to it)."""

Feeds = list[tuple[str, list[str]]]
"""Each graph input and the signature columns that feed it (several are stacked side by side)."""
Fetches = list[tuple[str, str]]
"""Each signature output and the graph output it is."""


@dataclass(frozen=True, slots=True)
class OnnxPredictor:
    """An ONNX Runtime session with the feeds and fetches of the signature."""

    session: Any
    feeds: tuple[tuple[str, tuple[str, ...], np.dtype[Any] | None], ...]
    fetches: tuple[tuple[str, str], ...]

    def predict(self, inputs: Mapping[str, npt.NDArray[Any]]) -> Columns:
        """Run the graph on a batch."""
        feed = {}
        for graph_name, columns, dtype in self.feeds:
            values = (
                inputs[columns[0]]
                if len(columns) == 1
                else np.column_stack([inputs[column] for column in columns])
            )
            feed[graph_name] = values if dtype is None else values.astype(dtype, copy=False)
        with user_code("the ONNX model"):
            results = self.session.run([graph for _, graph in self.fetches], feed)
        outputs: Columns = {}
        for (name, graph_name), value in zip(self.fetches, results, strict=True):
            if not isinstance(value, np.ndarray):
                raise UserCodeError(
                    f"ONNX output {graph_name} is a {type(value).__name__}, not a tensor (for a "
                    "skl2onnx classifier, convert with options={'zipmap': False})"
                )
            outputs[name] = value
        return outputs


def _model_bytes(model: object) -> bytes:
    if isinstance(model, bytes | bytearray | memoryview):
        return bytes(model)
    serialize = getattr(model, "SerializeToString", None)
    if not is_instance_named(model, "onnx", "ModelProto") or not callable(serialize):
        raise InvalidInputError("the model is not an ONNX ModelProto or .onnx bytes", field="model")
    return bytes(serialize())


def _session(model: bytes | str, threads: int) -> Any:
    try:
        import onnxruntime  # type: ignore[import-untyped]  # onnxruntime ships no type hints
        from onnxruntime.capi import (  # type: ignore[import-untyped]  # as above
            onnxruntime_pybind11_state as state,
        )
    except ImportError as exc:
        raise missing_framework("onnxruntime", "onnx") from exc
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # The errors a graph that does not load raises; they share no base class but Exception.
    unloadable = (
        state.Fail,
        state.InvalidArgument,
        state.InvalidGraph,
        state.InvalidProtobuf,
        state.NoModel,
        state.NotImplemented,
        state.RuntimeException,
    )
    try:
        return onnxruntime.InferenceSession(
            model, sess_options=options, providers=["CPUExecutionProvider"]
        )
    except unloadable as exc:
        raise InvalidInputError(
            f"ONNX Runtime cannot load the model: {exc}", field="model"
        ) from exc


def _tensor_outputs(session: Any) -> list[str]:
    return [output.name for output in session.get_outputs() if output.type.startswith("tensor(")]


@dataclass(frozen=True, slots=True)
class OnnxFlavor:
    """ONNX models run by ONNX Runtime's CPU provider.

    Options: `intra_op_threads` (1 by default) sizes the session's thread pool; `inputs`
    maps signature inputs to graph inputs and `outputs` signature outputs to graph outputs
    where their names differ.
    """

    name: ClassVar[str] = "onnx"
    intra_op_threads: int = 1
    inputs: Mapping[str, str] | None = None
    outputs: Mapping[str, str] | None = None

    def accepts(self, model: object) -> bool:
        """An `onnx.ModelProto`, or bytes (the contents of a `.onnx` file)."""
        return isinstance(model, bytes | bytearray | memoryview) or is_instance_named(
            model, "onnx", "ModelProto"
        )

    def save(self, model: object, directory: Path, signature: Signature) -> dict[str, Any]:
        """Write `model.onnx`, after ONNX Runtime loaded it and its inputs and outputs were
        matched to the signature's."""
        if isinstance(self.intra_op_threads, bool) or not isinstance(self.intra_op_threads, int):
            raise InvalidInputError(
                "intra_op_threads is a number", field="options.intra_op_threads"
            )
        data = _model_bytes(model)
        session = _session(data, 1)
        feeds = self._feeds(session, signature)
        fetches = self._fetches(session, signature)
        (directory / _FILE).write_bytes(data)
        return {
            "file": _FILE,
            "intra_op_threads": max(1, self.intra_op_threads),
            "feeds": [[graph, columns] for graph, columns in feeds],
            "fetches": [[name, graph] for name, graph in fetches],
        }

    def _feeds(self, session: Any, signature: Signature) -> Feeds:
        graph_inputs = [graph_input.name for graph_input in session.get_inputs()]
        columns = [column.name for column in signature.inputs]
        if self.inputs is not None:
            mapping = dict(self.inputs)
        elif set(graph_inputs) <= set(columns):
            mapping = {name: name for name in graph_inputs}
        elif len(graph_inputs) == 1:
            mapping = dict.fromkeys(columns, graph_inputs[0])
        else:
            raise InvalidInputError(
                f"the graph's inputs {', '.join(graph_inputs)} are not the signature's: name "
                "them so, or map them with inputs={column: graph input}",
                field="options.inputs",
            )
        feeds: Feeds = [
            (graph, [column for column in columns if mapping.get(column) == graph])
            for graph in graph_inputs
        ]
        unfed = [graph for graph, fed in feeds if not fed]
        if unfed or set(mapping) - set(columns):
            raise InvalidInputError(
                f"every graph input ({', '.join(graph_inputs)}) needs a signature input",
                field="options.inputs",
            )
        return feeds

    def _fetches(self, session: Any, signature: Signature) -> Fetches:
        graph_outputs = [output.name for output in session.get_outputs()]
        names = [column.name for column in signature.outputs]
        if self.outputs is not None:
            fetches = [(name, graph) for name, graph in self.outputs.items()]
        elif not names:
            fetches = [(graph, graph) for graph in _tensor_outputs(session)]
        elif set(names) <= set(graph_outputs):
            fetches = [(name, name) for name in names]
        elif len(names) == 1 and _tensor_outputs(session):
            fetches = [(names[0], _tensor_outputs(session)[0])]
        else:
            raise InvalidInputError(
                f"the graph's outputs {', '.join(graph_outputs)} are not the signature's: map "
                "them with outputs={column: graph output}",
                field="options.outputs",
            )
        if not fetches or any(graph not in graph_outputs for _, graph in fetches):
            raise InvalidInputError(
                f"outputs name graph outputs, which are {', '.join(graph_outputs)}",
                field="options.outputs",
            )
        return fetches

    def load(
        self, directory: Path, config: Mapping[str, Any], signature: Signature, *, verified: bool
    ) -> OnnxPredictor:
        """Open an ONNX Runtime session; a graph is data only, so `verified` is not needed."""
        path = config_file(config, "file", directory)
        session = _session(str(path), config_int(config, "intra_op_threads", default=1, minimum=1))
        types = {graph_input.name: graph_input.type for graph_input in session.get_inputs()}
        known = {column.name for column in signature.inputs}
        feeds: list[tuple[str, tuple[str, ...], np.dtype[Any] | None]] = []
        for graph, columns in _pairs(config, "feeds"):
            if graph not in types or not isinstance(columns, list) or not set(columns) <= known:
                raise InvalidInputError(
                    f"config.feeds: {graph} is not fed by signature inputs", field="package"
                )
            feeds.append((graph, tuple(columns), ONNX_TENSOR_DTYPES.get(types[graph])))
        outputs = {output.name for output in session.get_outputs()}
        fetches = tuple((name, graph) for name, graph in _pairs(config, "fetches"))
        if not fetches or not all(
            isinstance(graph, str) and graph in outputs for _, graph in fetches
        ):
            raise InvalidInputError("config.fetches name no graph outputs", field="package")
        return OnnxPredictor(session, tuple(feeds), fetches)


def _pairs(config: Mapping[str, Any], key: str) -> list[Sequence[Any]]:
    value = config.get(key)
    if not isinstance(value, list) or not all(
        isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str) for pair in value
    ):
        raise InvalidInputError(f"config.{key} must be a list of pairs", field="package")
    return value
