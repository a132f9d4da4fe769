"""Governed promotion in the SDK: promotion requests with approvals and gate decisions
(`client.promotions`), environments and what was current when (`client.environments`), and
gate exceptions (`client.exceptions`)."""

from __future__ import annotations

import builtins
from collections.abc import Iterator
from datetime import datetime

from lockgate.api import PageOut
from lockgate.api.promotions import (
    CommentIn,
    CurrentVersionOut,
    EnvironmentChangeOut,
    EnvironmentIn,
    EnvironmentOut,
    ExceptionIn,
    ExceptionOut,
    GateDecisionOut,
    GovernanceIn,
    GovernanceOut,
    PromotionDetailOut,
    PromotionIn,
    PromotionOut,
    RejectionIn,
    RevocationIn,
)
from lockgate.sdk.http import HttpSession, paginate, request_body, segment

__all__ = ["Environments", "GateExceptions", "Promotions"]


class Promotions:
    """Promotion requests: a version asks to enter an environment, reviewers approve or
    reject, and the request promotes itself the moment its gates allow (`client.promotions`).
    Also a model's risk tier, which selects its default gates."""

    def __init__(self, http: HttpSession) -> None:
        self._http = http

    def request(self, name: str, version: int, *, to: str, reason: str) -> PromotionDetailOut:
        """Ask for version `version` of model `name` to enter environment `to`.

        The request is evaluated at once: `result.request.status` is `promoted` when the
        gates allowed it already, else `open`, with `result.decision.deny_reasons` saying
        what is missing.

        Raises:
            InvalidInputError: A bad environment name or a blank reason.
            NotFoundError: The model, version or environment does not exist.
            ConflictError: The version is current there already, or an open request for it
                exists.
        """
        body = request_body(PromotionIn, environment=to, reason=reason)
        path = f"/models/{segment(name)}/versions/{segment(version)}/promotions"
        return self._http.call("POST", path, PromotionDetailOut, body=body)

    def get(self, promotion_id: str) -> PromotionDetailOut:
        """A request with its approvals and latest gate decision; raises NotFoundError."""
        return self._http.call("GET", f"/promotions/{segment(promotion_id)}", PromotionDetailOut)

    def list(
        self,
        name: str | None = None,
        *,
        version: int | None = None,
        status: str | None = None,
        page_size: int = 100,
    ) -> Iterator[PromotionOut]:
        """Requests newest first: of model `name` (and `version`), or of every project you
        may read when no name is given (`status="open"` makes an approvals inbox)."""
        path = "/promotions" if name is None else f"/models/{segment(name)}/promotions"

        def fetch(token: str | None) -> PageOut[PromotionOut]:
            params = {
                "version": version if name is not None else None,
                "status": status,
                "page_size": page_size,
                "page_token": token,
            }
            return self._http.call("GET", path, PageOut[PromotionOut], params=params)

        return paginate(fetch)

    def approve(self, promotion_id: str, *, comment: str = "") -> PromotionDetailOut:
        """Approve an open request; it is evaluated again and promotes itself when allowed.

        Raises:
            PermissionDeniedError: You requested it or authored the version, or you lack
                `version.approve`.
            ConflictError: It is not open, or your approval still counts.
        """
        body = request_body(CommentIn, comment=comment)
        path = f"/promotions/{segment(promotion_id)}/approvals"
        return self._http.call("POST", path, PromotionDetailOut, body=body)

    def reject(self, promotion_id: str, *, comment: str) -> PromotionDetailOut:
        """Reject an open request, saying why; it ends."""
        body = request_body(RejectionIn, comment=comment)
        path = f"/promotions/{segment(promotion_id)}/rejections"
        return self._http.call("POST", path, PromotionDetailOut, body=body)

    def cancel(self, promotion_id: str, *, comment: str = "") -> PromotionDetailOut:
        """Withdraw an open request."""
        body = request_body(CommentIn, comment=comment)
        path = f"/promotions/{segment(promotion_id)}/cancellations"
        return self._http.call("POST", path, PromotionDetailOut, body=body)

    def check(self, promotion_id: str) -> PromotionDetailOut:
        """Evaluate an open request again (after a new comparison, an exception, a policy
        change); it promotes itself when the decision allows."""
        path = f"/promotions/{segment(promotion_id)}/checks"
        return self._http.call("POST", path, PromotionDetailOut)

    def decisions(self, promotion_id: str) -> builtins.list[GateDecisionOut]:
        """Every gate decision of a request, oldest first, each with the input document the
        policies saw and each gate's result."""
        path = f"/promotions/{segment(promotion_id)}/decisions"
        return self._http.call_list(path, GateDecisionOut)

    def governance(self, name: str) -> GovernanceOut:
        """Model `name`'s risk tier and monitor."""
        return self._http.call("GET", f"/models/{segment(name)}/governance", GovernanceOut)

    def set_tier(self, name: str, tier: str, *, monitor: str | None = None) -> GovernanceOut:
        """Set model `name`'s risk tier (`low`, `medium`, `high`, `critical`) and its
        monitor (None: none); needs `project.manage`."""
        body = request_body(GovernanceIn, tier=tier, monitor=monitor)
        path = f"/models/{segment(name)}/governance"
        return self._http.call("PUT", path, GovernanceOut, body=body)


