"""Project policy use cases: propose a gate policy (compiled and tested first), approve or
reject it (a reviewer who is not the proposer), read them; and the policy set a promotion is
evaluated against (`applicable_modules`).

Changing a policy is governed: every change writes its audit event in the same transaction,
or nothing changes. The compile check and the policy's tests run before the transaction, in
the engine's sandbox, so a slow policy never holds the write lock.
"""

from __future__ import annotations

from lockgate.compute.policy import (
    BUILTIN_GATES,
    DEFAULT_TIMEOUT,
    PolicyModule,
    PolicyTestOutcome,
    builtin_modules,
    check_module,
    gate_name,
    module_package,
    run_module_tests,
)
from lockgate.domain.access import Caller, Permission
from lockgate.domain.audit import JsonValue
from lockgate.domain.errors import InvalidInputError
from lockgate.domain.governance import RiskTier
from lockgate.domain.governance.policies import (
    MAX_POLICY_SOURCE_LENGTH,
    PolicyStatus,
    ProjectPolicy,
    ProjectPolicyId,
    check_comment,
    check_policy_name,
    check_policy_source,
    is_policy_name,
    source_sha256,
)
from lockgate.domain.names import check_name, check_text
from lockgate.domain.pagination import Page, check_page_size
from lockgate.domain.tracking import Project, ProjectId
from lockgate.services.access import AccessDenied
from lockgate.services.context import ServiceContext
from lockgate.store.protocols import UnitOfWork

__all__ = ["PolicyService", "applicable_modules"]

# Test failures named in an error message (the rest are counted).
_MAX_REPORTED_FAILURES = 10


def applicable_modules(
    uow: UnitOfWork, project_id: ProjectId, tier: RiskTier
) -> tuple[PolicyModule, ...]:
    """The policy set a request of the project is evaluated against: the built-in bundle for
    `tier` plus the active version of each of the project's policies (no authorization:
    the caller's use case has checked it)."""
    project = tuple(
        PolicyModule(policy.module_name, policy.source, policy.origin)
        for policy in uow.policies.active_policies(project_id)
    )
    return (*builtin_modules(tier), *project)


