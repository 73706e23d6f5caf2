"""Profile one kube-sim run (cProfile, or pyinstrument when installed) to find the hotspots.

Run by hand::

    python benchmarks/profile_model.py --scale district
    python benchmarks/profile_model.py --scale province --profiler pyinstrument
    python benchmarks/profile_model.py --scale national --months 24 --profiler pyinstrument

It runs ``run_model`` for the scale (see ``bench_model.py`` for the scales) under the profiler and
prints the top functions by own time and by cumulative time (cProfile), or pyinstrument's call
tree. Besides, it times each monthly process of ``KubeModel.step`` (and the funding round) by
wrapping the model's rule functions, which shows where a month's time goes without profiler bias.
Wall times under cProfile are inflated; use ``bench_model.py`` for rates.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

SCALE_REPLICAS: dict[str, int] = {"district": 1, "province": 6, "national": 323}
"""District copies per scale (national: about 100,000 groups over 10 rounds, see bench_model.py)."""


def timed_phases() -> tuple[dict[str, float], dict[str, int], Callable[[], None]]:
    """Wrap the model's monthly rule functions with timers.

    The wrappers replace module attributes that ``kube_sim.model.model`` calls through (``group_rules.x``,
    ``member_rules.x``, ``agency_rules.x``), plus ``KubeModel.funding_round``, so nothing in the
    package is edited; call the returned ``undo`` to put the originals back. Timers whose label
    starts with ``(in)`` run inside the others (for example ``mesa.Agent.__init__``, every Mesa
    agent created, inside the funding round); phases can nest too (``pay_pending`` also runs inside
    ``check_failures``), so shares do not add up to 100%.

    Returns:
        ``(seconds, calls, undo)``: total seconds and calls per phase, and the restore function.
    """
    import mesa

    from kube_sim.model import model as model_module
    from kube_sim.model.agents import agency, group, member

    seconds: dict[str, float] = defaultdict(float)
    calls: dict[str, int] = defaultdict(int)
    originals: list[tuple[Any, str, Any]] = []

    def wrap(owner: Any, name: str, label: str) -> None:
        original = getattr(owner, name)
        originals.append((owner, name, original))

        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                seconds[label] += time.perf_counter() - t0
                calls[label] += 1

        setattr(owner, name, timed)

    for name in ("start_business", "apply_equipment_grant", "produce", "update_conflicts", "check_failures",
                 "end_cycles", "release_members_of_failed"):
        wrap(group, name, f"group.{name}")
    for name in ("update_engagement", "pay_pending", "close_month"):
        wrap(member, name, f"member.{name}")
    wrap(agency, "settle_escalations", "agency.settle_escalations")
    wrap(model_module, "make_visits", "facilitator.make_visits")
    wrap(model_module.KubeModel, "funding_round", "model.funding_round")
    wrap(model_module.KubeModel, "_pay_facilitators", "model._pay_facilitators")
    wrap(model_module.DataCollector, "collect", "datacollector.collect")
    # Nested timers: these run inside the phases above.
    from kube_sim.model import events, tables
    from kube_sim.model.agents import facilitator

    wrap(facilitator, "assign", "(in) facilitator.assign")
    wrap(mesa.Agent, "__init__", "(in) mesa.Agent.__init__")
    wrap(tables.ColumnTable, "append", "(in) ColumnTable.append")
    wrap(events.EventLog, "add", "(in) EventLog.add")

    def undo() -> None:
        for owner, name, original in reversed(originals):
            setattr(owner, name, original)

    return seconds, calls, undo


@contextmanager
def profiler(kind: str, top: int, out: io.TextIOBase) -> Iterator[None]:
    """Profile the enclosed block and print the report.

    Args:
        kind: ``cprofile``, ``pyinstrument`` or ``none``.
        top: Rows of the cProfile tables.
        out: Where the report goes.

    Yields:
        Nothing; the block runs under the profiler.
    """
    if kind == "none":
        yield
        return
    if kind == "pyinstrument":
        from pyinstrument import Profiler

        prof = Profiler(interval=0.001)
        prof.start()
        try:
            yield
        finally:
            prof.stop()
        out.write(prof.output_text(unicode=False, color=False, show_all=False))
        return
    prof = cProfile.Profile()
    prof.enable()
    try:
        yield
    finally:
        prof.disable()
    for sort in ("tottime", "cumulative"):
        buffer = io.StringIO()
        stats = pstats.Stats(prof, stream=buffer).strip_dirs().sort_stats(sort)
        stats.print_stats(top)
        out.write(f"\n=== cProfile, top {top} by {sort} ===\n")
        out.write("\n".join(line for line in buffer.getvalue().splitlines() if line.strip()))
        out.write("\n")


def main(argv: list[str] | None = None) -> int:
    """Profile one run and print the hotspots.

    Args:
        argv: Command-line arguments (``sys.argv[1:]`` when None).

    Returns:
        The exit code.
    """
    parser = argparse.ArgumentParser(description="Profile one kube-sim run and print its hotspots.")
    parser.add_argument("--scale", choices=tuple(SCALE_REPLICAS), default="district",
                        help="district (1 copy), province (6) or national (323 copies); default district")
    parser.add_argument("--replicas", type=int, default=None, help="district copies, overriding the scale's")
    parser.add_argument("--months", type=int, default=120, help="months (default: 120)")
    parser.add_argument("--rounds", type=int, default=10, help="funding rounds (default: 10)")
    parser.add_argument("--seed", type=int, default=0, help="run seed (default: 0)")
    parser.add_argument("--profiler", choices=("cprofile", "pyinstrument", "none"), default="cprofile",
                        help="profiler (default: cprofile); 'none' gives only the phase timings")
    parser.add_argument("--top", type=int, default=30, help="rows of the cProfile tables (default: 30)")
    args = parser.parse_args(argv)

    from kube_sim.model.parameters import make_parameters
    from kube_sim.model.run import run_model

    replicas = args.replicas if args.replicas is not None else SCALE_REPLICAS[args.scale]
    params = make_parameters({"district.replicas": replicas, "funding.rounds": args.rounds})
    print(f"profile: {args.scale}, {replicas} district copies, {args.rounds} rounds, {args.months} months, "
          f"seed {args.seed}, {args.profiler}", file=sys.stderr, flush=True)

    seconds, calls, undo = timed_phases()
    t0 = time.perf_counter()
    try:
        with profiler(args.profiler, args.top, sys.stdout):
            result = run_model(params, seed=args.seed, months=args.months)
    finally:
        undo()
    wall = time.perf_counter() - t0

    member_months = int(result.monthly["members_in_groups"].sum())
    print(f"\n=== {args.scale}: {len(result.groups):,} groups, {len(result.members):,} members, "
          f"{member_months:,} member-months, wall {wall:.2f} s under {args.profiler} ===")
    print(f"{'phase':<30} {'calls':>6} {'seconds':>9} {'share':>7}")
    for label, sec in sorted(seconds.items(), key=lambda kv: -kv[1]):
        print(f"{label:<30} {calls[label]:>6} {sec:>9.3f} {sec / wall:>7.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
