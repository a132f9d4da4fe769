"""The inference server: a bare ASGI app (Open Inference Protocol v2, MLflow-style
`/invocations`, Prometheus `/metrics`) with adaptive batching and the prediction log."""

from lockgate.serving.server.app import InferenceApp, ServingOptions
from lockgate.serving.server.models import ServedModel
from lockgate.serving.server.runner import InferenceServer, prediction_logger

__all__ = ["InferenceApp", "InferenceServer", "ServedModel", "ServingOptions", "prediction_logger"]
