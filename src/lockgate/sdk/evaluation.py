"""Evaluation resource of the SDK: record what a version scored on a dataset version, compare a
candidate with a baseline (the server computes the verdict), and read both back."""

from __future__ import annotations

from collections.abc import Iterator

from lockgate.api import PageOut
from lockgate.api.evaluation import ComparisonIn, ComparisonOut, EvaluationIn, EvaluationOut
from lockgate.domain.evaluation import (
    EvaluationConfig,
    ModelReport,
    PairedReport,
    Thresholds,
    changes_document,
    config_document,
    report_document,
    thresholds_document,
)
from lockgate.domain.tracking import DatasetInput
from lockgate.sdk.http import HttpSession, paginate, request_body, segment

__all__ = ["Evaluations"]


def _dataset(dataset: DatasetInput) -> dict[str, object]:
    return {
        "name": dataset.name,
        "fingerprint": dataset.fingerprint,
        "row_count": dataset.row_count,
        "schema": dict(dataset.schema),
        "source": dataset.source,
    }


class Evaluations:
    """Evaluations of model versions, and comparisons judged against thresholds
    (`client.evaluations`). The reports come from an evaluation engine (the domain objects of
    `lockgate.domain.evaluation`); the server checks them and keeps them as documents."""

    def __init__(self, http: HttpSession) -> None:
        self._http = http

    def record(
        self,
        name: str,
        version: int,
        *,
        dataset: DatasetInput,
        config: EvaluationConfig,
        report: ModelReport,
        package_digest: str,
        engine: str,
    ) -> EvaluationOut:
        """Record what version `version` of model `name` scored on a dataset version.

        Args:
            dataset: The dataset version evaluated on (name, fingerprint, schema, rows).
            config: How the evaluation was computed.
            report: What it found.
            package_digest: The manifest sha256 of the package that was scored; it must be
                the one the registry signed for the version.
            engine: What computed the report, e.g. `lockgate-duckdb 0.1.0`.

        Raises:
            InvalidInputError: A rule is broken, or the digest is not the version's signed
                package's (`field` names the part at fault).
            NotFoundError: The model or version does not exist.
        """
        body = request_body(
            EvaluationIn,
            dataset=_dataset(dataset),
            config=config_document(config),
            report=report_document(report),
            package_digest=package_digest,
            engine=engine,
        )
        path = f"/models/{segment(name)}/versions/{segment(version)}/evaluations"
        return self._http.call("POST", path, EvaluationOut, body=body)

    def compare(
        self,
        name: str,
        *,
        candidate: int,
        baseline: int,
        paired: PairedReport,
        candidate_digest: str,
        baseline_digest: str,
        dataset: DatasetInput,
        config: EvaluationConfig,
        engine: str,
        baseline_alias: str | None = None,
        thresholds: Thresholds | None = None,
    ) -> ComparisonOut:
        """Record versions `candidate` and `baseline` scored on the same rows and have the
        server judge the paired changes; the returned comparison holds the verdict, every
        check and the reasons it failed.

        Args:
            paired: Both reports and their paired changes.
            candidate_digest: The manifest sha256 of the candidate package that was scored.
            baseline_digest: The same for the baseline.
            baseline_alias: The alias the baseline was chosen by (e.g. `champion`); the
                server refuses the comparison if the alias has moved since.
            thresholds: The rules to judge by; default: the task's primary metric may fall
                by at most 0.01, overall and in every segment.

        Raises:
            InvalidInputError: A rule is broken (the same version twice, changes the
                reports do not support, a digest that is not the version's).
            ConflictError: `baseline_alias` no longer points to `baseline`.
        """
        body = request_body(
            ComparisonIn,
            dataset=_dataset(dataset),
            config=config_document(config),
            candidate={
                "version": candidate,
                "package_digest": candidate_digest,
                "report": report_document(paired.candidate),
            },
            baseline={
                "version": baseline,
                "package_digest": baseline_digest,
                "report": report_document(paired.baseline),
            },
            changes=changes_document(paired),
            baseline_alias=baseline_alias,
            thresholds=None if thresholds is None else thresholds_document(thresholds),
            engine=engine,
        )
        path = f"/models/{segment(name)}/comparisons"
        return self._http.call("POST", path, ComparisonOut, body=body)

    def get(self, evaluation_id: str) -> EvaluationOut:
        """One evaluation; raises NotFoundError."""
        return self._http.call("GET", f"/evaluations/{segment(evaluation_id)}", EvaluationOut)

    def list(self, name: str, version: int, *, page_size: int = 100) -> Iterator[EvaluationOut]:
        """The evaluations of one version, newest first, fetched page by page."""
        path = f"/models/{segment(name)}/versions/{segment(version)}/evaluations"

        def fetch(token: str | None) -> PageOut[EvaluationOut]:
            params = {"page_size": page_size, "page_token": token}
            return self._http.call("GET", path, PageOut[EvaluationOut], params=params)

        return paginate(fetch)

    def get_comparison(self, comparison_id: str) -> ComparisonOut:
        """One comparison with its verdict; raises NotFoundError."""
        return self._http.call("GET", f"/comparisons/{segment(comparison_id)}", ComparisonOut)

    def list_comparisons(
        self, name: str, *, candidate_version: int | None = None, page_size: int = 100
    ) -> Iterator[ComparisonOut]:
        """The comparisons of a model (of one candidate version, when given), newest first,
        fetched page by page."""
        path = f"/models/{segment(name)}/comparisons"

        def fetch(token: str | None) -> PageOut[ComparisonOut]:
            params = {
                "candidate_version": candidate_version,
                "page_size": page_size,
                "page_token": token,
            }
            return self._http.call("GET", path, PageOut[ComparisonOut], params=params)

        return paginate(fetch)