class PolicyService:
    """A project's gate policies, proposed, reviewed and versioned.

    Args:
        timeout: Seconds the compile check and the policy's tests may take together.
    """

    def __init__(self, context: ServiceContext, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self._ctx = context
        self._timeout = timeout

    def propose(
        self,
        caller: Caller,
        project: str,
        name: str,
        source: str,
        *,
        tests: str = "",
        description: str = "",
    ) -> ProjectPolicy:
        """Propose the next version of policy `name`: a Rego module declaring the package
        `lockgate.gates.<name>`, checked to compile and, when `tests` (a Rego test module) is
        given, to pass every `test_*` rule. It takes effect once another reviewer approves.

        Raises:
            InvalidInputError: The name is not a gate name or is a built-in gate's (`name`),
                the module does not declare its package or does not compile (`source`), or
                the tests fail or hold no test (`tests`).
            PermissionDeniedError: The caller lacks `policy.write` on the project.
            NotFoundError: The project does not exist.
            ConflictError: Someone proposed the same policy at the same moment.
        """
        self._check_proposal(name, source, tests, description)
        module = PolicyModule(f"project/{name}@proposed.rego", source, f"project:{name}")
        passed = self._test(module, tests) if tests.strip() else 0
        with self._ctx.uow() as uow:
            found = self._project(uow, caller, project, Permission.POLICY_WRITE, name)
            version = uow.policies.latest_version(found.id, name) + 1
            policy = ProjectPolicy(
                id=ProjectPolicyId(self._ctx.ids.new_id()),
                project_id=found.id,
                project_name=found.name,
                name=name,
                version=version,
                source=source,
                sha256=source_sha256(source),
                tests=tests,
                description=description,
                status=PolicyStatus.PROPOSED,
                proposed_by=caller.actor,
                proposed_at=self._ctx.clock.now(),
            )
            uow.policies.add_policy(policy)
            details: dict[str, JsonValue] = {
                "project": found.name,
                "name": name,
                "version": version,
                "sha256": policy.sha256,
                "tests_passed": passed,
                "description": description,
            }
            self._ctx.record(uow, "policy.proposed", caller, ("policy", policy.subject), details)
            uow.commit()
        return policy

    def approve(
        self, caller: Caller, project: str, name: str, version: int, comment: str = ""
    ) -> ProjectPolicy:
        """Make a proposed version active; the version active before it is superseded.

        Raises:
            PermissionDeniedError: The caller lacks `version.approve`, or proposed this
                version (separation of duties).
            NotFoundError: The project or the version does not exist.
            ConflictError: The version is not proposed any more, or another version was
                approved at the same moment.
        """
        check_comment(comment)
        with self._ctx.uow() as uow:
            found = self._project(uow, caller, project, Permission.VERSION_APPROVE, name)
            policy = uow.policies.get_policy(found.id, name, version, for_update=True)
            if policy.proposed_by == caller.actor:
                raise AccessDenied(
                    f"permission denied: {caller.actor} proposed {policy.subject}; a proposer "
                    "cannot approve their own policy (separation of duties)",
                    caller=caller,
                    permission=Permission.VERSION_APPROVE,
                    subject=("policy", policy.subject),
                )
            now = self._ctx.clock.now()
            approved = policy.approve(by=caller.actor, at=now, comment=comment)
            previous = self._active(uow, found.id, name)
            if previous is not None:
                # First: one version per name may be active, even within the transaction.
                uow.policies.save_policy(previous.supersede(at=now))
            uow.policies.save_policy(approved)
            details: dict[str, JsonValue] = {
                "project": found.name,
                "name": name,
                "version": version,
                "sha256": policy.sha256,
                "superseded": None if previous is None else previous.version,
                "comment": comment,
            }
            self._ctx.record(uow, "policy.approved", caller, ("policy", policy.subject), details)
            uow.commit()
        return approved

    def reject(
        self, caller: Caller, project: str, name: str, version: int, comment: str
    ) -> ProjectPolicy:
        """Reject a proposed version for good, saying why.

        Raises:
            InvalidInputError: The comment is blank (`comment`).
            PermissionDeniedError: The caller lacks `version.approve`.
            NotFoundError: The project or the version does not exist.
            ConflictError: The version is not proposed any more.
        """
        check_comment(comment, required=True)
        with self._ctx.uow() as uow:
            found = self._project(uow, caller, project, Permission.VERSION_APPROVE, name)
            policy = uow.policies.get_policy(found.id, name, version, for_update=True)
            rejected = policy.reject(by=caller.actor, at=self._ctx.clock.now(), comment=comment)
            uow.policies.save_policy(rejected)
            details: dict[str, JsonValue] = {
                "project": found.name,
                "name": name,
                "version": version,
                "sha256": policy.sha256,
                "comment": comment,
            }
            self._ctx.record(uow, "policy.rejected", caller, ("policy", policy.subject), details)
            uow.commit()
        return rejected

    def get(
        self, caller: Caller, project: str, name: str, version: int | None = None
    ) -> ProjectPolicy:
        """One version of a policy; the newest when `version` is None.

        Raises:
            NotFoundError: The project, the policy or the version does not exist.
        """
        with self._ctx.uow(read_only=True) as uow:
            found = self._project(uow, caller, project, Permission.PROJECT_READ, name)
            if version is None:
                version = uow.policies.latest_version(found.id, name)
            return uow.policies.get_policy(found.id, name, version)

    def list_policies(
        self,
        caller: Caller,
        project: str,
        *,
        name: str | None = None,
        status: PolicyStatus | None = None,
        page_size: int = 100,
        cursor: str | None = None,
    ) -> Page[ProjectPolicy]:
        """A project's policy versions by name, newest version first.

        Raises:
            NotFoundError: The project does not exist.
        """
        check_page_size(page_size)
        with self._ctx.uow(read_only=True) as uow:
            found = self._project(uow, caller, project, Permission.PROJECT_READ, None)
            return uow.policies.list_policies(found.id, name, status, page_size, cursor)

    def _check_proposal(self, name: str, source: str, tests: str, description: str) -> None:
        """Everything about a proposal that needs neither the database nor the engine."""
        check_policy_name(name)
        if name in BUILTIN_GATES:
            raise InvalidInputError(
                f"name {name!r} is a built-in gate; a project policy adds a gate of its own "
                f"(built-in: {', '.join(BUILTIN_GATES)})",
                field="name",
            )
        check_policy_source(source)
        check_text(tests, field="tests", max_length=MAX_POLICY_SOURCE_LENGTH)
        check_comment(description, field="description")
        package = module_package(source)
        if package != f"lockgate.gates.{name}":
            raise InvalidInputError(
                f"the module must declare `package lockgate.gates.{name}` (it declares "
                f"{'no package' if package is None else repr(package)})",
                field="source",
            )
        problems = check_module(
            source,
            name=f"{name}.rego",
            context=builtin_modules(RiskTier.CRITICAL),
            timeout=self._timeout,
        )
        if problems:
            raise InvalidInputError(
                f"the policy does not compile: {'; '.join(problems)}", field="source"
            )

    def _test(self, module: PolicyModule, tests: str) -> int:
        """Run the proposal's tests; the number that passed, or InvalidInputError."""
        tests_package = module_package(tests)
        if tests_package is None or gate_name(tests_package) is not None:
            raise InvalidInputError(
                "the tests must declare a package of their own that is not a gate, e.g. "
                f"`package lockgate.gates.{module.origin.removeprefix('project:')}_test`",
                field="tests",
            )
        test_module = PolicyModule("tests.rego", tests)
        report = run_module_tests(
            [*builtin_modules(RiskTier.CRITICAL), module, test_module],
            tested=[test_module.name],
            timeout=self._timeout,
        )
        bad = [
            r
            for r in report.results
            if r.outcome in (PolicyTestOutcome.FAILED, PolicyTestOutcome.ERROR)
        ]
        if bad:
            shown = "; ".join(
                f"{r.name}: {r.outcome} ({r.message})" for r in bad[:_MAX_REPORTED_FAILURES]
            )
            more = (
                f"; and {len(bad) - _MAX_REPORTED_FAILURES} more"
                if len(bad) > _MAX_REPORTED_FAILURES
                else ""
            )
            raise InvalidInputError(f"the policy's tests fail: {shown}{more}", field="tests")
        passed = report.count(PolicyTestOutcome.PASSED)
        if passed == 0:
            raise InvalidInputError("the tests hold no `test_*` rule", field="tests")
        return passed

    def _project(
        self,
        uow: UnitOfWork,
        caller: Caller,
        project: str,
        permission: Permission,
        name: str | None,
    ) -> Project:
        found = uow.projects.get_by_name(check_name(project, field="project"))
        subject = ("project", found.name)
        if name is not None and is_policy_name(name):
            subject = ("policy", f"{found.name}/{name}")
        self._ctx.authorize(uow, caller, permission, project_id=found.id, subject=subject)
        if name is not None:
            check_policy_name(name)  # after the authorization: a refusal says nothing more
        return found

    @staticmethod
    def _active(uow: UnitOfWork, project_id: ProjectId, name: str) -> ProjectPolicy | None:
        for policy in uow.policies.active_policies(project_id):
            if policy.name == name:
                return uow.policies.get_policy(project_id, name, policy.version, for_update=True)
        return None
