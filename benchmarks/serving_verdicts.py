"""The serving issue's bars, judged on one run's results, and the table printed to stderr."""

from __future__ import annotations

from typing import Any

THROUGHPUT_BARS = (("mlflow", 4.0), ("kserve", 2.0), ("floor", 0.8))
P50_MARGIN_MS = 0.3  # Lockgate's p50 at 1 connection: at most the floor's plus this
P99_FACTOR = 1.3  # Lockgate's p99 at 32 connections: at most this times the floor's
LOG_FACTOR = 0.9  # throughput with the prediction log on, against without it
BATCH_FACTOR = 0.8  # `lockgate score` rows/s against `predict` on the same batches
MEMORY_FACTOR = 1.25  # peak RSS at the full size against a tenth (a fifth with --quick) of it
MAX_OTHER_SHARE = 0.05  # a phase during which other processes took more CPU is disturbed (a
# peer stopped just before can linger for seconds)


def _phase(online: dict[str, Any], target: str, connections: int) -> dict[str, Any]:
    phase = online.get(target, {}).get(f"c{connections}")
    return phase if isinstance(phase, dict) else {}


def _bar(
    name: str, value: float | None, limit: float | None, passed: bool | None
) -> dict[str, Any]:
    return {
        "bar": name,
        "value": None if value is None else round(value, 3),
        "limit": None if limit is None else round(limit, 3),
        "pass": passed,
    }


def _at_least(name: str, mine: float | None, theirs: float | None, factor: float) -> dict[str, Any]:
    """Pass when mine / theirs >= factor; the value is the ratio, the limit the factor."""
    if not mine or not theirs:
        return _bar(name, None, factor, None)
    ratio = mine / theirs
    return _bar(name, ratio, factor, ratio >= factor)


def _at_most(name: str, value: float | None, limit: float | None) -> dict[str, Any]:
    if value is None or limit is None:
        return _bar(name, value, limit, None)
    return _bar(name, value, limit, value <= limit)


def _disturbed(online: dict[str, Any], *phases: tuple[str, int]) -> bool:
    """Whether other processes took more than MAX_OTHER_SHARE of the CPU in any of `phases`."""
    shares = [_phase(online, target, c).get("other_cpu_share", 0.0) for target, c in phases]
    return any(share > MAX_OTHER_SHARE for share in shares)


