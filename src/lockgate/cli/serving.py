"""`lockgate serve`: fetch registered versions, verify them against the registry's signature,
load them, and serve them over the Open Inference Protocol v2 and MLflow-style REST."""

from __future__ import annotations

from pathlib import Path

import click

from lockgate.cli.context import CliState, pass_state, url_option
from lockgate.cli.output import error_console
from lockgate.cli.packages import fetch_verified, package_options
from lockgate.domain.errors import InvalidInputError
from lockgate.sdk import Client

__all__ = ["serve"]


@click.command("serve")
@click.argument("refs", nargs=-1, required=True, metavar="MODEL@ALIAS|MODEL/VERSION...")
@url_option
@click.option(
    "--embedded",
    is_flag=True,
    help="Read the registry from the embedded store (the `home` directory) instead of --url.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--max-batch-size",
    default=64,
    show_default=True,
    type=click.IntRange(1, 100_000),
    help="Most rows scored in one call of the model (adaptive batching).",
)
@click.option(
    "--max-batch-wait-ms",
    default=0.0,
    show_default=True,
    type=click.FloatRange(0, 1_000),
    help="How long the first request of a batch may wait for more (0: never waits).",
)
@click.option(
    "--max-request-rows",
    default=10_000,
    show_default=True,
    type=click.IntRange(1, 10_000_000),
    help="Most rows one request may carry.",
)
@click.option(
    "--prediction-log",
    "prediction_log",
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory of the prediction log (default: HOME/predictions).",
)
@click.option("--no-prediction-log", is_flag=True, help="Log no predictions.")
@package_options
@pass_state
def serve(
    state: CliState,
    refs: tuple[str, ...],
    embedded: bool,
    host: str,
    port: int,
    max_batch_size: int,
    max_batch_wait_ms: float,
    max_request_rows: int,
    prediction_log: Path | None,
    no_prediction_log: bool,
    cache_dir: Path | None,
    trusted_key: Path | None,
) -> None:
    """Serve registered model versions: `churn@champion`, `churn/3`; several at once."""
    from lockgate.server.run import is_loopback
    from lockgate.serving.loader import load_package
    from lockgate.serving.server import InferenceServer, ServedModel, ServingOptions
    from lockgate.version import __version__

    if prediction_log is not None and no_prediction_log:
        raise InvalidInputError(
            "--prediction-log and --no-prediction-log exclude each other", field="prediction_log"
        )
    settings = state.settings()
    served = []
    with _client(state, embedded) as client:
        for ref in refs:
            package = fetch_verified(state, client, ref, cache_dir, trusted_key)
            served.append(ServedModel.from_loaded(load_package(package)))
            error_console().print(
                f"loaded {package.ref} ({package.flavor}), manifest {package.manifest.digest[:12]}"
                " verified"
            )
    names = [m.name for m in served]
    if len(set(names)) != len(names):
        raise InvalidInputError("serve one version per model name", field="refs")
    log_dir = None if no_prediction_log else (prediction_log or settings.home / "predictions")
    options = ServingOptions(
        max_batch_size=max_batch_size,
        max_batch_wait=max_batch_wait_ms / 1000.0,
        max_request_rows=max_request_rows,
        server_version=__version__,
    )
    server = InferenceServer(served, options, host, port, log_dir)
    if not is_loopback(host):
        error_console().print(
            f"[yellow]warning:[/] {host} is reachable from other machines and the inference "
            "server checks no credentials: put it behind a gateway that does"
        )
    error_console().print(
        f"serving {', '.join(f'{m.name}/{m.version}' for m in served)} on http://{host}:{port}"
        f" (prediction log: {log_dir or 'off'})"
    )
    server.run()


def _client(state: CliState, embedded: bool) -> Client:
    if not embedded:
        return state.client()
    from lockgate.server.inprocess import embedded_client

    return embedded_client(settings=state.settings(), token=state.token)
