"""Validation of exported OpenLineage events against the official spec schema (vendored in
tests/fixtures/openlineage) with format checks on, and of Lockgate's own run facet."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from lockgate.domain.governance.openlineage import LOCKGATE_FACET_SCHEMA

SPEC_PATH = Path(__file__).resolve().parents[1] / "fixtures" / "openlineage" / "OpenLineage.json"
SPEC: dict[str, Any] = json.loads(SPEC_PATH.read_text())
FORMATS = Draft202012Validator.FORMAT_CHECKER

# Without these checkers jsonschema skips the formats silently; fail instead.
assert {"uuid", "date-time", "uri"} <= set(FORMATS.checkers), sorted(FORMATS.checkers)

EVENT_VALIDATOR = Draft202012Validator(SPEC, format_checker=FORMATS)
FACET_VALIDATOR = Draft202012Validator(dict(LOCKGATE_FACET_SCHEMA), format_checker=FORMATS)


def validate_events(events: Iterable[Mapping[str, Any]]) -> int:
    """Validate every event and its `lockgate` run facet; how many there were."""
    count = 0
    for event in events:
        EVENT_VALIDATOR.validate(event)
        FACET_VALIDATOR.validate(event["run"]["facets"]["lockgate"])
        assert event["schemaURL"].startswith(SPEC["$id"] + "#")
        count += 1
    return count
