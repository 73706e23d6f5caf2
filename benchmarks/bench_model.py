"""Benchmark kube-sim at district, province and national scale against Mesa's Boltzmann example.

Run by hand (not by the tests)::

    python benchmarks/bench_model.py                  # district scale
    python benchmarks/bench_model.py --scale all      # district, province and national

Every model run happens in a fresh Python subprocess (this script re-invoked with the hidden
``--worker`` option), so peak resident memory is measured per run: the child reports its own
``ru_maxrss``. Wall time is ``run_model`` from start to end: building the model, running the
months, and assembling the result tables (imports are excluded).

**Member-months** are the sum over the months of the monthly ``members_funded`` column: the member
households in the model that month. Every one of them is simulated each month (engagement draws,
income and its yearly average, poverty status), whether its group still runs or not. The stricter
count of members of running groups only (``members_in_groups``, equal to the member table's
``member_months`` total, checked) is reported too, as ``member_months_in_groups`` and
``ratio_in_groups``.

Mesa's own BoltzmannWealth example (1,000 agents on a 32 x 32 grid, about one agent per cell as in
Mesa's own benchmarks, 100 steps, best of 3) is run in the same invocation, also in a subprocess,
before and after the model runs; the faster of the two gives agent-steps per second. Its timer
covers ``step()`` only (its build is excluded, which makes its rate higher and the ratio
conservative); the build-inclusive rate is reported too. Since wall times on a shared machine vary
with other load, the ratio is also given from process CPU times (``ratio_cpu``).

The last line printed on stdout is one JSON object with ``member_months_per_s``,
``boltzmann_agent_steps_per_s``, ``ratio``, and ``peak_rss_mb`` for the largest scale run,
``scale`` (its name), and ``scales`` (per-scale details). Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

SCALES: tuple[str, ...] = ("district", "province", "national")
"""Scales, smallest first."""

SCALE_LABELS: dict[str, str] = {
    "district": "Polewali Mandar (1 district)",
    "province": "West Sulawesi (6 districts)",
    "national": "national (>= 100,000 groups)",
}

DEFAULT_REPLICAS: dict[str, int | None] = {"district": 1, "province": 6, "national": None}
"""District copies per scale; national is computed (see :func:`national_replicas`)."""

NATIONAL_TARGET_GROUPS = 100_000
"""Groups that must be funded over the run at national scale."""

PILOT_REPLICAS = 40
"""District copies in the pilot run that estimates groups funded per district copy."""

NATIONAL_MARGIN = 1.01
"""Safety factor on the national replica count (the pilot's sampling error is about 0.1%)."""

BOLTZMANN_AGENTS = 1_000
BOLTZMANN_STEPS = 100
BOLTZMANN_GRID = 32  # 32 x 32 = 1,024 cells: about one agent per cell, as in Mesa's own benchmarks

GOAL_RATIO = 10.0
AIM_RATIO = 25.0
GOAL_NATIONAL_RSS_MB = 4096.0

SCRIPT = Path(__file__).resolve()


def log(message: str) -> None:
    """Write a progress line to stderr.

    Args:
        message: The line.
    """
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def peak_rss_mb() -> float:
    """Return this process's peak resident set size in MB (``ru_maxrss``; KB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def code_version() -> dict[str, Any]:
    """Return the git commit of the code and whether ``kube_sim/`` had uncommitted changes.

    Returns:
        ``{"commit": ..., "kube_sim_uncommitted_changes": ...}`` (None values when git is unavailable).
    """
    root = SCRIPT.parent.parent

    def git(*args: str) -> str | None:
        try:
            proc = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True, timeout=30)
        except (OSError, subprocess.SubprocessError):
            return None
        return proc.stdout.strip()

    status = git("status", "--porcelain", "--", "kube_sim")
    return {"commit": git("rev-parse", "--short", "HEAD"),
            "kube_sim_uncommitted_changes": None if status is None else bool(status)}


def current_rss_mb() -> float | None:
    """Return this process's current resident set size in MB (Linux ``/proc``; None elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE") / (1024 * 1024)


# --- child processes ---------------------------------------------------------------------------

def worker_kube(replicas: int, rounds: int, months: int, seed: int, label: str) -> dict[str, Any]:
    """Run the model once in this (fresh) process and measure it.

    Args:
        replicas: District copies (``district.replicas``).
        rounds: Yearly funding rounds (``funding.rounds``).
        months: Months to run.
        seed: Run seed.
        label: Name shown in progress lines.

    Returns:
        Measurements: sizes, member-months, wall time split into phases, peak RSS.
    """
    import numpy as np

    from kube_sim.model.parameters import make_parameters
    from kube_sim.model.run import run_model

    rss_imports = peak_rss_mb()
    params = make_parameters({"district.replicas": replicas, "funding.rounds": rounds})
    marks: list[float] = []
    report_every = max(months // 10, 1)

    rss: dict[str, float | None] = {}

    def on_month(month: int) -> None:
        marks.append(time.perf_counter())
        if month == 1:
            rss["after_month_1"] = current_rss_mb()
        if month == months:
            rss["after_last_month"] = current_rss_mb()
        if month % report_every == 0 and marks[-1] - start >= 2.0:  # only for long runs
            log(f"  {label}: month {month}/{months} ({marks[-1] - start:.1f} s)")

    cpu_start = time.process_time()
    start = time.perf_counter()
    result = run_model(params, seed=seed, months=months, on_month=on_month)
    end = time.perf_counter()
    cpu = time.process_time() - cpu_start

    monthly = result.monthly
    member_months = int(monthly["members_funded"].sum())
    in_groups = int(monthly["members_in_groups"].sum())
    check = int(result.members["member_months"].sum())
    month_times = np.diff(np.asarray([start, *marks]))
    wall = end - start
    return {
        "replicas": replicas,
        "rounds": rounds,
        "months": months,
        "seed": seed,
        "groups": len(result.groups),
        "members": len(result.members),
        "facilitators": int(monthly["facilitators_working"].max()),
        "events": len(result.events),
        "groups_running_at_end": int(monthly["groups_active"].iloc[-1] + monthly["groups_training"].iloc[-1]),
        "members_in_groups_at_end": int(monthly["members_in_groups"].iloc[-1]),
        "member_months": member_months,
        "member_months_in_groups": in_groups,
        "member_months_in_groups_check": check,
        "member_months_in_groups_per_s": in_groups / wall,
        "wall_s": wall,
        "build_and_first_month_s": float(month_times[0]),
        "months_2_to_end_s": float(month_times[1:].sum()),
        "slowest_month_s": float(month_times.max()),
        "slowest_month": int(np.argmax(month_times)) + 1,
        "tables_and_summary_s": end - marks[-1],
        "member_months_per_s": member_months / wall,
        "cpu_s": cpu,
        "member_months_per_cpu_s": member_months / cpu,
        "rss_after_imports_mb": rss_imports,
        "rss_after_month_1_mb": rss.get("after_month_1"),
        "rss_after_last_month_mb": rss.get("after_last_month"),
        "peak_rss_mb": peak_rss_mb(),
    }


def worker_boltzmann(agents: int, steps: int, grid: int, repeat: int, seed: int) -> dict[str, Any]:
    """Time Mesa's BoltzmannWealth example in this (fresh) process, best of ``repeat``.

    Args:
        agents: Number of agents.
        steps: Steps per run.
        grid: Grid width and height.
        repeat: Runs; the fastest counts.
        seed: Seed of the first run (the others use the following seeds).

    Returns:
        Best times and agent-steps per second (steps only, and build plus steps).
    """
    import mesa
    from mesa.examples.basic.boltzmann_wealth_model.model import BoltzmannScenario, BoltzmannWealth

    step_times, total_times, cpu_times = [], [], []
    for i in range(repeat):
        t0 = time.perf_counter()
        model = BoltzmannWealth(scenario=BoltzmannScenario(n=agents, width=grid, height=grid, rng=seed + i))
        t1 = time.perf_counter()
        c1 = time.process_time()
        for _ in range(steps):
            model.step()
        t2 = time.perf_counter()
        cpu_times.append(time.process_time() - c1)
        step_times.append(t2 - t1)
        total_times.append(t2 - t0)
    best_step, best_total = min(step_times), min(total_times)
    return {
        "mesa_version": mesa.__version__,
        "agents": agents,
        "steps": steps,
        "grid": f"{grid}x{grid}",
        "repeat": repeat,
        "step_times_s": step_times,
        "best_steps_s": best_step,
        "agent_steps_per_s": agents * steps / best_step,
        "agent_steps_per_s_with_build": agents * steps / best_total,
        "agent_steps_per_cpu_s": agents * steps / min(cpu_times),
        "peak_rss_mb": peak_rss_mb(),
    }


def run_worker(args: list[str]) -> dict[str, Any]:
    """Run this script as a worker in a fresh subprocess and return the JSON it prints last.

    Args:
        args: Worker arguments (``--worker kube|boltzmann`` and its options).

    Returns:
        The worker's measurements.

    Raises:
        RuntimeError: If the worker fails.
    """
    proc = subprocess.run([sys.executable, str(SCRIPT), *args], stdout=subprocess.PIPE, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"worker {' '.join(args)} failed with exit code {proc.returncode}")
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    return json.loads(lines[-1])


def run_kube(replicas: int, rounds: int, months: int, seed: int, label: str) -> dict[str, Any]:
    """Run the model once in a fresh subprocess.

    Args:
        replicas: District copies.
        rounds: Funding rounds.
        months: Months.
        seed: Run seed.
        label: Name shown in progress lines.

    Returns:
        The worker's measurements.
    """
    return run_worker(["--worker", "kube", "--replicas", str(replicas), "--rounds", str(rounds),
                       "--months", str(months), "--seed", str(seed), "--label", label])


# --- the benchmark -----------------------------------------------------------------------------

def national_replicas(rounds: int, seed: int, target: int = NATIONAL_TARGET_GROUPS) -> tuple[int, dict[str, Any]]:
    """Compute how many district copies fund at least ``target`` groups over ``rounds`` rounds.

    A pilot run of :data:`PILOT_REPLICAS` copies, just long enough to hold every round, gives the
    groups funded per copy; the count is scaled up with a small margin. The national run itself
    checks that the target is reached.

    Args:
        rounds: Funding rounds.
        seed: Run seed.
        target: Groups to fund.

    Returns:
        ``(replicas, pilot)``: the district copies and the pilot's figures.
    """
    months = 12 * max(rounds - 1, 0) + 1
    log(f"national: pilot run of {PILOT_REPLICAS} district copies x {months} months to size the country")
    pilot = run_kube(PILOT_REPLICAS, rounds, months, seed, "pilot")
    per_copy = pilot["groups"] / PILOT_REPLICAS
    replicas = math.ceil(target / per_copy * NATIONAL_MARGIN)
    log(f"national: {per_copy:.1f} groups per district copy over {rounds} rounds "
        f"-> {replicas} copies for >= {target:,} groups")
    return replicas, {"replicas": PILOT_REPLICAS, "months": months, "groups": pilot["groups"],
                      "groups_per_replica": per_copy, "wall_s": pilot["wall_s"]}


def bench_scale(scale: str, args: argparse.Namespace) -> dict[str, Any]:
    """Run one scale (``repeat`` times for district and province) and summarise it.

    Args:
        scale: ``district``, ``province`` or ``national``.
        args: Parsed command-line arguments.

    Returns:
        The scale's figures: the fastest run's measurements plus every run's wall time.
    """
    pilot = None
    replicas = args.replicas if args.replicas is not None else DEFAULT_REPLICAS[scale]
    if replicas is None:
        replicas, pilot = national_replicas(args.rounds, args.seed)
    repeat = 1 if scale == "national" else args.repeat
    runs = []
    for i in range(repeat):
        log(f"{scale}: run {i + 1}/{repeat}: {replicas} district copies, {args.rounds} rounds, "
            f"{args.months} months")
        run = run_kube(replicas, args.rounds, args.months, args.seed, scale)
        log(f"{scale}: {run['wall_s']:.2f} s, {run['groups']:,} groups, {run['members']:,} members, "
            f"{run['member_months_per_s']:,.0f} member-months/s, peak RSS {run['peak_rss_mb']:.0f} MB")
        runs.append(run)
    best = min(runs, key=lambda r: r["wall_s"])
    out = {"scale": scale, "label": SCALE_LABELS[scale], **best,
           "wall_s_all": [r["wall_s"] for r in runs],
           "cpu_s": min(r["cpu_s"] for r in runs),
           "member_months_per_cpu_s": max(r["member_months_per_cpu_s"] for r in runs),
           "peak_rss_mb": max(r["peak_rss_mb"] for r in runs)}
    if pilot is not None:
        out["pilot"] = pilot
    if scale == "national":
        out["target_groups"] = NATIONAL_TARGET_GROUPS
        out["target_groups_reached"] = best["groups"] >= NATIONAL_TARGET_GROUPS
        if not out["target_groups_reached"]:
            held = min(args.rounds, (args.months - 1) // 12 + 1)
            log(f"WARNING: national run funded {best['groups']:,} groups, below {NATIONAL_TARGET_GROUPS:,} "
                f"({held} of {args.rounds} rounds fall within {args.months} months; copies: {replicas})")
    return out


def run_boltzmann(args: argparse.Namespace, when: str) -> dict[str, Any]:
    """Time Mesa's Boltzmann example in a fresh subprocess.

    Args:
        args: Parsed command-line arguments.
        when: Shown in the progress line.

    Returns:
        The worker's measurements.
    """
    log(f"Boltzmann ({when}): {BOLTZMANN_AGENTS} agents x {BOLTZMANN_STEPS} steps, best of {args.boltzmann_repeat}")
    result = run_worker(["--worker", "boltzmann", "--boltzmann-repeat", str(args.boltzmann_repeat),
                         "--seed", str(args.seed)])
    log(f"Boltzmann: {result['agent_steps_per_s']:,.0f} agent-steps/s")
    return result


def print_table(results: list[dict[str, Any]], boltzmann: dict[str, Any]) -> None:
    """Print the readable results table to stdout.

    Args:
        results: Per-scale figures, smallest scale first.
        boltzmann: Boltzmann figures.
    """
    rate_b = boltzmann["agent_steps_per_s"]
    cpu_b = boltzmann["agent_steps_per_cpu_s"]
    header = (f"{'scale':<9} {'copies':>6} {'groups':>9} {'members':>10} {'months':>6} {'member-months':>14} "
              f"{'wall s':>8} {'member-months/s':>16} {'ratio':>7} {'CPU ratio':>9} {'peak RSS MB':>12}")
    print(header)
    print("-" * len(header))
    for r in results:
        print(f"{r['scale']:<9} {r['replicas']:>6} {r['groups']:>9,} {r['members']:>10,} {r['months']:>6} "
              f"{r['member_months']:>14,} {r['wall_s']:>8.2f} {r['member_months_per_s']:>16,.0f} "
              f"{r['member_months_per_s'] / rate_b:>7.1f} {r['member_months_per_cpu_s'] / cpu_b:>9.1f} "
              f"{r['peak_rss_mb']:>12.0f}")
    print()
    print(f"wall s = run_model(): build + {results[-1]['months']} months + result tables "
          "(fastest of the runs; imports excluded). CPU ratio: the same ratio from process CPU times, "
          "less sensitive to other load on the machine.")
    for r in results:
        print(f"  {r['scale']:<9} {len(r['wall_s_all'])} run(s); build+month 1 "
              f"{r['build_and_first_month_s']:.2f} s, months 2.. "
              f"{r['months_2_to_end_s']:.2f} s (slowest: month {r['slowest_month']}, "
              f"{r['slowest_month_s']:.3f} s), tables {r['tables_and_summary_s']:.2f} s; "
              f"RSS MB: after imports {r['rss_after_imports_mb']:.0f}, after the months "
              f"{r['rss_after_last_month_mb'] or float('nan'):.0f}, peak {r['peak_rss_mb']:.0f}")
    print(f"Boltzmann (Mesa {boltzmann['mesa_version']}): {boltzmann['agents']:,} agents x {boltzmann['steps']} "
          f"steps on {boltzmann['grid']}, best of {boltzmann['repeat']}: {boltzmann['best_steps_s']:.3f} s, "
          f"{rate_b:,.0f} agent-steps/s ({boltzmann['agent_steps_per_s_with_build']:,.0f} with build; "
          f"{cpu_b:,.0f} per CPU second)")
    last = results[-1]
    ratio = last["member_months_per_s"] / rate_b
    verdict = "meets" if ratio >= GOAL_RATIO else "misses"
    print(f"ratio ({last['scale']}) = member-months/s / Boltzmann agent-steps/s = "
          f"{last['member_months_per_s']:,.0f} / {rate_b:,.0f} = {ratio:.1f} "
          f"({verdict} the goal >= {GOAL_RATIO:g}; aim {AIM_RATIO:g}); from CPU times: "
          f"{last['member_months_per_cpu_s'] / cpu_b:.1f}; counting only members of running groups: "
          f"{last['member_months_in_groups_per_s'] / rate_b:.1f}")
    for r in results:
        if r["scale"] == "national":
            ok = "meets" if r["peak_rss_mb"] < GOAL_NATIONAL_RSS_MB else "misses"
            print(f"national peak RSS {r['peak_rss_mb']:.0f} MB ({ok} the goal < {GOAL_NATIONAL_RSS_MB:g} MB); "
                  f"groups funded {r['groups']:,} (target {r['target_groups']:,}: "
                  f"{'reached' if r['target_groups_reached'] else 'NOT reached'})")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line.

    Args:
        argv: Arguments (``sys.argv[1:]`` when None).

    Returns:
        The parsed arguments.
    """
    parser = argparse.ArgumentParser(
        description="Benchmark kube-sim (member-months per second, peak memory) at district, province "
                    "and national scale, against Mesa's BoltzmannWealth example (agent-steps per second). "
                    "Each run is a fresh subprocess. The last stdout line is a JSON summary.",
    )
    parser.add_argument("--scale", choices=(*SCALES, "all"), default="district",
                        help="district = Polewali Mandar (1 copy); province = West Sulawesi (6 copies); "
                             "national = enough copies to fund >= 100,000 groups (computed by a pilot run); "
                             "all = the three in turn (default: district)")
    parser.add_argument("--months", type=int, default=120, help="months per run (default: 120)")
    parser.add_argument("--rounds", type=int, default=10, help="yearly funding rounds (default: 10)")
    parser.add_argument("--replicas", type=int, default=None,
                        help="district copies, overriding the scale's own (applies to every scale run; "
                             "skips the national pilot)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs per district/province scale, the fastest counts (national: always 1; "
                             "default: 3)")
    parser.add_argument("--seed", type=int, default=0, help="model run seed (default: 0)")
    parser.add_argument("--boltzmann-repeat", type=int, default=3,
                        help="Boltzmann runs, the fastest counts (default: 3)")
    # Hidden options of the worker subprocesses.
    parser.add_argument("--worker", choices=("kube", "boltzmann"), help=argparse.SUPPRESS)
    parser.add_argument("--label", default="run", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.months < 1 or args.rounds < 0 or args.repeat < 1 or args.boltzmann_repeat < 1:
        parser.error("--months, --repeat and --boltzmann-repeat must be >= 1 and --rounds >= 0")
    if args.replicas is not None and args.replicas < 1:
        parser.error("--replicas must be >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark (or, with ``--worker``, one measured run) and print the results.

    Args:
        argv: Command-line arguments (``sys.argv[1:]`` when None).

    Returns:
        The exit code.
    """
    args = parse_args(argv)
    if args.worker == "kube":
        print(json.dumps(worker_kube(args.replicas or 1, args.rounds, args.months, args.seed, args.label)))
        return 0
    if args.worker == "boltzmann":
        print(json.dumps(worker_boltzmann(BOLTZMANN_AGENTS, BOLTZMANN_STEPS, BOLTZMANN_GRID,
                                          args.boltzmann_repeat, args.seed)))
        return 0

    scales = list(SCALES) if args.scale == "all" else [args.scale]
    load_start = os.getloadavg()[0]
    version = code_version()
    if version["kube_sim_uncommitted_changes"]:
        log(f"note: kube_sim/ has uncommitted changes on top of {version['commit']}; they are what gets measured")
    if load_start > 0.5 * (os.cpu_count() or 1):
        log(f"note: 1-minute load average is {load_start:.1f} on {os.cpu_count()} CPUs; timings will be noisy")
    boltzmann_before = run_boltzmann(args, "before the model runs")
    results = []
    for scale in scales:
        log(f"scale {scale} ({SCALE_LABELS[scale]})")
        results.append(bench_scale(scale, args))
    boltzmann_after = run_boltzmann(args, "after the model runs")
    # The faster of the two counts (a conservative ratio); both are kept in the JSON.
    boltzmann = dict(max(boltzmann_before, boltzmann_after, key=lambda b: b["agent_steps_per_s"]))
    boltzmann["agent_steps_per_cpu_s"] = max(boltzmann_before["agent_steps_per_cpu_s"],
                                             boltzmann_after["agent_steps_per_cpu_s"])
    boltzmann["runs"] = {"before": boltzmann_before, "after": boltzmann_after}

    print_table(results, boltzmann)
    rate_b = boltzmann["agent_steps_per_s"]
    last = results[-1]
    for r in results:
        r["ratio"] = r["member_months_per_s"] / rate_b
        r["ratio_cpu"] = r["member_months_per_cpu_s"] / boltzmann["agent_steps_per_cpu_s"]
        r["ratio_in_groups"] = r["member_months_in_groups_per_s"] / rate_b
    summary = {
        "scale": last["scale"],
        "member_months_per_s": last["member_months_per_s"],
        "boltzmann_agent_steps_per_s": rate_b,
        "ratio": last["ratio"],
        "peak_rss_mb": last["peak_rss_mb"],
        "goal_ratio": GOAL_RATIO,
        "goal_met": last["ratio"] >= GOAL_RATIO,
        "ratio_cpu": last["ratio_cpu"],
        "member_months_definition": "sum over months of members_funded (member households in the model)",
        "ratio_in_groups": last["ratio_in_groups"],
        "boltzmann": boltzmann,
        "scales": {r["scale"]: r for r in results},
        "load_average_1min": {"start": load_start, "end": os.getloadavg()[0]},
        "code": version,
        "python": platform.python_version(),
        "machine": f"{platform.machine()} {os.cpu_count()} cpus",
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
