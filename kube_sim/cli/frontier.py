"""``kube-sim frontier``: the best splits of a yearly budget between groups, equipment grants and facilitators.

Two sweeps (see ``kube-sim sweep``), saved run by run and resumable: today's allocation first, whose
runs measure what a group, a facilitator post and administration cost; then the allocations of the
budget, converted to parameters by those costs, with the same seeds. Afterwards the frontier table,
its reading and the figure are written in the results folder.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

from kube_sim.cli.common import (
    Study,
    add_months_option,
    add_planning_options,
    add_table_options,
    apply_ensemble,
    basis_line,
    hours_arg,
    output_folder,
    planned_scenario,
    print_today,
    register,
    render_table,
    replications_arg,
    say,
    today_of,
    whole_number,
)
from kube_sim.common.i18n import _
from kube_sim.experiments.files import display_path
from kube_sim.reporting.formats import fmt_rp

DEFAULT_OUT = "frontier"
DEFAULT_REPLICATIONS = 20
"""Paired replications per allocation by default (29 allocations: a minute or two on 2 cores)."""
MAX_BUDGET = 1e15

EPILOG = """\
An allocation splits the yearly budget, after the agency's administration, between facilitators'
pay (--facilitator-shares) and grant money for funding rounds; a share of the grant money
(--equipment-shares) goes to equipment grants per group. The model's own cost rules turn the
shares into parameters: the round's money is funding.annual_budget_rp (UEP grant, training and
equipment of the groups funded; the village quota is lifted so the money decides), the equipment
grant is grants.equipment_rp, and the pay buys facilitator posts at facilitators.pay_per_hour_rp
for their hours, which sets facilitators.groups_per_facilitator. What a group and a post cost is
measured on today's allocation (the scenario, run first with the same seeds, alone and at several
caseloads). Every allocation is
run with paired replications and its simulated cost is reported beside the budget.

The frontier: allocations within the budget that no other beats on surviving groups at the end,
income paid to eligible households over the run, and cost. Each comes with 95% bootstrap intervals,
its difference from today's allocation, and how often it is on the frontier across resamples.

Without --budget, the budget is today's simulated yearly spend (about Rp 690-720 juta for the
Polewali Mandar baseline), so the question is the best use of today's money.

Results: <out>/frontier.csv (every allocation), frontier.png, frontier.json (the best and the
reading); <out>/today/ and <out>/allocations/ hold the two sweeps' tables and manifests.

examples:
  kube-sim frontier                                    # today's budget
  kube-sim frontier --budget 1_000_000_000             # Rp 1 milyar a year
  kube-sim frontier --budget "800 juta" --years 5 --hours 30
  kube-sim frontier --facilitator-shares 0,0.1,0.2 --equipment-shares 0,0.2 --replications 10
  kube-sim frontier --resume                           # finish a stopped run
