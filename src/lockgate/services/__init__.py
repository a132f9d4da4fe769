"""Use cases: each public method is one transaction, one authorization check, one audit record."""

from lockgate.services.access import AccessDenied, AccessPolicy
from lockgate.services.artifacts import ArtifactService, StoredArtifact
from lockgate.services.audit import AuditService
from lockgate.services.context import ServiceContext
from lockgate.services.credentials import (
    CredentialService,
    IssuedSession,
    IssuedToken,
    LoginPolicy,
    SessionCaller,
)
from lockgate.services.evaluation import EvaluationService, ScoredVersion
from lockgate.services.packages import PackageService
from lockgate.services.principals import PrincipalService, parse_role
from lockgate.services.registry import RegistryService
from lockgate.services.tracking import MetricPoint, TrackingService

__all__ = [
    "AccessDenied",
    "AccessPolicy",
    "ArtifactService",
    "AuditService",
    "CredentialService",
    "EvaluationService",
    "IssuedSession",
    "IssuedToken",
    "LoginPolicy",
    "MetricPoint",
    "PackageService",
    "PrincipalService",
    "RegistryService",
    "ScoredVersion",
    "ServiceContext",
    "SessionCaller",
    "StoredArtifact",
    "TrackingService",
    "parse_role",
]
