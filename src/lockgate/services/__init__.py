"""Use cases: each public method is one transaction, one authorization check, one audit record."""

from lockgate.services.access import AccessDenied, AccessPolicy
from lockgate.services.artifacts import ArtifactService, StoredArtifact
from lockgate.services.audit import AuditService
from lockgate.services.compliance import ComplianceService
from lockgate.services.context import ServiceContext
from lockgate.services.credentials import (
    CredentialService,
    IssuedSession,
    IssuedToken,
    LoginPolicy,
    SessionCaller,
)
from lockgate.services.decommission import (
    DecommissionService,
    ModelRetirement,
    RetentionOutcome,
    Retirement,
)
from lockgate.services.environments import EnvironmentService
from lockgate.services.evaluation import EvaluationService, ScoredVersion
from lockgate.services.evidence import EvidenceExport, EvidenceService
from lockgate.services.gate_exceptions import GateExceptionService
from lockgate.services.lineage import LineageService
from lockgate.services.model_cards import ModelCardService
from lockgate.services.packages import PackageService
from lockgate.services.policies import PolicyService, applicable_modules
from lockgate.services.principals import PrincipalService, parse_role
from lockgate.services.promotions import PromotionService, VersionGovernance
from lockgate.services.registry import RegistryService
from lockgate.services.tracking import MetricPoint, TrackingService

__all__ = [
    "AccessDenied",
    "AccessPolicy",
    "ArtifactService",
    "AuditService",
    "ComplianceService",
    "CredentialService",
    "DecommissionService",
    "EnvironmentService",
    "EvaluationService",
    "EvidenceExport",
    "EvidenceService",
    "GateExceptionService",
    "IssuedSession",
    "IssuedToken",
    "LineageService",
    "LoginPolicy",
    "MetricPoint",
    "ModelCardService",
    "ModelRetirement",
    "PackageService",
    "PolicyService",
    "PrincipalService",
    "PromotionService",
    "RegistryService",
    "RetentionOutcome",
    "Retirement",
    "ScoredVersion",
    "ServiceContext",
    "SessionCaller",
    "StoredArtifact",
    "TrackingService",
    "VersionGovernance",
    "applicable_modules",
    "parse_role",
]
