"""``kube-sim run``: run one scenario, write its results folder and print its summary."""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path
from typing import Any

from kube_sim.cli.common import (
    EXIT_STOPPED,
    PROG,
    add_command,
    add_district_option,
    add_months_option,
    add_seed_option,
    add_set_option,
    add_table_options,
    command_line,
    output_folder,
    print_today,
    today_of,
    warn_unreached,
    with_changes,
    with_district,
    write_failure,
)
from kube_sim.common.i18n import N_, _, ngettext
from kube_sim.common.outputs import OUTCOMES, label_of, summary_value
from kube_sim.common.provenance import now_iso
from kube_sim.experiments.files import display_path
from kube_sim.experiments.scenario import load_scenario
from kube_sim.model.defaults import DEFAULT_MONTHS, DEFAULT_SEED
from kube_sim.reporting.formats import fmt_value
from kube_sim.store.targets import FOLDER, Target, check_outputs

DEFAULT_SCENARIO = "baseline"
CAUSE_NAMES = {"conflict": N_("conflict"), "inactive_members": N_("inactive members"),
               "low_cohesion": N_("low cohesion"), "no_capital": N_("no capital")}
"""Failure causes' short names, as the run summary lists them."""

EPILOG = """\
SCENARIO is the name of a file in the scenarios folder (see 'kube-sim scenarios') or a path to a
TOML file of tables of changed parameters, with optional top-level name (default: the file's name)
and description strings.

--set values are TOML values; bare words are strings:
  --set grants.equipment_rp=7_000_000      --set facilitators.targets=true
  --set facilitators.pattern=needs_based   --set business.cycle_months=[4,3,1]

examples:
  kube-sim run
  kube-sim run no_facilitators --months 60 --seed 1
  kube-sim run baseline --set facilitators.groups_per_facilitator=20 --out results/ratio20
  kube-sim run equipment_grant --json --no-plots
  kube-sim run baseline --district majene          # another district (see docs/districts.md)
  kube-sim run baseline --district my_district.csv
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``run`` on the main parser.

    Args:
        subparsers: The main parser's subparsers.
    """
    run = add_command(subparsers, "run", summary="run one scenario and write its results",
                      description="Run the model once for a scenario and write tables, summary, manifest and "
                                  "figures.", epilog=EPILOG)
    run.add_argument("scenario", nargs="?", default=DEFAULT_SCENARIO, metavar="SCENARIO",
                     help=f"scenario name (a file in the scenarios folder) or path to a .toml file "
                          f"(default: {DEFAULT_SCENARIO})")
    add_seed_option(run, DEFAULT_SEED, "random seed; the same seed gives the same run")
    add_months_option(run, DEFAULT_MONTHS, "months to simulate")
    add_set_option(run)
    add_district_option(run)
    run.add_argument("--out", type=Path, metavar="DIR",
                     help="folder for the results (default: results/<scenario name>)")
    run.add_argument("--json", action="store_true",
                     help="print only the run summary as one JSON object on stdout (no progress bar)")
    run.add_argument("--no-plots", action="store_true", help="do not draw survival.png and monthly.png")
    add_table_options(run)
    run.set_defaults(func=cmd_run)


def format_summary(summary: dict[str, Any], description: str = "", results_dir: Path | None = None,
                   files: list[str] | None = None, district: str = "") -> str:
    """Render a run summary as a readable table, one line per declared outcome.

    Labels and number formats come from the outcome declaration (:mod:`kube_sim.common.outputs`);
    the failure causes share one line.

    Args:
        summary: A run summary (see :func:`kube_sim.model.run.run_model`).
        description: The scenario's description.
        results_dir: Where the results were written.
        files: The file names written there.
        district: The district's name, shown under the seed ("" shows none).

    Returns:
        Multi-line text.
    """
    rows: list[tuple[str, str]] = [(_("scenario"), str(summary.get("scenario"))), (_("seed"), str(summary.get("seed")))]
    if district:
        rows.append((_("district"), district))
    causes: list[tuple[str, int]] = []
    for outcome in OUTCOMES:
        value = summary_value(summary, outcome)
        family = None if isinstance(outcome.summary_key, str) else outcome.summary_key[0]
        if family == "failure_causes":
            if value:
                causes.append((cause_name(outcome.summary_key[1]), int(value)))
            continue
        indent = "  " if family == "cost_by_item_rp" else ""
        rows.append((indent + label_of(outcome.column), fmt_value(outcome.column, value)))
    causes.sort(key=lambda cause: -cause[1])
    rows.append((_("failure causes"), ", ".join(f"{name} {n}" for name, n in causes) or _("none")))
    from kube_sim.reporting.tables import record

    record("summary", (_("outcome"), _("value")), rows)
    width = max(len(label) for label, _ in rows)
    lines = [textwrap.fill(value, width=100, initial_indent=f"{label:<{width}}  ", subsequent_indent=" " * (width + 2))
             if width + 2 + len(value) > 100 else f"{label:<{width}}  {value}"
             for label, value in rows]
    if description:
        lines.insert(1, textwrap.fill(_(description), width=100, initial_indent=" " * (width + 2),
                                      subsequent_indent=" " * (width + 2)))
    if results_dir is not None:
        lines.append("")
        lines.append(textwrap.fill(_("results in {folder}").format(folder=f"{display_path(results_dir)}/")
                                   + (f": {', '.join(files)}" if files else ""), width=100, subsequent_indent="  "))
    return "\n".join(lines)


