"""The governed part of the demo: `churn-scorer` is a critical-tier model. Its champion goes
dev -> staging -> production with approvals from two reviewers, and the challenger's way to
staging is blocked with the reasons the gates gave."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from lockgate.api.promotions import PromotionDetailOut
from lockgate.cli.demo_serving import SCORER
from lockgate.sdk import Client

__all__ = ["REVIEWERS", "GovernedDemo", "ReviewerClient", "seed_governance"]

REVIEWERS = ("dana", "eli")
"""Demo users with the reviewer role on the project; they approve with their own tokens."""

MONITOR = "prediction-log drift dashboard (churn-scorer)"

CARD = {
    "intended_use": "Rank current subscribers by their risk of cancelling within 30 days, so "
    "the retention team can call the riskiest first.",
    "out_of_scope": "Pricing, credit or any decision about an individual made without a person "
    "reviewing it.",
    "limitations": "Trained on 8,000 synthetic customers; customers in their first year are "
    "rarer in training and scored less reliably.",
    "ethical_considerations": "Senior citizens are a monitored group: the evaluation reports "
    "demographic parity and equalized odds for them.",
}

ReviewerClient = Callable[[str], Client]
"""Makes a client that acts with an API token (the demo's reviewers)."""


@dataclass(frozen=True, slots=True)
class GovernedDemo:
    """What the demo shows: the promoted path and the blocked request."""

    promoted: str
    blocked: str


def seed_governance(client: Client, project: str, reviewer_client: ReviewerClient) -> GovernedDemo:
    """Govern the scorer: tier, card, reviewers, the champion's way to production and the
    challenger's blocked request."""
    client.promotions.set_tier(SCORER, "critical", monitor=MONITOR)
    for section, text in CARD.items():
        client.model_cards.set_section(SCORER, 1, section, text, row_version=0)
    reviewers = {name: _reviewer(client, project, name, reviewer_client) for name in REVIEWERS}
    # The champion is the first release: nothing is in production to compare it against, so
    # a reviewer waives the evaluation gate for it, per environment and for 30 days.
    expires = datetime.now(UTC) + timedelta(days=30)
    for environment in ("staging", "production"):
        waiver = client.exceptions.request(
            SCORER,
            1,
            environment=environment,
            gate="evaluation",
            justification="First release: no production version to compare against.",
            expires_at=expires,
        )
        reviewers["dana"].exceptions.approve(waiver.id, comment="first release, agreed")
    for environment, approvers in (("dev", REVIEWERS[:1]), ("staging", REVIEWERS)):
        _promote(client, reviewers, 1, environment, approvers)
    _promote(client, reviewers, 1, "production", REVIEWERS)
    _promote(client, reviewers, 2, "dev", REVIEWERS[:1])
    blocked = client.promotions.request(
        SCORER, 2, to="staging", reason="Challenger trained on settled customers."
    )
    reasons = [] if blocked.decision is None else blocked.decision.deny_reasons
    return GovernedDemo(
        promoted=f"{SCORER}/1 (critical) dev -> staging -> production, approved by "
        f"{' and '.join(REVIEWERS)}",
        blocked=f"{SCORER}/2 -> staging is {blocked.request.status}: " + "; ".join(reasons),
    )


def _reviewer(client: Client, project: str, name: str, reviewer_client: ReviewerClient) -> Client:
    client.principals.create_user(name, display_name=f"{name.title()} (demo reviewer)")
    client.grants.add(project, f"user:{name}", "reviewer")
    return reviewer_client(client.tokens.issue("demo", principal=f"user:{name}").token)


def _promote(
    client: Client,
    reviewers: dict[str, Client],
    version: int,
    environment: str,
    approvers: tuple[str, ...],
) -> PromotionDetailOut:
    detail = client.promotions.request(
        SCORER, version, to=environment, reason=f"Release version {version} to {environment}."
    )
    for name in approvers:
        if detail.request.status == "open":
            detail = reviewers[name].promotions.approve(detail.request.id, comment="looks good")
    if detail.request.status != "promoted":
        reasons = [] if detail.decision is None else detail.decision.deny_reasons
        raise RuntimeError(
            f"the demo could not promote {SCORER}/{version} to {environment}: {reasons}"
        )
    return detail
