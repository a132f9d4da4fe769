"""How a dataset's label column and a model's answer become the evaluation engine's arrays:
the binary positive label, the class order of a multiclass model, and which output column holds
the score."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa  # pyarrow ships no type information
import pyarrow.compute as pc  # as above

from lockgate.domain.errors import InvalidInputError
from lockgate.domain.evaluation import EvaluationConfig, Task

__all__ = ["TargetEncoder", "select_prediction"]

_BOOL_WORDS = {"true": True, "false": False, "1": True, "0": False}


@dataclass(slots=True)
class TargetEncoder:
    """Turns label values into the engine's targets: 0/1 for binary classification, a class
    index for multiclass, floats otherwise. Binary labels must take at most two values; the
    negative one is whichever other value appears first."""

    config: EvaluationConfig
    arrow_type: pa.DataType
    positive: object = None
    negative: object = None
    classes: tuple[str, ...] = ()
    _index: dict[str, int] = field(default_factory=dict)

    @classmethod
    def build(cls, config: EvaluationConfig, arrow_type: pa.DataType) -> TargetEncoder:
        encoder = cls(config, arrow_type, classes=config.classes)
        if config.task is Task.BINARY_CLASSIFICATION:
            encoder.positive = _positive_value(config, arrow_type)
        encoder._index = {label: index for index, label in enumerate(config.classes)}
        return encoder

    @property
    def labels(self) -> tuple[str, ...]:
        """The confusion matrix's labels: (negative, positive), or the classes."""
        if self.config.task is not Task.BINARY_CLASSIFICATION:
            return self.classes
        positive = _text(self.positive)
        if self.negative is not None:
            return (_text(self.negative), positive)
        return ("0", "1") if positive == "1" else (f"not {positive}", positive)

    def encode(self, values: pa.Array | pa.ChunkedArray) -> npt.NDArray[Any]:
        """One batch of labels; raises InvalidInputError naming the target for a null, a third
        binary value or a class outside `classes`."""
        target = self.config.target
        if values.null_count:
            raise InvalidInputError(
                f"the label column {target} has {values.null_count} missing values in a batch",
                field="target",
            )
        task = self.config.task
        if task is Task.BINARY_CLASSIFICATION:
            return self._binary(values)
        if task is Task.MULTICLASS_CLASSIFICATION:
            return self._multiclass(values)
        if not (pa.types.is_integer(values.type) or pa.types.is_floating(values.type)):
            raise InvalidInputError(f"the label column {target} is not numeric", field="target")
        return np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.float64)

    def infer_classes(self, width: int) -> None:
        """With no classes given, an integer label names the probability column it indexes."""
        if self.classes:
            if len(self.classes) != width:
                raise InvalidInputError(
                    f"{len(self.classes)} classes were named but the model answers {width} "
                    "probabilities",
                    field="classes",
                )
            return
        if not pa.types.is_integer(self.arrow_type):
            raise InvalidInputError(
                "name the classes, in the order of the model's probability columns",
                field="classes",
            )
        self.classes = tuple(str(index) for index in range(width))
        self._index = {label: index for index, label in enumerate(self.classes)}

    def _binary(self, values: pa.Array | pa.ChunkedArray) -> npt.NDArray[Any]:
        is_positive = pc.equal(values, pa.scalar(self.positive, type=values.type))
        others = pc.unique(pc.filter(values, pc.invert(is_positive))).to_pylist()
        for other in others:
            if self.negative is None:
                self.negative = other
            elif other != self.negative:
                raise InvalidInputError(
                    f"the label column {self.config.target} takes more than two values "
                    f"({_text(self.negative)}, {_text(other)} and {_text(self.positive)}); "
                    "binary classification needs two",
                    field="target",
                )
        return np.asarray(is_positive.to_numpy(zero_copy_only=False), dtype=np.int8)

    def _multiclass(self, values: pa.Array | pa.ChunkedArray) -> npt.NDArray[Any]:
        texts = pc.cast(values, pa.string()).to_pylist()
        try:
            return np.fromiter(
                (self._index[str(t)] for t in texts), dtype=np.int64, count=len(texts)
            )
        except KeyError as exc:
            raise InvalidInputError(
                f"label {exc.args[0]!r} is not one of the classes {', '.join(self.classes)}",
                field="target",
            ) from None


def _positive_value(config: EvaluationConfig, arrow_type: pa.DataType) -> object:
    given = config.positive_label
    if pa.types.is_boolean(arrow_type):
        if given is None:
            return True
        if given.lower() not in _BOOL_WORDS:
            raise InvalidInputError(
                "a true/false label is positive when true or false", field="positive_label"
            )
        return _BOOL_WORDS[given.lower()]
    if pa.types.is_integer(arrow_type) or pa.types.is_floating(arrow_type):
        if given is None:
            return 1
        try:
            number = float(given)
        except ValueError:
            raise InvalidInputError(
                f"{given!r} is not a number like the labels", field="positive_label"
            ) from None
        return int(number) if pa.types.is_integer(arrow_type) and number.is_integer() else number
    if given is None:
        raise InvalidInputError(
            f"name the positive label of the text column {config.target}", field="positive_label"
        )
    return given


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def select_prediction(
    task: Task,
    outputs: Mapping[str, npt.NDArray[Any]],
    name: str | None,
    positive: object = None,
) -> npt.NDArray[Any]:
    """The array the engine scores from a model's answer: the named output, the only one, or
    (binary, two outputs) the second, scikit-learn's positive-class probability. A binary
    model answering labels scores 1.0 where it answered the positive label."""
    array = _choose(task, outputs, name)
    if task is Task.MULTICLASS_CLASSIFICATION:
        if array.ndim != 2:
            raise InvalidInputError(
                "a multiclass evaluation needs the model's class probabilities (one column per "
                "class)",
                field="output",
            )
        return np.asarray(array, dtype=np.float64)
    if array.ndim == 2 and array.shape[1] in (1, 2):
        array = array[:, -1]
    if array.ndim != 1:
        raise InvalidInputError(
            f"the model's answer has shape {array.shape}; expected one score per row",
            field="output",
        )
    if task is Task.BINARY_CLASSIFICATION and not np.issubdtype(array.dtype, np.floating):
        matches: npt.NDArray[Any] = array == np.asarray(positive, dtype=array.dtype)
        return matches.astype(np.float64)
    return np.asarray(array, dtype=np.float64)


def _choose(
    task: Task, outputs: Mapping[str, npt.NDArray[Any]], name: str | None
) -> npt.NDArray[Any]:
    if name is not None:
        if name not in outputs:
            raise InvalidInputError(
                f"the model has no output {name!r} (it has {', '.join(outputs)})", field="output"
            )
        return np.asarray(outputs[name])
    if len(outputs) == 1:
        return np.asarray(next(iter(outputs.values())))
    arrays = [np.asarray(value) for value in outputs.values()]
    if task is Task.BINARY_CLASSIFICATION and len(arrays) == 2:
        return arrays[1]
    if task is Task.MULTICLASS_CLASSIFICATION and all(a.ndim == 1 for a in arrays):
        return np.column_stack(arrays)
    raise InvalidInputError(
        f"the model answers {len(outputs)} columns ({', '.join(outputs)}); name the one to "
        "evaluate",
        field="output",
    )