def _throughput_bars(online: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for connections in (1, 32):
        rps = _phase(online, "lockgate", connections).get("requests_per_s")
        for peer, factor in THROUGHPUT_BARS:
            theirs = _phase(online, peer, connections).get("requests_per_s")
            name = f"throughput at {connections} connection(s): at least {factor}x {peer}"
            verdict = _at_least(name, rps, theirs, factor)
            pair = (("lockgate", connections), (peer, connections))
            out.append(verdict | {"disturbed": _disturbed(online, *pair)})
    for connections in (1, 32):
        name = (
            f"throughput with the prediction log on, {connections} connection(s): "
            f"at least {LOG_FACTOR}x without it"
        )
        verdict = _at_least(
            name,
            _phase(online, "lockgate_log", connections).get("requests_per_s"),
            _phase(online, "lockgate", connections).get("requests_per_s"),
            LOG_FACTOR,
        )
        pair = (("lockgate_log", connections), ("lockgate", connections))
        out.append(verdict | {"disturbed": _disturbed(online, *pair)})
    return out


def _latency_bars(online: dict[str, Any]) -> list[dict[str, Any]]:
    floor_p50 = _phase(online, "floor", 1).get("p50_ms")
    p50 = _at_most(
        f"p50 at 1 connection (ms): at most the floor's + {P50_MARGIN_MS} ms",
        _phase(online, "lockgate", 1).get("p50_ms"),
        None if floor_p50 is None else floor_p50 + P50_MARGIN_MS,
    )
    floor_p99 = _phase(online, "floor", 32).get("p99_ms")
    p99 = _at_most(
        f"p99 at 32 connections (ms): at most {P99_FACTOR}x the floor's",
        _phase(online, "lockgate", 32).get("p99_ms"),
        None if floor_p99 is None else floor_p99 * P99_FACTOR,
    )
    return [
        p50 | {"disturbed": _disturbed(online, ("lockgate", 1), ("floor", 1))},
        p99 | {"disturbed": _disturbed(online, ("lockgate", 32), ("floor", 32))},
    ]


def online_verdicts(online: dict[str, Any]) -> list[dict[str, Any]]:
    """Each bar of the issue; `disturbed` marks a comparison in which other processes took
    more than MAX_OTHER_SHARE of the CPU during one of the phases compared."""
    out = []
    mine = online.get("lockgate", {})
    if "answers_ok" in mine:
        sane = mine["answers_ok"] and not any(
            _phase(online, "lockgate", c).get("errors") for c in (1, 32)
        )
        name = "Lockgate answers as the model does, with no errors under load"
        out.append(_bar(name, None, None, sane))
    out += _throughput_bars(online)
    out += _latency_bars(online)
    name = "throughput with a canary split: at least 0.9x without (no deployments yet)"
    out.append(_bar(name, None, None, None))
    return out


def batch_verdicts(batch: dict[str, Any], rows: int, small_rows: int) -> list[dict[str, Any]]:
    full, small = batch.get(str(rows), {}), batch.get(str(small_rows), {})
    mine, baseline = full.get("lockgate", {}), full.get("direct", {})
    speed = _at_least(
        f"batch of {rows:,} rows: at least {BATCH_FACTOR}x the rows/s of predict on the same batches",
        mine.get("rows_per_s"),
        baseline.get("rows_per_s"),
        BATCH_FACTOR,
    )
    shares = (mine.get("other_cpu_share", 0.0), baseline.get("other_cpu_share", 0.0))
    out = [speed | {"disturbed": max(shares) > MAX_OTHER_SHARE}]
    if "matches_direct" in mine:
        out.append(
            _bar("batch: the same predictions as predict", None, None, mine["matches_direct"])
        )
    peak, small_peak = mine.get("peak_rss_mib"), small.get("lockgate", {}).get("peak_rss_mib")
    out.append(
        _at_most(
            f"batch peak RSS (MiB) at {rows:,} rows: at most {MEMORY_FACTOR}x that at {small_rows:,}",
            peak if mine.get("ok") else None,
            small_peak * MEMORY_FACTOR
            if small_peak and small.get("lockgate", {}).get("ok")
            else None,
        )
    )
    return out


def verdicts(results: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    if "online" in results:
        out += online_verdicts(results["online"])
    if "batch" in results:
        config = results["config"]
        out += batch_verdicts(results["batch"], config["batch_rows"], config["small_rows"])
    return out


def _number(value: Any, digits: int = 0) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def render_table(results: dict[str, Any]) -> str:
    lines = []
    online = results.get("online", {})
    if online:
        lines.append(
            f"{'server':<14}{'c1 req/s':>10}{'p50 ms':>8}{'p99 ms':>8}"
            f"{'c32 req/s':>11}{'p50 ms':>8}{'p99 ms':>8}{'RSS MiB':>9}"
        )
        for name, measured in online.items():
            c1, c32 = _phase(online, name, 1), _phase(online, name, 32)
            lines.append(
                f"{name:<14}{_number(c1.get('requests_per_s')):>10}{_number(c1.get('p50_ms'), 2):>8}"
                f"{_number(c1.get('p99_ms'), 2):>8}{_number(c32.get('requests_per_s')):>11}"
                f"{_number(c32.get('p50_ms'), 2):>8}{_number(c32.get('p99_ms'), 2):>8}"
                f"{_number(measured.get('rss_mib'), 0):>9}"
            )
    for rows, measured in results.get("batch", {}).items():
        if not isinstance(measured, dict):
            continue
        for who in ("direct", "lockgate"):
            got = measured.get(who, {})
            lines.append(
                f"batch {int(rows):>11,} rows {who:<9} {_number(got.get('rows_per_s'))} rows/s, "
                f"peak RSS {_number(got.get('peak_rss_mib'))} MiB"
            )
    for verdict in results.get("verdicts", []):
        mark = {True: "pass", False: "FAIL", None: "n/a "}[verdict["pass"]]
        value = "" if verdict["value"] is None else f" ({verdict['value']} vs {verdict['limit']})"
        noisy = " [disturbed by other processes]" if verdict.get("disturbed") else ""
        lines.append(f"{mark}  {verdict['bar']}{value}{noisy}")
    return "\n".join(lines)
