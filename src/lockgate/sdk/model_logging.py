"""Logging a model from a run: saved by its flavor into a package directory, uploaded as the
run's files, and registered as a version of a model when asked."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lockgate.api.artifacts import ArtifactOut
from lockgate.api.registry import SignatureIO, VersionOut
from lockgate.domain.errors import InvalidInputError
from lockgate.sdk.artifacts import Artifacts, join_artifact_path
from lockgate.sdk.registry import Models

__all__ = ["LoggedModel", "log_model"]

_INSTALL_HINT = (
    "run.log_model saves the model with Lockgate's flavors, which need the serving extra and "
    "the extra of the model's framework, e.g. pip install 'lockgate[serving,sklearn]' "
    "(or xgboost, lightgbm, onnx, pytorch)"
)


@dataclass(frozen=True, slots=True)
class LoggedModel:
    """What `ActiveRun.log_model` did: the package's files under `artifact_path` of the run,
    its flavor and signature, and the registered version when one was asked for."""

    artifact_path: str
    flavor: str
    signature: SignatureIO
    files: tuple[ArtifactOut, ...]
    version: VersionOut | None = None


def log_model(
    model: object,
    *,
    run_id: str,
    artifacts: Artifacts,
    models: Models,
    artifact_path: str,
    signature: SignatureIO | None,
    input_example: object,
    flavor: str | None,
    registered_model_name: str | None,
    options: dict[str, Any],
) -> LoggedModel:
    """Save, upload and optionally register a model; see `ActiveRun.log_model`."""
    try:
        from lockgate.serving.flavors import save_model
    except ImportError as exc:
        raise ImportError(_INSTALL_HINT) from exc
    path = join_artifact_path(artifact_path)
    if not path:
        raise InvalidInputError("name a directory of the run for the model", field="name")
    with tempfile.TemporaryDirectory(prefix="lockgate-model-") as directory:
        flavor_name, saved = save_model(
            model,
            Path(directory) / "package",
            signature=signature.to_domain() if signature is not None else None,
            input_example=input_example,
            flavor=flavor,
            **options,
        )
        files = artifacts.upload_dir(run_id, Path(directory) / "package", path)
    signature_io = SignatureIO.from_domain(saved)
    version = None
    if registered_model_name is not None:
        version = models.create_version(
            registered_model_name,
            run_id=run_id,
            artifact_path=path,
            signature=signature_io,
            flavor=flavor_name,
        )
    return LoggedModel(path, flavor_name, signature_io, tuple(files), version)
