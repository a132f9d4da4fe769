"""What a benchmark's JSON says about where it ran: the machine and the commit measured."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def describe_commit() -> str:
    """The repository's commit, with `+dirty` when the work tree's `src` differs from it."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()

    dirty = "+dirty" if git("status", "--porcelain", "--untracked-files=no", "src") else ""
    return git("rev-parse", "--short", "HEAD") + dirty


def describe_machine() -> dict[str, Any]:
    facts = {line.split(":")[0].strip(): line.split(":", 1)[1].strip()
             for line in Path("/proc/cpuinfo").read_text().splitlines() if ":" in line}  # fmt: skip
    mem_kib = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal:")
    )
    return {
        "cpus": os.cpu_count(),
        "cpu_model": facts.get("model name", ""),
        "memory_gib": round(mem_kib / 1024**2, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }
