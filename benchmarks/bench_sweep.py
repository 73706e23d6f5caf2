"""Benchmark a district sweep: batched against one run at a time, runs per second, driver memory.

Run by hand (not by the tests)::

    python benchmarks/bench_sweep.py                  # 1,000 runs of 96 months (a few minutes)
    python benchmarks/bench_sweep.py --runs 200       # a quicker look

The sweep is the baseline district with ``facilitators.groups_per_facilitator`` at 10 levels
(5, 10, ..., 50), ``--runs / 10`` paired replications each, 96 months, on the local backend.

Every sweep runs in a fresh Python subprocess (this script re-invoked with the hidden ``--child``
option) so that the driver's peak resident memory (``ru_maxrss`` of the driver process alone; the
worker processes are not counted) belongs to that sweep only. Measured:

1. the same ``--runs`` runs batched (the default batch size) with 2 worker processes and with 1
   worker (in the driver's process), and one run at a time (``--batch-size 1``, the engine before
   batching) with 2 workers: wall time, runs per second, the speed-up of batching and of the second worker;
2. the driver's peak memory with 2 workers at ``--small-runs`` (default 100) runs and at ``--runs``
   runs: it should stay flat, since each run's rows go to disk as its batch finishes.

Wall time covers :func:`kube_sim.experiments.sweep.run_sweep` from start to end: the pilot run, starting the
workers, every run, writing the part files, and consolidating the tables. The last line printed on
stdout is one JSON object with the figures. Progress goes to stderr.

The machine may be shared: each sweep also reports the mean time of one run inside the workers and
the share of the wall time the workers were busy running models, and the 1-minute load average
before and after, so that a speed-up cut by other load can be told from one cut by the driver.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

LEVELS = tuple(range(5, 55, 5))
"""Caseloads swept (10 arms)."""

EXPERIMENT = """\
name = "bench_sweep"
description = "Benchmark: the baseline district with ten caseloads."
base_scenario = "baseline"
months = {months}
replications = {replications}
master_seed = 7

[factors]
"facilitators.groups_per_facilitator" = {levels}
"""


def peak_rss_mb() -> float:
    """Peak resident memory of this process (MiB)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def child(runs: int, workers: int, months: int, batch_size: int = 0) -> dict[str, Any]:
    """Run one sweep in this process (the driver) and report its figures."""
    import pandas as pd

    from kube_sim.experiments.batching import BatchSettings
    from kube_sim.experiments.experiment import parse_experiment
    from kube_sim.experiments.sweep import plan_experiment, run_sweep

    replications = max(1, runs // len(LEVELS))
    text = EXPERIMENT.format(months=months, replications=replications, levels=list(LEVELS))
    plan = plan_experiment(parse_experiment(text, "bench_sweep.toml"))
    rss_before = peak_rss_mb()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="kube-bench-sweep-") as tmp:
        start = time.perf_counter()
        summary = run_sweep(plan, Path(tmp) / "out", workers=workers, progress=False, echo=None,
                            batch=BatchSettings(batch_size=batch_size))
        wall = time.perf_counter() - start
        sizes = {p.name: p.stat().st_size for p in (Path(tmp) / "out").glob("*.parquet")}
        run_seconds = float(pd.read_parquet(Path(tmp) / "out" / "runs.parquet", columns=["duration_s"]).sum().iloc[0])
    return {
        "mean_run_s": run_seconds / plan.n_runs, "busy_share": run_seconds / (wall * workers),
        "load_1min_before": load_before, "load_1min_after": os.getloadavg()[0],
        "runs": plan.n_runs, "workers": workers, "months": months, "batch_size": batch_size, "runs_ok": summary.runs_ok,
        "runs_failed": summary.runs_failed, "wall_s": wall, "runs_per_s": plan.n_runs / wall,
        "driver_peak_rss_mb": peak_rss_mb(), "driver_rss_before_sweep_mb": rss_before,
        "table_bytes": sizes,
    }


