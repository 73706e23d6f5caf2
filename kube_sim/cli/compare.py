"""``kube-sim compare``: two scenarios with paired seeds; means, differences, cost, value per Rp 100 juta."""

from __future__ import annotations

import argparse
import sys
import tempfile
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kube_sim.cli.common import (
    EXIT_STOPPED,
    PROG,
    add_command,
    add_district_option,
    add_ensemble_option,
    add_months_option,
    add_resume_options,
    add_seed_option,
    add_set_option,
    add_workers_option,
    apply_ensemble,
    check_resume_options,
    command_line,
    render_table,
    replications_arg,
    stopped_by,
    with_district,
)
from kube_sim.common.errors import InputError
from kube_sim.common.outputs import COST_ITEMS
from kube_sim.experiments.files import display_path
from kube_sim.model.defaults import DEFAULT_MASTER_SEED, DEFAULT_MONTHS
from kube_sim.store.targets import FOLDER, Target, check_outputs

DEFAULT_COMPARE_REPLICATIONS = 20
DEFAULT_COMPARE_MONTHS = DEFAULT_MONTHS
OUTCOMES: tuple[str, ...] = (
    "groups_funded", "facilitators", "mean_caseload", "groups_active_end",
    "survival_12", "survival_24", "survival_36", "survival_60", "mean_member_income_rp", "share_above_poverty_line",
    "inactive_member_share", "visits_per_group_month", "mean_share_unvisited_quarter", "cost_total_rp",
    *(f"cost_by_item_{item}_rp" for item in COST_ITEMS), "cost_per_surviving_group_rp",
)
"""Outcomes the table shows by default (those the run length allows)."""

READ_OUTCOMES: tuple[str, ...] = ("survival_36", "groups_active_end", "mean_member_income_rp",
                                  "share_above_poverty_line", "cost_total_rp")
"""Outcomes whose difference gets a sentence of reading."""

EPILOG = """\
Runs scenarios A and B with the same seeds (replication i uses one seed in both), then prints, for
each outcome, the mean of A, the mean of B, and the paired difference B - A with its 95% confidence
interval and paired t-test p-value: the staff (facilitators recruited, the caseload they actually
carried), survival, income, visits and the cost by item. A and B are scenario names (see
'kube-sim scenarios') or paths; --set changes both, --set-a and --set-b one of them, so one scenario
can be compared with itself under two settings.

Then what each arm buys per Rp 100 juta (100 million rupiah) of its total cost: groups still active
at the end, groups active 36 months after funding (survival at 36 months x groups funded), eligible
households above the poverty line and member households reached. With --equal-cost it adds, for
each, the difference at equal cost (B's per-Rp-100-juta minus A's, paired by replication: what one
budget of Rp 100 juta buys more under B, if the programme scales with its budget) and what B's extra
money buys (B - A divided by B's extra cost, per extra Rp 100 juta, with Fieller's interval; n/a when
the costs do not clearly differ). Last, one sentence per key difference: within noise when its
interval spans 0, else a real difference and the failure causes or cost items that moved with it.

examples:
  kube-sim compare baseline ratio_1_20
  kube-sim compare baseline equipment_grant --replications 40 --workers 2
  kube-sim compare baseline baseline --set facilitators.count=7 --set-b facilitators.count=10 --equal-cost
  kube-sim compare baseline baseline --set facilitators.count=7 --set-b grants.equipment_rp=5000000 --equal-cost
  kube-sim compare baseline no_facilitators --out results/compare_no_facilitators
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``compare`` on the main parser.

    Args:
        subparsers: The main parser's subparsers.
    """
    compare = add_command(
        subparsers, "compare", summary="paired comparison of two scenarios: differences, cost, value per Rp 100 juta",
        description="Run two scenarios with paired seeds and print each outcome's means and the paired difference "
                    "B - A with its 95% confidence interval and p-value, the staff and cost of each, and what each "
                    "buys per Rp 100 juta.", epilog=EPILOG,
    )
    compare.add_argument("scenario_a", metavar="A", help="reference scenario (name or path)")
    compare.add_argument("scenario_b", metavar="B", help="scenario compared with A (name or path)")
    compare.add_argument("--replications", type=replications_arg, default=DEFAULT_COMPARE_REPLICATIONS,
                         metavar="R", help=f"paired replications (default: {DEFAULT_COMPARE_REPLICATIONS})")
    add_months_option(compare, DEFAULT_COMPARE_MONTHS, "months per run")
    add_seed_option(compare, DEFAULT_MASTER_SEED, "master seed the replication seeds derive from")
    add_set_option(compare)
    for arm in ("a", "b"):
        compare.add_argument(f"--set-{arm}", action="append", default=[], metavar="KEY=VALUE",
                             dest=f"assignments_{arm}",
                             help=f"change one parameter of {arm.upper()} only, after --set (repeatable), e.g. "
                                  f"facilitators.count=10")
    compare.add_argument("--equal-cost", action="store_true",
                         help="also compare at equal cost: the difference per Rp 100 juta spent, and what B's extra "
                              "money buys per extra Rp 100 juta (see below)")
    add_workers_option(compare, "parallel runs")
    add_district_option(compare)
    add_ensemble_option(compare)
    compare.add_argument("--out", type=Path, metavar="DIR",
                         help="keep the runs in this folder (default: a temporary folder, removed afterwards)")
    add_resume_options(compare, "a comparison (with --out)")
    compare.set_defaults(func=cmd_compare)