class Environments:
    """Environments, which version of a model is current in each, and the history of what
    was current when, who put it there and why (`client.environments`)."""

    def __init__(self, http: HttpSession) -> None:
        self._http = http

    def list(self) -> builtins.list[EnvironmentOut]:
        """Every environment, by order."""
        return self._http.call_list("/environments", EnvironmentOut)

    def create(self, name: str, *, order: int, description: str = "") -> EnvironmentOut:
        """Define an environment (platform admins). A lower `order` comes first."""
        body = request_body(EnvironmentIn, name=name, order=order, description=description)
        return self._http.call("POST", "/environments", EnvironmentOut, body=body)

    def current(self, name: str) -> builtins.list[CurrentVersionOut]:
        """Which version of model `name` is current in each environment."""
        return self._http.call_list(f"/models/{segment(name)}/environments", CurrentVersionOut)

    def history(self, name: str, environment: str) -> builtins.list[EnvironmentChangeOut]:
        """Every change of model `name` in `environment`, oldest first."""
        path = f"/models/{segment(name)}/environments/{segment(environment)}/history"
        return self._http.call_list(path, EnvironmentChangeOut)

    def live_at(self, name: str, environment: str, at: datetime) -> EnvironmentChangeOut | None:
        """What was live in `environment` at moment `at` (timezone-aware): the change in
        force then, with who asked for it, who made it, why, and the request and gate
        decision behind it; None when no version was current."""
        path = f"/models/{segment(name)}/environments/{segment(environment)}/history"
        found = self._http.call_list(path, EnvironmentChangeOut, params={"at": at.isoformat()})
        return found[0] if found else None


class GateExceptions:
    """Gate exceptions: a waiver of one gate for one version in one environment, approved by
    someone other than its requester, until it expires (`client.exceptions`)."""

    def __init__(self, http: HttpSession) -> None:
        self._http = http

    def request(
        self,
        name: str,
        version: int,
        *,
        environment: str,
        gate: str,
        justification: str,
        expires_at: datetime,
    ) -> ExceptionOut:
        """Ask for `gate` to be waived for version `version` of model `name` in
        `environment` until `expires_at` (at most `exception_max_days` ahead). It waives
        nothing until approved."""
        body = request_body(
            ExceptionIn,
            environment=environment,
            gate=gate,
            justification=justification,
            expires_at=expires_at,
        )
        path = f"/models/{segment(name)}/versions/{segment(version)}/exceptions"
        return self._http.call("POST", path, ExceptionOut, body=body)

    def get(self, exception_id: str) -> ExceptionOut:
        """One exception, its status as of now; raises NotFoundError."""
        return self._http.call("GET", f"/exceptions/{segment(exception_id)}", ExceptionOut)

    def list(
        self, name: str, version: int, *, status: str | None = None
    ) -> builtins.list[ExceptionOut]:
        """The exceptions of a version, oldest first (only `status` ones when given)."""
        path = f"/models/{segment(name)}/versions/{segment(version)}/exceptions"
        return self._http.call_list(path, ExceptionOut, params={"status": status})

    def approve(self, exception_id: str, *, comment: str = "") -> ExceptionOut:
        """Approve a requested exception (never your own): it waives its gate until it
        expires."""
        body = request_body(CommentIn, comment=comment)
        path = f"/exceptions/{segment(exception_id)}/approvals"
        return self._http.call("POST", path, ExceptionOut, body=body)

    def revoke(self, exception_id: str, *, reason: str) -> ExceptionOut:
        """Revoke an exception, saying why; it waives nothing after."""
        body = request_body(RevocationIn, reason=reason)
        path = f"/exceptions/{segment(exception_id)}/revocations"
        return self._http.call("POST", path, ExceptionOut, body=body)