def spawn(runs: int, workers: int, months: int, batch_size: int = 0) -> dict[str, Any]:
    """Run :func:`child` in a fresh interpreter and return its JSON."""
    how = "one run at a time" if batch_size == 1 else "batched"
    print(f"  sweep of {runs} runs x {months} months, {workers} worker(s), {how} ...", file=sys.stderr, flush=True)
    out = subprocess.run([sys.executable, __file__, "--child", "--runs", str(runs), "--workers", str(workers),
                          "--months", str(months), "--batch-size", str(batch_size)],
                         capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"    {result['wall_s']:.1f} s, {result['runs_per_s']:.2f} runs/s, {result['mean_run_s']:.3f} s per run, "
          f"workers busy {result['busy_share']:.0%}, driver peak {result['driver_peak_rss_mb']:.0f} MiB, "
          f"load {result['load_1min_before']:.1f} -> {result['load_1min_after']:.1f}", file=sys.stderr, flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures, then one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1000, help="runs in the large sweep (default 1000)")
    parser.add_argument("--small-runs", type=int, default=100, help="runs in the small sweep (default 100)")
    parser.add_argument("--months", type=int, default=96, help="months per run (default 96)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, default=2, help=argparse.SUPPRESS)
    parser.add_argument("--batch-size", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        print(json.dumps(child(args.runs, args.workers, args.months, args.batch_size)))
        return 0

    cpus = os.process_cpu_count() if hasattr(os, "process_cpu_count") else os.cpu_count()
    print(f"bench_sweep: district sweeps of {args.months} months on {cpus} CPUs", file=sys.stderr)
    small = spawn(args.small_runs, 2, args.months)
    alone = spawn(args.runs, 2, args.months, batch_size=1)
    one = spawn(args.runs, 1, args.months)
    two = spawn(args.runs, 2, args.months)
    speedup = one["wall_s"] / two["wall_s"]
    batching = alone["wall_s"] / two["wall_s"]

    lines = [
        f"runs                         {two['runs']} ({len(LEVELS)} arms x {two['runs'] // len(LEVELS)} "
        f"replications), {args.months} months each",
        f"batched, 2 workers           {two['wall_s']:.1f} s  ({two['runs_per_s']:.2f} runs/s)",
        f"batched, 1 worker            {one['wall_s']:.1f} s  ({one['runs_per_s']:.2f} runs/s)",
        f"one at a time, 2 workers     {alone['wall_s']:.1f} s  ({alone['runs_per_s']:.2f} runs/s)",
        f"speed-up of batching         {batching:.2f}x  (2 workers each)",
        f"speed-up of 2 workers over 1 {speedup:.2f}x  (mean run {one['mean_run_s']:.3f} s alone, "
        f"{two['mean_run_s']:.3f} s with 2 workers; workers busy {two['busy_share']:.0%} of the wall time)",
        f"driver peak memory           {small['driver_peak_rss_mb']:.0f} MiB at {small['runs']} runs, "
        f"{two['driver_peak_rss_mb']:.0f} MiB at {two['runs']} runs (2 workers)",
        "tables written               "
        + ", ".join(f"{k} {v / 1e6:.1f} MB" for k, v in sorted(two["table_bytes"].items())),
    ]
    print("\n".join(lines))
    summary = {
        "runs": two["runs"],
        "months": args.months,
        "cpus": cpus,
        "total_s_2_workers": round(two["wall_s"], 2),
        "total_s_one_at_a_time_2_workers": round(alone["wall_s"], 2),
        "runs_per_s_one_at_a_time_2_workers": round(alone["runs_per_s"], 3),
        "speedup_batched_over_one_at_a_time": round(batching, 3),
        "runs_per_s_2_workers": round(two["runs_per_s"], 3),
        "total_s_1_worker": round(one["wall_s"], 2),
        "runs_per_s_1_worker": round(one["runs_per_s"], 3),
        "speedup_2_over_1": round(speedup, 3),
        f"driver_peak_rss_mb_{small['runs']}_runs": round(small["driver_peak_rss_mb"], 1),
        f"driver_peak_rss_mb_{two['runs']}_runs": round(two["driver_peak_rss_mb"], 1),
        "mean_run_s_1_worker": round(one["mean_run_s"], 4),
        "mean_run_s_2_workers": round(two["mean_run_s"], 4),
        "workers_busy_share_2_workers": round(two["busy_share"], 3),
        "runs_failed": one["runs_failed"] + two["runs_failed"] + small["runs_failed"] + alone["runs_failed"],
        "python": platform.python_version(),
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
