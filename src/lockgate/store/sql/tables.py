"""The metadata schema as SQLAlchemy Core tables: the one description the repositories query.

Times are BIGINT microseconds since the epoch, ids 32 hex characters, structured values
canonical JSON text. The migrations in `migrations/versions` must produce exactly this schema
(a test compares them).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from lockgate.domain.audit import GENESIS_HASH

__all__ = [
    "VALUE_INDEX_PREFIX",
    "alias_moves",
    "api_tokens",
    "approvals",
    "artifact_purges",
    "audit_events",
    "audit_head",
    "datasets",
    "environment_current",
    "environment_history",
    "environments",
    "evaluation_comparisons",
    "evaluations",
    "gate_decisions",
    "gate_exceptions",
    "grants",
    "latest_metrics",
    "lineage_edges",
    "login_failures",
    "login_sessions",
    "metadata",
    "metrics",
    "model_aliases",
    "model_archives",
    "model_card_sections",
    "model_governance",
    "model_retirements",
    "model_version_files",
    "model_versions",
    "params",
    "principals",
    "project_policies",
    "projects",
    "promotion_requests",
    "registered_models",
    "run_artifacts",
    "run_inputs",
    "runs",
    "sorted_text",
    "tags",
    "team_members",
    "value_prefix",
    "version_archives",
    "version_manifests",
]

# Param and tag values are indexed by their first characters only: PostgreSQL refuses index
# rows over about 2.7 kB, and values may hold 6000 characters.
VALUE_INDEX_PREFIX = 200

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)


def sorted_text(length: int | None = None) -> sa.types.TypeEngine[str]:
    """A string column that sorts by code point on every dialect (collation "C" on PostgreSQL),
    so orders and cursors are the same whatever the database's default collation."""
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def value_prefix(column: Any) -> sa.ColumnElement[str]:
    """The indexed prefix of a param or tag value, rendered with literal bounds so both
    planners match it to the expression index."""
    return sa.func.substr(
        column, sa.literal_column("1"), sa.literal_column(str(VALUE_INDEX_PREFIX))
    )


def _id(name: str = "id", **kwargs: Any) -> sa.Column[str]:
    return sa.Column(name, sa.String(32), nullable=False, **kwargs)


def _time(name: str, *, nullable: bool = False) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger(), nullable=nullable)


def _serial() -> sa.Column[int]:
    # INTEGER on SQLite, where only that spelling makes the column the autoincrementing rowid.
    return sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True)


def _actor(name: str) -> sa.Column[str]:
    return sa.Column(name, sa.String(256), nullable=False)


projects = sa.Table(
    "projects",
    metadata,
    _id(primary_key=True),
    sa.Column("name", sorted_text(128), nullable=False, unique=True),
    sa.Column("description", sa.Text(), nullable=False),
    _time("created_at"),
    _actor("created_by"),
)

