"""The benchmark's options: the command line and the full and quick configurations."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

SYSTEMS = ("lockgate", "mlflow", "fasttrackml")
BACKENDS = ("sqlite", "postgresql")


@dataclass(frozen=True)
class Config:
    quick: bool
    backends: tuple[str, ...]
    systems: tuple[str, ...]
    duration_s: float
    warmup_s: float
    sizes: tuple[int, ...]  # run counts searched; the first is seeded through the API
    api_seed: bool  # False: even the first size is seeded in bulk (--quick)
    search_repeats: int
    latency_warmup: int  # unmeasured calls before each latency series
    quiet_wait_s: float  # at most this long for the cores to go idle before measuring
    search_timeout_s: float  # a slower search is reported as "> this"
    phase_attempts: int  # tries at a load phase that other processes disturbed
    sync_normal: bool  # also measure Lockgate's logging with sqlite_synchronous=normal
    count_syncs: bool  # count fsyncs per acknowledged write on SQLite (strace)
    search_budget_s: float
    history_points: int
    cold_start_peers: bool
    phases: tuple[tuple[str, int], ...]  # (single|batch, connections), measured in this order
    seed_deadline_s: float = 1800.0
    lockgate_workers: int = 1  # LOCKGATE_WORKERS of the Lockgate servers under test

    def phase_names(self) -> list[str]:
        return [f"{kind}_c{connections}" for kind, connections in self.phases]


def parse_config(argv: list[str] | None = None) -> tuple[Config, Path | None]:
    parser = argparse.ArgumentParser(
        description="Tracking benchmark: Lockgate against MLflow and FastTrackML."
    )
    parser.add_argument("--quick", action="store_true", help="a one-minute smoke run")
    parser.add_argument("--backends", default=None, help="comma-separated: sqlite,postgresql")
    parser.add_argument("--systems", default=",".join(SYSTEMS), help="comma-separated")
    parser.add_argument("--duration", type=float, default=None, help="seconds per load phase")
    parser.add_argument("--output", type=Path, default=None, help="also write the JSON here")
    parser.add_argument(
        "--lockgate-workers",
        type=int,
        default=1,
        help="server worker processes for Lockgate (its `workers` setting); default 1",
    )
    args = parser.parse_args(argv)
    backends = tuple((args.backends or ("sqlite" if args.quick else ",".join(BACKENDS))).split(","))
    systems = tuple(args.systems.split(","))
    for name, allowed in ((backends, BACKENDS), (systems, SYSTEMS)):
        unknown = set(name) - set(allowed)
        if unknown:
            parser.error(f"unknown: {', '.join(sorted(unknown))}; choose from {', '.join(allowed)}")
    systems = tuple(s for s in SYSTEMS if s in systems)  # Lockgate first in every table
    if args.lockgate_workers < 1:
        parser.error("--lockgate-workers must be at least 1")
    if args.quick:
        config = Config(
            quick=True,
            backends=backends,
            systems=systems,
            duration_s=args.duration or 2.0,
            warmup_s=0.0,
            sizes=(2_000,),
            api_seed=False,
            search_repeats=3,
            latency_warmup=0,
            quiet_wait_s=3.0,
            search_timeout_s=60.0,
            phase_attempts=1,
            sync_normal=False,
            count_syncs=False,
            search_budget_s=5.0,
            history_points=2_000,
            cold_start_peers=False,
            phases=(("single", 1), ("single", 8), ("batch", 1)),
            lockgate_workers=args.lockgate_workers,
        )
    else:
        config = Config(
            quick=False,
            backends=backends,
            systems=systems,
            duration_s=args.duration or 10.0,
            warmup_s=2.0,
            sizes=(2_000, 20_000, 100_000),
            api_seed=True,
            search_repeats=10,
            latency_warmup=1,
            quiet_wait_s=60.0,
            search_timeout_s=120.0,
            phase_attempts=3,
            sync_normal=True,
            count_syncs=True,
            search_budget_s=30.0,
            history_points=20_000,
            cold_start_peers=True,
            phases=(("single", 1), ("single", 8), ("batch", 1), ("batch", 4)),
            lockgate_workers=args.lockgate_workers,
        )
    return config, args.output
