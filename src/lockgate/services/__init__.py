"""Use cases: each public method is one transaction, one authorization check, one audit record."""

from lockgate.services.artifacts import ArtifactService, StoredArtifact
from lockgate.services.audit import AuditService
from lockgate.services.context import ServiceContext
from lockgate.services.registry import RegistryService
from lockgate.services.tracking import MetricPoint, TrackingService

__all__ = [
    "ArtifactService",
    "AuditService",
    "MetricPoint",
    "RegistryService",
    "ServiceContext",
    "StoredArtifact",
    "TrackingService",
]
