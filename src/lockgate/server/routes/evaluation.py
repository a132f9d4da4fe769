"""Routes for evaluations of model versions and comparisons with their verdicts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from lockgate.api import ERROR_RESPONSES, PageOut
from lockgate.api.evaluation import ComparisonIn, ComparisonOut, EvaluationIn, EvaluationOut
from lockgate.api.limits import MAX_INT32, IdText, NameText, VersionNumber
from lockgate.domain.access import Permission
from lockgate.server.deps import CallerDep, PageSize, PageToken, PlatformDep
from lockgate.server.permissions import requires
from lockgate.services import ScoredVersion

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["evaluation"], responses=ERROR_RESPONSES)

CandidateVersion = Annotated[
    int | None, Query(ge=1, le=MAX_INT32, description="Only comparisons of this candidate.")
]


@router.post(
    "/models/{name}/versions/{version}/evaluations",
    status_code=201,
    openapi_extra=requires(Permission.MODEL_WRITE),
)
def record_evaluation(
    name: NameText,
    version: VersionNumber,
    body: EvaluationIn,
    platform: PlatformDep,
    caller: CallerDep,
) -> EvaluationOut:
    """Record what a version scored on a dataset version (its signed package's digest)."""
    evaluation = platform.evaluations.record_evaluation(
        caller,
        name,
        version,
        body.dataset.to_domain(),
        body.config.to_domain(),
        body.report.to_domain(),
        body.package_digest,
        body.engine,
    )
    return EvaluationOut.from_domain(evaluation)


@router.get(
    "/models/{name}/versions/{version}/evaluations",
    openapi_extra=requires(Permission.PROJECT_READ),
)
def list_evaluations(
    name: NameText,
    version: VersionNumber,
    platform: PlatformDep,
    caller: CallerDep,
    page_size: PageSize = 100,
    page_token: PageToken = None,
) -> PageOut[EvaluationOut]:
    """Evaluations of a version, newest first."""
    page = platform.evaluations.list_evaluations(caller, name, version, page_size, page_token)
    return PageOut(
        items=[EvaluationOut.from_domain(e) for e in page.items], next_page_token=page.next_cursor
    )


@router.get("/evaluations/{evaluation_id}", openapi_extra=requires(Permission.PROJECT_READ))
def get_evaluation(
    evaluation_id: IdText, platform: PlatformDep, caller: CallerDep
) -> EvaluationOut:
    """One evaluation."""
    return EvaluationOut.from_domain(platform.evaluations.get_evaluation(caller, evaluation_id))


@router.post(
    "/models/{name}/comparisons", status_code=201, openapi_extra=requires(Permission.MODEL_WRITE)
)
def compare(
    name: NameText, body: ComparisonIn, platform: PlatformDep, caller: CallerDep
) -> ComparisonOut:
    """Record a candidate and a baseline on the same rows; the server judges the changes."""
    comparison = platform.evaluations.compare(
        caller,
        name,
        body.dataset.to_domain(),
        body.config.to_domain(),
        ScoredVersion(body.candidate.version, body.candidate.package_digest),
        ScoredVersion(body.baseline.version, body.baseline.package_digest),
        body.paired(),
        body.baseline_alias,
        body.thresholds.to_domain() if body.thresholds is not None else None,
        body.engine,
    )
    return ComparisonOut.from_domain(comparison)


@router.get("/models/{name}/comparisons", openapi_extra=requires(Permission.PROJECT_READ))
def list_comparisons(
    name: NameText,
    platform: PlatformDep,
    caller: CallerDep,
    candidate_version: CandidateVersion = None,
    page_size: PageSize = 100,
    page_token: PageToken = None,
) -> PageOut[ComparisonOut]:
    """Comparisons of a model, or of one candidate version, newest first."""
    page = platform.evaluations.list_comparisons(
        caller, name, candidate_version, page_size, page_token
    )
    return PageOut(
        items=[ComparisonOut.from_domain(c) for c in page.items], next_page_token=page.next_cursor
    )


@router.get("/comparisons/{comparison_id}", openapi_extra=requires(Permission.PROJECT_READ))
def get_comparison(
    comparison_id: IdText, platform: PlatformDep, caller: CallerDep
) -> ComparisonOut:
    """One comparison with its verdict: every check and the reasons it failed."""
    return ComparisonOut.from_domain(platform.evaluations.get_comparison(caller, comparison_id))
