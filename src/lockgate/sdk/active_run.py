"""The run a training script is inside: `with client.start_run(...) as run:` logs to it and ends
it `finished`, `failed` (an exception) or `killed` (Ctrl-C)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from lockgate.api.artifacts import ArtifactOut
from lockgate.api.registry import SignatureIO, VersionOut
from lockgate.api.tracking import DatasetIn, RunOut
from lockgate.domain.errors import InvalidInputError, LockgateError
from lockgate.sdk.artifacts import CHUNK_BYTES, Artifacts, ProgressCallback, join_artifact_path
from lockgate.sdk.model_logging import LoggedModel, log_model
from lockgate.sdk.registry import Models
from lockgate.sdk.tracking import MetricPoint, ParamValue, Runs

__all__ = ["ActiveRun", "fingerprint_file"]


def fingerprint_file(path: str | os.PathLike[str]) -> str:
    """The sha256 hex digest of a file, read in chunks."""
    hasher = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            hasher.update(chunk)
    return hasher.hexdigest()


def _status_after(exc: BaseException) -> str:
    """How a run ends when its block raises: a script's `sys.exit(0)` is a success, any other
    exit or exception a failure, and Ctrl-C (or another interrupt) kills it."""
    if isinstance(exc, SystemExit):
        return "finished" if exc.code in (0, None) else "failed"
    return "failed" if isinstance(exc, Exception) else "killed"


class ActiveRun:
    """A started run and the calls that record into it.

    Used as a context manager it ends the run on exit: `finished` when the block completes
    (or calls `sys.exit(0)`), `failed` when it raises (the exception propagates) and `killed`
    on KeyboardInterrupt.
    Without `with`, call `end()` yourself.
    """

    def __init__(self, info: RunOut, *, runs: Runs, artifacts: Artifacts, models: Models) -> None:
        self.info = info
        self._runs = runs
        self._artifacts = artifacts
        self._models = models
        self._next_step: dict[str, int] = {}

    @property
    def id(self) -> str:
        """The run id."""
        return self.info.id

    @property
    def status(self) -> str:
        """`running` until the run ends, then its final status."""
        return self.info.status

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.info.status != "running":
            return
        if exc is None:
            self.end("finished")
            return
        status = _status_after(exc)
        try:
            self.end(status)
        except LockgateError as end_error:
            # The user's exception matters more than ours: keep it, note why the run stays open.
            exc.add_note(f"lockgate: run {self.id} could not be marked {status}: {end_error}")

    def end(self, status: str = "finished") -> RunOut:
        """End the run as `finished`, `failed` or `killed`."""
        self.info = self._runs.end(self.id, status)
        return self.info

    def refresh(self) -> RunOut:
        """The run as the server has it now (params, latest metrics, tags, inputs)."""
        self.info = self._runs.get(self.id)
        return self.info

    def log_param(self, key: str, value: ParamValue) -> None:
        """Record one param (write-once; values are stored as text)."""
        self._runs.log_params(self.id, {key: value})

    def log_params(self, params: Mapping[str, ParamValue]) -> None:
        """Record several params in one request (up to 1,000 per request)."""
        self._runs.log_params(self.id, params)

    def log_metric(
        self, key: str, value: float, step: int | None = None, timestamp: datetime | None = None
    ) -> None:
        """Record one metric point; without `step`, the key's next step (0, 1, 2, ...)."""
        self.log_metrics([MetricPoint(key, value, step, timestamp)])

    def log_metrics(
        self,
        metrics: Mapping[str, float] | Iterable[MetricPoint],
        step: int | None = None,
    ) -> None:
        """Record many metric points, batched 10,000 to a request.

        Args:
            metrics: `{key: value}` (all at `step`), or `MetricPoint`s, each with its own step.
            step: The step for a mapping, or for points without one; otherwise each key's
                next step.
        """
        points: Iterable[MetricPoint]
        if isinstance(metrics, Mapping):
            points = (MetricPoint(key, value) for key, value in metrics.items())
        else:
            points = metrics
        self._runs.log_metrics(self.id, (self._stepped(point, step) for point in points))

    def _stepped(self, point: MetricPoint, default_step: int | None) -> MetricPoint:
        step = point.step if point.step is not None else default_step
        if step is None:
            step = self._next_step.get(point.key, 0)
        self._next_step[point.key] = max(self._next_step.get(point.key, 0), step + 1)
        return MetricPoint(point.key, float(point.value), step, point.timestamp)

    def set_tag(self, key: str, value: str) -> None:
        """Set one tag (tags may be overwritten)."""
        self._runs.set_tags(self.id, {key: value})

    def set_tags(self, tags: Mapping[str, str]) -> None:
        """Set several tags in one request."""
        self._runs.set_tags(self.id, tags)

    def log_input(
        self,
        name: str,
        *,
        fingerprint: str,
        schema: Mapping[str, str] | None = None,
        row_count: int | None = None,
        source: str | None = None,
    ) -> None:
        """Record a dataset version the run read.

        Args:
            name: The dataset's name, e.g. `customers-train`.
            fingerprint: A content fingerprint such as a sha256 hex digest.
            schema: Column name to type.
            row_count: Number of rows.
            source: Where it came from (a URI).
        """
        dataset = DatasetIn.model_validate(
            {
                "name": name,
                "fingerprint": fingerprint,
                "schema": dict(schema or {}),
                "row_count": row_count,
                "source": source,
            }
        )
        self._runs.log_input(self.id, dataset)

    def log_input_file(
        self,
        name: str,
        local_path: str | os.PathLike[str],
        *,
        schema: Mapping[str, str] | None = None,
        row_count: int | None = None,
    ) -> str:
        """Record a local data file as an input, fingerprinted by its sha256; returns the
        fingerprint."""
        path = Path(local_path)
        if not path.is_file():
            raise InvalidInputError(f"{path} is not a file", field="local_path")
        fingerprint = fingerprint_file(path)
        self.log_input(
            name,
            fingerprint=fingerprint,
            schema=schema,
            row_count=row_count,
            source=path.resolve().as_uri(),
        )
        return fingerprint

    def log_artifact(
        self,
        local_path: str | os.PathLike[str],
        artifact_path: str | None = None,
        *,
        progress: ProgressCallback | None = None,
    ) -> ArtifactOut:
        """Upload a file into the directory `artifact_path` of the run (its root by default),
        keeping the file's name."""
        target = join_artifact_path(artifact_path, Path(local_path).name)
        return self._artifacts.upload(self.id, local_path, target, progress=progress)

    def log_artifacts(
        self,
        local_dir: str | os.PathLike[str],
        artifact_path: str | None = None,
        *,
        progress: ProgressCallback | None = None,
    ) -> list[ArtifactOut]:
        """Upload every file below a directory into `artifact_path`, keeping relative paths."""
        return self._artifacts.upload_dir(self.id, local_dir, artifact_path, progress=progress)

    def register_model(
        self,
        name: str,
        artifact_path: str,
        signature: SignatureIO | None = None,
        *,
        description: str = "",
        metadata: Mapping[str, str] | None = None,
        flavor: str = "unknown",
    ) -> VersionOut:
        """Create a version of the registered model `name` from this run's files under
        `artifact_path` (the model must exist: see `client.models.create`); `flavor` is
        recorded in the signed manifest (`log_model` sets it for you)."""
        return self._models.create_version(
            name,
            run_id=self.id,
            artifact_path=artifact_path,
            signature=signature,
            description=description,
            metadata=metadata,
            flavor=flavor,
        )

    def log_model(
        self,
        model: object,
        name: str = "model",
        *,
        signature: SignatureIO | None = None,
        input_example: object = None,
        flavor: str | None = None,
        registered_model_name: str | None = None,
        **options: Any,
    ) -> LoggedModel:
        """Save a model with its flavor, upload it under the run's directory `name`, and
        register it as the next version of `registered_model_name` when given.

        Needs `lockgate[serving]` and the extra of the model's framework (`sklearn`,
        `xgboost`, `lightgbm`, `onnx`, `pytorch`). See docs/reference/flavors.md.

        Args:
            model: A scikit-learn, XGBoost or LightGBM estimator, an ONNX model (or its
                bytes), a PyTorch module, or a class with `load` and `predict`.
            name: The run directory the package's files go into.
            signature: The inputs and outputs; inferred from `input_example` when None.
            input_example: A sample batch (numpy array, DataFrame, dict of arrays, Arrow
                table). The saved package is loaded back and scored on it before upload.
            flavor: A flavor name, when not the one found from the model's type.
            registered_model_name: A registered model (it must exist) to add a version to,
                with the flavor and the signature.
            options: The flavor's options, e.g. `method="predict_proba"`.

        Returns:
            A `LoggedModel`: the artifact path, flavor, signature, uploaded files (`files`)
            and, when registered, the new version (`version`).

        Raises:
            ImportError: The flavors or the model's framework are not installed.
            InvalidInputError: No flavor takes the model, an option is unknown, or there is
                neither a signature nor an input example.
            NotFoundError: `registered_model_name` does not exist (the files are uploaded).
        """
        return log_model(
            model,
            run_id=self.id,
            artifacts=self._artifacts,
            models=self._models,
            artifact_path=name,
            signature=signature,
            input_example=input_example,
            flavor=flavor,
            registered_model_name=registered_model_name,
            options=options,
        )
