"""The serving benchmark's model, request bodies and servers under test.

One scikit-learn model (a gradient-boosted classifier on 30 numeric features, trained here once
and pickled under `.bench/serving/`) is served by the floor (`serving_floor.py`), MLflow
(`mlflow models serve`), KServe (`serving_kserve.py`) and Lockgate (`lockgate serve`). MLflow
and KServe are installed by pinned version into `.bench/venvs/serving-<name>`, with the
scikit-learn and NumPy of `.venv`, so that every server loads the same pickle the same way.
Every server is pinned to core 0 (`taskset -c 0`) and binds 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import orjson
import sklearn
from _peers import ROOT, VENVS, Server, free_port

CACHE = ROOT / ".bench" / "serving"
BENCH_DIR = Path(__file__).resolve().parent
SERVER_CORE = "0"
FEATURES = 30
COLUMNS = [f"f{i:02d}" for i in range(FEATURES)]
TRAIN_ROWS = 10_000
BODY_ROWS = 64  # distinct single-row bodies each load generator sends in turn
MODEL_NAME = "serving-bench-gbm"  # the registered model, in Lockgate and KServe
ALIAS = "champion"
PROJECT = "serving-bench"
# mlflow 3.18.0's mlflow-skinny is not on PyPI (see docs/benchmarks.md): 3.17.2 is the newest
# installable release.
PINS = {"mlflow": ["mlflow==3.17.2"], "kserve": ["kserve==0.21.0"]}
TARGETS = ("floor", "kserve", "mlflow", "lockgate", "lockgate_log")


def shared_pins() -> list[str]:
    """The model's runtime, as in `.venv`: every server unpickles with the same versions."""
    return [f"scikit-learn=={sklearn.__version__}", f"numpy=={np.__version__}"]


def ensure_venv(name: str) -> Path:
    """`.bench/venvs/serving-<name>` with the pinned packages; created unless already there."""
    venv = VENVS / f"serving-{name}"
    marker = venv / "bench-pins.txt"
    wanted = [*PINS[name], *shared_pins()]
    if marker.exists() and marker.read_text() == "\n".join(wanted):
        return venv
    print(f"installing {' '.join(wanted)} into {venv}", file=sys.stderr, flush=True)
    uv = ROOT / ".tools" / "bin" / "uv"
    # The interpreter behind .venv (not .venv's own), so the peers run the same Python.
    python = Path(sys.base_prefix, "bin", f"python{sys.version_info[0]}.{sys.version_info[1]}")
    if uv.exists():
        subprocess.run([uv, "venv", "--clear", "--quiet", "--python", python, venv], check=True)
        install = [uv, "pip", "install", "--quiet", "--python", venv / "bin" / "python"]
    else:
        subprocess.run([python, "-m", "venv", "--clear", venv], check=True)
        install = [venv / "bin" / "python", "-m", "pip", "install", "--quiet"]
    subprocess.run([*install, *wanted], check=True, timeout=1800)
    marker.write_text("\n".join(wanted))
    return venv


def venv_version(venv: Path, package: str) -> str:
    script = f"from importlib.metadata import version; print(version({package!r}))"
    return subprocess.run(
        [venv / "bin" / "python", "-c", script], capture_output=True, text=True, check=True
    ).stdout.strip()


def ensure_model() -> Path:
    """The pickled model, trained on first use (seeded: the same model every time)."""
    from sklearn.ensemble import GradientBoostingClassifier

    path = CACHE / f"gbm-sklearn-{sklearn.__version__}.pkl"
    if path.exists():
        return path
    print(f"training the model into {path}", file=sys.stderr, flush=True)
    rng = np.random.default_rng(0)
    features = rng.normal(size=(TRAIN_ROWS, FEATURES))
    weights = rng.normal(size=FEATURES)
    labels = (features @ weights + rng.normal(size=TRAIN_ROWS) > 0).astype(np.int64)
    model = GradientBoostingClassifier(n_estimators=100, max_depth=3, random_state=0)
    model.fit(features, labels)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_bytes(pickle.dumps(model))
    partial.rename(path)
    return path


def load_model(path: Path) -> Any:
    return pickle.loads(path.read_bytes())  # noqa: S301 - the benchmark's own model file


def request_rows() -> np.ndarray:
    """The rows the load generators send, one per request (seeded)."""
    return np.round(np.random.default_rng(1).normal(size=(BODY_ROWS, FEATURES)), 6)


def dataframe_split_body(row: np.ndarray) -> bytes:
    """MLflow's and Lockgate's `/invocations` body (and the floor's)."""
    split = {"columns": COLUMNS, "data": [row.tolist()]}
    return orjson.dumps({"dataframe_split": split})


def kserve_v1_body(row: np.ndarray) -> bytes:
    """KServe's v1 protocol body, which its sklearn server reads straight into `np.array`."""
    return orjson.dumps({"instances": [row.tolist()]})


@dataclass
class Target:
    """A server under test: how to start it, where to send load, and what body to send."""

    name: str
    server: Server
    path: str
    encode: Callable[[np.ndarray], bytes]  # a row -> the request body

    @property
    def url(self) -> str:
        return self.server.base_url + self.path


def base_env(venv: Path | None = None) -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ")
    env = {k: v for k, v in os.environ.items() if k in keep}
    # One model object fed both DataFrames (MLflow) and arrays (the floor, KServe) makes
    # scikit-learn warn about feature names on every call; no server pays for printing that.
    env["PYTHONWARNINGS"] = "ignore"
    if venv is not None:  # MLflow runs `uvicorn` from PATH
        env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return env


