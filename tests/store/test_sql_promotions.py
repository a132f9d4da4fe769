"""Contract of the SQL environment and promotion repositories on every dialect: what is
written reads back exactly, compare-and-set refuses stale writers, one open request per
version and environment, one approval per reviewer, and the history answers "what was current
at T"."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from lockgate.domain.errors import AlreadyExistsError, ConflictError, NotFoundError
from lockgate.domain.governance.decisions import GateResult, PolicyDecision
from lockgate.domain.governance.environments import Environment, EnvironmentChange
from lockgate.domain.governance.exceptions import ExceptionStatus, GateException, GateExceptionId
from lockgate.domain.governance.promotions import (
    Approval,
    DecisionTrigger,
    GateDecision,
    ModelGovernance,
    PromotionRequest,
    PromotionRequestId,
    RequestKind,
    RequestStatus,
)
from lockgate.domain.governance.tiers import RiskTier
from lockgate.domain.identity import Actor
from lockgate.domain.registry import RegisteredModel
from tests.store.sql_builders import (
    ALICE,
    UowFactory,
    add_project,
    at,
    make_model,
    make_version,
    new_id,
)

BOB = Actor("user:bob")


@pytest.fixture
def model(uow_factory: UowFactory) -> RegisteredModel:
    model = make_model(add_project(uow_factory))
    with uow_factory() as uow:
        uow.models.add_model(model)
        for _ in range(3):
            uow.models.add_version(make_version(model, uow.models.allocate_version(model.id)))
        uow.commit()
    return model


def _request(
    model: RegisteredModel, version: int = 1, environment: str = "staging"
) -> PromotionRequest:
    return PromotionRequest(
        PromotionRequestId(new_id()),
        model.project_id,
        model.id,
        model.name,
        version,
        environment,
        RequestKind.PROMOTION,
        RequestStatus.OPEN,
        "better",
        ALICE,
        at(10),
    )


def _change(
    model: RegisteredModel, version: int | None, previous: int | None, seconds: float
) -> EnvironmentChange:
    return EnvironmentChange(
        new_id(),
        model.id,
        model.name,
        "production",
        version,
        previous,
        None,
        None,
        f"to {version}",
        ALICE,
        at(seconds),
        BOB,
    )


def test_environments_are_seeded_and_names_and_orders_are_unique(uow_factory: UowFactory) -> None:
    with uow_factory() as uow:
        assert [(e.name, e.order) for e in uow.environments.list_environments()] == [
            ("dev", 10),
            ("staging", 20),
            ("production", 30),
        ]
        canary = Environment("canary", 25, "some traffic", at(0), ALICE)
        uow.environments.add_environment(canary)
        with pytest.raises(AlreadyExistsError, match="already exists"):
            uow.environments.add_environment(dataclasses.replace(canary, order=26))
        with pytest.raises(AlreadyExistsError, match="order 25") as order:
            uow.environments.add_environment(dataclasses.replace(canary, name="qa"))
        assert order.value.field == "order"
        uow.commit()
    with uow_factory() as uow:
        assert uow.environments.get_environment("canary") == canary
        with pytest.raises(NotFoundError):
            uow.environments.get_environment("qa")


def test_moving_the_current_version_is_a_compare_and_set_with_history(
    uow_factory: UowFactory, model: RegisteredModel
) -> None:
    with uow_factory() as uow:
        assert uow.environments.current(model.id, "production") is None
        uow.environments.move_current(_change(model, 1, None, 1), expected_row_version=None)
        uow.commit()
    with uow_factory() as uow:
        current = uow.environments.current(model.id, "production")
        assert current is not None
        assert (current.version, current.row_version, current.since) == (1, 1, at(1))
        with pytest.raises(ConflictError, match="changed while"):
            uow.environments.move_current(_change(model, 2, None, 2), expected_row_version=None)
        with pytest.raises(ConflictError, match="changed while"):  # nothing to remove
            uow.environments.move_current(_change(model, None, None, 2), expected_row_version=None)
        uow.environments.move_current(_change(model, 2, 1, 2), expected_row_version=1)
        uow.commit()
    with uow_factory() as uow:  # a writer that read row version 1 is stale now
        with pytest.raises(ConflictError):
            uow.environments.move_current(_change(model, 3, 1, 3), expected_row_version=1)
        uow.environments.move_current(_change(model, None, 2, 4), expected_row_version=2)
        uow.commit()
    with uow_factory() as uow:
        assert uow.environments.current_of_model(model.id) == []
        history = uow.environments.history(model.id, "production")
        assert [(c.version, c.previous_version) for c in history] == [(1, None), (2, 1), (None, 2)]
        assert uow.environments.history(model.id, version=2) == [history[1]]
        assert uow.environments.change_at(model.id, "production", at(0.5)) is None
        assert uow.environments.change_at(model.id, "production", at(1)) == history[0]
        assert uow.environments.change_at(model.id, "production", at(3.9)) == history[1]
        assert uow.environments.change_at(model.id, "production", at(9)) == history[2]


def test_governance_is_saved_by_compare_and_set(
    uow_factory: UowFactory, model: RegisteredModel
) -> None:
    first = ModelGovernance(model.id, model.name, RiskTier.HIGH, "grafana", at(1), ALICE, 1)
    with uow_factory() as uow:
        assert uow.environments.get_governance(model.id) is None
        with pytest.raises(ValueError, match="updated_at"):
            uow.environments.save_governance(ModelGovernance(model.id, model.name))
        uow.environments.save_governance(first)
        with pytest.raises(ConflictError):
            uow.environments.save_governance(first)  # another writer created it meanwhile
        uow.commit()
    second = dataclasses.replace(first, tier=RiskTier.CRITICAL, monitor=None, row_version=2)
    with uow_factory() as uow:
        assert uow.environments.get_governance(model.id) == first
        uow.environments.save_governance(second)
        with pytest.raises(ConflictError):
            uow.environments.save_governance(dataclasses.replace(second, row_version=2))
        uow.commit()
    with uow_factory() as uow:
        assert uow.environments.get_governance(model.id) == second


def test_requests_save_by_compare_and_set_and_one_is_open_per_slot(
    uow_factory: UowFactory, model: RegisteredModel
) -> None:
    request = _request(model)
    with uow_factory() as uow:
        uow.promotions.add_request(request)
        with pytest.raises(ConflictError, match="open promotion request for churn-model/1"):
            uow.promotions.add_request(
                dataclasses.replace(request, id=PromotionRequestId(new_id()))
            )
        uow.promotions.add_request(_request(model, version=1, environment="production"))
        with pytest.raises(NotFoundError):
            uow.promotions.add_request(_request(model, version=9))
        uow.commit()
    closed = dataclasses.replace(
        request.close(RequestStatus.CANCELLED, at=at(11), by=BOB, comment="no"), row_version=2
    )
    with uow_factory() as uow:
        assert uow.promotions.get_request(request.id, for_update=True) == request
        uow.promotions.save_request(closed)
        with pytest.raises(ConflictError, match="changed meanwhile"):
            uow.promotions.save_request(closed)
        uow.commit()
    with uow_factory() as uow:
        assert uow.promotions.get_request(request.id) == closed
        again = _request(model)  # the slot is free once the first is closed
        uow.promotions.add_request(again)
        uow.commit()
    with uow_factory() as uow:
        page = uow.promotions.list_requests(
            model_id=model.id, version=1, status=None, page_size=2, cursor=None
        )
        assert page.items[0].id == again.id
        assert page.next_cursor is not None
        rest = uow.promotions.list_requests(
            model_id=model.id, version=1, status=None, page_size=2, cursor=page.next_cursor
        )
        assert [r.id for r in rest.items] == [request.id]
        open_ones = uow.promotions.list_requests(
            model_id=None, version=None, status=RequestStatus.OPEN, page_size=10, cursor=None
        )
        assert {r.status for r in open_ones.items} == {RequestStatus.OPEN}
        assert len(open_ones.items) == 2
        with pytest.raises(NotFoundError):
            uow.promotions.get_request(PromotionRequestId(new_id()))


def test_one_approval_per_reviewer_renewed_in_place(
    uow_factory: UowFactory, model: RegisteredModel
) -> None:
    request = _request(model)
    first = Approval(new_id(), request.id, BOB, at(1), at(100), "ok")
    with uow_factory() as uow:
        uow.promotions.add_request(request)
        uow.promotions.put_approval(first)
        uow.promotions.put_approval(Approval(new_id(), request.id, ALICE, at(2), at(50)))
        uow.commit()
    renewed = Approval(new_id(), request.id, BOB, at(200), at(300), "still ok")
    with uow_factory() as uow:
        uow.promotions.put_approval(renewed)
        uow.commit()
    with uow_factory() as uow:
        approvals = uow.promotions.approvals(request.id)
        assert [(a.reviewer, a.approved_at, a.comment) for a in approvals] == [
            (ALICE, at(2), ""),
            (BOB, at(200), "still ok"),
        ]
        assert approvals[1].id == first.id  # the same row, renewed


def test_decisions_keep_the_input_document_and_results(
    uow_factory: UowFactory, model: RegisteredModel
) -> None:
    request = _request(model)
    verdict = PolicyDecision(
        (
            GateResult("approvals", "builtin", False, ("0 of 1",)),
            GateResult("evaluation", "project:x@2", False, ("fail",), waived_by="e" * 32),
            GateResult("broken", "builtin", False, error="parse error"),
        ),
        "a" * 64,
        "b" * 64,
    )
    document = {"schema": 1, "model": {"name": "é", "metadata": {}}, "approvals": []}
    decision = GateDecision(
        new_id(),
        request.id,
        model.project_id,
        model.id,
        model.name,
        1,
        "staging",
        DecisionTrigger.OPENED,
        at(3),
        ALICE,
        verdict,
        document,
    )
    with uow_factory() as uow:
        uow.promotions.add_request(request)
        uow.promotions.add_decision(decision)
        uow.commit()
    with uow_factory() as uow:
        assert uow.promotions.decisions(request_id=request.id) == [decision]
        assert uow.promotions.decisions(model_id=model.id, version=1) == [decision]
        assert uow.promotions.decisions(decision_id=decision.id) == [decision]
        assert uow.promotions.decisions(model_id=model.id, version=2) == []


def test_exceptions_read_back_and_save_by_compare_and_set(
    uow_factory: UowFactory, model: RegisteredModel
) -> None:
    exception = GateException(
        GateExceptionId(new_id()),
        model.project_id,
        model.id,
        model.name,
        2,
        "production",
        "evaluation",
        "rebuilding the holdout",
        ALICE,
        at(0),
        at(0) + timedelta(days=3),
    )
    with uow_factory() as uow:
        uow.promotions.add_exception(exception)
        uow.commit()
    approved = dataclasses.replace(exception.approve(by=BOB, at=at(5)), row_version=2)
    with uow_factory() as uow:
        assert uow.promotions.get_exception(exception.id, for_update=True) == exception
        uow.promotions.save_exception(approved)
        with pytest.raises(ConflictError):
            uow.promotions.save_exception(approved)
        with pytest.raises(ValueError, match="never stored"):
            uow.promotions.save_exception(
                dataclasses.replace(approved, status=ExceptionStatus.EXPIRED, row_version=3)
            )
        uow.commit()
    with uow_factory() as uow:
        assert uow.promotions.exceptions(model.id) == [approved]
        assert uow.promotions.exceptions(model.id, 2, "production") == [approved]
        assert uow.promotions.exceptions(model.id, 2, "staging") == []
        with pytest.raises(NotFoundError):
            uow.promotions.get_exception(GateExceptionId(new_id()))
