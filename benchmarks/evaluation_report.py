"""The evaluation benchmark's summary: medians over the runs of each system, Lockgate's speed-up
over `mlflow.evaluate` and its verdict against the issue's bar, the metrics both computed side
by side, and the table printed to stderr."""

from __future__ import annotations

import statistics
from typing import Any

BAR = 5.0  # issue 5: Lockgate's evaluate at least 5x faster than mlflow.evaluate
# Lockgate's metric name -> MLflow's, for the metrics both compute (MLflow's
# precision_recall_auc is scikit-learn's average precision, as Lockgate's pr_auc is).
SAME_METRICS = {
    "accuracy": "accuracy_score",
    "precision": "precision_score",
    "recall": "recall_score",
    "f1": "f1_score",
    "roc_auc": "roc_auc",
    "log_loss": "log_loss",
    "pr_auc": "precision_recall_auc",
}
TIMED = {"mlflow": "evaluate_s", "lockgate": "evaluate_s", "engine": "engine_s"}
CALL = {"mlflow": "evaluate", "lockgate": "evaluate", "engine": "engine"}  # the call's meter
LABELS = {
    "mlflow": "MLflow mlflow.evaluate",
    "lockgate": "Lockgate client.evaluate",
    "engine": "Lockgate engine alone",
}


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 3) if values else None


def _system_summary(system: str, runs: list[dict[str, Any]]) -> dict[str, Any]:
    ok = [run for run in runs if run.get("ok")]
    timed = [run[TIMED[system]] for run in ok]
    scoring_keys = sorted({key for run in ok for key in run.get("scoring", {})})
    calls = [run[CALL[system]] for run in ok if CALL[system] in run]
    return {
        "runs": len(runs),
        "ok_runs": len(ok),
        "timed_s": _median(timed),
        "timed_min_s": round(min(timed), 3) if timed else None,
        "timed_max_s": round(max(timed), 3) if timed else None,
        "call_cpu_s": _median([call["cpu_s"] for call in calls]),
        "call_rss_before_mib": _median([call["rss_before_mib"] for call in calls]),
        "call_peak_rss_mib": _median([call["peak_rss_mib"] for call in calls]),
        "process_peak_rss_mib": _median([run["peak_rss_mib"] for run in ok]),
        "process_cpu_s": _median([run["process_cpu_s"] for run in ok]),
        "process_wall_s": _median([run["process_wall_s"] for run in ok]),
        "scoring_s": {
            key: _median([run["scoring"][key] for run in ok if key in run.get("scoring", {})])
            for key in scoring_keys
        },
        "max_other_cpu_share": max((run["other_cpu_share"] for run in runs), default=None),
    }


def _ratio(slower: float | None, faster: float | None) -> float | None:
    if slower is None or faster is None or faster <= 0:
        return None
    return round(slower / faster, 2)


def _metrics_side_by_side(runs: dict[str, Any]) -> dict[str, Any]:
    """The first successful run's metrics of each side, paired where both compute one."""

    def first_ok(system: str) -> dict[str, Any]:
        found = runs.get(system)
        if not isinstance(found, list):
            return {}
        return next((run for run in found if run.get("ok")), {})

    ours, theirs = first_ok("lockgate") or first_ok("engine"), first_ok("mlflow")
    lockgate_metrics = ours.get("metrics", {})
    mlflow_metrics = theirs.get("metrics", {})
    pairs = {}
    for name, other in SAME_METRICS.items():
        mine = lockgate_metrics.get(name, {}).get("value")
        peer = mlflow_metrics.get(other)
        difference = None if mine is None or peer is None else abs(mine - peer)
        pairs[name] = {"mlflow_name": other, "lockgate": mine, "mlflow": peer, "diff": difference}
    differences = [pair["diff"] for pair in pairs.values() if pair["diff"] is not None]
    return {
        "max_abs_diff": max(differences, default=None),
        "mlflow_computed": sorted(mlflow_metrics),
        "mlflow_artifacts": theirs.get("artifacts", []),
        "lockgate_computed": sorted(lockgate_metrics),
        "lockgate": lockgate_metrics,
        "pairs": pairs,
    }


