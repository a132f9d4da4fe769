"""Risk tiers: how much a model's failure could hurt, which selects its default gates."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["RiskTier"]


class RiskTier(StrEnum):
    """A registered model's risk tier, lowest first. New models start at `medium`."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """0 for low up to 3 for critical."""
        return list(RiskTier).index(self)
