"""Synthetic inputs for the scoring tests: Parquet with several row groups, a tensor column
and columns of other types than the signature's, and the same data as CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq


def table(rows: int, *, start: int = 0, seed: int = 0) -> pa.Table:
    """`id` int64, `a` int32 (the model takes float64), `b` float32, `v` fixed-size list of 3
    float32, `tag` uint32 and `note` text (neither read by the model)."""
    rng = np.random.default_rng(seed)
    ids = np.arange(start, start + rows, dtype=np.int64)
    vectors = rng.random(rows * 3, dtype=np.float32)
    return pa.table(
        {
            "id": ids,
            "a": rng.integers(-100, 100, rows).astype(np.int32),
            "b": rng.random(rows, dtype=np.float32),
            "v": pa.FixedSizeListArray.from_arrays(pa.array(vectors), 3),
            "tag": pa.array((ids % 7).astype(np.uint32)),
            "note": pa.array([f"row {i}" for i in ids]),
        }
    )


def write_parquet(path: Path, data: pa.Table, *, row_group_size: int = 1000) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(data, path, row_group_size=row_group_size)
    return path


def write_csv(path: Path, data: pa.Table) -> Path:
    """The scalar columns as CSV (CSV holds no tensors)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pacsv.write_csv(data.select(["id", "a", "b"]), path)
    return path


def column(data: pa.Table, name: str) -> npt.NDArray[Any]:
    """A column as numpy; a tensor column as (rows, width)."""
    values = data.column(name).combine_chunks()
    if pa.types.is_fixed_size_list(values.type) or pa.types.is_list(values.type):
        flat = np.asarray(values.flatten().to_numpy(zero_copy_only=False))
        return flat.reshape(len(values), -1)
    return np.asarray(values.to_numpy(zero_copy_only=False))
