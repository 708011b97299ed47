"""Run the benchmarks and print one table of ratios against same-run baselines.

    python bench/run.py [--quick] [NAME ...]

NAME is any of: hotpath-render, ingest, otlp, load, cli, restart, cold-start, snapshot, growth,
tracing, pricing, fuzz, fuzz-otlp, prometheus, waiting, durable.
Absolute times on a shared machine are noise; read the ratio column.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))

import bench_cli
import bench_coldstart
import bench_durable
import bench_exposition
import bench_fuzz
import bench_fuzz_otlp
import bench_growth
import bench_ingest
import bench_load
import bench_otlp
import bench_pricing
import bench_prometheus
import bench_restart
import bench_snapshot
import bench_tracing
import bench_waiting
from common import table

BENCHMARKS = {
    "hotpath-render": bench_exposition.run,
    "ingest": bench_ingest.run,
    "otlp": bench_otlp.run,
    "load": bench_load.run,
    "cli": bench_cli.run,
    "restart": bench_restart.run,
    "cold-start": bench_coldstart.run,
    "snapshot": bench_snapshot.run,
    "growth": bench_growth.run,
    "tracing": bench_tracing.run,
    "pricing": bench_pricing.run,
    "fuzz": bench_fuzz.run,
    "fuzz-otlp": bench_fuzz_otlp.run,
    "prometheus": bench_prometheus.run,
    "waiting": bench_waiting.run,
    "durable": bench_durable.run,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer rounds")
    parser.add_argument("names", nargs="*", choices=[*BENCHMARKS, []], default=[])
    args = parser.parse_args()
    results = []
    for name in args.names or list(BENCHMARKS):
        print(f"running {name} ...", file=sys.stderr, flush=True)
        results.extend(BENCHMARKS[name](quick=args.quick))
    print(
        f"# {os.cpu_count()} cores, {platform.machine()}, {platform.python_implementation()} "
        f"{platform.python_version()}, {time.strftime('%Y-%m-%d', time.gmtime())}"
    )
    print(table(results))
    return 0 if all(r.passed is not False for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