def summarize(runs: dict[str, Any]) -> dict[str, Any]:
    systems = {
        system: _system_summary(system, found)
        for system, found in runs.items()
        if isinstance(found, list)
    }

    def timed(system: str, key: str = "timed_s") -> float | None:
        return systems.get(system, {}).get(key)

    ratio = _ratio(timed("mlflow"), timed("lockgate"))
    return {
        "systems": systems,
        "lockgate_evaluate_s": timed("lockgate"),
        "lockgate_engine_s": timed("engine"),
        "mlflow_evaluate_s": timed("mlflow"),
        "mlflow_over_lockgate": ratio,
        "mlflow_over_lockgate_best": _ratio(
            timed("mlflow", "timed_min_s"), timed("lockgate", "timed_min_s")
        ),
        "mlflow_over_engine": _ratio(timed("mlflow"), timed("engine")),
        "bar": BAR,
        "pass": None if ratio is None else ratio >= BAR,
        "metrics": _metrics_side_by_side(runs),
    }


def _fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _systems_table(summary: dict[str, Any]) -> list[str]:
    header = (
        "system",
        "s (median)",
        "min",
        "max",
        "CPU s",
        "RSS before MiB",
        "peak RSS MiB",
        "process peak MiB",
        "runs",
    )
    rows = [header]
    for system, entry in summary["systems"].items():
        rows.append(
            (
                LABELS[system],
                _fmt(entry["timed_s"]),
                _fmt(entry["timed_min_s"]),
                _fmt(entry["timed_max_s"]),
                _fmt(entry["call_cpu_s"]),
                _fmt(entry["call_rss_before_mib"], 0),
                _fmt(entry["call_peak_rss_mib"], 0),
                _fmt(entry["process_peak_rss_mib"], 0),
                f"{entry['ok_runs']}/{entry['runs']}",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = []
    for index, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [
            cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)
        ]
        lines.append("  ".join(cells))
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    return lines


def render_table(results: dict[str, Any]) -> str:
    summary = results["summary"]
    config = results["config"]
    lines = [
        f"{config['rows']:,} rows, {config['resamples']:,} resamples, threads: "
        f"{results['threads']}; CPUs: {config['cpus'] or 'all'}",
        "",
        *_systems_table(summary),
        "(each system's timed call: its time, the CPU time of all its process's threads, the "
        "RSS before it and at its peak during it; the whole process's peak)",
        "",
    ]
    for system, entry in summary["systems"].items():
        scoring = ", ".join(f"{k} {_fmt(v, 3)} s" for k, v in entry["scoring_s"].items())
        if scoring:
            lines.append(f"scoring alone, {LABELS[system]}: {scoring}")
    verdict = {True: "PASS", False: "FAIL", None: "n/a "}[summary["pass"]]
    lines += [
        "",
        f"[{verdict}] client.evaluate at least {BAR:g}x faster than mlflow.evaluate: "
        f"{_fmt(summary['mlflow_over_lockgate'])}x (best of each: "
        f"{_fmt(summary['mlflow_over_lockgate_best'])}x; engine alone "
        f"{_fmt(summary['mlflow_over_engine'])}x)",
        "",
        "metric        lockgate [interval]                  mlflow",
    ]
    metrics = summary["metrics"]
    for name, pair in metrics["pairs"].items():
        interval = metrics["lockgate"].get(name, {})
        bounds = f"[{_fmt(interval.get('lower'), 4)}, {_fmt(interval.get('upper'), 4)}]"
        lines.append(
            f"{name:<13} {_fmt(pair['lockgate'], 6):>9} {bounds:<26} "
            f"{_fmt(pair['mlflow'], 6):>9} ({pair['mlflow_name']})"
        )
    lines.append(f"largest difference between the two: {metrics['max_abs_diff']}")
    lines.append(f"MLflow computed: {', '.join(metrics['mlflow_computed']) or '-'}")
    lines.append(f"Lockgate computed: {', '.join(metrics['lockgate_computed']) or '-'}")
    return "\n".join(lines)
