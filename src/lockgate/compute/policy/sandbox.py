"""Running Rego in a child process: load modules, answer queries, and survive whatever the
engine does (a crash, a loop) by turning it into an error on the query at fault.

The child is `worker.py`, started as `python -I worker.py` with the current interpreter; it
answers queries one JSON line at a time, so when it dies the answers it already gave stand,
the query it was on gets the error, and a fresh child takes the remaining queries.
"""

from __future__ import annotations

import importlib.util
import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from lockgate.domain.audit import JsonValue

__all__ = [
    "DEFAULT_TIMEOUT",
    "Answer",
    "SandboxResult",
    "is_engine_available",
    "run_queries",
]

# Seconds for loading the modules, and then for each query. The built-in bundle answers in
# milliseconds; a policy that needs seconds is almost certainly looping.
DEFAULT_TIMEOUT = 10.0

_WORKER = Path(__file__).with_name("worker.py")

AnswerStatus = Literal["value", "undefined", "error"]


@dataclass(frozen=True, slots=True)
class Answer:
    """What one query gave: a JSON value, undefined, or an error message."""

    status: AnswerStatus
    value: JsonValue = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class SandboxResult:
    """Load errors by module name, and an answer for every query key."""

    module_errors: dict[str, str] = field(default_factory=dict)
    answers: dict[str, Answer] = field(default_factory=dict)


def is_engine_available() -> bool:
    """True when regopy (the `server` extra) is installed."""
    return importlib.util.find_spec("regopy") is not None


def run_queries(
    modules: Sequence[tuple[str, str]],
    document: Mapping[str, JsonValue] | None,
    queries: Sequence[tuple[str, str]],
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> SandboxResult:
    """Load `modules` (name, source) into one interpreter, set `document` as the input, and
    answer every `(key, query)`; never raises for anything the policies do.

    Loading, and then each query, may take at most `timeout` seconds; a query that takes
    longer is stopped with an error and the ones after it run in a new child.
    """
    result = SandboxResult()
    remaining = list(queries)
    while remaining:
        remaining = _run_once(modules, document, remaining, timeout, result)
    return result


def _run_once(
    modules: Sequence[tuple[str, str]],
    document: Mapping[str, JsonValue] | None,
    queries: list[tuple[str, str]],
    timeout: float,
    result: SandboxResult,
) -> list[tuple[str, str]]:
    """One child for `queries`; returns the queries still to answer in a new child."""
    request = json.dumps(
        {"modules": [list(m) for m in modules], "input": document, "queries": queries}
    ).encode()
    with (
        tempfile.TemporaryFile() as errors,
        subprocess.Popen(
            [sys.executable, "-I", str(_WORKER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            # No environment: `opa.runtime()` hands a policy the process's variables, and
            # the server's hold its secrets.
            env={},
        ) as process,
    ):
        try:
            lines, timed_out = _exchange(process, request, timeout)
        finally:
            if process.poll() is None:
                process.kill()
            status = process.wait()
        errors.seek(0)
        stderr = errors.read().decode(errors="replace")
    ready, finished, fatal = _read_lines(lines, result)
    if finished:
        return []
    failure = fatal or _failure(None if timed_out else status, stderr, timed_out, timeout)
    unanswered = [(key, query) for key, query in queries if key not in result.answers]
    if not ready:
        # Nothing was answered: the modules themselves (or a missing engine) are at fault.
        for key, _ in unanswered:
            result.answers[key] = Answer("error", error=failure)
        return []
    if unanswered:
        result.answers[unanswered[0][0]] = Answer("error", error=failure)
    return unanswered[1:]


def _exchange(
    process: subprocess.Popen[bytes], request: bytes, timeout: float
) -> tuple[list[str], bool]:
    """Send the request, then collect the child's lines until it closes its output; each
    line must come within `timeout` seconds of the one before. (lines, timed out)."""
    stdin, stdout = process.stdin, process.stdout
    if stdin is None or stdout is None:  # never: both are pipes
        raise RuntimeError("the Rego engine's pipes are missing")
    try:
        stdin.write(request)
        stdin.close()
    except BrokenPipeError:
        pass  # the child died before reading: its status says why
    lines: list[str] = []
    pending = b""
    descriptor = stdout.fileno()
    with selectors.DefaultSelector() as selector:
        selector.register(descriptor, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return lines, True
            if not selector.select(left):
                continue
            chunk = os.read(descriptor, 65536)
            if not chunk:
                return lines, False
            *complete, pending = (pending + chunk).split(b"\n")
            if complete:
                lines.extend(line.decode(errors="replace") for line in complete)
                deadline = time.monotonic() + timeout


def _read_lines(lines: list[str], result: SandboxResult) -> tuple[bool, bool, str | None]:
    """Record every complete line; (ready, done, fatal error)."""
    ready = done = False
    fatal: str | None = None
    for line in lines:
        try:
            message = json.loads(line)
        except ValueError:
            continue  # a line cut short by a crash
        kind = message.get("kind")
        if kind == "module":
            result.module_errors[str(message["name"])] = str(message["error"])
        elif kind == "ready":
            ready = True
        elif kind == "answer":
            result.answers[str(message["key"])] = Answer(
                message["status"], message.get("value"), message.get("error")
            )
        elif kind == "done":
            done = True
        elif kind == "fatal":
            fatal = str(message["error"])
    return ready, done, fatal


def _failure(status: int | None, stderr: str, timed_out: bool, timeout: float) -> str:
    if timed_out:
        return f"evaluation took longer than {timeout:g} s and was stopped"
    detail = stderr.strip().splitlines()[-1] if stderr.strip() else ""
    if status is not None and status < 0:
        try:
            name = signal.Signals(-status).name
        except ValueError:
            name = f"signal {-status}"
        reason = f"the Rego engine crashed ({name})"
    else:
        reason = f"the Rego engine exited with status {status}"
    return f"{reason}: {detail}" if detail else reason