runs = sa.Table(
    "runs",
    metadata,
    _id(primary_key=True),
    _id("project_id"),
    sa.Column("name", sorted_text(256), nullable=False),
    sa.Column("status", sorted_text(16), nullable=False),
    _time("started_at"),
    _time("ended_at", nullable=True),
    sa.Column("created_by", sorted_text(256), nullable=False),
    sa.Column("environment", sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(["project_id"], ["projects.id"]),
    sa.Index(None, "project_id", "started_at", "id"),
    sa.Index(None, "project_id", "name", "id"),
    sa.Index(None, "project_id", "status", "id"),
    sa.Index(None, "project_id", "created_by", "id"),
)


def _keyed_values(name: str) -> sa.Table:
    """params and tags: one string value per (run, key), indexed for search."""
    table = sa.Table(
        name,
        metadata,
        _id("run_id"),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("value", sorted_text(), nullable=False),
        _id("project_id"),
        sa.PrimaryKeyConstraint("run_id", "key"),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"]),
    )
    sa.Index(
        f"ix_{name}_project_id_key_value_run_id",
        table.c.project_id,
        table.c.key,
        value_prefix(table.c.value),
        table.c.run_id,
    )
    return table


params = _keyed_values("params")
tags = _keyed_values("tags")

metrics = sa.Table(
    "metrics",
    metadata,
    _serial(),
    _id("run_id"),
    sa.Column("key", sa.String(250), nullable=False),
    # NULL is NaN; infinities are stored as they are.
    sa.Column("value", sa.Double(), nullable=True),
    sa.Column("step", sa.BigInteger(), nullable=False),
    _time("timestamp"),
    sa.ForeignKeyConstraint(["run_id"], ["runs.id"]),
    sa.Index(None, "run_id", "key", "step", "timestamp", "id"),
)

latest_metrics = sa.Table(
    "latest_metrics",
    metadata,
    _id("run_id"),
    sa.Column("key", sa.String(250), nullable=False),
    sa.Column("value", sa.Double(), nullable=True),
    sa.Column("step", sa.BigInteger(), nullable=False),
    _time("timestamp"),
    _id("project_id"),
    sa.PrimaryKeyConstraint("run_id", "key"),
    sa.ForeignKeyConstraint(["run_id"], ["runs.id"]),
    sa.Index(None, "project_id", "key", "value", "run_id"),
)

datasets = sa.Table(
    "datasets",
    metadata,
    _id(primary_key=True),
    _id("project_id"),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("fingerprint", sa.String(128), nullable=False),
    sa.Column("row_count", sa.BigInteger(), nullable=True),
    sa.Column("schema", sa.Text(), nullable=False),
    sa.Column("source", sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(["project_id"], ["projects.id"]),
    sa.UniqueConstraint("project_id", "name", "fingerprint"),
)

run_inputs = sa.Table(
    "run_inputs",
    metadata,
    _id("run_id"),
    _id("dataset_id"),
    sa.PrimaryKeyConstraint("run_id", "dataset_id"),
    sa.ForeignKeyConstraint(["run_id"], ["runs.id"]),
    sa.ForeignKeyConstraint(["dataset_id"], ["datasets.id"]),
)

run_artifacts = sa.Table(
    "run_artifacts",
    metadata,
    _id("run_id"),
    sa.Column("path", sorted_text(1024), nullable=False),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("size", sa.BigInteger(), nullable=False),
    _time("created_at"),
    sa.PrimaryKeyConstraint("run_id", "path"),
    sa.ForeignKeyConstraint(["run_id"], ["runs.id"]),
)

registered_models = sa.Table(
    "registered_models",
    metadata,
    _id(primary_key=True),
    _id("project_id"),
    sa.Column("name", sorted_text(128), nullable=False, unique=True),
    sa.Column("owner", sa.String(256), nullable=False),
    sa.Column("description", sa.Text(), nullable=False),
    sa.Column("metadata", sa.Text(), nullable=False),
    _time("created_at"),
    _actor("created_by"),
    # The highest version number handed out so far (0 before the first).
    sa.Column("last_version", sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(["project_id"], ["projects.id"]),
    sa.Index(None, "project_id", "name"),
)

model_versions = sa.Table(
    "model_versions",
    metadata,
    _id("model_id"),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("run_id", sa.String(32), nullable=True),
    sa.Column("source_path", sa.Text(), nullable=False),
    sa.Column("signature", sa.Text(), nullable=True),
    sa.Column("description", sa.Text(), nullable=False),
    sa.Column("metadata", sa.Text(), nullable=False),
    _time("created_at"),
    _actor("created_by"),
    sa.PrimaryKeyConstraint("model_id", "version"),
    sa.ForeignKeyConstraint(["model_id"], ["registered_models.id"]),
    sa.ForeignKeyConstraint(["run_id"], ["runs.id"]),
    sa.Index(None, "run_id"),
)

model_version_files = sa.Table(
    "model_version_files",
    metadata,
    _id("model_id"),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("path", sorted_text(1024), nullable=False),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("size", sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint("model_id", "version", "path"),
    sa.ForeignKeyConstraint(
        ["model_id", "version"], ["model_versions.model_id", "model_versions.version"]
    ),
)

model_aliases = sa.Table(
    "model_aliases",
    metadata,
    _id("model_id"),
    sa.Column("alias", sorted_text(64), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint("model_id", "alias"),
    sa.ForeignKeyConstraint(
        ["model_id", "version"], ["model_versions.model_id", "model_versions.version"]
    ),
)

alias_moves = sa.Table(
    "alias_moves",
    metadata,
    _serial(),
    _id("model_id"),
    sa.Column("alias", sa.String(64), nullable=False),
    sa.Column("version", sa.Integer(), nullable=True),
    sa.Column("previous_version", sa.Integer(), nullable=True),
    _time("moved_at"),
    _actor("moved_by"),
    sa.ForeignKeyConstraint(["model_id"], ["registered_models.id"]),
    sa.Index(None, "model_id", "alias", "moved_at"),
)

audit_events = sa.Table(
    "audit_events",
    metadata,
    sa.Column("seq", sa.BigInteger(), primary_key=True, autoincrement=False),
    _id(unique=True),
    _time("occurred_at"),
    sa.Column("action", sa.String(128), nullable=False),
    _actor("actor"),
    sa.Column("subject_type", sa.String(64), nullable=False),
    sa.Column("subject_id", sa.String(256), nullable=False),
    # Canonical JSON, byte for byte the text that was hashed.
    sa.Column("details", sa.Text(), nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Index(None, "subject_type", "subject_id", "seq"),
)

# Exactly one row (id 1): the last event's sequence number, prev_hash and hash, locked by
# every append. prev_hash lets PostgreSQL's append return the new event's link from the
# UPDATE that moves the head (see audit.py); nothing reads it to verify.
audit_head = sa.Table(
    "audit_head",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("seq", sa.BigInteger(), nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False, server_default=GENESIS_HASH),
    sa.Column("hash", sa.String(64), nullable=False),
)

principals = sa.Table(
    "principals",
    metadata,
    _id(primary_key=True),
    # user, sa (service account) or team
    sa.Column("kind", sorted_text(8), nullable=False),
    sa.Column("name", sorted_text(128), nullable=False),
    sa.Column("display_name", sa.String(256), nullable=False),
    # argon2id PHC string; NULL for teams, service accounts and token-only users
    sa.Column("password_hash", sa.Text(), nullable=True),
    sa.Column("platform_role", sa.String(32), nullable=True),
    sa.Column("disabled", sa.Boolean(), nullable=False),
    _time("created_at"),
    _actor("created_by"),
    sa.UniqueConstraint("kind", "name"),
)

team_members = sa.Table(
    "team_members",
    metadata,
    _id("team_id"),
    _id("member_id"),
    sa.PrimaryKeyConstraint("team_id", "member_id"),
    sa.ForeignKeyConstraint(["team_id"], ["principals.id"]),
    sa.ForeignKeyConstraint(["member_id"], ["principals.id"]),
    sa.Index(None, "member_id"),
)

grants = sa.Table(
    "grants",
    metadata,
    _id("project_id"),
    _id("principal_id"),
    sa.Column("role", sa.String(16), nullable=False),
    _time("granted_at"),
    _actor("granted_by"),
    sa.PrimaryKeyConstraint("project_id", "principal_id", "role"),
    sa.ForeignKeyConstraint(["project_id"], ["projects.id"]),
    sa.ForeignKeyConstraint(["principal_id"], ["principals.id"]),
    # Listings filter by "projects this caller holds a grant on".
    sa.Index(None, "principal_id", "project_id"),
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    _id(primary_key=True),
    _id("principal_id"),
    sa.Column("name", sa.String(128), nullable=False),
    # sha256 of the secret; the secret itself is never stored
    sa.Column("digest", sa.String(64), nullable=False, unique=True),
    sa.Column("hint", sa.String(16), nullable=False),
    _time("created_at"),
    _actor("created_by"),
    _time("expires_at", nullable=True),
    sa.Column("scope_project_id", sa.String(32), nullable=True),
    sa.Column("scope_role", sa.String(16), nullable=True),
    _time("revoked_at", nullable=True),
    sa.ForeignKeyConstraint(["principal_id"], ["principals.id"]),
    sa.ForeignKeyConstraint(["scope_project_id"], ["projects.id"]),
    sa.Index(None, "principal_id", "created_at"),
)

login_sessions = sa.Table(
    "login_sessions",
    metadata,
    sa.Column("digest", sa.String(64), primary_key=True),
    _id("principal_id"),
    sa.Column("csrf_digest", sa.String(64), nullable=False),
    _time("created_at"),
    _time("expires_at"),
    _time("revoked_at", nullable=True),
    sa.ForeignKeyConstraint(["principal_id"], ["principals.id"]),
    sa.Index(None, "principal_id"),
)

# Failed logins, kept for the rate-limit window; shared by every server replica.
login_failures = sa.Table(
    "login_failures",
    metadata,
    _serial(),
    sa.Column("username", sa.String(256), nullable=False),
    _time("failed_at"),
    sa.Index(None, "username", "failed_at"),
)

# The signed manifest of each model version (one row, written with the version).
version_manifests = sa.Table(
    "version_manifests",
    metadata,
    _id("model_id"),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("flavor", sa.String(32), nullable=False),
    # Canonical JSON, byte for byte the text that was signed.
    sa.Column("manifest", sa.Text(), nullable=False),
    sa.Column("manifest_sha256", sa.String(64), nullable=False),
    sa.Column("algorithm", sa.String(16), nullable=False),
    sa.Column("key_id", sa.String(64), nullable=False),
    sa.Column("signature", sa.String(128), nullable=False),
    sa.PrimaryKeyConstraint("model_id", "version"),
    sa.ForeignKeyConstraint(
        ["model_id", "version"], ["model_versions.model_id", "model_versions.version"]
    ),
)

# One version of a model evaluated on one dataset version: the settings and the report as
# canonical JSON documents (lockgate.domain.evaluation.documents).
evaluations = sa.Table(
    "evaluations",
    metadata,
    _id(primary_key=True),
    _id("project_id"),
    _id("model_id"),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("dataset_name", sa.String(128), nullable=False),
    sa.Column("dataset_fingerprint", sa.String(128), nullable=False),
    sa.Column("dataset_row_count", sa.BigInteger(), nullable=True),
    sa.Column("dataset_schema", sa.Text(), nullable=False),
    sa.Column("dataset_source", sa.Text(), nullable=True),
    sa.Column("task", sa.String(32), nullable=False),
    sa.Column("config", sa.Text(), nullable=False),
    sa.Column("report", sa.Text(), nullable=False),
    # The manifest digest of the package that was scored (the signed one, checked).
    sa.Column("package_digest", sa.String(64), nullable=False),
    sa.Column("engine", sa.String(128), nullable=False),
    _time("created_at"),
    _actor("created_by"),
    sa.ForeignKeyConstraint(["project_id"], ["projects.id"]),
    sa.ForeignKeyConstraint(
        ["model_id", "version"], ["model_versions.model_id", "model_versions.version"]
    ),
    sa.Index(None, "model_id", "version", "created_at"),
)

# A candidate's evaluation against a baseline's on the same rows, the thresholds it was judged
# by, the paired changes and the verdict (computed by the server, never submitted).
evaluation_comparisons = sa.Table(
    "evaluation_comparisons",
    metadata,
    _id(primary_key=True),
    _id("project_id"),
    _id("model_id"),
    _id("candidate_evaluation_id"),
    _id("baseline_evaluation_id"),
    sa.Column("candidate_version", sa.Integer(), nullable=False),
    sa.Column("baseline_version", sa.Integer(), nullable=False),
    sa.Column("baseline_alias", sa.String(64), nullable=True),
    sa.Column("thresholds", sa.Text(), nullable=False),
    sa.Column("changes", sa.Text(), nullable=False),
    sa.Column("passed", sa.Boolean(), nullable=False),
    sa.Column("verdict", sa.Text(), nullable=False),
    _time("created_at"),
    _actor("created_by"),
    sa.ForeignKeyConstraint(["project_id"], ["projects.id"]),
    sa.ForeignKeyConstraint(["model_id"], ["registered_models.id"]),
    sa.ForeignKeyConstraint(["candidate_evaluation_id"], ["evaluations.id"]),
    sa.ForeignKeyConstraint(["baseline_evaluation_id"], ["evaluations.id"]),
    sa.Index(None, "model_id", "candidate_version", "created_at"),
)

# --- Decommissioning (migration 0009): archived models and versions, and artifact purges. ---

# A retired model: archived once, never un-archived; its versions are archived first.
model_archives = sa.Table(
    "model_archives",
    metadata,
    _id("model_id"),
    _time("archived_at"),
    _actor("archived_by"),
    sa.Column("reason", sa.Text(), nullable=False),
    _time("retain_until"),
    sa.PrimaryKeyConstraint("model_id"),
    sa.ForeignKeyConstraint(["model_id"], ["registered_models.id"]),
)

# A model retirement waiting for its versions' retirement requests (approvals); removed
# when the model is archived.
model_retirements = sa.Table(
    "model_retirements",
    metadata,
    _id("model_id"),
    _time("requested_at"),
    _actor("requested_by"),
    sa.Column("reason", sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint("model_id"),
    sa.ForeignKeyConstraint(["model_id"], ["registered_models.id"]),
)

# A retired version: still readable, no longer listed by default, its bytes kept until
# `retain_until` (archived_at plus the retention setting at the time).
version_archives = sa.Table(
    "version_archives",
    metadata,
    _id("model_id"),
    sa.Column("version", sa.Integer(), nullable=False),
    _time("archived_at"),
    _actor("archived_by"),
    sa.Column("reason", sa.Text(), nullable=False),
    _time("retain_until"),
    sa.PrimaryKeyConstraint("model_id", "version"),
    sa.ForeignKeyConstraint(
        ["model_id", "version"], ["model_versions.model_id", "model_versions.version"]
    ),
    sa.Index(None, "retain_until"),
)

# Append-only: each time retention deleted a blob's bytes, and for which archived versions.
artifact_purges = sa.Table(
    "artifact_purges",
    metadata,
    _id(primary_key=True),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("size", sa.BigInteger(), nullable=False),
    _time("purged_at"),
    _actor("purged_by"),
    sa.Column("reason", sa.Text(), nullable=False),
    # JSON list of the archived versions that held the blob, as "model/version".
    sa.Column("versions", sa.Text(), nullable=False),
    sa.Index(None, "digest", "purged_at"),
    sa.Index(None, "purged_at", "id"),
)

# Retention asks "who else holds this blob?" by digest.
sa.Index("ix_model_version_files_digest", model_version_files.c.digest)
sa.Index("ix_run_artifacts_digest", run_artifacts.c.digest)

# --- Governed promotion (migration 0005, helper A): environments, risk tiers, promotion
# requests with their approvals and gate decisions, gate exceptions, and what is current in
# each environment with its append-only history. ---

# Platform-wide stages, by order; a name is also the registry alias of the current version.
environments = sa.Table(
    "environments",
    metadata,
    sa.Column("name", sorted_text(64), primary_key=True),
    sa.Column("order", sa.Integer(), nullable=False, unique=True),
    sa.Column("description", sa.Text(), nullable=False),
    _time("created_at"),
    _actor("created_by"),
)

# A model's risk tier and monitor; no row means the default tier (medium) and no monitor.
model_governance = sa.Table(
    "model_governance",
    metadata,
    _id("model_id", primary_key=True),
    sa.Column("tier", sa.String(16), nullable=False),
    sa.Column("monitor", sa.Text(), nullable=True),
    _time("updated_at"),
    _actor("updated_by"),
    sa.Column("row_version", sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(["model_id"], ["registered_models.id"]),
)

promotion_requests = sa.Table(
    "promotion_requests",
    metadata,
    _id(primary_key=True),
    _id("project_id"),
    _id("model_id"),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("environment", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("reason", sa.Text(), nullable=False),
    _actor("requested_by"),
    _time("requested_at"),
    _time("closed_at", nullable=True),
    sa.Column("closed_by", sa.String(256), nullable=True),
    sa.Column("comment", sa.Text(), nullable=False),
    # `model_id:version:environment:kind` while open, NULL once closed: one open request each.
    sa.Column("open_key", sa.String(128), nullable=True, unique=True),
    sa.Column("row_version", sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(["project_id"], ["projects.id"]),
    sa.ForeignKeyConstraint(
        ["model_id", "version"], ["model_versions.model_id", "model_versions.version"]
    ),
    sa.ForeignKeyConstraint(["environment"], ["environments.name"]),
    sa.Index(None, "model_id", "version", "id"),
    sa.Index(None, "project_id", "status", "id"),
    sa.Index(None, "status", "id"),
)

# One approval per reviewer and request (an expired one is renewed in place).
approvals = sa.Table(
    "approvals",
    metadata,
    _id(primary_key=True),
    _id("request_id"),
    _actor("reviewer"),
    _time("approved_at"),
    _time("expires_at"),
    sa.Column("comment", sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(["request_id"], ["promotion_requests.id"]),
    sa.UniqueConstraint("request_id", "reviewer"),
)

# Every evaluation of a request's gates: the input document byte for byte as hashed, the
# per-gate results and the outcome.
gate_decisions = sa.Table(
    "gate_decisions",
    metadata,
    _id(primary_key=True),
    _id("request_id"),
    _id("project_id"),
    _id("model_id"),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("environment", sa.String(64), nullable=False),
    sa.Column("trigger", sa.String(16), nullable=False),
    _time("decided_at"),
    _actor("decided_by"),
    sa.Column("input_json", sa.Text(), nullable=False),
    sa.Column("input_sha256", sa.String(64), nullable=False),
    sa.Column("policy_digest", sa.String(128), nullable=False),
    sa.Column("results_json", sa.Text(), nullable=False),
    sa.Column("allowed", sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(["request_id"], ["promotion_requests.id"]),
    sa.Index(None, "request_id", "decided_at"),
    sa.Index(None, "model_id", "version", "decided_at"),
)

# The version of each model current in each environment (moved only by a promotion).
environment_current = sa.Table(
    "environment_current",
    metadata,
    _id("model_id"),
    sa.Column("environment", sa.String(64), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    _time("since"),
    sa.Column("request_id", sa.String(32), nullable=True),
    sa.Column("row_version", sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint("model_id", "environment"),
    sa.ForeignKeyConstraint(
        ["model_id", "version"], ["model_versions.model_id", "model_versions.version"]
    ),
    sa.ForeignKeyConstraint(["environment"], ["environments.name"]),
)

# Append-only: every move of an environment's current version, who asked, who made it, why,
# and the request and gate decision behind it.
environment_history = sa.Table(
    "environment_history",
    metadata,
    _id(primary_key=True),
    _id("model_id"),
    sa.Column("environment", sa.String(64), nullable=False),
    sa.Column("version", sa.Integer(), nullable=True),
    sa.Column("previous_version", sa.Integer(), nullable=True),
    sa.Column("request_id", sa.String(32), nullable=True),
    sa.Column("decision_id", sa.String(32), nullable=True),
    sa.Column("reason", sa.Text(), nullable=False),
    _actor("requested_by"),
    _time("changed_at"),
    _actor("changed_by"),
    sa.ForeignKeyConstraint(["model_id"], ["registered_models.id"]),
    sa.ForeignKeyConstraint(["environment"], ["environments.name"]),
    sa.Index(None, "model_id", "environment", "changed_at"),
)

# Waivers of one gate for one version in one environment; `expired` is derived, never stored.
gate_exceptions = sa.Table(
    "gate_exceptions",
    metadata,
    _id(primary_key=True),
    _id("project_id"),
    _id("model_id"),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("environment", sa.String(64), nullable=False),
    sa.Column("gate", sa.String(64), nullable=False),
    sa.Column("justification", sa.Text(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    _actor("requested_by"),
    _time("requested_at"),
    _time("expires_at"),
    sa.Column("approved_by", sa.String(256), nullable=True),
    _time("approved_at", nullable=True),
    sa.Column("revoked_by", sa.String(256), nullable=True),
    _time("revoked_at", nullable=True),
    sa.Column("revoke_reason", sa.Text(), nullable=False),
    sa.Column("row_version", sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(["project_id"], ["projects.id"]),
    sa.ForeignKeyConstraint(
        ["model_id", "version"], ["model_versions.model_id", "model_versions.version"]
    ),
    sa.ForeignKeyConstraint(["environment"], ["environments.name"]),
    sa.Index(None, "model_id", "version", "environment"),
)
# --- end of governed promotion ---

# --- project policies (migration 0006) ---
# One row per version of a project's gate policy. `active_name` is the name while the version
# is active and NULL otherwise: its unique constraint keeps one active version per name.
project_policies = sa.Table(
    "project_policies",
    metadata,
    _id(primary_key=True),
    _id("project_id"),
    sa.Column("name", sorted_text(64), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("source", sa.Text(), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("tests", sa.Text(), nullable=False),
    sa.Column("description", sa.Text(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("active_name", sa.String(64), nullable=True),
    _actor("proposed_by"),
    _time("proposed_at"),
    sa.Column("reviewed_by", sa.String(256), nullable=True),
    _time("reviewed_at", nullable=True),
    sa.Column("comment", sa.Text(), nullable=False),
    _time("superseded_at", nullable=True),
    sa.Column("row_version", sa.Integer(), nullable=False),
    sa.UniqueConstraint("project_id", "name", "version"),
    sa.UniqueConstraint("project_id", "active_name"),
    sa.ForeignKeyConstraint(["project_id"], ["projects.id"]),
    sa.Index(None, "project_id", "status"),
)
# --- end of project policies ---

# --- model cards (migration 0007) ---
# The narrative sections people write on a version's card; `row_version` counts the edits of a
# section, and an edit succeeds only against the row_version it was based on.
model_card_sections = sa.Table(
    "model_card_sections",
    metadata,
    _id("model_id"),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("section", sa.String(64), nullable=False),
    sa.Column("text", sa.Text(), nullable=False),
    _time("updated_at"),
    _actor("updated_by"),
    sa.Column("row_version", sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint("model_id", "version", "section"),
    sa.ForeignKeyConstraint(
        ["model_id", "version"], ["model_versions.model_id", "model_versions.version"]
    ),
)
# --- end of model cards ---

# --- lineage (migration 0008) ---
# One edge of the lineage graph: `source` flowed into `target` (nodes written `<kind>:<id>`,
# lockgate.domain.governance.lineage). The primary key makes recording an edge idempotent and
# its index serves walks downstream; the index on `target` serves walks upstream.
lineage_edges = sa.Table(
    "lineage_edges",
    metadata,
    sa.Column("source", sorted_text(320), nullable=False),
    sa.Column("target", sorted_text(320), nullable=False),
    sa.Column("relation", sa.String(32), nullable=False),
    _id("project_id"),
    _time("created_at"),
    sa.PrimaryKeyConstraint("source", "target", "relation"),
    sa.ForeignKeyConstraint(["project_id"], ["projects.id"]),
    sa.Index(None, "target"),
)
# --- end of lineage ---
