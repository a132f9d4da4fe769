"""One BLAS thread per test process: under `pytest -n 2` two workers each spinning two
OpenBLAS threads on two cores slow the resampling products several-fold."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from threadpoolctl import threadpool_limits


@pytest.fixture(autouse=True, scope="session")
def _one_blas_thread() -> Iterator[None]:
    with threadpool_limits(limits=1, user_api="blas"):
        yield
