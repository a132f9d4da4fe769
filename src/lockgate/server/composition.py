"""The composition root: picks the store and artifact implementations by URL scheme and
builds the services. Nothing else in Lockgate chooses an implementation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from lockgate.domain.access import Caller
from lockgate.domain.errors import InvalidInputError
from lockgate.domain.governance.openlineage import producer_uri
from lockgate.domain.governance.promotions import GovernanceRules
from lockgate.domain.identity import Actor, SystemClock, Uuid7Factory
from lockgate.egress import EgressPolicy
from lockgate.server.passwords import Argon2Hasher
from lockgate.services import (
    ArtifactService,
    AuditService,
    ComplianceService,
    CredentialService,
    DecommissionService,
    EnvironmentService,
    EvaluationService,
    EvidenceService,
    GateExceptionService,
    LineageService,
    LoginPolicy,
    ModelCardService,
    PackageService,
    PolicyService,
    PrincipalService,
    PromotionService,
    RegistryService,
    ServiceContext,
    TrackingService,
)
from lockgate.settings import Settings
from lockgate.store.artifacts import open_blob_store
from lockgate.store.keys import Ed25519Signer
from lockgate.store.sql import SqlMetadataStore
from lockgate.version import __version__

__all__ = ["Platform", "bootstrap_from_settings", "build_platform"]


@dataclass(frozen=True, slots=True)
class Platform:
    """Every service of one Lockgate deployment, over one metadata store."""

    settings: Settings
    store: SqlMetadataStore
    tracking: TrackingService
    registry: RegistryService
    packages: PackageService
    evaluations: EvaluationService
    model_cards: ModelCardService
    lineage: LineageService
    artifacts: ArtifactService
    audit: AuditService
    principals: PrincipalService
    credentials: CredentialService
    decommission: DecommissionService
    environments: EnvironmentService
    promotions: PromotionService
    exceptions: GateExceptionService
    evidence: EvidenceService
    compliance: ComplianceService
    policies: PolicyService
    local_caller: Caller | None
    """The caller of every request in local mode (auth off); None when auth is on."""
    egress: EgressPolicy
    """Where outbound notifications may go; built at start-up so a bad allow-list entry
    stops the server there."""

    def operator(self) -> Caller:
        """The caller of admin commands run against the database directly: whoever holds
        its credentials holds every permission anyway."""
        return Caller.local(Actor(self.settings.actor))

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
        signer = Ed25519Signer.load_or_create(settings.resolved_signing_key_path())
    except BaseException:
        store.dispose()
        raise
    context = ServiceContext(store.unit_of_work, SystemClock(), Uuid7Factory())
    hasher = Argon2Hasher()
    login = LoginPolicy(
        session_ttl=timedelta(seconds=settings.session_ttl_seconds),
        max_failures=settings.login_max_failures,
        window=timedelta(seconds=settings.login_window_seconds),
    )
    local = None if settings.auth_enabled else Caller.local(Actor(settings.actor))
    rules = GovernanceRules(
        approval_ttl=timedelta(days=settings.approval_ttl_days),
        exception_max=timedelta(days=settings.exception_max_days),
    )
    try:
        egress = EgressPolicy(settings.egress_allow)
    except ValueError as exc:
        store.dispose()
        raise InvalidInputError(str(exc), field="egress_allow") from exc
    # Retirement requests go through the promotion gates; the decommissioning service
    # archives a version when one moves it out of its last environment.
    decommission = DecommissionService(context, blobs, settings.artifact_retention_days, rules)
    return Platform(
        settings=settings,
        store=store,
        tracking=TrackingService(context),
        registry=RegistryService(context, signer),
        packages=PackageService(context, blobs, signer, __version__),
        evaluations=EvaluationService(context),
        model_cards=ModelCardService(context, __version__),
        lineage=LineageService(context, producer_uri(__version__)),
        artifacts=ArtifactService(context, blobs, settings.max_upload_bytes),
        audit=AuditService(context),
        principals=PrincipalService(context, hasher),
        credentials=CredentialService(context, hasher, login),
        decommission=decommission,
        environments=EnvironmentService(context),
        promotions=PromotionService(context, rules, retirement=decommission),
        exceptions=GateExceptionService(context, rules),
        evidence=EvidenceService(context, signer, __version__),
        compliance=ComplianceService(context),
        policies=PolicyService(context),
        local_caller=local,
        egress=egress,
    )


def bootstrap_from_settings(platform: Platform) -> bool:
    """Create the platform admin the settings name, when they name one and no admin exists
    yet; True when it was created."""
    settings = platform.settings
    if settings.bootstrap_admin is None or settings.bootstrap_token is None:
        return False
    if platform.credentials.has_platform_admin():
        return False
    secret = settings.bootstrap_token.get_secret_value()
    platform.credentials.bootstrap_admin(settings.bootstrap_admin, secret=secret)
    return True