def cmd_compare(args: argparse.Namespace) -> int:
    """Run two scenarios with paired seeds and print their paired differences.

    Args:
        args: Parsed ``compare`` arguments.

    Returns:
        Exit status: 0, or 1 when the runs stopped early.

    Raises:
        InputError: For a bad scenario or output folder.
    """
    from kube_sim.experiments.sweep import SweepAborted, plan_comparison, run_sweep
    from kube_sim.store import sweep_folder as store

    check_resume_options(args)
    if args.out is None and (args.resume or args.overwrite):
        raise InputError("needs --out: without it the runs go to a temporary folder, removed afterwards",
                         source="--resume" if args.resume else "--overwrite")
    check_outputs({"--out": Target(args.out, FOLDER)})
    a, b = compared_scenarios(args)
    plan = apply_ensemble(plan_comparison(a, b, replications=args.replications, months=args.months,
                                          master_seed=args.seed), args)
    with tempfile.TemporaryDirectory(prefix="kube-sim-compare-") as tmp:
        folder = args.out if args.out is not None else Path(tmp)
        try:
            run_sweep(plan, folder, workers=args.workers, resume=args.resume,
                      overwrite=args.out is None or args.overwrite, progress=not args.no_progress,
                      manifest_extra={"command": command_line(args), "backend": "local", "workers": args.workers})
        except SweepAborted as exc:
            print(f"{PROG}: error: {exc}", file=sys.stderr)
            return EXIT_STOPPED
        except OSError as exc:
            print(f"{PROG}: error: {stopped_by(exc, folder)}", file=sys.stderr)
            return EXIT_STOPPED
        runs = store.load_runs(folder)
    print()
    if args.assignments:
        print("on both arms: " + ", ".join(args.assignments))
    print(compare_table(runs, a.name, b.name))
    print()
    print(value_table(runs, equal_cost=args.equal_cost))
    readings = reading_lines(runs, a.name, b.name)
    if readings:
        print("\nreading the differences (95% intervals):")
        print("\n".join(textwrap.fill(line, width=100, initial_indent="- ", subsequent_indent="  ")
                        for line in readings))
    from kube_sim.analysis.ensemble import has_ensemble

    if has_ensemble(runs):
        print("\nover the calibrated ensemble: the tables above pool the parameter sets as if every replication "
              "were alike;\nthe one below gives each difference's interval with both seed noise and parameter "
              "uncertainty, and the share of each:")
        print(ensemble_table(runs, args.ensemble))
    if args.out is not None:
        print(f"\nruns in {display_path(args.out)}/ (report: kube-sim report {display_path(args.out)})")
    return 0


def _short(key: str) -> str:
    return key.rsplit(".", 1)[-1]


