"""What a run runs on, captured by the SDK when the run starts: git commit, Python, packages."""

from __future__ import annotations

import platform
import subprocess
from importlib import metadata
from pathlib import Path

from lockgate.api.tracking import EnvironmentIn

__all__ = ["capture_environment", "git_state", "installed_packages"]

GIT_TIMEOUT_SECONDS = 5.0


def capture_environment(seed: int | None = None, *, cwd: Path | None = None) -> EnvironmentIn:
    """The environment of this process: git sha and dirty flag of the repository around
    `cwd` (none outside a repository), the Python version, installed packages and the seed."""
    sha, dirty = git_state(cwd or Path.cwd())
    return EnvironmentIn(
        git_sha=sha,
        git_dirty=dirty,
        python_version=platform.python_version(),
        packages=installed_packages(),
        seed=seed,
    )


def git_state(cwd: Path) -> tuple[str | None, bool | None]:
    """The HEAD commit and whether the work tree has changes, or (None, None) when `cwd` is
    not inside a git repository or git is missing or too slow."""
    sha = _git(cwd, "rev-parse", "HEAD")
    if sha is None:
        return None, None
    status = _git(cwd, "status", "--porcelain", "--untracked-files=no")
    return sha.lower(), None if status is None else bool(status)


def _git(cwd: Path, *args: str) -> str | None:
    try:
        # A fixed argv and no shell: nothing from the caller reaches a command line.
        done = subprocess.run(
            ["git", *args],  # git is looked up on PATH on purpose
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.strip()


def installed_packages() -> list[str]:
    """Installed distributions as sorted, de-duplicated `name==version` lines."""
    found = set()
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            found.add(f"{name}=={dist.version}")
    return sorted(found, key=str.lower)
