"""The custom Python flavor: a class with `load(directory)` and `predict(columns)`, shipped as its
source files and imported from the package under a name of its own. Loading runs that code, so
it happens only for verified packages."""

from __future__ import annotations

import importlib.util
import inspect
import os
import secrets
import shutil
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from lockgate.domain.errors import InvalidInputError, UserCodeError
from lockgate.domain.registry import Signature
from lockgate.serving.flavors.base import (
    Columns,
    UnverifiedPackageError,
    name_outputs,
    user_code,
)
from lockgate.serving.flavors.config import config_file, config_text, input_order
from lockgate.serving.signature import DEFAULT_OUTPUT

__all__ = ["CODE_DIR", "DATA_DIR", "PythonFlavor", "PythonPredictor"]

CODE_DIR = "code"
"""Where the model's source files go in the package."""
DATA_DIR = "data"
"""Where the model's `artifacts` go; `load` is given this directory."""

_IMPORT_LOCK = threading.Lock()
"""`sys.path` and `sys.modules` are process-wide: one package imports at a time."""


@dataclass(frozen=True, slots=True)
class PythonPredictor:
    """A custom model: `predict` gets the input columns and returns a mapping of output
    columns (or one array, for a single output)."""

    model: Any
    order: tuple[str, ...]
    outputs: tuple[str, ...]

    def predict(self, inputs: Mapping[str, npt.NDArray[Any]]) -> Columns:
        """Score a batch with the model's `predict`."""
        with user_code("the custom model's predict"):
            result = self.model.predict({name: inputs[name] for name in self.order})
            if not isinstance(result, Mapping):
                return name_outputs(np.asarray(result), list(self.outputs) or [DEFAULT_OUTPUT])
            columns = {str(name): np.asarray(values) for name, values in result.items()}
        missing = [name for name in self.outputs if name not in columns]
        if missing:
            raise UserCodeError(f"the custom model's predict returned no {', '.join(missing)}")
        return {name: columns[name] for name in self.outputs} if self.outputs else columns


def _class_of(model: object) -> type:
    cls = model if isinstance(model, type) else type(model)
    if "<locals>" in cls.__qualname__:
        raise InvalidInputError(
            f"{cls.__qualname__} is defined inside a function: define it at module level",
            field="model",
        )
    return cls


def _source_file(cls: type) -> Path:
    module = sys.modules.get(cls.__module__)
    file = getattr(module, "__file__", None)
    if not file or not str(file).endswith(".py"):
        raise InvalidInputError(
            f"{cls.__qualname__} has no source file (a notebook cell or the REPL): put it in "
            "a .py module",
            field="model",
        )
    return Path(file)


def _copy_into(origin: str | os.PathLike[str], target_dir: Path, name: str, what: str) -> None:
    source, target = Path(origin), target_dir / name
    if not name or name != Path(name).name or name in {".", ".."}:
        raise InvalidInputError(f"{name!r} is not a plain file name", field=what)
    if target.exists():
        raise InvalidInputError(f"two {what} are called {name}", field=what)
    if source.is_dir():
        shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    elif source.is_file():
        shutil.copy2(source, target)
    else:
        raise InvalidInputError(f"{source} is not a file or directory", field=what)


@contextmanager
def _isolated_path(code: Path) -> Iterator[None]:
    """Put `code` first on `sys.path` with any module it would shadow set aside, and leave no
    trace: the modules imported from `code` stay reachable from the model's own module only,
    so another package's `features.py` is never mistaken for this one's."""
    local = {
        entry.stem if entry.suffix == ".py" else entry.name
        for entry in code.iterdir()
        if entry.suffix == ".py" or entry.is_dir()
    }
    shadowed = {name: sys.modules.pop(name) for name in local if name in sys.modules}
    sys.path.insert(0, str(code))
    try:
        yield
    finally:
        sys.path.remove(str(code))
        root = code.resolve()
        for name, module in list(sys.modules.items()):
            file = getattr(module, "__file__", None)
            if name.split(".")[0] in local and file and root in Path(file).resolve().parents:
                del sys.modules[name]
        sys.modules.update(shadowed)


