"""What the prediction log costs, measured with less drift: `lockgate serve` with the log off and
with it on, both up at once (pinned to the same core, the idle one idle), loaded in turn by wrk
in short interleaved phases; each round's ratio and their median are printed.

A full `benchmarks/serving.py` run measures each server once, a minute apart, and the machine's
speed drifts by several percent over that time; interleaving cancels most of the drift, so
changes to the log worth a percent can be told apart. See docs/benchmarks.md.

    .venv/bin/python benchmarks/serving_log_ab.py [--rounds 12] [--duration 5] [--connections 32]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from serving_load import require_wrk, run_wrk, script_path, write_script
from serving_peers import ensure_model, lockgate_target, request_rows

from serving import Config, lockgate_features, lockgate_registry

TARGETS = ("lockgate", "lockgate_log")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per phase")
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    config = Config(False, ("online",), TARGETS, args.duration, 3, 1, 10, 0, 0)
    wrk = require_wrk()
    workdir = Path(tempfile.mkdtemp(prefix="lockgate-bench-log-ab-"))
    with lockgate_registry(config, lockgate_features(), ensure_model(), workdir) as api_url:
        if api_url is None:
            raise SystemExit("Lockgate cannot log the model here")
        targets = [lockgate_target(name, api_url, workdir) for name in TARGETS]
        try:
            scripts = []
            for target in targets:
                target.server.start()
                target.server.wait_healthy()
                bodies = [target.encode(row) for row in request_rows()]
                scripts.append(write_script(bodies, script_path(workdir, target.name)))
            for target, script in zip(targets, scripts, strict=True):  # warm-up
                run_wrk(wrk, target.url, script, connections=args.connections, duration_s=5)
            ratios = []
            for round_ in range(args.rounds):
                rates = [0.0, 0.0]
                for index in (0, 1) if round_ % 2 == 0 else (1, 0):  # who goes first alternates
                    result = run_wrk(
                        wrk,
                        targets[index].url,
                        scripts[index],
                        connections=args.connections,
                        duration_s=args.duration,
                    )
                    rates[index] = result.requests_per_s
                ratios.append(rates[1] / rates[0])
                print(f"round {round_}: off {rates[0]:,.0f} on {rates[1]:,.0f} req/s, "
                      f"{ratios[-1]:.3f}x", flush=True)  # fmt: skip
            print(
                f"prediction log on at {args.connections} connections: median "
                f"{statistics.median(ratios):.3f}x, mean {statistics.mean(ratios):.3f}x, "
                f"sd {statistics.stdev(ratios):.3f} over {args.rounds} rounds"
            )
        finally:
            for target in targets:
                target.server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
