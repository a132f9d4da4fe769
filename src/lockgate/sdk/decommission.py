"""Decommissioning resource of the SDK: retire a version or a whole model, and read the
artifact purges that retention recorded."""

from __future__ import annotations

from collections.abc import Iterator

from lockgate.api import PageOut
from lockgate.api.decommission import (
    ArtifactPurgeOut,
    ModelRetirementOut,
    RetireIn,
    RetirementOut,
)
from lockgate.sdk.http import HttpSession, paginate, request_body, segment

__all__ = ["Decommission"]


class Decommission:
    """Retirement of versions and models, and artifact purges (`client.decommission`)."""

    def __init__(self, http: HttpSession) -> None:
        self._http = http

    def retire_version(self, name: str, version: int, *, reason: str) -> RetirementOut:
        """Retire version `version` of model `name`: it loses its aliases and is archived.
        It stays readable (`models.get_version`, audit, evidence) but is no longer listed
        by default, aliased or promoted; its artifact bytes are kept until
        `archive.retain_until`.

        Raises:
            InvalidInputError: `reason` is empty.
            NotFoundError: The model or version does not exist.
            ConflictError: The version is archived already.
        """
        body = request_body(RetireIn, reason=reason)
        path = f"/models/{segment(name)}/versions/{segment(version)}/retire"
        return self._http.call("POST", path, RetirementOut, body=body)

    def retire_model(self, name: str, *, reason: str) -> ModelRetirementOut:
        """Retire model `name`: every version not archived yet, then the model itself.

        Raises:
            InvalidInputError: `reason` is empty.
            NotFoundError: The model does not exist.
            ConflictError: The model is archived already.
        """
        body = request_body(RetireIn, reason=reason)
        path = f"/models/{segment(name)}/retire"
        return self._http.call("POST", path, ModelRetirementOut, body=body)

    def purges(self, *, page_size: int = 100) -> Iterator[ArtifactPurgeOut]:
        """Every blob whose bytes artifact retention purged, newest first, fetched page by
        page (needs `audit.read`: platform admins and auditors)."""

        def fetch(token: str | None) -> PageOut[ArtifactPurgeOut]:
            params = {"page_size": page_size, "page_token": token}
            return self._http.call(
                "GET", "/retention/purges", PageOut[ArtifactPurgeOut], params=params
            )

        return paginate(fetch)
