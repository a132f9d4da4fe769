"""Ratios against the peers, the targets Lockgate is held to, and the table printed to stderr.

A ratio is "times better than the peer": Lockgate's throughput over the peer's, or the peer's
latency (memory, start-up time) over Lockgate's. Above 1 means Lockgate is ahead. A search that
timed out counts as taking the timeout, so ratios against it are lower bounds (shown with ">").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

PEERS = ("mlflow", "fasttrackml")


@dataclass(frozen=True)
class Measure:
    """One reported number: where it sits in a system's results and which way is better."""

    name: str
    label: str
    path: tuple[str, ...]
    higher_is_better: bool | None  # None: no "better" (durability is a trade-off)
    unit: str

    def get(self, system: dict[str, Any]) -> float | None:
        node: Any = system
        for part in self.path:
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        return float(node) if isinstance(node, int | float) else None

    def is_bound(self, system: dict[str, Any]) -> bool:
        """Whether the value is only a bound (the call timed out)."""
        node: Any = system
        for part in self.path[:-1]:
            node = node.get(part, {}) if isinstance(node, dict) else {}
        return isinstance(node, dict) and bool(node.get("timed_out"))


def measures(sizes: list[str]) -> list[Measure]:
    """Every reported number, given the search sizes measured."""
    found = [
        Measure(
            "single_c1_rps", "log-metric, 1 conn", ("single_c1", "requests_per_s"), True, "req/s"
        ),
        Measure(
            "single_c8_rps", "log-metric, 8 conns", ("single_c8", "requests_per_s"), True, "req/s"
        ),
    ]
    for connections in (1, 4):
        phase = f"batch_c{connections}"
        label = f"batches of 1,000, {connections} conn{'s' if connections > 1 else ''}"
        found.append(
            Measure(f"{phase}_metrics_per_s", label, (phase, "metrics_per_s"), True, "metrics/s")
        )
    for size in sizes:
        for q in ("p50", "p95"):
            label = f"search {int(size):,} runs {q}"
            found.append(
                Measure(f"search_{size}_{q}_s", label, ("search", size, f"{q}_s"), False, "s")
            )
    return [
        *found,
        Measure("history_p50_s", "history p50", ("history", "p50_s"), False, "s"),
        Measure("history_p95_s", "history p95", ("history", "p95_s"), False, "s"),
        Measure("rss_mib", "server RSS after the run", ("rss_group_mib",), False, "MiB"),
        Measure(
            "fsyncs_per_1000_writes",
            "fsyncs per 1,000 acked writes",
            ("syncs", "fsyncs_per_1000_writes"),
            None,
            "n",
        ),
        Measure("startup_s", "cold start to first 200", ("startup_s",), False, "s"),
    ]


def _ratio(measure: Measure, ours: float | None, theirs: float | None) -> float | None:
    if measure.higher_is_better is None:
        return None
    if ours is None or theirs is None or ours <= 0 or theirs <= 0:
        return None
    return round(ours / theirs if measure.higher_is_better else theirs / ours, 2)


@dataclass(frozen=True)
class Target:
    """A bar Lockgate must clear on every backend measured."""

    id: str
    description: str
    check: Callable[[dict[str, float | None], dict[str, dict[str, float | None]]], bool | None]


def _at_least(value: float | None, bar: float) -> bool | None:
    return None if value is None else value >= bar


def _at_most(value: float | None, bar: float) -> bool | None:
    return None if value is None else value <= bar


def _search_all_sizes(ratios: dict[str, float | None], bar: float) -> bool | None:
    found = [v for k, v in ratios.items() if k.startswith("search_") and k.endswith("_p50_s")]
    if not found or any(v is None for v in found):
        return None
    return all(v is not None and v >= bar for v in found)


def _largest_p95(values: dict[str, float | None]) -> float | None:
    """The p95 of the largest search size measured."""
    keys = [k for k in values if k.startswith("search_") and k.endswith("_p95_s")]
    keys.sort(key=lambda k: int(k.split("_")[1]))
    return values[keys[-1]] if keys else None


def _ratio_target(target_id: str, measure: str, peer: str, bar: float, description: str) -> Target:
    return Target(target_id, description, lambda v, r: _at_least(r[peer].get(measure), bar))


