"""The two REST dialects under test: MLflow's (spoken by MLflow and FastTrackML) and Lockgate's.

Each dialect knows how to set up a container (experiment or project), create and fill runs,
search, read a metric history, and describe the bodies wrk sends for metric logging.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Protocol

import httpx

SEARCH_FILTER = "metrics.m0 > 0.5 and params.p0 = '3'"
SEARCH_PAGE = 1000
MAX_PAGES = 1000  # bound on any pagination loop


@dataclass(frozen=True)
class BodyTemplate:
    """A POST body for wrk: `prefix`, then points formatted with Lua's `string.format(item,
    key_index, value, step, timestamp_ms)` joined by commas, then `suffix`."""

    path: str
    prefix: str
    item: str
    suffix: str


class TrackingApi(Protocol):
    def setup(self, client: httpx.Client) -> str: ...

    def create_run(self, client: httpx.Client, container: str, name: str, start_ms: int) -> str: ...

    def log_run(
        self,
        client: httpx.Client,
        run_id: str,
        params: dict[str, str],
        metrics: dict[str, float],
        timestamp_ms: int,
    ) -> None: ...

    def log_points(
        self, client: httpx.Client, run_id: str, key: str, steps: range, timestamp_ms: int
    ) -> None: ...

    def search(self, client: httpx.Client, container: str) -> tuple[float, int]: ...

    def history(self, client: httpx.Client, run_id: str, key: str) -> tuple[float, int]: ...

    def metric_body(self, run_id: str, batched: bool) -> BodyTemplate: ...


def point_value(step: int) -> float:
    return ((step * 7919) % 1000) / 1000


def _timed(client: httpx.Client, request: httpx.Request) -> tuple[float, httpx.Response]:
    """Send and read the whole body; the time excludes decoding JSON on our side."""
    started = time.perf_counter()
    response = client.send(request)
    elapsed = time.perf_counter() - started
    _check(response)
    return elapsed, response


def _check(response: httpx.Response) -> httpx.Response:
    if response.status_code >= 300:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path} -> "
            f"{response.status_code}: {response.text[:500]}"
        )
    return response


class MlflowApi:
    """MLflow's REST API 2.0, as served by MLflow and by FastTrackML."""

    prefix = "/api/2.0/mlflow"

    def setup(self, client: httpx.Client) -> str:
        response = _check(client.post(f"{self.prefix}/experiments/create", json={"name": "bench"}))
        return str(response.json()["experiment_id"])

    def create_run(self, client: httpx.Client, container: str, name: str, start_ms: int) -> str:
        body = {"experiment_id": container, "run_name": name, "start_time": start_ms}
        response = _check(client.post(f"{self.prefix}/runs/create", json=body))
        return str(response.json()["run"]["info"]["run_id"])

    def log_run(
        self,
        client: httpx.Client,
        run_id: str,
        params: dict[str, str],
        metrics: dict[str, float],
        timestamp_ms: int,
    ) -> None:
        body = {
            "run_id": run_id,
            "params": [{"key": k, "value": v} for k, v in params.items()],
            "metrics": [
                {"key": k, "value": v, "timestamp": timestamp_ms, "step": 0}
                for k, v in metrics.items()
            ],
        }
        _check(client.post(f"{self.prefix}/runs/log-batch", json=body))

    def log_points(
        self, client: httpx.Client, run_id: str, key: str, steps: range, timestamp_ms: int
    ) -> None:
        metrics = [
            {"key": key, "value": point_value(s), "timestamp": timestamp_ms, "step": s}
            for s in steps
        ]
        _check(
            client.post(
                f"{self.prefix}/runs/log-batch", json={"run_id": run_id, "metrics": metrics}
            )
        )

    def search(self, client: httpx.Client, container: str) -> tuple[float, int]:
        body = {
            "experiment_ids": [container],
            "filter": SEARCH_FILTER,
            "order_by": ["metrics.m1 DESC"],
            "max_results": SEARCH_PAGE,
        }
        request = client.build_request("POST", f"{self.prefix}/runs/search", json=body)
        elapsed, response = _timed(client, request)
        return elapsed, len(response.json().get("runs", []))

    def history(self, client: httpx.Client, run_id: str, key: str) -> tuple[float, int]:
        total, count, token = 0.0, 0, None
        for _ in range(MAX_PAGES):
            params = {"run_id": run_id, "metric_key": key, "max_results": 100_000}
            if token:
                params["page_token"] = token
            request = client.build_request(
                "GET", f"{self.prefix}/metrics/get-history", params=params
            )
            elapsed, response = _timed(client, request)
            total += elapsed
            page = response.json()
            count += len(page.get("metrics", []))
            token = page.get("next_page_token")
            if not token:
                break
        return total, count

    def metric_body(self, run_id: str, batched: bool) -> BodyTemplate:
        point = '{"key":"k%d","value":%.4f,"step":%d,"timestamp":%d}'
        if batched:
            return BodyTemplate(
                f"{self.prefix}/runs/log-batch",
                '{"run_id":' + json.dumps(run_id) + ',"metrics":[',
                point,
                "]}",
            )
        single = '{"run_id":' + json.dumps(run_id) + "," + point[1:]
        return BodyTemplate(f"{self.prefix}/runs/log-metric", "", single, "")


class LockgateApi:
    """Lockgate's REST API (docs/reference/rest.md)."""

    project = "bench"

    def setup(self, client: httpx.Client) -> str:
        _check(client.post("/api/v1/projects", json={"name": self.project}))
        return self.project

    def create_run(self, client: httpx.Client, container: str, name: str, start_ms: int) -> str:
        response = _check(client.post(f"/api/v1/projects/{container}/runs", json={"name": name}))
        return str(response.json()["id"])

    def log_run(
        self,
        client: httpx.Client,
        run_id: str,
        params: dict[str, str],
        metrics: dict[str, float],
        timestamp_ms: int,
    ) -> None:
        _check(client.post(f"/api/v1/runs/{run_id}/params", json={"params": params}))
        points = [{"key": k, "value": v, "step": 0} for k, v in metrics.items()]
        _check(client.post(f"/api/v1/runs/{run_id}/metrics", json={"metrics": points}))

    def log_points(
        self, client: httpx.Client, run_id: str, key: str, steps: range, timestamp_ms: int
    ) -> None:
        points = [{"key": key, "value": point_value(s), "step": s} for s in steps]
        _check(client.post(f"/api/v1/runs/{run_id}/metrics", json={"metrics": points}))

    def search(self, client: httpx.Client, container: str) -> tuple[float, int]:
        body = {"filter": SEARCH_FILTER, "order_by": "metrics.m1 desc", "page_size": SEARCH_PAGE}
        request = client.build_request(
            "POST", f"/api/v1/projects/{container}/runs/search", json=body
        )
        elapsed, response = _timed(client, request)
        return elapsed, len(response.json()["items"])

    def history(self, client: httpx.Client, run_id: str, key: str) -> tuple[float, int]:
        total, count, token = 0.0, 0, None
        for _ in range(MAX_PAGES):
            params: dict[str, str | int] = {"page_size": 100_000}
            if token:
                params["page_token"] = token
            path = f"/api/v1/runs/{run_id}/metrics/{key}/history"
            elapsed, response = _timed(client, client.build_request("GET", path, params=params))
            total += elapsed
            page = response.json()
            count += len(page["steps"])
            token = page.get("next_page_token")
            if not token:
                break
        return total, count

    def metric_body(self, run_id: str, batched: bool) -> BodyTemplate:
        # Lockgate stamps points with its time of receipt when no timestamp is sent.
        return BodyTemplate(
            f"/api/v1/runs/{run_id}/metrics",
            '{"metrics":[',
            '{"key":"k%d","value":%.4f,"step":%d}',
            "]}",
        )


def api_for(system: str) -> TrackingApi:
    return LockgateApi() if system.startswith("lockgate") else MlflowApi()