def lifted_sentence(summary: dict[str, Any]) -> str:
    """The run's headline: households lifted out of poverty, at the end and 36 months after funding, per Rp 1 miliar.

    Args:
        summary: A run summary.

    Returns:
        One or two sentences.
    """
    from kube_sim.common.outputs import POVERTY_HORIZON_MONTHS as H
    from kube_sim.reporting.formats import fmt_count, fmt_per_budget, fmt_rp, fmt_years

    poverty = summary.get("poverty") or {}
    cost = summary.get("cost_total_rp") or 0.0
    lifted = poverty.get("lifted_end", 0)
    per = (_("{value} per Rp 1 miliar of cost").format(value=fmt_per_budget(lifted / cost * 1e9)) if cost
           else _("no cost"))
    text = _("Households lifted out of poverty: {lifted} of the {poor} eligible member households poor without the "
             "programme at the end of the run of {period} ({per}; one run, so no interval: compare gives one), "
             "{lifted_h} of {followed_h} followed {horizon} months after their group's funding; poverty gap closed "
             "{gap} a month.").format(
        lifted=fmt_count(lifted), poor=fmt_count(poverty.get("poor_without")),
        period=fmt_years(summary.get("months", 0)), per=per, lifted_h=fmt_count(poverty.get(f"lifted_{H}")),
        followed_h=fmt_count(poverty.get(f"followed_{H}")), horizon=H, gap=fmt_rp(poverty.get("gap_closed_end_rp")))
    if poverty.get("pushed_below_end"):
        n = int(poverty["pushed_below_end"])
        text += " " + ngettext("{n} household was pushed below the line.", "{n} households were pushed below the line.",
                               n).format(n=fmt_count(n))
    return text


def cause_name(cause: str) -> str:
    """A failure cause's short name, in the language spoken (``conflict``, ``inactive members``).

    Args:
        cause: The cause's key (see :data:`~kube_sim.common.outputs.FAILURE_CAUSES`).

    Returns:
        The name.
    """
    return _(CAUSE_NAMES.get(cause, cause.replace("_", " ")))


def cmd_run(args: argparse.Namespace) -> int:
    """Run a scenario, write its results and report the summary.

    Args:
        args: Parsed ``run`` arguments.

    Returns:
        Exit status.

    Raises:
        InputError: For a bad scenario, ``--set`` assignment or output folder.
    """
    scenario = with_changes(with_district(load_scenario(args.scenario), args), args.assignments)
    warn_unreached(scenario, args.months)
    out_dir = output_folder(args.out, scenario.name)
    check_outputs({"--out": Target(out_dir, FOLDER, typed=args.out is not None)})

    from tqdm import tqdm

    from kube_sim.model import run as runner  # imported here so that --help and bad input answer fast

    started = now_iso()
    show_bar = not args.json and sys.stderr.isatty()
    with tqdm(total=args.months, desc=scenario.name, unit="month", file=sys.stderr, disable=not show_bar,
              leave=False, dynamic_ncols=True) as bar:
        result = runner.run_model(scenario.params, seed=args.seed, months=args.months, scenario=scenario.name,
                                  on_month=lambda _month: bar.update(1))

    figures: dict[str, Any] = {}
    if not args.no_plots:
        from kube_sim.reporting.run_figures import monthly_figure, survival_figure

        figures["survival.png"] = survival_figure(
            result.groups, args.months,
            _("{scenario}: groups still active (seed {seed})").format(scenario=scenario.name, seed=args.seed))
        figures["monthly.png"] = monthly_figure(result.monthly)

    from kube_sim.store.files import dumps
    from kube_sim.store.run_folder import write_run

    try:
        path = write_run(result, out_dir, scenario=scenario, seed=args.seed, months=args.months,
                         argv=command_line(args), started=started, figures=figures)
    except OSError as exc:
        print(f"{PROG}: error: {write_failure(exc, out_dir)}", file=sys.stderr)
        return EXIT_STOPPED

    if args.json:
        sys.stdout.write(dumps({**result.summary, "results_dir": str(path)}))
    else:
        files = sorted(p.name for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
        from kube_sim.model.run import flat_outcomes

        print_today(today_of(scenario, flat_outcomes(result.summary), args.months,
                             _("this run: {name}").format(name=scenario.name)))
        print(textwrap.fill(lifted_sentence(result.summary), width=100))
        print()
        print(format_summary(result.summary, scenario.description, path, files,
                             district=_("{district} ({kecamatan} kecamatan, {villages} villages)").format(
                                 district=scenario.params.geography.name,
                                 kecamatan=len(scenario.params.geography.kecamatan),
                                 villages=scenario.params.geography.villages)))
    return 0
