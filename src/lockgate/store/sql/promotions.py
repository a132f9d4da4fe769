"""SqlPromotionRepository: promotion requests (compare-and-set on a row version, locked with
SELECT ... FOR UPDATE on PostgreSQL), their approvals and gate decisions, and gate
exceptions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import sqlalchemy as sa

from lockgate.domain.access import ProjectFilter
from lockgate.domain.audit import JsonValue
from lockgate.domain.errors import AlreadyExistsError, ConflictError, NotFoundError
from lockgate.domain.governance.decisions import PolicyDecision
from lockgate.domain.governance.exceptions import ExceptionStatus, GateException, GateExceptionId
from lockgate.domain.governance.promotions import (
    Approval,
    DecisionTrigger,
    GateDecision,
    PromotionRequest,
    PromotionRequestId,
    RequestKind,
    RequestStatus,
    gate_results_document,
    read_gate_results,
)
from lockgate.domain.identity import Actor
from lockgate.domain.pagination import Page, decode_cursor
from lockgate.domain.registry import ModelId
from lockgate.domain.tracking import ProjectId
from lockgate.store.sql.codec import (
    from_json,
    from_micros,
    maybe_from_micros,
    maybe_micros,
    page_of,
    to_json,
    to_micros,
    translate_integrity,
)
from lockgate.store.sql.grants import visible_projects
from lockgate.store.sql.tables import (
    approvals,
    gate_decisions,
    gate_exceptions,
    promotion_requests,
    registered_models,
)

__all__ = ["SqlPromotionRepository"]

_requests = promotion_requests
_decisions = gate_decisions
_exceptions = gate_exceptions
_models = registered_models


class SqlPromotionRepository:
    """Requests in `promotion_requests`, approvals in `approvals` (one per reviewer and
    request), decisions in `gate_decisions` and exceptions in `gate_exceptions`.

    Args:
        connection: the unit of work's connection, inside its transaction.
    """

    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection

    def add_request(self, request: PromotionRequest) -> None:
        try:
            with translate_integrity(
                self._connection,
                duplicate="open",
                missing=(
                    f"model {request.model_name!r} has no version {request.version}, or "
                    f"environment {request.environment!r} does not exist"
                ),
            ):
                self._connection.execute(_requests.insert(), _request_row(request))
        except AlreadyExistsError:
            raise ConflictError(
                f"an open {request.kind} request for {request.subject} in "
                f"{request.environment} exists already; approve, check or cancel that one"
            ) from None

    def get_request(
        self, request_id: PromotionRequestId, *, for_update: bool = False
    ) -> PromotionRequest:
        query = _requests_query().where(_requests.c.id == request_id)
        if for_update:
            query = query.with_for_update(of=_requests)
        row = self._connection.execute(query).mappings().first()
        if row is None:
            raise NotFoundError(f"promotion request {request_id} does not exist")
        return _request(row)

    def save_request(self, request: PromotionRequest) -> None:
        row = _request_row(request)
        updated = self._connection.execute(
            _requests.update()
            .where(
                _requests.c.id == request.id,
                _requests.c.row_version == request.row_version - 1,
            )
            .values({key: row[key] for key in _MUTABLE_REQUEST_COLUMNS})
        )
        if updated.rowcount != 1:
            raise ConflictError(
                f"promotion request {request.id} changed meanwhile; read it again and retry"
            )

    def list_requests(
        self,
        *,
        model_id: ModelId | None,
        version: int | None,
        status: RequestStatus | None,
        page_size: int,
        cursor: str | None,
        visible: ProjectFilter | None = None,
    ) -> Page[PromotionRequest]:
        query = (
            _requests_query()
            .where(visible_projects(_requests.c.project_id, visible))
            .order_by(_requests.c.id.desc())
            .limit(page_size + 1)
        )
        if model_id is not None:
            query = query.where(_requests.c.model_id == model_id)
        if version is not None:
            query = query.where(_requests.c.version == version)
        if status is not None:
            query = query.where(_requests.c.status == status.value)
        if cursor is not None:
            (before,) = decode_cursor(cursor, arity=1)
            query = query.where(_requests.c.id < str(before))
        items = [_request(row) for row in self._connection.execute(query).mappings()]
        return page_of(items, page_size, lambda r: [r.id])

    def put_approval(self, approval: Approval) -> None:
        renewed = self._connection.execute(
            approvals.update()
            .where(
                approvals.c.request_id == approval.request_id,
                approvals.c.reviewer == approval.reviewer,
            )
            .values(
                approved_at=to_micros(approval.approved_at),
                expires_at=to_micros(approval.expires_at),
                comment=approval.comment,
            )
        )
        if renewed.rowcount == 1:
            return
        try:
            with translate_integrity(
                self._connection,
                duplicate="taken",
                missing=f"promotion request {approval.request_id} does not exist",
            ):
                self._connection.execute(
                    approvals.insert(),
                    {
                        "id": approval.id,
                        "request_id": approval.request_id,
                        "reviewer": approval.reviewer,
                        "approved_at": to_micros(approval.approved_at),
                        "expires_at": to_micros(approval.expires_at),
                        "comment": approval.comment,
                    },
                )
        except AlreadyExistsError:
            raise ConflictError(
                f"{approval.reviewer} approved request {approval.request_id} meanwhile"
            ) from None

    def approvals(self, request_id: PromotionRequestId) -> list[Approval]:
        query = (
            sa.select(approvals)
            .where(approvals.c.request_id == request_id)
            .order_by(approvals.c.approved_at, approvals.c.id)
        )
        return [
            Approval(
                id=row["id"],
                request_id=PromotionRequestId(row["request_id"]),
                reviewer=Actor(row["reviewer"]),
                approved_at=from_micros(row["approved_at"]),
                expires_at=from_micros(row["expires_at"]),
                comment=row["comment"],
            )
            for row in self._connection.execute(query).mappings()
        ]

    def add_decision(self, decision: GateDecision) -> None:
        verdict = decision.decision
        self._connection.execute(
            _decisions.insert(),
            {
                "id": decision.id,
                "request_id": decision.request_id,
                "project_id": decision.project_id,
                "model_id": decision.model_id,
                "version": decision.version,
                "environment": decision.environment,
                "trigger": decision.trigger.value,
                "decided_at": to_micros(decision.decided_at),
                "decided_by": decision.decided_by,
                "input_json": to_json(decision.input_document),
                "input_sha256": verdict.input_sha256,
                "policy_digest": verdict.policy_digest,
                "results_json": to_json(gate_results_document(verdict.results)),
                "allowed": verdict.allowed,
            },
        )

    def decisions(
        self,
        *,
        request_id: PromotionRequestId | None = None,
        model_id: ModelId | None = None,
        version: int | None = None,
        decision_id: str | None = None,
    ) -> list[GateDecision]:
        query = (
            sa.select(_decisions, _models.c.name.label("model_name"))
            .join(_models, _models.c.id == _decisions.c.model_id)
            .order_by(_decisions.c.decided_at, _decisions.c.id)
        )
        filters = (
            (_decisions.c.request_id, request_id),
            (_decisions.c.model_id, model_id),
            (_decisions.c.version, version),
            (_decisions.c.id, decision_id),
        )
        for column, value in filters:
            if value is not None:
                query = query.where(column == value)
        return [_decision(row) for row in self._connection.execute(query).mappings()]

    def add_exception(self, exception: GateException) -> None:
        with translate_integrity(
            self._connection,
            duplicate=f"exception {exception.id} already exists",
            missing=(
                f"model {exception.model_name!r} has no version {exception.version}, or "
                f"environment {exception.environment!r} does not exist"
            ),
        ):
            self._connection.execute(_exceptions.insert(), _exception_row(exception))

    def get_exception(
        self, exception_id: GateExceptionId, *, for_update: bool = False
    ) -> GateException:
        query = _exceptions_query().where(_exceptions.c.id == exception_id)
        if for_update:
            query = query.with_for_update(of=_exceptions)
        row = self._connection.execute(query).mappings().first()
        if row is None:
            raise NotFoundError(f"exception {exception_id} does not exist")
        return _exception(row)

    def save_exception(self, exception: GateException) -> None:
        if exception.status is ExceptionStatus.EXPIRED:
            raise ValueError("`expired` is derived from the time and never stored")
        row = _exception_row(exception)
        updated = self._connection.execute(
            _exceptions.update()
            .where(
                _exceptions.c.id == exception.id,
                _exceptions.c.row_version == exception.row_version - 1,
            )
            .values({key: row[key] for key in _MUTABLE_EXCEPTION_COLUMNS})
        )
        if updated.rowcount != 1:
            raise ConflictError(f"exception {exception.id} changed meanwhile; read it again")

    def exceptions(
        self, model_id: ModelId, version: int | None = None, environment: str | None = None
    ) -> list[GateException]:
        query = (
            _exceptions_query()
            .where(_exceptions.c.model_id == model_id)
            .order_by(_exceptions.c.requested_at, _exceptions.c.id)
        )
        if version is not None:
            query = query.where(_exceptions.c.version == version)
        if environment is not None:
            query = query.where(_exceptions.c.environment == environment)
        return [_exception(row) for row in self._connection.execute(query).mappings()]


_MUTABLE_REQUEST_COLUMNS = (
    "status",
    "closed_at",
    "closed_by",
    "comment",
    "open_key",
    "row_version",
)
_MUTABLE_EXCEPTION_COLUMNS = (
    "status",
    "approved_by",
    "approved_at",
    "revoked_by",
    "revoked_at",
    "revoke_reason",
    "row_version",
)


def _requests_query() -> sa.Select[Any]:
    return sa.select(_requests, _models.c.name.label("model_name")).join(
        _models, _models.c.id == _requests.c.model_id
    )


def _exceptions_query() -> sa.Select[Any]:
    return sa.select(_exceptions, _models.c.name.label("model_name")).join(
        _models, _models.c.id == _exceptions.c.model_id
    )


def _request_row(request: PromotionRequest) -> dict[str, object]:
    is_open = request.status is RequestStatus.OPEN
    slot = f"{request.model_id}:{request.version}:{request.environment}:{request.kind.value}"
    return {
        "id": request.id,
        "project_id": request.project_id,
        "model_id": request.model_id,
        "version": request.version,
        "environment": request.environment,
        "kind": request.kind.value,
        "status": request.status.value,
        "reason": request.reason,
        "requested_by": request.requested_by,
        "requested_at": to_micros(request.requested_at),
        "closed_at": maybe_micros(request.closed_at),
        "closed_by": request.closed_by,
        "comment": request.comment,
        "open_key": slot if is_open else None,
        "row_version": request.row_version,
    }


def _request(row: sa.RowMapping) -> PromotionRequest:
    closed_by = row["closed_by"]
    return PromotionRequest(
        id=PromotionRequestId(row["id"]),
        project_id=ProjectId(row["project_id"]),
        model_id=ModelId(row["model_id"]),
        model_name=row["model_name"],
        version=row["version"],
        environment=row["environment"],
        kind=RequestKind(row["kind"]),
        status=RequestStatus(row["status"]),
        reason=row["reason"],
        requested_by=Actor(row["requested_by"]),
        requested_at=from_micros(row["requested_at"]),
        closed_at=maybe_from_micros(row["closed_at"]),
        closed_by=None if closed_by is None else Actor(closed_by),
        comment=row["comment"],
        row_version=row["row_version"],
    )


def _decision(row: sa.RowMapping) -> GateDecision:
    document = cast(Mapping[str, JsonValue], from_json(row["input_json"]))
    return GateDecision(
        id=row["id"],
        request_id=PromotionRequestId(row["request_id"]),
        project_id=ProjectId(row["project_id"]),
        model_id=ModelId(row["model_id"]),
        model_name=row["model_name"],
        version=row["version"],
        environment=row["environment"],
        trigger=DecisionTrigger(row["trigger"]),
        decided_at=from_micros(row["decided_at"]),
        decided_by=Actor(row["decided_by"]),
        decision=PolicyDecision(
            results=read_gate_results(from_json(row["results_json"])),
            input_sha256=row["input_sha256"],
            policy_digest=row["policy_digest"],
        ),
        input_document=document,
    )


def _exception_row(exception: GateException) -> dict[str, object]:
    return {
        "id": exception.id,
        "project_id": exception.project_id,
        "model_id": exception.model_id,
        "version": exception.version,
        "environment": exception.environment,
        "gate": exception.gate,
        "justification": exception.justification,
        "status": exception.status.value,
        "requested_by": exception.requested_by,
        "requested_at": to_micros(exception.requested_at),
        "expires_at": to_micros(exception.expires_at),
        "approved_by": exception.approved_by,
        "approved_at": maybe_micros(exception.approved_at),
        "revoked_by": exception.revoked_by,
        "revoked_at": maybe_micros(exception.revoked_at),
        "revoke_reason": exception.revoke_reason,
        "row_version": exception.row_version,
    }


def _exception(row: sa.RowMapping) -> GateException:
    def actor(name: str) -> Actor | None:
        return None if row[name] is None else Actor(row[name])

    return GateException(
        id=GateExceptionId(row["id"]),
        project_id=ProjectId(row["project_id"]),
        model_id=ModelId(row["model_id"]),
        model_name=row["model_name"],
        version=row["version"],
        environment=row["environment"],
        gate=row["gate"],
        justification=row["justification"],
        requested_by=Actor(row["requested_by"]),
        requested_at=from_micros(row["requested_at"]),
        expires_at=from_micros(row["expires_at"]),
        status=ExceptionStatus(row["status"]),
        approved_by=actor("approved_by"),
        approved_at=maybe_from_micros(row["approved_at"]),
        revoked_by=actor("revoked_by"),
        revoked_at=maybe_from_micros(row["revoked_at"]),
        revoke_reason=row["revoke_reason"],
        row_version=row["row_version"],
    )
