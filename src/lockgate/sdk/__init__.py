"""The Python SDK: `Client` and one resource class per area, over httpx.

>>> from lockgate.sdk import Client
>>> client = Client("http://127.0.0.1:8420")  # doctest: +SKIP
"""

from lockgate.api.registry import ColumnSpecIO, SignatureIO
from lockgate.sdk.active_run import ActiveRun, fingerprint_file
from lockgate.sdk.artifacts import Artifacts, DigestMismatchError, TransferProgress
from lockgate.sdk.audit import Audit
from lockgate.sdk.client import Client
from lockgate.sdk.decommission import Decommission
from lockgate.sdk.environment import capture_environment
from lockgate.sdk.evaluation import Evaluations
from lockgate.sdk.evidence import Compliance, Evidence, verify_bundle
from lockgate.sdk.identity import Auth, Grants, Principals, Teams, Tokens
from lockgate.sdk.lineage import Lineage
from lockgate.sdk.model_cards import ModelCards
from lockgate.sdk.policies import Policies
from lockgate.sdk.promotions import Environments, GateExceptions, Promotions
from lockgate.sdk.registry import Models
from lockgate.sdk.tracking import MetricPoint, Projects, Runs

__all__ = [
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