def compared_scenarios(args: argparse.Namespace) -> tuple[Any, Any]:
    """Scenarios A and B with ``--set`` on both and ``--set-a`` / ``--set-b`` on one, named apart.

    An arm changed by ``--set-a`` or ``--set-b`` is named after its scenario and the changes
    (``baseline + count=10``); ``--set`` on both keeps the names.

    Args:
        args: Parsed ``compare`` arguments.

    Returns:
        ``(a, b)``.

    Raises:
        InputError: For a bad scenario or assignment.
    """
    import dataclasses

    from kube_sim.experiments.scenario import apply_overrides, load_scenario, parse_assignments

    both = parse_assignments(args.assignments)
    out = []
    for arm, name in (("a", args.scenario_a), ("b", args.scenario_b)):
        scenario = apply_overrides(with_district(load_scenario(name), args), both)
        own = parse_assignments(getattr(args, f"assignments_{arm}"), source=f"--set-{arm}")
        scenario = apply_overrides(scenario, own, source=f"--set-{arm}")
        if own:
            changes = ", ".join(_change_text(k, v) for k, v in own.items())
            scenario = dataclasses.replace(scenario, name=f"{scenario.name} + {changes}")
        out.append(scenario)
    a, b = out
    if a.name == b.name:
        a, b = (dataclasses.replace(a, name=f"{a.name} (A)"), dataclasses.replace(b, name=f"{b.name} (B)"))
    return a, b


def _change_text(key: str, value: Any) -> str:
    """A change as an arm's name shows it: ``count=10``, ``equipment Rp 5 juta``."""
    from kube_sim.reporting.formats import fmt_setting

    if key.endswith("_rp"):
        return f"{_short(key).removesuffix('_rp').replace('_', ' ')} {fmt_setting(key, value)}"
    return f"{_short(key)}={fmt_setting(key, value)}"


def compare_table(runs: Any, name_a: str, name_b: str, outcomes: Sequence[str] = OUTCOMES) -> str:
    """The paired comparison of arm 1 (B) against arm 0 (A), as text.

    Args:
        runs: The runs table of a two-arm sweep.
        name_a: Name of A.
        name_b: Name of B.
        outcomes: Outcomes to show (those absent or all missing are skipped).

    Returns:
        The table with a note on the number of pairs.
    """
    from kube_sim.analysis.statistics import paired_differences
    from kube_sim.common.outputs import label_of
    from kube_sim.reporting.formats import fmt_brief, fmt_brief_diff, fmt_p

    shown = [o for o in outcomes if o in runs.columns and runs[o].notna().any()]
    diffs = paired_differences(runs, 0, shown)
    header = ["outcome", f"A: {name_a}", f"B: {name_b}", "B - A", "95% CI", "p"]
    rows = []
    for _, row in diffs.iterrows():
        o = row["outcome"]
        label = ("  " + label_of(o).removeprefix("cost: ")) if o.startswith("cost_by_item_") else label_of(o)
        rows.append([label, fmt_brief(o, row["baseline_mean"]), fmt_brief(o, row["arm_mean"]),
                     fmt_brief_diff(o, row["mean_diff"]),
                     f"{fmt_brief_diff(o, row['ci_low'])} to {fmt_brief_diff(o, row['ci_high'])}",
                     fmt_p(row["pvalue"])])
    failed = int((runs["status"] != "ok").sum())
    pairs = int(diffs["n_pairs"].max()) if len(diffs) else 0
    note = f"{pairs} paired replications; p from a paired t-test"
    if failed:
        note += f"; {failed} runs failed and are left out"
    return render_table(header, rows) + f"\n({note})"


