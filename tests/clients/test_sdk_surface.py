"""The public surface of `lockgate.sdk` is pinned: a change here is an API change, on purpose."""

from __future__ import annotations

import inspect

import lockgate.sdk as sdk

EXPORTS = [
    "ActiveRun",
    "Artifacts",
    "Audit",
    "Auth",
    "Client",
    "ColumnSpecIO",
    "Compliance",
    "Decommission",
    "DigestMismatchError",
    "Environments",
    "Evaluations",
    "Evidence",
    "GateExceptions",
    "Grants",
    "Lineage",
    "MetricPoint",
    "ModelCards",
    "Models",
    "Policies",
    "Principals",
    "Projects",
    "Promotions",
    "Runs",
    "SignatureIO",
    "Teams",
    "Tokens",
    "TransferProgress",
    "capture_environment",
    "fingerprint_file",
    "verify_bundle",
]

METHODS = {
    sdk.Client: ["close", "evaluate", "health", "start_run", "url"],
    sdk.Projects: ["create", "exists", "get", "list"],
    sdk.Runs: [
        "create",
        "end",
        "get",
        "log_input",
        "log_metrics",
        "log_params",
        "metric_history",
        "search",
        "set_tags",
    ],
    sdk.Models: [
        "alias_at",
        "alias_history",
        "create",
        "create_version",
        "delete_alias",
        "download_file",
        "get",
        "get_version",
        "list",
        "list_versions",
        "manifest",
        "resolve",
        "sbom",
        "set_alias",
        "signing_key",
        "verify",
    ],
    sdk.Evaluations: ["compare", "get", "get_comparison", "list", "list_comparisons", "record"],
    sdk.ModelCards: ["export", "get", "set_section"],
    sdk.Policies: ["approve", "get", "list", "propose", "reject"],
    sdk.Lineage: ["dataset", "dataset_openlineage", "version", "version_openlineage"],
    sdk.Evidence: ["export"],
    sdk.Compliance: ["report"],
    sdk.Decommission: ["purges", "retire_model", "retire_version"],
    sdk.Promotions: [
        "approve",
        "cancel",
        "check",
        "decisions",
        "get",
        "governance",
        "list",
        "reject",
        "request",
        "set_tier",
    ],
    sdk.Environments: ["create", "current", "history", "list", "live_at"],
    sdk.GateExceptions: ["approve", "get", "list", "request", "revoke"],
    sdk.Artifacts: ["download", "download_dir", "list", "upload", "upload_archive", "upload_dir"],
    sdk.Audit: ["events", "verify"],
    sdk.Auth: ["login", "logout", "whoami"],
    sdk.Principals: [
        "create_service_account",
        "create_team",
        "create_user",
        "disable",
        "enable",
        "get",
        "list",
        "set_password",
        "set_platform_role",
    ],
    sdk.Teams: ["add_member", "members", "remove_member"],
    sdk.Tokens: ["issue", "list", "revoke"],
    sdk.Grants: ["add", "list", "remove"],
    sdk.ActiveRun: [
        "end",
        "id",
        "log_artifact",
        "log_artifacts",
        "log_input",
        "log_input_file",
        "log_metric",
        "log_metrics",
        "log_model",
        "log_param",
        "log_params",
        "refresh",
        "register_model",
        "set_tag",
        "set_tags",
        "status",
    ],
}


def test_exports_are_pinned() -> None:
    assert sorted(sdk.__all__) == EXPORTS
    for name in sdk.__all__:
        assert getattr(sdk, name) is not None


def test_public_methods_of_each_resource_are_pinned() -> None:
    for cls, expected in METHODS.items():
        public = sorted(name for name, _ in inspect.getmembers(cls) if not name.startswith("_"))
        assert public == expected, cls.__name__


def test_client_exposes_one_resource_per_area() -> None:
    client = sdk.Client("http://127.0.0.1:9")
    try:
        assert isinstance(client.projects, sdk.Projects)
        assert isinstance(client.runs, sdk.Runs)
        assert isinstance(client.models, sdk.Models)
        assert isinstance(client.evaluations, sdk.Evaluations)
        assert isinstance(client.model_cards, sdk.ModelCards)
        assert isinstance(client.policies, sdk.Policies)
        assert isinstance(client.lineage, sdk.Lineage)
        assert isinstance(client.artifacts, sdk.Artifacts)
        assert isinstance(client.audit, sdk.Audit)
        assert isinstance(client.decommission, sdk.Decommission)
        assert isinstance(client.promotions, sdk.Promotions)
        assert isinstance(client.environments, sdk.Environments)
        assert isinstance(client.exceptions, sdk.GateExceptions)
    finally:
        client.close()


def test_every_public_item_has_a_docstring() -> None:
    for cls in METHODS:
        assert inspect.getdoc(cls), cls.__name__
        for name, member in inspect.getmembers(cls):
            if not name.startswith("_"):
                assert inspect.getdoc(member), f"{cls.__name__}.{name}"
