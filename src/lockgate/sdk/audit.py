"""Audit resource of the SDK: read the hash-chained audit log and ask the server to verify it."""

from __future__ import annotations

from collections.abc import Iterator

from lockgate.api.audit import AuditEventOut, ChainVerdictOut
from lockgate.sdk.http import HttpSession

__all__ = ["Audit"]


class Audit:
    """The audit log (`client.audit`)."""

    def __init__(self, http: HttpSession) -> None:
        self._http = http

    def events(
        self,
        *,
        after_seq: int = 0,
        subject_type: str | None = None,
        subject_id: str | None = None,
        page_size: int = 500,
    ) -> Iterator[AuditEventOut]:
        """Events after `after_seq` in chain order, optionally about one subject, fetched
        page by page as the iterator advances."""
        while True:
            params = {
                "after_seq": after_seq,
                "limit": page_size,
                "subject_type": subject_type,
                "subject_id": subject_id,
            }
            page = self._http.call_list("/audit/events", AuditEventOut, params=params)
            yield from page
            if len(page) < page_size:
                return
            after_seq = page[-1].seq

    def verify(self) -> ChainVerdictOut:
        """Recompute the whole hash chain on the server: `ok`, or the first bad event."""
        return self._http.call("POST", "/audit/verify", ChainVerdictOut)