def ensemble_table(runs: Any, name: str, outcomes: Sequence[str] = OUTCOMES) -> str:
    """B - A over the ensemble: the interval with parameter uncertainty, and which part is which.

    Args:
        runs: The runs table of a two-arm sweep over an ensemble.
        name: The ensemble's name.
        outcomes: Outcomes to show.

    Returns:
        The table with a note on how to read it.
    """
    from kube_sim.analysis.ensemble import ensemble_differences
    from kube_sim.reporting.ensemble import HEADER, READING, ensemble_cells

    shown = [o for o in outcomes if o in runs.columns and runs[o].notna().any()]
    table = ensemble_differences(runs, 0, shown)
    rows = [[row["outcome"], *ensemble_cells(row["outcome"], row)] for _, row in table.iterrows()]
    members = int(table["members"].max()) if len(table) else 0
    pairs = int(table["n_pairs"].max()) if len(table) else 0
    note = f"ensemble {name}: B - A over {pairs} paired replications and {members} calibrated parameter sets. {READING}"
    return render_table(["outcome", *HEADER], rows) + "\n(" + textwrap.fill(note, 110, subsequent_indent=" ") + ")"


def _per_100m(value: Any) -> str:
    from kube_sim.reporting.formats import finite

    return f"{float(value):,.2f}" if finite(value) else "n/a"


def _signed(value: Any) -> str:
    from kube_sim.reporting.formats import finite

    if not finite(value):
        return "n/a"
    return ("+" if value > 0 else "−" if value < 0 else "±") + f"{abs(float(value)):,.2f}"


def value_table(runs: Any, *, equal_cost: bool) -> str:
    """What A and B buy per Rp 100 juta of their total cost, and with ``equal_cost`` B against A at equal cost.

    Args:
        runs: The runs table of a two-arm sweep (arm 0 is A).
        equal_cost: Add the difference at equal cost and what B's extra money buys.

    Returns:
        The table with its notes.
    """
    from kube_sim.analysis.value import value_for_money
    from kube_sim.reporting.formats import fmt_p, fmt_rp

    value = value_for_money(runs, 0, 1)
    if value.empty:
        return "(no cost in the runs table: nothing to put per Rp 100 juta)"
    header = ["per Rp 100 juta spent", "A", "B"]
    if equal_cost:
        header += ["B - A at equal cost", "95% CI", "p", "per extra Rp 100 juta of B", "95% CI"]
    rows = []
    for _, r in value.iterrows():
        row = [r["label"], _per_100m(r["reference_per_100m"]), _per_100m(r["arm_per_100m"])]
        if equal_cost:
            row += [_signed(r["diff_per_100m"]), f"{_signed(r['diff_low'])} to {_signed(r['diff_high'])}",
                    fmt_p(r["pvalue"]), _signed(r["extra_per_100m"]),
                    f"{_signed(r['extra_low'])} to {_signed(r['extra_high'])}"
                    if r["extra_low"] == r["extra_low"] else "n/a"]
        rows.append(row)
    first = value.iloc[0]
    cost = (f"B costs {fmt_rp(first['cost_diff'], signed=True)} against A (95% CI "
            f"{fmt_rp(first['cost_diff_low'], signed=True)} to {fmt_rp(first['cost_diff_high'], signed=True)}) "
            "over the run")
    notes = [cost]
    if equal_cost:
        notes.append("at equal cost: B's count per Rp 100 juta minus A's, paired by replication (the programme "
                     "assumed to scale with its budget)")
        notes.append("per extra Rp 100 juta: (B - A) / (B's cost - A's cost) x Rp 100 juta, Fieller's interval; "
                     "n/a when the costs do not clearly differ")
    return render_table(header, rows) + "\n" + textwrap.fill("(" + "; ".join(notes) + ")", width=100)


def reading_lines(runs: Any, name_a: str, name_b: str) -> list[str]:
    """One sentence per key outcome: within noise, or a real difference and what moved with it.

    Args:
        runs: The runs table of a two-arm sweep (arm 0 is A).
        name_a: Name of A.
        name_b: Name of B.

    Returns:
        The sentences.
    """
    from kube_sim.analysis.statistics import outcome_columns, paired_differences
    from kube_sim.reporting.readings import difference_reading

    columns = [c for c in outcome_columns(runs) if runs[c].notna().any()]
    diffs = paired_differences(runs, 0, columns)
    by_outcome = {r["outcome"]: r for _, r in diffs.iterrows()}
    lines = []
    for outcome in READ_OUTCOMES:
        if outcome in by_outcome:
            text = difference_reading(outcome, by_outcome[outcome], by_outcome, arm=name_b, reference=name_a)
            if text:
                lines.append(text)
    return lines
