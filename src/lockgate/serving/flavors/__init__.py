"""Model flavors: save a framework's model into a package directory with its descriptor, and
load the package back as a `Predictor` over named columns. See docs/reference/flavors.md.

Importing this package imports no ML framework; each flavor imports its own when it runs.
"""

from lockgate.serving.flavors.base import (
    DESCRIPTOR,
    Columns,
    Descriptor,
    Flavor,
    Predictor,
    UnverifiedPackageError,
)
from lockgate.serving.flavors.catalog import FLAVOR_REGISTRY, flavor_for, get_flavor
from lockgate.serving.flavors.lightgbm import LightgbmFlavor
from lockgate.serving.flavors.onnx import OnnxFlavor
from lockgate.serving.flavors.package import load_model_directory, save_model
from lockgate.serving.flavors.python import PythonFlavor
from lockgate.serving.flavors.pytorch import PytorchFlavor
from lockgate.serving.flavors.sklearn import SklearnFlavor
from lockgate.serving.flavors.xgboost import XgboostFlavor

__all__ = [
    "DESCRIPTOR",
    "FLAVOR_REGISTRY",
    "Columns",
    "Descriptor",
    "Flavor",
    "LightgbmFlavor",
    "OnnxFlavor",
    "Predictor",
    "PythonFlavor",
    "PytorchFlavor",
    "SklearnFlavor",
    "UnverifiedPackageError",
    "XgboostFlavor",
    "flavor_for",
    "get_flavor",
    "load_model_directory",
    "save_model",
]
