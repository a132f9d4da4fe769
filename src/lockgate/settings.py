"""The single Settings object: every knob, read from `LOCKGATE_*` environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
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
    max_upload_bytes: int = Field(
        default=5 * 1024**3, ge=1, description="Largest artifact upload accepted, in bytes."
    )
    max_body_bytes: int = Field(
        default=32 * 1024**2, ge=1024, description="Largest JSON request body, in bytes."
    )
    actor: str = Field(
        default="local:user",
        description="Who acts in local embedded mode (until identity is configured).",
    )
    log_level: str = Field(default="info", description="Server log level.")

    def resolved_metadata_url(self) -> str:
        """The metadata URL, defaulting to the embedded SQLite file under `home`."""
        if self.metadata_url:
            return self.metadata_url
        return f"sqlite:///{(self.home / 'lockgate.db').resolve()}"

    def resolved_artifacts_url(self) -> str:
        """The artifacts URL, defaulting to a directory under `home`."""
        if self.artifacts_url:
            return self.artifacts_url
        return (self.home / "artifacts").resolve().as_uri()
