"""Wire schemas for project policies: a proposal, a review, and a policy version as stored."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from lockgate.api.common import ApiModel, UtcDatetime
from lockgate.domain.governance.policies import (
    MAX_COMMENT_LENGTH,
    MAX_POLICY_SOURCE_LENGTH,
    PolicyStatus,
    ProjectPolicy,
)

__all__ = [
    "POLICY_NAME_PATTERN",
    "PolicyName",
    "PolicyProposalIn",
    "PolicyReviewIn",
    "ProjectPolicyOut",
]

MAX_POLICY_NAME_LENGTH = 64  # domain.governance.policies._POLICY_NAME
# Published for clients and the API fuzzer; the domain checks names with a message.
POLICY_NAME_PATTERN = r"^[a-z][a-z0-9_]*$"

PolicyName = Annotated[
    str,
    Field(
        max_length=MAX_POLICY_NAME_LENGTH,
        description="The gate name: the module declares `package lockgate.gates.<name>`.",
        json_schema_extra={"pattern": POLICY_NAME_PATTERN},
    ),
]
RegoText = Annotated[str, Field(max_length=MAX_POLICY_SOURCE_LENGTH)]
CommentText = Annotated[str, Field(max_length=MAX_COMMENT_LENGTH)]


class PolicyProposalIn(ApiModel):
    """The next version of a policy: its Rego module and, optionally, a Rego test module
    whose `test_*` rules must all pass."""

    name: PolicyName
    source: RegoText
    tests: RegoText = ""
    description: CommentText = ""


class PolicyReviewIn(ApiModel):
    """An approval (comment optional) or a rejection (comment required)."""

    comment: CommentText = ""


class ProjectPolicyOut(ApiModel):
    """One version of a project policy."""

    id: str
    project: str
    name: str
    version: int
    package: str
    status: PolicyStatus
    source: str
    sha256: str
    tests: str
    description: str
    proposed_by: str
    proposed_at: UtcDatetime
    reviewed_by: str | None
    reviewed_at: UtcDatetime | None
    comment: str
    superseded_at: UtcDatetime | None

    @classmethod
    def from_domain(cls, policy: ProjectPolicy) -> ProjectPolicyOut:
        return cls(
            id=policy.id,
            project=policy.project_name,
            name=policy.name,
            version=policy.version,
            package=policy.package,
            status=policy.status,
            source=policy.source,
            sha256=policy.sha256,
            tests=policy.tests,
            description=policy.description,
            proposed_by=policy.proposed_by,
            proposed_at=policy.proposed_at,
            reviewed_by=policy.reviewed_by,
            reviewed_at=policy.reviewed_at,
            comment=policy.comment,
            superseded_at=policy.superseded_at,
        )
