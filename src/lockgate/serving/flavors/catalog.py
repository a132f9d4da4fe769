"""Every flavor by name, and the flavor that takes a given model object."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from lockgate.domain.errors import InvalidInputError
from lockgate.serving.flavors.base import Flavor
from lockgate.serving.flavors.lightgbm import LightgbmFlavor
from lockgate.serving.flavors.onnx import OnnxFlavor
from lockgate.serving.flavors.python import PythonFlavor
from lockgate.serving.flavors.pytorch import PytorchFlavor
from lockgate.serving.flavors.sklearn import SklearnFlavor
from lockgate.serving.flavors.xgboost import XgboostFlavor

__all__ = ["FLAVOR_REGISTRY", "flavor_for", "get_flavor"]

_FLAVORS: tuple[Flavor, ...] = (
    # XGBoost and LightGBM estimators are scikit-learn estimators too: they go first. The
    # python flavor takes anything with load and predict: it goes last.
    XgboostFlavor(),
    LightgbmFlavor(),
    SklearnFlavor(),
    OnnxFlavor(),
    PytorchFlavor(),
    PythonFlavor(),
)

FLAVOR_REGISTRY: Mapping[str, Flavor] = MappingProxyType({f.name: f for f in _FLAVORS})
"""Each flavor, with its default options, by its name in the manifest, in the order
`flavor_for` asks them."""


def get_flavor(name: str) -> Flavor:
    """The flavor called `name`.

    Raises:
        InvalidInputError: No flavor has that name (`field` is `flavor`).
    """
    try:
        return FLAVOR_REGISTRY[name]
    except KeyError:
        raise InvalidInputError(
            f"no flavor is called {name!r}; the flavors are {', '.join(sorted(FLAVOR_REGISTRY))}",
            field="flavor",
        ) from None


def flavor_for(model: object) -> Flavor:
    """The first flavor that takes `model`, asked in the order of `FLAVOR_REGISTRY`.

    Raises:
        InvalidInputError: None does (`field` is `model`).
    """
    for flavor in FLAVOR_REGISTRY.values():
        if flavor.accepts(model):
            return flavor
    kind = f"{type(model).__module__}.{type(model).__qualname__}"
    raise InvalidInputError(
        f"no flavor takes a {kind}: pass flavor= or wrap it in a class with load and predict "
        "(the python flavor)",
        field="model",
    )