def _import_model_module(code: Path, source: Path) -> ModuleType:
    """Import `source` as a module with a name no other package shares."""
    name = f"lockgate_model_{secrets.token_hex(8)}"
    spec = importlib.util.spec_from_file_location(name, source)
    if spec is None or spec.loader is None:
        raise InvalidInputError(f"{source.name} cannot be imported", field="package")
    module = importlib.util.module_from_spec(spec)
    with _IMPORT_LOCK, _isolated_path(code):
        # Registered under its unique name, as a dataclass or a typing lookup in it expects.
        sys.modules[name] = module
        try:
            with user_code(f"importing {source.name}"):
                spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
    return module


def _resolve(module: ModuleType, qualname: str) -> Any:
    target: Any = module
    for part in qualname.split("."):
        target = getattr(target, part, None)
        if target is None:
            raise InvalidInputError(f"the model's code has no {qualname}", field="package")
    return target


@dataclass(frozen=True, slots=True)
class PythonFlavor:
    """Custom models written in Python.

    The model is a class (or an instance of one) with `load(directory)` and
    `predict(columns)`. Only its class is saved, never the object: `load`, a classmethod or
    staticmethod returning the model (or an instance method, called on `cls()`), rebuilds it
    from the package's `data/` directory. Options: `artifacts` maps names to local files or
    directories copied into `data/`; `code_paths` lists more source files or packages the
    model's module imports, copied beside it into `code/`.
    """

    name: ClassVar[str] = "python"
    artifacts: Mapping[str, str | os.PathLike[str]] = field(default_factory=dict)
    code_paths: Sequence[str | os.PathLike[str]] = ()

    def accepts(self, model: object) -> bool:
        """Anything with callable `load` and `predict` attributes."""
        return callable(getattr(model, "load", None)) and callable(getattr(model, "predict", None))

    def save(self, model: object, directory: Path, signature: Signature) -> dict[str, Any]:
        """Copy the class's module and `code_paths` into `code/`, `artifacts` into `data/`."""
        if not self.accepts(model):
            raise InvalidInputError("the model needs load and predict methods", field="model")
        cls = _class_of(model)
        source = _source_file(cls)
        static = inspect.getattr_static(cls, "load")
        (directory / CODE_DIR).mkdir()
        (directory / DATA_DIR).mkdir()
        _copy_into(source, directory / CODE_DIR, source.name, "code_paths")
        for path in self.code_paths:
            _copy_into(path, directory / CODE_DIR, Path(path).name, "code_paths")
        for name, path in self.artifacts.items():
            _copy_into(path, directory / DATA_DIR, name, "artifacts")
        return {
            "module_file": source.name,
            "class": cls.__qualname__,
            "load": "class" if isinstance(static, classmethod | staticmethod) else "instance",
            "inputs": [column.name for column in signature.inputs],
        }

    def load(
        self, directory: Path, config: Mapping[str, Any], signature: Signature, *, verified: bool
    ) -> PythonPredictor:
        """Import the model's code from the package and call its `load`; refused unless
        `verified`, since both run the package's code."""
        if not verified:
            raise UnverifiedPackageError(
                "a custom Python model runs its own code as it loads: it loads only from a "
                "package whose files and signature were verified against the registry",
                field="package",
            )
        code = directory / CODE_DIR
        source = config_file(config, "module_file", code)
        mode = config_text(config, "load", choices=("class", "instance"))
        cls = _resolve(_import_model_module(code, source), config_text(config, "class"))
        with user_code(f"{cls.__qualname__}.load"):
            if mode == "class":
                model = cls.load(directory / DATA_DIR)
            else:
                model = cls()
                model = model.load(directory / DATA_DIR) or model
        if not callable(getattr(model, "predict", None)):
            raise UserCodeError(f"{cls.__qualname__}.load returned an object without predict")
        return PythonPredictor(
            model,
            tuple(input_order(config, signature)),
            tuple(column.name for column in signature.outputs),
        )
