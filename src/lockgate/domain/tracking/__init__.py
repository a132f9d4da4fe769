"""Tracking: projects, runs, params, metrics, tags, inputs, environments and run search."""

from lockgate.domain.tracking.runs import (
    DatasetInput,
    Metric,
    Project,
    ProjectId,
    Run,
    RunDetail,
    RunEnvironment,
    RunId,
    RunJson,
    RunStatus,
    check_metric,
    check_params,
    check_tags,
)
from lockgate.domain.tracking.search import (
    DEFAULT_ORDER,
    Comparison,
    FieldKind,
    Operator,
    OrderBy,
    parse_filter,
    parse_order_by,
)

__all__ = [
    "DEFAULT_ORDER",
    "Comparison",
    "DatasetInput",
    "FieldKind",
    "Metric",
    "Operator",
    "OrderBy",
    "Project",
    "ProjectId",
    "Run",
    "RunDetail",
    "RunEnvironment",
    "RunId",
    "RunJson",
    "RunStatus",
    "check_metric",
    "check_params",
    "check_tags",
    "parse_filter",
    "parse_order_by",
]
