"""The composition root: picks the store and artifact implementations by URL scheme and
builds the services. Nothing else in Lockgate chooses an implementation."""

from __future__ import annotations

from dataclasses import dataclass

from lockgate.domain.identity import Actor, SystemClock, Uuid7Factory
from lockgate.services import (
    ArtifactService,
    AuditService,
    RegistryService,
    ServiceContext,
    TrackingService,
)
from lockgate.settings import Settings
from lockgate.store.artifacts import open_blob_store
from lockgate.store.sql import SqlMetadataStore

__all__ = ["Platform", "build_platform"]


@dataclass(frozen=True, slots=True)
class Platform:
    """Every service of one Lockgate deployment, over one metadata store."""

    settings: Settings
    store: SqlMetadataStore
    tracking: TrackingService
    registry: RegistryService
    artifacts: ArtifactService
    audit: AuditService
    default_actor: Actor

    def close(self) -> None:
        """Release database connections."""
        self.store.dispose()


def build_platform(settings: Settings, *, check_schema: bool = True) -> Platform:
    """Wire the services to the stores the settings name.

    Raises SchemaOutdatedError when `check_schema` and the database is behind the code.
    """
    if not settings.metadata_url:
        settings.home.mkdir(parents=True, exist_ok=True)
    store = SqlMetadataStore.from_url(
        settings.resolved_metadata_url(), sqlite_synchronous=settings.sqlite_synchronous
    )
    try:
        if check_schema:
            store.check_schema_current()
        blobs = open_blob_store(
            settings.resolved_artifacts_url(), s3_endpoint_url=settings.s3_endpoint_url
        )
    except BaseException:
        store.dispose()
        raise
    context = ServiceContext(store.unit_of_work, SystemClock(), Uuid7Factory())
    return Platform(
        settings=settings,
        store=store,
        tracking=TrackingService(context),
        registry=RegistryService(context),
        artifacts=ArtifactService(context, blobs, settings.max_upload_bytes),
        audit=AuditService(context),
        default_actor=Actor(settings.actor),
    )
