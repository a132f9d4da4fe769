"""The size of everything a request may carry: every string, list and map on the wire has a
bound, published in the OpenAPI schema, so oversized input is refused before any work.

The bounds follow the domain rules (`lockgate.domain.names`, `tracking`, `registry`) and are
never stricter than them: the schema only refuses earlier what the domain would refuse anyway,
and bounds the few fields the domain leaves open (a run search filter, a Python version, the
columns of a signature).
"""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator, Field

from lockgate.domain.names import MAX_KEY_LENGTH, MAX_PATH_LENGTH, MAX_VALUE_LENGTH
from lockgate.domain.pagination import MAX_PAGE_SIZE
from lockgate.domain.tracking.runs import MAX_METRICS_PER_CALL, MAX_PARAMS_PER_CALL

__all__ = [
    "ALIAS_PATTERN",
    "ID_PATTERN",
    "KEY_PATTERN",
    "MAX_ALIAS_LENGTH",
    "MAX_COLUMNS",
    "MAX_FILTER_LENGTH",
    "MAX_ID_LENGTH",
    "MAX_INT32",
    "MAX_INT64",
    "MAX_METADATA_ENTRIES",
    "MAX_METRICS_PER_CALL",
    "MAX_NAME_LENGTH",
    "MAX_PACKAGES",
    "MAX_PAGE_SIZE",
    "MAX_PAGE_TOKEN_LENGTH",
    "MAX_PARAMS_PER_CALL",
    "MAX_PATH_LENGTH",
    "NAME_PATTERN",
    "AliasText",
    "ArtifactPathText",
    "IdText",
    "KeyText",
    "Metadata",
    "NameText",
    "PageSizeNumber",
    "PageTokenText",
    "QueryText",
    "StringMap",
    "ValueText",
    "VersionNumber",
]

MAX_NAME_LENGTH = 128  # project, model and dataset names (domain.names._NAME)
MAX_ALIAS_LENGTH = 64  # domain.names._ALIAS
MAX_ID_LENGTH = 64  # ids are 32 hex characters; the domain names a malformed one
MAX_PAGE_TOKEN_LENGTH = 4096
MAX_FILTER_LENGTH = 8192  # a run search filter: dozens of clauses with long literals
MAX_METADATA_ENTRIES = 200  # domain.registry.check_metadata
MAX_PACKAGES = 5000  # domain.tracking.RunEnvironment.check
MAX_COLUMNS = 10_000  # dataset schema columns (domain) and signature columns
MAX_INT64 = 2**63 - 1  # BIGINT columns: steps, row counts
MAX_INT32 = 2**31 - 1  # INTEGER columns: version numbers

# The shapes the domain accepts (domain.names, domain.identity), published in the schema for
# clients and the API fuzzer. Only published: the domain checks them, with messages that say
# what a name may hold, and the SDK keeps raising its InvalidInputError for them.
NAME_PATTERN = r"^[a-z0-9][a-z0-9._-]*$"
ALIAS_PATTERN = r"^[a-z][a-z0-9_-]*$"
ID_PATTERN = r"^[0-9a-f]{32}$"
KEY_PATTERN = r"^[A-Za-z0-9_\-. /:]+$"

NameText = Annotated[
    str, Field(max_length=MAX_NAME_LENGTH, json_schema_extra={"pattern": NAME_PATTERN})
]
AliasText = Annotated[
    str, Field(max_length=MAX_ALIAS_LENGTH, json_schema_extra={"pattern": ALIAS_PATTERN})
]
IdText = Annotated[str, Field(max_length=MAX_ID_LENGTH, json_schema_extra={"pattern": ID_PATTERN})]
KeyText = Annotated[
    str, Field(max_length=MAX_KEY_LENGTH, json_schema_extra={"pattern": KEY_PATTERN})
]
ValueText = Annotated[str, Field(max_length=MAX_VALUE_LENGTH)]
ArtifactPathText = Annotated[str, Field(max_length=MAX_PATH_LENGTH)]
PageTokenText = Annotated[str, Field(max_length=MAX_PAGE_TOKEN_LENGTH)]
PageSizeNumber = Annotated[int, Field(ge=1, le=MAX_PAGE_SIZE)]
VersionNumber = Annotated[int, Field(ge=1, le=MAX_INT32)]


def _refuse_control_characters(value: str) -> str:
    if any(unicodedata.category(ch) == "Cc" and ch not in "\t\n\r" for ch in value):
        raise ValueError("must not contain control characters")
    return value


# Text that goes into a query as it is (a search filter): no control characters, which
# PostgreSQL would refuse (NUL) and no filter needs.
QueryText = Annotated[str, AfterValidator(_refuse_control_characters)]

# Params and tags: at most MAX_PARAMS_PER_CALL keys per call (the domain's own bound).
StringMap = Annotated[dict[KeyText, ValueText], Field(max_length=MAX_PARAMS_PER_CALL)]
Metadata = Annotated[dict[KeyText, ValueText], Field(max_length=MAX_METADATA_ENTRIES)]
