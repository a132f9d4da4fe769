"""Lineage resource of the SDK: where a model version or a dataset came from and what came of
it, as a graph or as OpenLineage run events."""

from __future__ import annotations

from typing import Any

from lockgate.api.lineage import LineageGraphOut, OpenLineageOut
from lockgate.sdk.http import HttpSession, segment

__all__ = ["Lineage"]

DEFAULT_DEPTH = 10


class Lineage:
    """The lineage graph (`client.lineage`). A node is written `<kind>:<id>`; each comes with
    a label (`train@3f2a9c1b2d4e`, a run's name, `churn/3`…). `direction` is `upstream`
    (where it came from), `downstream` (what came of it) or `both`; `depth` (1-50) bounds how
    many edges away the walk goes. See docs/howto/lineage.md."""

    def __init__(self, http: HttpSession) -> None:
        self._http = http

    def version(
        self, name: str, version: int, *, direction: str = "both", depth: int = DEFAULT_DEPTH
    ) -> LineageGraphOut:
        """The lineage of a model version: upstream the run that produced it and the dataset
        versions that run read; downstream its evaluations, comparisons, promotions and
        deployments.

        Raises:
            InvalidInputError: A bad direction or depth.
            NotFoundError: The model or version does not exist.
        """
        return self._http.call(
            "GET",
            self._version_path(name, version),
            LineageGraphOut,
            params=_query(direction, depth),
        )

    def version_openlineage(
        self, name: str, version: int, *, direction: str = "both", depth: int = DEFAULT_DEPTH
    ) -> list[dict[str, Any]]:
        """The activities of `version`'s graph (runs, evaluations, comparisons, promotions,
        deployments) as OpenLineage RunEvents, oldest first, ready to send to a consumer."""
        params = {**_query(direction, depth), "format": "openlineage"}
        found = self._http.call(
            "GET", self._version_path(name, version), OpenLineageOut, params=params
        )
        return found.events

    def dataset(
        self,
        project: str,
        name: str,
        *,
        fingerprint: str | None = None,
        direction: str = "both",
        depth: int = DEFAULT_DEPTH,
    ) -> LineageGraphOut:
        """The lineage of a project's dataset: one version (`fingerprint`), or every version
        lineage recorded. Downstream it reaches the runs that read it, the model versions
        they produced and what evaluated them.

        Raises:
            NotFoundError: The project does not exist, or no run read the dataset and nothing
                was evaluated on it.
        """
        params = {**_query(direction, depth), "fingerprint": fingerprint}
        path = self._dataset_path(project, name)
        return self._http.call("GET", path, LineageGraphOut, params=params)

    def dataset_openlineage(
        self,
        project: str,
        name: str,
        *,
        fingerprint: str | None = None,
        direction: str = "both",
        depth: int = DEFAULT_DEPTH,
    ) -> list[dict[str, Any]]:
        """The activities of `dataset`'s graph as OpenLineage RunEvents, oldest first."""
        params = {**_query(direction, depth), "fingerprint": fingerprint, "format": "openlineage"}
        path = self._dataset_path(project, name)
        return self._http.call("GET", path, OpenLineageOut, params=params).events

    @staticmethod
    def _version_path(name: str, version: int) -> str:
        return f"/models/{segment(name)}/versions/{segment(version)}/lineage"

    @staticmethod
    def _dataset_path(project: str, name: str) -> str:
        return f"/projects/{segment(project)}/datasets/{segment(name)}/lineage"


def _query(direction: str, depth: int) -> dict[str, str | int | None]:
    return {"direction": direction, "depth": depth}
