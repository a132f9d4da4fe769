"""docs/howto/serving.md keeps up with the inference server: every route and every metric it
exports is named there."""

from __future__ import annotations

from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from lockgate.serving.server import InferenceApp, ServingOptions
from tests.serving.server.models import served

DOC = Path(__file__).resolve().parents[3] / "docs" / "howto" / "serving.md"


def test_every_route_is_documented() -> None:
    app = InferenceApp([served()], ServingOptions())
    text = DOC.read_text()
    routes = {path for _, path in app._static} | {
        "/v2/models/{name}[/versions/{v}]",
        "/v2/models/{name}[/versions/{v}]/ready",
        "/v2/models/{name}[/versions/{v}]/infer",
    }
    missing = sorted(route for route in routes if f"`{route}`" not in text)
    assert not missing, f"document these routes in docs/howto/serving.md: {missing}"


def test_every_metric_is_documented() -> None:
    app = InferenceApp([served()], ServingOptions())
    app.metrics.for_model("churn", 3).succeeded("v2", 0.001, 1)
    text = DOC.read_text()
    names = {
        family.name for family in text_string_to_metric_families(app.metrics.render().decode())
    }
    assert names, "the server exports metrics"
    missing = sorted(
        name
        for name in names
        if f"`{name}" not in text and f"`{name.removesuffix('_total')}" not in text
    )
    assert not missing, f"document these metrics in docs/howto/serving.md: {missing}"
