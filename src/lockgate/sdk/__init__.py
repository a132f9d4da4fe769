"""The Python SDK: `Client` and one resource class per area, over httpx.

>>> from lockgate.sdk import Client
>>> client = Client("http://127.0.0.1:8420")  # doctest: +SKIP
"""

from lockgate.api.registry import ColumnSpecIO, SignatureIO
from lockgate.sdk.active_run import ActiveRun, fingerprint_file
from lockgate.sdk.artifacts import Artifacts, DigestMismatchError, TransferProgress
from lockgate.sdk.audit import Audit
from lockgate.sdk.client import Client
from lockgate.sdk.environment import capture_environment
from lockgate.sdk.evaluation import Evaluations
from lockgate.sdk.identity import Auth, Grants, Principals, Teams, Tokens
from lockgate.sdk.registry import Models
from lockgate.sdk.tracking import MetricPoint, Projects, Runs

__all__ = [
    "ActiveRun",
    "Artifacts",
    "Audit",
    "Auth",
    "Client",
    "ColumnSpecIO",
    "DigestMismatchError",
    "Evaluations",
    "Grants",
    "MetricPoint",
    "Models",
    "Principals",
    "Projects",
    "Runs",
    "SignatureIO",
    "Teams",
    "Tokens",
    "TransferProgress",
    "capture_environment",
    "fingerprint_file",
]
