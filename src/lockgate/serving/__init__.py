"""The inference data plane: flavors, server, router, batching and the prediction log.

The prediction log lives in `lockgate.serving.prediction_log`.
"""

__all__: list[str] = []
