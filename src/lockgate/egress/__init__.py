"""Outbound HTTP to user-given URLs (webhooks, notifiers), refusing internal destinations (SSRF).

`EgressPolicy` decides which URLs may be reached and pins the addresses it checked;
`EgressClient` delivers JSON through that policy, redirect by redirect.
"""

from __future__ import annotations

from lockgate.egress.addresses import IPAddress, non_public_reason
from lockgate.egress.client import Delivery, EgressClient
from lockgate.egress.policy import EgressPolicy, Resolver, Target, resolve_host

__all__ = [
    "Delivery",
    "EgressClient",
    "EgressPolicy",
    "IPAddress",
    "Resolver",
    "Target",
    "non_public_reason",
    "resolve_host",
]