def pinned(*argv: str | Path) -> list[str]:
    return ["taskset", "-c", SERVER_CORE, *map(str, argv)]


def floor_target(model_path: Path, workdir: Path) -> Target:
    port = free_port()
    argv = pinned(
        ROOT / ".venv" / "bin" / "python", BENCH_DIR / "serving_floor.py",
        "--model", model_path, "--port", str(port),
    )  # fmt: skip
    server = Server("floor", argv, base_env(), port, "/ping", workdir / "floor.log")
    return Target("floor", server, "/invocations", dataframe_split_body)


def mlflow_target(model_path: Path, workdir: Path) -> Target:
    venv = ensure_venv("mlflow")
    model_dir = CACHE / f"{PINS['mlflow'][0].replace('==', '-')}-{model_path.stem}"
    if not model_dir.exists():  # saving takes MLflow about 20 s (it infers requirements)
        partial = model_dir.parent / f"{model_dir.name}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        subprocess.run(
            [venv / "bin" / "python", BENCH_DIR / "serving_mlflow.py", model_path, partial],
            check=True, capture_output=True, timeout=600,
        )  # fmt: skip
        partial.rename(model_dir)
    port = free_port()
    argv = pinned(
        venv / "bin" / "mlflow", "models", "serve", "-m", model_dir, "--env-manager", "local",
        "--workers", "1", "--host", "127.0.0.1", "--port", str(port),
    )  # fmt: skip
    server = Server("mlflow", argv, base_env(venv), port, "/ping", workdir / "mlflow.log")
    return Target("mlflow", server, "/invocations", dataframe_split_body)


def kserve_target(model_path: Path, workdir: Path) -> Target:
    venv = ensure_venv("kserve")
    port = free_port()
    # gRPC is off: nothing here uses it, and it would take a port and a thread pool.
    argv = pinned(
        venv / "bin" / "python", BENCH_DIR / "serving_kserve.py",
        "--model_name", MODEL_NAME, "--model_path", model_path,
        "--http_port", str(port), "--workers", "1", "--enable_grpc", "false",
    )  # fmt: skip
    server = Server(
        "kserve", argv, base_env(venv), port, "/v2/health/ready", workdir / "kserve.log"
    )
    return Target("kserve", server, f"/v1/models/{MODEL_NAME}:predict", kserve_v1_body)


def lockgate_target(name: str, api_url: str, workdir: Path) -> Target:
    """`lockgate serve` of the champion; `lockgate_log` with the prediction log on."""
    port = free_port()
    if name == "lockgate_log":
        log_dir = workdir / "prediction-log"
        shutil.rmtree(log_dir, ignore_errors=True)
        logging = ["--prediction-log", str(log_dir)]
    else:
        logging = ["--no-prediction-log"]
    argv = pinned(
        ROOT / ".venv" / "bin" / "lockgate", "serve", f"{MODEL_NAME}@{ALIAS}",
        "--host", "127.0.0.1", "--port", str(port),
        "--max-batch-size", "64", "--max-batch-wait-ms", "0",
        *logging, "--cache-dir", workdir / "lockgate-cache",
    )  # fmt: skip
    env = base_env() | {"LOCKGATE_URL": api_url, "LOCKGATE_HOME": str(workdir / "lockgate-home")}
    server = Server(name, argv, env, port, "/v2/health/ready", workdir / f"{name}.log")
    return Target(name, server, "/invocations", dataframe_split_body)


def register_in_lockgate(api_url: str, model_path: Path) -> int:
    """Log the model through the SDK, register it and point `champion` at the new version."""
    import pandas as pd

    from lockgate.sdk import Client

    model = load_model(model_path)
    example = pd.DataFrame(request_rows()[:5], columns=COLUMNS)
    with Client(api_url, timeout=120) as client:
        with client.start_run(PROJECT, "gbm", create_project=True) as run:
            client.models.create(
                MODEL_NAME, project=PROJECT, owner="bench", description="the serving benchmark's"
            )
            logged = run.log_model(
                model, name="model", input_example=example, registered_model_name=MODEL_NAME
            )
        if logged.version is None:
            raise RuntimeError("log_model registered no version")
        client.models.set_alias(MODEL_NAME, ALIAS, logged.version.version)
        return logged.version.version


def first_prediction(answer: Any) -> Any:
    """The first prediction of an answer, in whichever of the shapes the servers use."""
    if isinstance(answer, dict) and "outputs" in answer:  # Open Inference Protocol v2
        answer = answer["outputs"][0]["data"]
    elif isinstance(answer, dict):
        answer = answer.get("predictions", answer)
    if isinstance(answer, dict):  # named columns
        answer = next(iter(answer.values()))
    with contextlib.suppress(TypeError, IndexError, KeyError, StopIteration):
        first = answer[0]
        return next(iter(first.values())) if isinstance(first, dict) else first
    return answer


def check_answers(target: Target, rows: np.ndarray, expected: np.ndarray) -> dict[str, Any]:
    """POST a few rows one at a time; whether every answer is the local model's label."""
    wrong = []
    with httpx.Client(timeout=30) as client:
        for row, label in zip(rows[:8], expected[:8], strict=True):
            response = client.post(
                target.url,
                content=target.encode(row),
                headers={"Content-Type": "application/json"},
            )
            got = first_prediction(response.json()) if response.is_success else None
            if response.status_code != 200 or got != label:
                wrong.append({"status": response.status_code, "answer": response.text[:300]})
    return {"answers_ok": not wrong, "wrong_answers": wrong[:2]}
