"""The SDK entry point: `Client(url)` with one resource per area and `start_run`."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from contextlib import suppress
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx

from lockgate.api.tracking import EnvironmentIn
from lockgate.domain.errors import AlreadyExistsError
from lockgate.sdk.active_run import ActiveRun
from lockgate.sdk.artifacts import Artifacts
from lockgate.sdk.audit import Audit
from lockgate.sdk.decommission import Decommission
from lockgate.sdk.environment import capture_environment as environment_of_this_process
from lockgate.sdk.evaluation import Evaluations
from lockgate.sdk.evidence import Compliance, Evidence
from lockgate.sdk.http import DEFAULT_URL, HttpSession
from lockgate.sdk.identity import Auth, Grants, Principals, Teams, Tokens
from lockgate.sdk.lineage import Lineage
from lockgate.sdk.model_cards import ModelCards
from lockgate.sdk.policies import Policies
from lockgate.sdk.promotions import Environments, GateExceptions, Promotions
from lockgate.sdk.registry import Models
from lockgate.sdk.tracking import Projects, Runs

if TYPE_CHECKING:
    from lockgate.domain.evaluation import SegmentRule, Thresholds
    from lockgate.sdk.evaluation_run import EvaluationResult, ProgressCallback

__all__ = ["Client"]


class Client:
    """A connection to a Lockgate server.

    Args:
        url: The server's root URL.
        token: An API token, sent as a bearer token (needed when the server has auth on;
            `client.auth.whoami()` tells who it stands for).
        transport: An httpx transport to use instead of the network (e.g. the in-process
            app in tests, or `lockgate.embedded_client()`).
        timeout: Seconds (or an `httpx.Timeout`) for connect, read and write.

    Example:
        >>> client = Client("http://127.0.0.1:8420")  # doctest: +SKIP
        >>> with client.start_run("churn", "baseline") as run:  # doctest: +SKIP
        ...     run.log_param("max_depth", 6)
        ...     run.log_metric("val_auc", 0.87)
    """

    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        token: str | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float | httpx.Timeout = 30.0,
    ) -> None:
        self._http = HttpSession(url, token=token, transport=transport, timeout=timeout)
        self.projects = Projects(self._http)
        self.runs = Runs(self._http)
        self.models = Models(self._http)
        self.evaluations = Evaluations(self._http)
        self.model_cards = ModelCards(self._http)
        self.policies = Policies(self._http)
        self.promotions = Promotions(self._http)
        self.environments = Environments(self._http)
        self.exceptions = GateExceptions(self._http)
        self.lineage = Lineage(self._http)
        self.decommission = Decommission(self._http)
        self.evidence = Evidence(self._http)
        self.compliance = Compliance(self._http)
        self.artifacts = Artifacts(self._http)
        self.audit = Audit(self._http)
        self.auth = Auth(self._http)
        self.principals = Principals(self._http)
        self.teams = Teams(self._http)
        self.tokens = Tokens(self._http)
        self.grants = Grants(self._http)

    @property
    def url(self) -> str:
        """The server's root URL."""
        return self._http.url

    def health(self) -> dict[str, Any]:
        """The server's status, version and metadata schema revision."""
        data: dict[str, Any] = self._http.request("GET", "/health").json()
        return data

    def start_run(
        self,
        project: str,
        name: str | None = None,
        *,
        tags: Mapping[str, str] | None = None,
        seed: int | None = None,
        capture_environment: bool = True,
        environment: EnvironmentIn | None = None,
        create_project: bool = False,
    ) -> ActiveRun:
        """Start a run and return it; use it as a context manager to end it on exit.

        Args:
            project: The project's name; it must exist unless `create_project` is True.
            name: A display name for the run.
            tags: First tags, e.g. `{"team": "growth"}`.
            seed: The random seed the code uses, kept with the environment.
            capture_environment: Record git sha and dirty flag, Python version and the
                installed packages.
            environment: An environment captured elsewhere (e.g. by a job launcher), used
                as given instead of capturing this process's.
            create_project: Create the project first if it does not exist.

        Raises:
            NotFoundError: The project does not exist (and `create_project` is False).
        """
        if create_project and not self.projects.exists(project):
            with suppress(AlreadyExistsError):  # another process created it meanwhile
                self.projects.create(project)
        if environment is None:
            environment = (
                environment_of_this_process(seed)
                if capture_environment
                else EnvironmentIn(seed=seed)
            )
        info = self.runs.create(project, name=name or "", tags=tags, environment=environment)
        return ActiveRun(info, runs=self.runs, artifacts=self.artifacts, models=self.models)

    def evaluate(
        self,
        model: str,
        data: str | Path | Any,
        *,
        targets: str,
        task: str,
        baseline: str | None = None,
        dataset_name: str | None = None,
        threshold: float = 0.5,
        positive_label: str | None = None,
        classes: Sequence[str] = (),
        cutoffs: Sequence[int] = (10,),
        query: str | None = None,
        resamples: int = 1_000,
        confidence: float = 0.95,
        seed: int = 0,
        segments: Sequence[str | SegmentRule] = (),
        sensitive: Sequence[str] = (),
        thresholds: Thresholds | None = None,
        output: str | None = None,
        batch_size: int = 65_536,
        cache_dir: str | Path | None = None,
        trusted_key: str | None = None,
        content_hash: bool = False,
        progress: ProgressCallback | None = None,
    ) -> EvaluationResult:
        """Evaluate a registered version on a dataset on this machine and record the result;
        with `baseline`, evaluate both on the same rows and have the server judge the paired
        changes against `thresholds`.

        Needs `lockgate[serving]` and the extra of the model's flavor. The packages are
        fetched and verified as `lockgate score` does; the data streams in batches, so it may
        be larger than memory. See docs/howto/evaluation.md.

        Args:
            model: `NAME@ALIAS` or `NAME/VERSION`.
            data: A Parquet or CSV path (file, directory, glob), a `pyarrow.Table` or a pandas
                DataFrame.
            targets: The label column (for ranking, the graded relevance).
            task: `binary_classification`, `multiclass_classification`, `regression` or
                `ranking`.
            baseline: An alias of the same model (`champion`), a version number, or a full
                reference; the alias must still point to the same version when the result is
                recorded.
            dataset_name: The dataset's name in lineage (default: the file's stem, or `data`
                for a table).
            segments: Columns (one segment per value) or `SegmentRule`s with a SQL predicate.
            sensitive: Columns whose groups the fairness measures compare (binary only).
            thresholds: The comparison's rules; default: the task's primary metric may fall
                by at most 0.01, overall and in every segment.
            output: The model output holding the score, when the model answers several.
            cache_dir: Where verified packages are kept (default: a temporary directory).
            trusted_key: A PEM public key that must have signed the packages (default: the
                registry's).
            content_hash: Fingerprint a Parquet dataset by every byte, not by its footers.
            progress: Called after each batch with rows done and the total when known.

        Returns:
            An `EvaluationResult`: the recorded evaluation, the comparison with its verdict
            (`passed`, `verdict.reasons`) when a baseline was named, and the reports.

        Raises:
            InvalidInputError: An option or column is wrong (`field` names it).
            PackageIntegrityError: A package is not what the registry signed.
            ConflictError: The baseline's alias moved while the evaluation ran.
        """
        from lockgate.sdk.evaluation_run import build_config, evaluate, resolve_data

        config = build_config(
            task,
            targets,
            threshold=threshold,
            positive_label=positive_label,
            classes=classes,
            cutoffs=cutoffs,
            query=query,
            resamples=resamples,
            confidence=confidence,
            seed=seed,
            segments=segments,
            sensitive=sensitive,
        )
        source = resolve_data(data, name=dataset_name, content_hash=content_hash)
        with tempfile.TemporaryDirectory(prefix="lockgate-packages-") as scratch:
            return evaluate(
                self,
                model,
                source,
                config,
                baseline=baseline,
                thresholds=thresholds,
                output=output,
                batch_size=batch_size,
                cache_dir=Path(cache_dir) if cache_dir is not None else Path(scratch),
                trusted_key_pem=trusted_key,
                progress=progress,
            )

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
