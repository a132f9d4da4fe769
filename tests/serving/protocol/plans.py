"""Signatures and plans the codec tests share."""

from __future__ import annotations

from lockgate.domain.registry import ColumnSpec, Signature
from lockgate.serving.protocol import SignaturePlan

FEATURES = tuple(f"f{index}" for index in range(30))

TABULAR = Signature(
    tuple(ColumnSpec(name, "float64") for name in FEATURES), (ColumnSpec("score", "float64"),)
)
"""30 float64 scalar columns in, one float64 out: the fast path."""

MIXED = Signature(
    (
        ColumnSpec("a", "string"),
        ColumnSpec("b", "int64"),
        ColumnSpec("c", "int64", (-1, 3)),
    ),
    (ColumnSpec("label", "string"), ColumnSpec("probability", "float32")),
)
"""The columns of MLflow's documented tensor examples: text, integers, a 3-wide tensor."""

IMAGE = Signature((ColumnSpec("pixels", "uint8", (-1, 2, 2)),), (ColumnSpec("digit", "int64"),))
"""One tensor input."""


def tabular_plan(max_rows: int = 10_000) -> SignaturePlan:
    return SignaturePlan(TABULAR, max_rows=max_rows)


def mixed_plan() -> SignaturePlan:
    return SignaturePlan(MIXED)


def image_plan() -> SignaturePlan:
    return SignaturePlan(IMAGE)


def open_plan() -> SignaturePlan:
    return SignaturePlan(None)
