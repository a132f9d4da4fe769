"""What one timed call cost inside a benchmark process: wall time, CPU time (every thread of the
process) and the peak RSS reached during the call. Standard library only, so the helpers of both
environments (`.venv` and MLflow's) use it.

The peak comes from the kernel: writing 5 to `/proc/self/clear_refs` resets the process's
high-water mark (VmHWM) to its current RSS, and VmHWM read after the call is the peak since.
"""

from __future__ import annotations

import time
from pathlib import Path
from types import TracebackType


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise LookupError(field)


class CallMeter:
    """Use as `with CallMeter() as meter: call()`, then `meter.report()`."""

    def __enter__(self) -> CallMeter:
        Path("/proc/self/clear_refs").write_text("5")
        self.rss_before_kib = _status_kib("VmRSS")
        self._wall = time.perf_counter()
        self._cpu = time.process_time()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.wall_s = time.perf_counter() - self._wall
        self.cpu_s = time.process_time() - self._cpu
        self.peak_kib = _status_kib("VmHWM")

    def report(self) -> dict[str, float]:
        """Seconds, CPU seconds, and the RSS before and at its peak during the call (MiB)."""
        return {
            "s": self.wall_s,
            "cpu_s": self.cpu_s,
            "rss_before_mib": round(self.rss_before_kib / 1024, 1),
            "peak_rss_mib": round(self.peak_kib / 1024, 1),
        }