# The bars of the tracking issue (#2), exactly as it states them.
TARGETS = [
    *(
        _ratio_target(
            f"{measure}_vs_{peer}",
            measure,
            peer,
            bar,
            f"log-metric at {conns}: at least {bar:g}x {name}",
        )
        for measure, conns in (
            ("single_c1_rps", "1 connection"),
            ("single_c8_rps", "8 connections"),
        )
        for peer, name, bar in (("mlflow", "MLflow", 5.0), ("fasttrackml", "FastTrackML", 0.8))
    ),
    _ratio_target(
        "batch_vs_mlflow",
        "batch_c1_metrics_per_s",
        "mlflow",
        5.0,
        "batched logging (1,000 per request): at least 5x MLflow",
    ),
    _ratio_target(
        "batch_vs_fasttrackml",
        "batch_c1_metrics_per_s",
        "fasttrackml",
        1.0,
        "batched logging (1,000 per request): at least 1x FastTrackML",
    ),
    Target(
        "search_vs_mlflow",
        "run search p50: at least 10x faster than MLflow at every size",
        lambda v, r: _search_all_sizes(r["mlflow"], 10.0),
    ),
    Target(
        "search_vs_fasttrackml",
        "run search p50: at least 1x FastTrackML at every size",
        lambda v, r: _search_all_sizes(r["fasttrackml"], 1.0),
    ),
    Target(
        "search_largest_p95",
        "run search p95 at the largest size: under 100 ms",
        lambda v, r: _at_most(_largest_p95(v), 0.1),
    ),
    _ratio_target(
        "history_vs_mlflow",
        "history_p50_s",
        "mlflow",
        5.0,
        "metric history of 20,000 points: at least 5x MLflow",
    ),
    Target(
        "rss",
        "server memory after the run: under 300 MB",
        lambda v, r: _at_most(v.get("rss_mib"), 300),
    ),
    Target("startup", "start-up: under 2 s", lambda v, r: _at_most(v.get("startup_s"), 2.0)),
]


def summarize(results: dict[str, Any]) -> dict[str, Any]:
    """Per backend: every measure per system, Lockgate's ratios and the targets' verdicts."""
    summary: dict[str, Any] = {}
    for backend, systems in results["backends"].items():
        sizes = sorted({s for sys in systems.values() for s in sys.get("search", {})}, key=int)
        table = {
            name: {m.name: m.get(data) for m in measures(sizes)} for name, data in systems.items()
        }
        bounds = {
            name: [m.name for m in measures(sizes) if m.is_bound(data)]
            for name, data in systems.items()
        }
        entry: dict[str, Any] = {"values": table, "timed_out": bounds}
        if "lockgate" in systems:
            ours = table["lockgate"]
            ratios = {
                peer: {
                    m.name: _ratio(m, ours[m.name], table[peer][m.name]) for m in measures(sizes)
                }
                for peer in PEERS
                if peer in table
            }
            entry["lockgate_vs"] = ratios
            full = {peer: ratios.get(peer, {}) for peer in PEERS}
            entry["targets"] = [
                {"id": t.id, "description": t.description, "pass": t.check(ours, full)}
                for t in TARGETS
            ]
        summary[backend] = entry
    return summary


def _fmt(value: float | None, bound: bool = False) -> str:
    if value is None:
        return "-"
    mark = ">" if bound else ""
    if value >= 100:
        return f"{mark}{value:,.0f}"
    if value >= 1:
        return f"{mark}{value:.2f}"
    return f"{mark}{value:.3f}"


def render_table(results: dict[str, Any]) -> str:
    workers = results.get("config", {}).get("lockgate_workers", 1)
    lines = [f"Lockgate server worker processes (LOCKGATE_WORKERS): {workers}"]
    for backend, entry in results["summary"].items():
        table = entry["values"]
        names = list(table)
        ratio_cols = [p for p in PEERS if p in entry.get("lockgate_vs", {})]
        header = ["measure (" + backend + ")", *names, *(f"x vs {p}" for p in ratio_cols)]
        rows = [header]
        sizes = sorted(
            {s for sys in results["backends"][backend].values() for s in sys.get("search", {})},
            key=int,
        )
        for m in measures(sizes):
            if all(table[n][m.name] is None for n in names):
                continue
            bound = {n: m.name in entry["timed_out"][n] for n in names}
            row = [f"{m.label} ({m.unit})", *(_fmt(table[n][m.name], bound[n]) for n in names)]
            row += [_fmt(entry["lockgate_vs"][p][m.name], bound[p]) for p in ratio_cols]
            rows.append(row)
        widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
        lines.append("")
        for i, row in enumerate(rows):
            cells = [row[0].ljust(widths[0])] + [
                c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
            ]
            lines.append("  ".join(cells))
            if i == 0:
                lines.append("  ".join("-" * w for w in widths))
        for target in entry.get("targets", []):
            verdict = {True: "PASS", False: "FAIL", None: "n/a "}[target["pass"]]
            lines.append(f"  [{verdict}] {target['description']}")
    return "\n".join(lines)