"""

_UNITS = {"": 1.0, "rb": 1e3, "ribu": 1e3, "jt": 1e6, "juta": 1e6, "m": 1e9, "milyar": 1e9, "miliar": 1e9}


def budget_arg(text: str) -> float:
    """Parse ``--budget``: rupiah a year, with ``_`` or ``,`` separators or a unit (``800 juta``, ``1.2 milyar``).

    Args:
        text: The option's value.

    Returns:
        Rupiah.

    Raises:
        argparse.ArgumentTypeError: If it is not a positive amount.
    """
    match = re.fullmatch(r"\s*(?:rp\.?\s*)?([0-9][0-9_,]*(?:\.[0-9]+)?)\s*([a-z]*)\s*", text.lower())
    if not match or match.group(2) not in _UNITS:
        raise argparse.ArgumentTypeError(f"expected rupiah a year, e.g. 1_000_000_000 or '800 juta', got {text!r}")
    value = float(match.group(1).replace("_", "").replace(",", "")) * _UNITS[match.group(2)]
    if not 0 < value <= MAX_BUDGET:
        raise argparse.ArgumentTypeError(f"must be above 0 and at most {MAX_BUDGET:,.0f}, got {text!r}")
    return value


def _shares(text: str, top: float) -> list[float]:
    values = []
    for item in text.split(","):
        try:
            value = float(item)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected shares like 0,0.1,0.2, got {item!r}") from None
        if not 0 <= value < top:
            raise argparse.ArgumentTypeError(f"each share must be from 0 to below {top:g}, got {item}")
        values.append(value)
    return sorted(set(values))


class Frontier(Study):
    """``kube-sim frontier``: today's sweep (the costs), the allocations' sweep, and their Pareto frontier."""

    name = "frontier"
    summary = "the best splits of a yearly budget: groups, equipment, facilitators"
    description = ("Allocations of a yearly programme budget between funding more groups, equipment grants and "
                   "facilitators, run with paired seeds; the Pareto frontier of surviving groups and eligible "
                   "households' income against cost, with intervals, and what each buys against today's allocation.")
    epilog = EPILOG

    @classmethod
    def add_options(cls, parser: argparse.ArgumentParser) -> None:
        """Add the budget, the years, the shares and the planning options.

        Args:
            parser: The command's parser.
        """
        from kube_sim.experiments.frontier import EQUIPMENT_SHARES, FACILITATOR_SHARES

        p = parser
        p.add_argument("--budget", type=budget_arg, metavar="RP_PER_YEAR",
                       help="yearly programme budget in rupiah, e.g. 1_000_000_000 or '800 juta' "
                            "(default: today's simulated yearly spend)")
        p.add_argument("--years", type=lambda t: whole_number(t, 1, 50), metavar="N",
                       help="years of funding rounds (funding.rounds; default: the scenario's, 3 for the baseline)")
        p.add_argument("--scenario", default="baseline", metavar="NAME",
                       help="today's allocation, a scenario name or .toml path (default: baseline)")
        p.add_argument("--hours", type=hours_arg, metavar="H",
                       help="facilitator hours a month in the allocations (default: the scenario's)")
        p.add_argument("--facilitator-shares", type=lambda t: _shares(t, 1.0), metavar="A,B,...",
                       default=list(FACILITATOR_SHARES),
                       help="shares of the budget for facilitators' pay (default: "
                            f"{','.join(f'{s:g}' for s in FACILITATOR_SHARES)})")
        p.add_argument("--equipment-shares", type=lambda t: _shares(t, 0.9), metavar="A,B,...",
                       default=list(EQUIPMENT_SHARES),
                       help="shares of a round's grant money for equipment grants, each below 0.9 (default: "
                            f"{','.join(f'{s:g}' for s in EQUIPMENT_SHARES)})")
        p.add_argument("--replications", type=replications_arg, default=DEFAULT_REPLICATIONS, metavar="R",
                       help=f"paired replications per allocation (default: {DEFAULT_REPLICATIONS})")
        add_months_option(p, None, "months per run (default: 96, or 12 per year of rounds plus 36 if longer)")
        add_planning_options(p, "a frontier run", DEFAULT_OUT)
        add_table_options(p)

    def check(self) -> None:
        """Today's allocation with its years of rounds, and the run length."""
        from kube_sim.experiments import frontier as design

        base = planned_scenario(self.args)
        years = design.funding_years(base, self.args.years)
        self.today = design.today_scenario(base, years)
        self.months = design.run_length(years, self.args.months)
        self.folder = output_folder(self.args.out, DEFAULT_OUT)

    def targets(self) -> list[tuple[str, Any]]:
        """``--out`` and the two sweeps' folders inside it."""
        from kube_sim.store.targets import FOLDER, Target

        root, typed = self.folder, self.args.out is not None
        assert root is not None
        return [("--out", Target(path, FOLDER, typed=typed)) for path in (root, root / "today", root / "allocations")]

    def plan(self) -> Any:
        """Today's allocation, alone and at several caseloads (its runs measure the costs)."""
        from kube_sim.experiments import frontier as design

        return design.plan_costs(self.today, replications=self.args.replications, months=self.months,
                                 master_seed=self.args.seed)

    def work(self, plan: Any, folder: Path) -> Any:
        """Today's sweep, the costs and the budget, then the allocations' sweep."""
        from kube_sim.experiments import frontier as design
        from kube_sim.store import sweep_folder as store

        args, today = self.args, self.today
        say(_("today's allocation first, alone and at several caseloads: it measures what a group, a facilitator "
              "and administration cost"))
        self.sweep(plan, folder / "today")
        rules = design.cost_rules(store.load_runs(folder / "today"), today.params)
        budget = args.budget if args.budget is not None else design.default_budget(rules)
        source = _("given") if args.budget is not None else _("today's simulated spend")
        years = int(today.params.funding.rounds)
        say("\n" + _("budget: {budget} a year of funding rounds ({source}), {total} over {years} rounds; a group's "
                     "UEP grant and training cost {group}, administration {admin} a year").format(
            budget=fmt_rp(budget), source=source, total=fmt_rp(budget * years), years=years,
            group=fmt_rp(rules.group_cost_rp), admin=fmt_rp(rules.admin_per_year_rp)))
        allocations = design.plan_frontier(today, rules, budget=budget, facilitator_shares=args.facilitator_shares,
                                           equipment_shares=args.equipment_shares, hours=args.hours,
                                           replications=args.replications, months=self.months,
                                           master_seed=args.seed)
        return self.sweep(apply_ensemble(allocations, args), folder / "allocations")

    def analyse(self, done: Any, folder: Path) -> Any:
        """The frontier of the allocations' runs."""
        from kube_sim.analysis.frontier import frontier_from_sweep
        from kube_sim.store import sweep_folder as store

        allocations = folder / "allocations"
        self.manifest = store.load_manifest(allocations)
        self.runs = store.load_runs(allocations)
        return frontier_from_sweep(self.runs, store.read_table(allocations, "monthly"), self.manifest)

    def show(self, result: Any, folder: Path) -> None:
        """Today's allocation, the best allocations and the reading."""
        from kube_sim.reporting import frontier as report

        print()
        today_arm = int(self.manifest["frontier"]["today_arm"])
        print_today(today_of(self.today, self.runs[self.runs["arm"] == today_arm], self.months,
                             _("today's allocation"), per_round=True))
        header, rows = report.best_rows(result)
        print()
        print(render_table(header, rows, left=1, title="frontier"))
        print()
        say(report.reading(result, self.manifest))

    def write(self, result: Any, folder: Path) -> dict[str, Path]:
        """frontier.csv, frontier.png and frontier.json."""
        from kube_sim.reporting import frontier as report

        return report.write_outputs(folder, result, self.manifest)

    def closing(self, result: Any, written: Any, folder: Path) -> None:
        """What the answer was based on, and where the results are."""
        say("\n" + basis_line(self.runs, self.args, "survival_36"))
        say("\n" + _("results in {folder}").format(folder=f"{display_path(folder)}/") + " ("
            + _("{files}; the sweeps in today/ and allocations/").format(
                files=", ".join(p.name for p in written.values())) + ")")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``frontier`` on the main parser.

    Args:
        subparsers: The main parser's subparsers.
    """
    register(subparsers, Frontier)
