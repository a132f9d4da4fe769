"""Model card use cases: a version's card built from what was recorded plus its narrative
sections, the card exported as JSON, Markdown or CycloneDX, and audited section edits.

`build_card` and `card_completeness` read through a unit of work the caller owns (no
transaction, no authorization of their own), so other services (promotion gates, evidence
bundles) get the same card inside their own transaction.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime

from lockgate.domain.access import Caller, Permission
from lockgate.domain.errors import ConflictError, InvalidInputError
from lockgate.domain.governance.cards import (
    MAX_CARD_EVALUATIONS,
    CardApproval,
    CardFormat,
    CardPackage,
    ModelCard,
    NarrativeSection,
    check_section_name,
    check_section_text,
    render_card,
)
from lockgate.domain.governance.promotions import RequestKind
from lockgate.domain.governance.tiers import RiskTier
from lockgate.domain.registry import RegisteredModel
from lockgate.services.context import ServiceContext
from lockgate.store.protocols import UnitOfWork

__all__ = ["ModelCardService", "build_card", "card_completeness"]

# Approvals are gathered from at most this many promotion requests of one version.
MAX_CARD_REQUESTS = 100


def build_card(uow: UnitOfWork, model: RegisteredModel, version: int, *, at: datetime) -> ModelCard:
    """The card of `model`'s version `version` as `uow` sees it, generated at `at`.

    Reads only; authorizes nothing (the calling service has done that).

    Raises:
        NotFoundError: The version does not exist.
    """
    if not model.project_name:
        model = replace(model, project_name=uow.projects.get(model.project_id).name)
    found = uow.models.get_version(model.name, version)
    run = None if found.run_id is None else uow.runs.detail(found.run_id)
    signed = uow.packages.get(model.id, version)
    package = None
    if signed is not None:
        manifest, signature = signed
        package = CardPackage(manifest.digest, manifest.flavor, signature.key_id)
    evaluations = uow.evaluations.list_evaluations(model.id, version, MAX_CARD_EVALUATIONS, None)
    comparisons = uow.evaluations.list_comparisons(model.id, version, 1, None).items
    return ModelCard(
        model=model,
        version=found,
        generated_at=at,
        run=run,
        package=package,
        evaluations=tuple(evaluations.items),
        comparison=comparisons[0] if comparisons else None,
        tier=_recorded_tier(uow, model),
        approvals=_recorded_approvals(uow, model, version),
        sections=uow.model_cards.sections(model.id, version),
    )


def card_completeness(
    uow: UnitOfWork, model: RegisteredModel, version: int
) -> tuple[float, list[str]]:
    """The completeness score (0 to 1) of a version's card and the criteria it misses, read
    through the caller's unit of work (what the `model_card` gate sees).

    Raises:
        NotFoundError: The version does not exist.
    """
    found = uow.models.get_version(model.name, version)
    # The card's time is not part of its completeness.
    completeness = build_card(uow, model, version, at=found.created_at).completeness()
    return completeness.score, list(completeness.missing)


def _recorded_tier(uow: UnitOfWork, model: RegisteredModel) -> RiskTier | None:
    """The tier recorded in the model's governance settings; None when never set (the
    policies then apply the default tier, medium)."""
    governance = uow.environments.get_governance(model.id)
    return None if governance is None else governance.tier


def _recorded_approvals(
    uow: UnitOfWork, model: RegisteredModel, version: int
) -> tuple[CardApproval, ...]:
    """Every approval given on a promotion request of the version, oldest first."""
    requests = uow.promotions.list_requests(
        model_id=model.id,
        version=version,
        status=None,
        page_size=MAX_CARD_REQUESTS,
        cursor=None,
    ).items
    approvals = [
        CardApproval(approval.reviewer, request.environment, approval.approved_at)
        for request in requests
        if request.kind is RequestKind.PROMOTION
        for approval in uow.promotions.approvals(request.id)
    ]
    return tuple(sorted(approvals, key=lambda a: (a.approved_at, a.reviewer, a.environment)))


class ModelCardService:
    """Model cards of model versions.

    Args:
        tool_version: Lockgate's version, named in CycloneDX exports as the tool that made them.
    """

    def __init__(self, context: ServiceContext, tool_version: str) -> None:
        self._ctx = context
        self._tool_version = tool_version

    def get_card(self, caller: Caller, model_name: str, version: int) -> ModelCard:
        """The card of a version as of now.

        Raises:
            NotFoundError: The model or version does not exist.
        """
        with self._ctx.uow(read_only=True) as uow:
            model = self._ctx.authorized_model(uow, caller, model_name, Permission.PROJECT_READ)
            return build_card(uow, model, version, at=self._ctx.clock.now())

    def export(self, caller: Caller, model_name: str, version: int, card_format: CardFormat) -> str:
        """The card of a version rendered as JSON, Markdown or a CycloneDX 1.6 ML-BOM.

        Raises:
            NotFoundError: The model or version does not exist.
        """
        card = self.get_card(caller, model_name, version)
        return render_card(card, card_format, tool_version=self._tool_version)

    def set_section(
        self,
        caller: Caller,
        model_name: str,
        version: int,
        section: str,
        text: str,
        row_version: int,
    ) -> NarrativeSection:
        """Write one narrative section of a version's card, audited as
        `model_card.section_set` in the same transaction. `row_version` is the section's
        row_version the edit is based on (0 for a section never written). The same text
        again changes nothing and records nothing.

        Raises:
            InvalidInputError: Not an editable section (`field` is `section`), text too long
                or with control characters (`text`), a negative `row_version`.
            ConflictError: The section was edited since `row_version` (`field` is
                `row_version`).
            NotFoundError: The model or version does not exist.
        """
        name = check_section_name(section)
        check_section_text(text)
        if row_version < 0:
            raise InvalidInputError("row_version is 0 or more", field="row_version")
        with self._ctx.uow() as uow:
            model = self._ctx.authorized_model(uow, caller, model_name, Permission.MODEL_WRITE)
            uow.models.get_version(model.name, version)  # NotFoundError naming it
            current = uow.model_cards.sections(model.id, version).get(name)
            current = current or NarrativeSection(name)
            if current.row_version != row_version:
                raise ConflictError(
                    f"the {name} section of {model.name}/{version} is at revision "
                    f"{current.row_version}, not {row_version}: it was edited meanwhile; "
                    "reload the card and edit again",
                    field="row_version",
                )
            if current.text == text:
                return current
            edited = current.edited(text, self._ctx.clock.now(), caller.actor)
            uow.model_cards.save_section(model.id, version, edited)
            self._ctx.record(
                uow,
                "model_card.section_set",
                caller,
                ("model_version", f"{model.name}/{version}"),
                {
                    "section": name,
                    "row_version": edited.row_version,
                    "characters": len(text),
                    "text_sha256": hashlib.sha256(text.encode()).hexdigest(),
                    "previous_sha256": hashlib.sha256(current.text.encode()).hexdigest(),
                },
            )
            uow.commit()
        return edited
