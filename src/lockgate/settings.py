"""The single Settings object: every knob, read from `LOCKGATE_*` environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]


class Settings(BaseSettings):
    """Lockgate's configuration. Environment variables are `LOCKGATE_` plus the field name in
    capitals (e.g. `LOCKGATE_METADATA_URL`)."""

    model_config = SettingsConfigDict(env_prefix="LOCKGATE_", extra="forbid")

    home: Path = Field(
        default=Path(".lockgate"),
        description="Directory of the embedded default: SQLite database and local artifacts.",
    )
    metadata_url: str | None = Field(
        default=None,
        description="Metadata store URL: sqlite:///PATH or postgresql://...; default is "
        "sqlite under `home`.",
    )
    artifacts_url: str | None = Field(
        default=None,
        description="Artifact store URL: file:///PATH or s3://BUCKET/PREFIX; default is a "
        "directory under `home`.",
    )
    sqlite_synchronous: Literal["full", "normal"] = Field(
        default="full",
        description="SQLite durability: `full` syncs every commit to disk before answering; "
        "`normal` syncs at checkpoints (a power cut may lose the newest commits, never "
        "corrupts).",
    )
    s3_endpoint_url: str | None = Field(
        default=None, description="Endpoint of an S3-compatible server (MinIO, Ceph, moto)."
    )
    host: str = Field(default="127.0.0.1", description="Address the server binds to.")
    port: int = Field(default=8420, ge=1, le=65535, description="Port the server binds to.")
    workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Server worker processes. More than one uses more cores for concurrent "
        "requests (with PostgreSQL especially); each has its own database connections.",
    )
    max_upload_bytes: int = Field(
        default=5 * 1024**3, ge=1, description="Largest artifact upload accepted, in bytes."
    )
    max_body_bytes: int = Field(
        default=32 * 1024**2, ge=1024, description="Largest JSON request body, in bytes."
    )
    actor: str = Field(
        default="local:user",
        description="Who acts in local mode (auth off): every request acts as this name, "
        "with platform admin rights.",
    )
    auth_enabled: bool = Field(
        default=False,
        description="Require an API token or a login session on every request. Off is local "
        "mode, which the server accepts only when bound to a loopback address.",
    )
    allowed_hosts: list[str] = Field(
        default=["127.0.0.1", "localhost", "::1"],
        description="Host header values the server answers (names or addresses, no port); "
        "anything else gets 400, which stops DNS rebinding.",
    )
    cors_origins: list[str] = Field(
        default=[],
        description="Browser origins allowed to call the API cross-site (exact "
        "`scheme://host[:port]` values; a wildcard is refused). Empty: no CORS.",
    )
    session_ttl_seconds: int = Field(
        default=8 * 3600, ge=60, description="How long a web login session lasts."
    )
    cookie_secure: bool = Field(
        default=True,
        description="Mark the session cookie Secure (sent over HTTPS only; browsers treat "
        "localhost as secure).",
    )
    login_max_failures: int = Field(
        default=5, ge=1, description="Failed logins per user name allowed in the window."
    )
    login_window_seconds: int = Field(
        default=900, ge=1, description="The window of the login rate limit, in seconds."
    )
    bootstrap_admin: str | None = Field(
        default=None,
        description="With `bootstrap_token`: the platform admin created at start-up when "
        "no admin exists yet (for deployments where `lockgate admin bootstrap` cannot run).",
    )
    bootstrap_token: SecretStr | None = Field(
        default=None,
        description="The API token of `bootstrap_admin` (at least 32 characters); stored "
        "only as a hash. Rotate it after the first login.",
    )
    signing_key_path: Path | None = Field(
        default=None,
        description="Ed25519 private key (PEM, PKCS#8) that signs model version manifests; "
        "default `home/keys/signing.pem`, generated on first start in embedded mode.",
    )
    egress_allow: list[str] = Field(
        default=[],
        description="Destinations outbound webhooks may reach although they are loopback, "
        "link-local or private: CIDRs (`10.0.0.0/8`) or host names.",
    )
    artifact_retention_days: int = Field(
        default=365,
        ge=0,
        le=36600,
        description="Days a retired (archived) version's artifact bytes are kept before "
        "`lockgate admin retention apply` may purge them; fixed per version when it is "
        "archived.",
    )
    approval_ttl_days: int = Field(
        default=30,
        ge=1,
        le=3650,
        description="Days an approval of a promotion request counts; after that the reviewer "
        "approves again (the gates see only valid approvals).",
    )
    exception_max_days: int = Field(
        default=90,
        ge=1,
        le=3650,
        description="The furthest ahead, in days, a gate exception may expire (every "
        "exception needs an expiry).",
    )
    log_level: str = Field(default="info", description="Server log level.")
    otel_enabled: bool = Field(
        default=False,
        description="Trace requests, and record their metrics and logs, with FastAPI's "
        "native OpenTelemetry instrumentation through the process's global providers (set up "
        "by `opentelemetry-instrument` or your own code).",
    )

    @field_validator("cors_origins")
    @classmethod
    def _no_wildcard_origin(cls, origins: list[str]) -> list[str]:
        for origin in origins:
            if "*" in origin or not origin.startswith(("https://", "http://")):
                raise ValueError(f"CORS origin {origin!r} must be an exact scheme://host[:port]")
        return origins

    def resolved_metadata_url(self) -> str:
        """The metadata URL, defaulting to the embedded SQLite file under `home`."""
        if self.metadata_url:
            return self.metadata_url
        return f"sqlite:///{(self.home / 'lockgate.db').resolve()}"

    def resolved_signing_key_path(self) -> Path:
        """The manifest signing key, defaulting to a file under `home`."""
        return self.signing_key_path or (self.home / "keys" / "signing.pem")

    def resolved_artifacts_url(self) -> str:
        """The artifacts URL, defaulting to a directory under `home`."""
        if self.artifacts_url:
            return self.artifacts_url
        return (self.home / "artifacts").resolve().as_uri()
