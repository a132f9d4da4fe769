"""Policy resource of the SDK: propose a project's gate policy, review it, read it back."""

from __future__ import annotations

from collections.abc import Iterator

from lockgate.api import PageOut
from lockgate.api.policies import PolicyProposalIn, PolicyReviewIn, ProjectPolicyOut
from lockgate.sdk.http import HttpSession, paginate, request_body, segment

__all__ = ["Policies"]


class Policies:
    """A project's own gate policies, versioned and reviewed (`client.policies`).

    A policy named `n` is a Rego module declaring `package lockgate.gates.n`: a gate of its
    own, evaluated with the built-in gates once a reviewer other than its proposer approves
    it. Run its tests locally first with `lockgate policy test DIR`.
    """

    def __init__(self, http: HttpSession) -> None:
        self._http = http

    def propose(
        self,
        project: str,
        name: str,
        source: str,
        *,
        tests: str = "",
        description: str = "",
    ) -> ProjectPolicyOut:
        """Propose the next version of policy `name` in `project`.

        Args:
            source: The Rego module (`package lockgate.gates.<name>`, a `deny` set of
                strings).
            tests: A Rego test module whose `test_*` rules must all pass (checked by the
                server before it stores the proposal).
            description: What changes and why, for the reviewer.

        Raises:
            InvalidInputError: A bad or built-in name (`name`), a module that declares
                another package or does not compile (`source`), failing tests (`tests`).
            PermissionDeniedError: The caller lacks `policy.write`.
        """
        body = request_body(
            PolicyProposalIn, name=name, source=source, tests=tests, description=description
        )
        path = f"/projects/{segment(project)}/policies"
        return self._http.call("POST", path, ProjectPolicyOut, body=body)

    def approve(
        self, project: str, name: str, version: int, *, comment: str = ""
    ) -> ProjectPolicyOut:
        """Make a proposed version active; the previously active version is superseded.

        Raises:
            PermissionDeniedError: The caller lacks `version.approve` or proposed it.
            ConflictError: The version is not proposed any more.
        """
        return self._review(project, name, version, "approve", comment)

    def reject(self, project: str, name: str, version: int, *, comment: str) -> ProjectPolicyOut:
        """Reject a proposed version for good; `comment` says why (required).

        Raises:
            InvalidInputError: The comment is blank.
            ConflictError: The version is not proposed any more.
        """
        return self._review(project, name, version, "reject", comment)

    def get(self, project: str, name: str, version: int | None = None) -> ProjectPolicyOut:
        """One version of a policy (the newest when `version` is None); raises NotFoundError."""
        path = f"/projects/{segment(project)}/policies/{segment(name)}"
        if version is not None:
            path += f"/versions/{segment(version)}"
        return self._http.call("GET", path, ProjectPolicyOut)

    def list(
        self,
        project: str,
        *,
        name: str | None = None,
        status: str | None = None,
        page_size: int = 100,
    ) -> Iterator[ProjectPolicyOut]:
        """A project's policy versions by name, newest version first, fetched page by page;
        only one policy's, or those in one status (`proposed`, `active`, `rejected`,
        `superseded`), when given."""
        path = f"/projects/{segment(project)}/policies"

        def fetch(token: str | None) -> PageOut[ProjectPolicyOut]:
            params = {"name": name, "status": status, "page_size": page_size, "page_token": token}
            return self._http.call("GET", path, PageOut[ProjectPolicyOut], params=params)

        return paginate(fetch)

    def _review(
        self, project: str, name: str, version: int, action: str, comment: str
    ) -> ProjectPolicyOut:
        body = request_body(PolicyReviewIn, comment=comment)
        path = (
            f"/projects/{segment(project)}/policies/{segment(name)}"
            f"/versions/{segment(version)}/{action}"
        )
        return self._http.call("POST", path, ProjectPolicyOut, body=body)
