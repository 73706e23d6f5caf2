"""``kube-sim compare``: two scenarios with paired seeds; means, differences, cost, value per Rp 100 juta."""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import textwrap
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from kube_sim.cli.common import (
    DEFAULT_ENSEMBLE,
    Study,
    add_district_option,
    add_ensemble_option,
    add_months_option,
    add_resume_options,
    add_seed_option,
    add_set_option,
    add_table_options,
    add_workers_option,
    basis_line,
    print_today,
    register,
    render_table,
    replications_arg,
    today_of,
    warn,
    warn_unreached,
    with_district,
)
from kube_sim.common.errors import InputError
from kube_sim.common.i18n import N_, _
from kube_sim.common.outputs import COST_ITEMS
from kube_sim.experiments.files import display_path
from kube_sim.model.defaults import DEFAULT_MASTER_SEED, DEFAULT_MONTHS
from kube_sim.reporting.formats import fmt_level

DEFAULT_COMPARE_REPLICATIONS = 20
DEFAULT_COMPARE_MONTHS = DEFAULT_MONTHS
OUTCOMES: tuple[str, ...] = (
    "poverty_lifted_end", "poverty_lifted_36", "poverty_gap_closed_end_rp", "poverty_poor_without",
    "groups_funded", "facilitators", "mean_caseload", "groups_active_end",
    "survival_12", "survival_24", "survival_36", "groups_failed_36", "survival_60", "groups_failed_60", "members",
    "mean_member_income_rp", "share_above_poverty_line",
    "inactive_member_share", "visits_per_group_month", "mean_share_unvisited_quarter", "cost_total_rp",
    *(f"cost_by_item_{item}_rp" for item in COST_ITEMS), "cost_per_surviving_group_rp",
)
"""Outcomes the table shows by default (those the run length allows)."""

READ_OUTCOMES: tuple[str, ...] = ("poverty_lifted_end", "survival_36", "groups_active_end", "mean_member_income_rp",
                                  "cost_total_rp")
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
  kube-sim compare baseline ratio_1_20 --name-a today --name-b "1 per 20" --out results/ratio --xlsx ratio.xlsx
  kube-sim brief results/ratio                     # one A4 page for the head of office
  kube-sim compare baseline baseline --set facilitators.count=7 --set-b facilitators.count=10 --equal-cost
  kube-sim compare baseline baseline --set facilitators.count=7 --set-b grants.equipment_rp=5000000 --equal-cost
  kube-sim compare baseline no_facilitators --out results/compare_no_facilitators
"""


class Compare(Study):
    """``kube-sim compare``: two scenarios with paired seeds, and what B changes against A."""

    name = "compare"
    summary = "paired comparison of two scenarios: differences, cost, value per Rp 100 juta"
    description = ("Run two scenarios with paired seeds and print each outcome's means and the paired difference "
                   "B - A with its 95% confidence interval and p-value, the staff and cost of each, and what each "
                   "buys per Rp 100 juta.")
    epilog = EPILOG
    lock = False  # the sweep engine holds --out itself; without it the runs go to a temporary folder

    @classmethod
    def add_options(cls, parser: argparse.ArgumentParser) -> None:
        """Add the two scenarios, their changes and names, and the run settings.

        Args:
            parser: The command's parser.
        """
        compare = parser
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
        for arm in ("a", "b"):
            compare.add_argument(f"--name-{arm}", metavar="NAME", dest=f"name_{arm}",
                                 help=f"what tables, readings, the report and the brief call {arm.upper()} (default: "
                                      f"its scenario's name, with the --set-{arm} changes)")
        compare.add_argument("--equal-cost", action="store_true",
                             help="also compare at equal cost: the difference per Rp 100 juta spent, and what B's "
                                  "extra money buys per extra Rp 100 juta (see below)")
        add_workers_option(compare, "parallel runs")
        add_district_option(compare)
        add_ensemble_option(compare, DEFAULT_ENSEMBLE)
        compare.add_argument("--out", type=Path, metavar="DIR",
                             help="keep the runs in this folder (default: a temporary folder, removed afterwards)")
        add_resume_options(compare, "a comparison (with --out)")
        add_table_options(compare)

    def check(self) -> None:
        """``--resume`` and ``--overwrite`` need ``--out``."""
        args = self.args
        if args.out is None and (args.resume or args.overwrite):
            raise InputError("needs --out: without it the runs go to a temporary folder, removed afterwards",
                             source="--resume" if args.resume else "--overwrite")
        self.folder = args.out

    def plan(self) -> Any:
        """A and B with their changes, with paired seeds."""
        from kube_sim.experiments.sweep import plan_comparison

        self.a, self.b = compared_scenarios(self.args)
        return plan_comparison(self.a, self.b, replications=self.args.replications, months=self.args.months,
                               master_seed=self.args.seed)

    @contextlib.contextmanager
    def workspace(self) -> Iterator[Path]:
        """``--out``, or a temporary folder removed afterwards."""
        with tempfile.TemporaryDirectory(prefix="kube-sim-compare-") as tmp:
            yield self.args.out if self.args.out is not None else Path(tmp)

    def work(self, plan: Any, folder: Path) -> Any:
        """The paired runs (a temporary folder starts empty)."""
        return self.sweep(plan, folder, report=False, overwrite=self.args.out is None or self.args.overwrite)

    def analyse(self, done: Any, folder: Path) -> Any:
        """The runs table."""
        from kube_sim.store import sweep_folder as store

        return store.load_runs(folder)

    def show(self, result: Any, folder: Path) -> None:
        """Today, the headline, the tables of differences and value, the readings and the basis."""
        args, a, b, runs = self.args, self.a, self.b, result
        print()
        print_today(today_of(a, runs[runs["arm"] == 0], args.months, f"A: {a.name}"))
        if args.assignments:
            print(_("on both arms: {changes}").format(changes=", ".join(args.assignments)))
        print()
        print("\n".join(headline_lines(runs, a.name, b.name, args.months)))
        print()
        print(compare_table(runs, a.name, b.name))
        print()
        print(value_table(runs, equal_cost=args.equal_cost))
        readings = reading_lines(runs, a.name, b.name)
        if readings:
            print("\n" + _("reading the differences (95% intervals):"))
            print("\n".join(textwrap.fill(line, width=100, initial_indent="- ", subsequent_indent="  ")
                            for line in readings))
        from kube_sim.analysis.ensemble import has_ensemble

        if has_ensemble(runs):
            print("\n" + textwrap.fill(_("over the calibrated ensemble: the tables above pool the parameter sets as "
                                         "if every replication were alike; the one below gives each difference's "
                                         "interval with both seed noise and parameter uncertainty, and the share of "
                                         "each:"), width=100))
            print(ensemble_table(runs, args.ensemble))
        print("\n" + textwrap.fill(basis_line(runs, args, "survival_36", difference=True), width=100))

    def closing(self, result: Any, written: Any, folder: Path) -> None:
        """Where the runs are kept, with ``--out``."""
        if self.args.out is not None:
            print("\n" + _("runs in {folder}/ (report: kube-sim report {folder})").format(
                folder=display_path(self.args.out)))


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``compare`` on the main parser.

    Args:
        subparsers: The main parser's subparsers.
    """
    register(subparsers, Compare)


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

    from kube_sim.experiments.scenario import apply_overrides, load_scenario, parse_assignments, unchanged_keys

    both = parse_assignments(args.assignments)
    loaded = [with_district(load_scenario(name), args) for name in (args.scenario_a, args.scenario_b)]
    for key in set(unchanged_keys(loaded[0], both)) & set(unchanged_keys(loaded[1], both)):
        warn(f"--set {key}={fmt_level(both[key])} " + _("changes nothing: both arms already have it"))
    out = []
    for arm, scenario in zip(("a", "b"), loaded, strict=True):
        scenario = apply_overrides(scenario, both)
        source = f"--set-{arm}"
        own = parse_assignments(getattr(args, f"assignments_{arm}"), source=source)
        for key in unchanged_keys(scenario, own):
            warn(f"{source} {key}={fmt_level(own[key])} " + _("changes nothing: {arm} already has it").format(
                arm=arm.upper()))
        scenario = apply_overrides(scenario, own, source=source)
        if own:
            changes = ", ".join(_change_text(k, v) for k, v in own.items())
            scenario = dataclasses.replace(scenario, name=f"{scenario.name} + {changes}")
        warn_unreached(scenario, args.months, f"{arm.upper()} ({scenario.name})")
        out.append(scenario)
    for i, arm in enumerate(("a", "b")):
        given = getattr(args, f"name_{arm}", None)
        if given is not None:
            if not given.strip():
                raise InputError("is empty; give the option a name, e.g. 'today'", source=f"--name-{arm}")
            out[i] = dataclasses.replace(out[i], name=given.strip())
    a, b = out
    if args.name_a is not None and args.name_b is not None and a.name == b.name:
        raise InputError(f"is the same as --name-a ({a.name!r}); give the two options different names",
                         source="--name-b")
    if a.params == b.params:
        warn(_("A ({a}) and B ({b}) have the same parameters: every difference is seed noise, and with paired seeds "
               "it is zero").format(a=a.name, b=b.name))
    if a.name == b.name:
        a, b = (dataclasses.replace(a, name=f"{a.name} (A)"), dataclasses.replace(b, name=f"{b.name} (B)"))
    return a, b


def _change_text(key: str, value: Any) -> str:
    """A change as an arm's name shows it: ``count=10``, ``equipment Rp 5 juta``."""
    from kube_sim.reporting.formats import fmt_setting

    if key.endswith("_rp"):
        return f"{_short(key).removesuffix('_rp').replace('_', ' ')} {fmt_setting(key, value)}"
    return f"{_short(key)}={fmt_setting(key, value)}"


DERIVED_LABELS: dict[str, str] = {"groups_failed_36": N_("groups failed by 36 months"),
                                  "groups_failed_60": N_("groups failed by 60 months")}
"""Counts derived from shares, for the table (groups funded x (1 - survival at the horizon)), in English."""


def with_counts(runs: Any) -> Any:
    """The runs table with the groups failed by 36 and 60 months as counts beside the survival shares.

    Args:
        runs: A runs table.

    Returns:
        A copy with ``groups_failed_36`` and ``groups_failed_60`` where the survival columns exist.
    """
    out = runs.copy()
    for h in (36, 60):
        if f"survival_{h}" in out and "groups_funded" in out:
            out[f"groups_failed_{h}"] = out["groups_funded"] * (1.0 - out[f"survival_{h}"])
    return out


def headline_lines(runs: Any, name_a: str, name_b: str, months: int) -> list[str]:
    """The answer's lead: households lifted out of poverty per Rp 1 miliar in each arm, in words, and the counts.

    Args:
        runs: The runs table of a two-arm sweep (arm 0 is A).
        name_a: Name of A.
        name_b: Name of B.
        months: Length of each run.

    Returns:
        Lines of text.
    """
    from kube_sim.analysis.statistics import t_interval
    from kube_sim.analysis.value import PER_MILIAR, PER_RP, value_for_money
    from kube_sim.reporting.formats import (
        fmt_cost_change,
        fmt_cost_diff,
        fmt_count,
        fmt_per_budget,
        fmt_rp,
        fmt_signed,
        fmt_years,
        missing,
    )
    from kube_sim.reporting.readings import per_budget_reading, spans_zero

    lines = [_("Households lifted out of poverty (poor on their own income, at or above the line with the programme, "
               "at the end of the run of {period}), per Rp 1 miliar of programme cost:").format(
        period=fmt_years(months))]
    value = value_for_money(runs, 0, 1)
    lifted = value[value["outcome"] == "households_lifted"]
    scale = PER_MILIAR / PER_RP
    if lifted.empty:
        lines.append(_("n/a (the runs hold no poverty counts)"))
    else:
        r = lifted.iloc[0]
        for letter, name, key in (("A", name_a, "reference"), ("B", name_b, "arm")):
            text = per_budget_reading(_("households lifted out of poverty"), r[f"{key}_per_100m"] * scale,
                                      r[f"{key}_low"] * scale, r[f"{key}_high"] * scale)
            lines.append(_("{letter} ({name}): {reading}; {per_100m} per Rp 100 juta.").format(
                letter=letter, name=name, reading=text, per_100m=fmt_per_budget(r[f"{key}_per_100m"])))
        diff, low, high = (r["diff_per_100m"] * scale, r["diff_low"] * scale, r["diff_high"] * scale)

        def plus(v: float) -> str:
            return fmt_signed(v)

        message = (_("At equal cost, B - A: {diff} households per Rp 1 miliar (95% CI {low} to {high}), within noise: "
                     "the interval includes no difference.") if spans_zero(low, high) else
                   _("At equal cost, B - A: {diff} households per Rp 1 miliar (95% CI {low} to {high}), a real "
                     "difference in the model."))
        lines.append(message.format(diff=plus(diff), low=plus(low), high=plus(high)))
        lines.append(_("{cost} than A over {period}; {yearly} a year.").format(
            cost=fmt_cost_diff("B", r["cost_diff"], r["cost_diff_low"], r["cost_diff_high"]),
            period=fmt_years(months), yearly=_cost_a_year(r["cost_diff"] * 12 / months, fmt_cost_change)))
    table = with_counts(runs)
    for arm, name in ((0, name_a), (1, name_b)):
        rows = table[(table["arm"] == arm) & (table["status"] == "ok")]

        def count(column: str, rows: Any = rows) -> str:
            return fmt_count(rows[column].mean()) if column in rows and rows[column].notna().any() else missing()

        def money(column: str, rows: Any = rows) -> str:
            return fmt_rp(rows[column].mean()) if column in rows and rows[column].notna().any() else missing()

        def interval(column: str, rows: Any = rows) -> str:
            if column not in rows or rows[column].isna().all():
                return missing()
            _n, mean, _s, lo, hi = t_interval(rows[column])
            return _("{mean} (95% CI {low} to {high})").format(mean=fmt_count(mean), low=fmt_count(lo),
                                                               high=fmt_count(hi))

        lines.append(_("{letter} ({name}): {lifted} of the {poor} eligible households poor without the programme are "
                       "lifted out at the end, {lifted_36} of {followed_36} followed 36 months after funding; poverty "
                       "gap closed {gap} a month. Groups: {funded} funded, {running} still running at the end, "
                       "{failed_36} failed by 36 months, {failed_60} by 60 months; {members} member households "
                       "reached.").format(
            letter="AB"[arm], name=name, lifted=count("poverty_lifted_end"), poor=count("poverty_poor_without"),
            lifted_36=count("poverty_lifted_36"), followed_36=count("poverty_followed_36"),
            gap=money("poverty_gap_closed_end_rp"), funded=count("groups_funded"),
            running=count("groups_active_end"), failed_36=interval("groups_failed_36"),
            failed_60=interval("groups_failed_60"), members=count("members")))
    return [textwrap.fill(line, width=100) for line in lines]


def _cost_a_year(diff: Any, change: Any) -> str:
    """B's cost difference a year without who pays it: ``Rp 4.46 juta less`` (the same, or n/a)."""
    from kube_sim.reporting.formats import finite, missing

    if not finite(diff):
        return missing()
    return change(float(diff)) if float(diff) != 0 else _("the same")


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
    from kube_sim.common.outputs import item_label, kind_of, label_of
    from kube_sim.reporting.formats import finite, fmt_brief, fmt_brief_diff, fmt_count, fmt_p, fmt_range
    from kube_sim.reporting.tables import Num

    runs = with_counts(runs)
    shown = [o for o in outcomes if o in runs.columns and runs[o].notna().any()]
    diffs = paired_differences(runs, 0, shown)
    header = [_("outcome"), f"A: {name_a}", f"B: {name_b}", "B - A", _("95% CI"), "p"]
    rows = []

    def mean_text(o: str, value: Any) -> str:
        return fmt_count(value) if kind_of(o) == "count" or o in DERIVED_LABELS else fmt_brief(o, value)

    def exact(text: str, value: Any) -> Num:
        """The cell as shown, with the unrounded mean for --xlsx and --csv."""
        return Num(text, float(value) if finite(value) else None)

    for _i, row in diffs.iterrows():
        o = row["outcome"]
        label = ("  " + item_label(o)) if o.startswith("cost_by_item_") else (
            _(DERIVED_LABELS[o]) if o in DERIVED_LABELS else label_of(o))
        rows.append([label, exact(mean_text(o, row["baseline_mean"]), row["baseline_mean"]),
                     exact(mean_text(o, row["arm_mean"]), row["arm_mean"]),
                     exact(fmt_brief_diff(o, row["mean_diff"]), row["mean_diff"]),
                     fmt_range(fmt_brief_diff(o, row["ci_low"]), fmt_brief_diff(o, row["ci_high"])),
                     fmt_p(row["pvalue"])])
    failed = int((runs["status"] != "ok").sum())
    pairs = int(diffs["n_pairs"].max()) if len(diffs) else 0
    note = _("{pairs} paired replications; p from a paired t-test").format(pairs=pairs)
    if failed:
        note += _("; {failed} runs failed and are left out").format(failed=failed)
    return render_table(header, rows, title="compare") + f"\n({note})"


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
    from kube_sim.common.outputs import item_label, label_of
    from kube_sim.reporting.ensemble import READING, ensemble_cells, header

    def label(o: str) -> str:
        return item_label(o) if o.startswith("cost_by_item_") else (
            _(DERIVED_LABELS[o]) if o in DERIVED_LABELS else label_of(o))

    shown = [o for o in outcomes if o in runs.columns and runs[o].notna().any()]
    table = ensemble_differences(runs, 0, shown)
    rows = [[label(row["outcome"]), *ensemble_cells(row["outcome"], row)] for _, row in table.iterrows()]
    members = int(table["members"].max()) if len(table) else 0
    pairs = int(table["n_pairs"].max()) if len(table) else 0
    note = _("ensemble {name}: B - A over {pairs} paired replications and {members} calibrated parameter sets. "
             "{reading}").format(name=name, pairs=pairs, members=members, reading=_(READING))
    text = render_table([_("outcome"), *header()], rows, title="ensemble")
    return text + "\n(" + textwrap.fill(note, 98, subsequent_indent=" ") + ")"


def _per_100m(value: Any) -> str:
    from kube_sim.reporting.formats import finite, fmt_fixed, missing

    return fmt_fixed(float(value), 2) if finite(value) else missing()


def _signed(value: Any) -> str:
    from kube_sim.reporting.formats import finite, fmt_fixed, missing

    if not finite(value):
        return missing()
    return ("+" if value > 0 else "−" if value < 0 else "±") + fmt_fixed(abs(float(value)), 2)


def value_table(runs: Any, *, equal_cost: bool) -> str:
    """What A and B buy per Rp 100 juta of their total cost, and with ``equal_cost`` B against A at equal cost.

    Args:
        runs: The runs table of a two-arm sweep (arm 0 is A).
        equal_cost: Add the difference at equal cost and what B's extra money buys.

    Returns:
        The table with its notes.
    """
    from kube_sim.analysis.value import value_for_money
    from kube_sim.reporting.formats import fmt_cost_diff, fmt_p, fmt_range, missing

    value = value_for_money(runs, 0, 1)
    if value.empty:
        return _("(no cost in the runs table: nothing to put per Rp 100 juta)")
    header = [_("per Rp 100 juta spent"), "A", "B"]
    if equal_cost:
        header += [_("B - A at equal cost"), _("95% CI"), "p", _("per extra Rp 100 juta of B"), _("95% CI")]
    rows = []
    for _i, r in value.iterrows():
        row = [_(str(r.label)), _per_100m(r["reference_per_100m"]), _per_100m(r["arm_per_100m"])]
        if equal_cost:
            row += [_signed(r["diff_per_100m"]), fmt_range(_signed(r["diff_low"]), _signed(r["diff_high"])),
                    fmt_p(r["pvalue"]), _signed(r["extra_per_100m"]),
                    fmt_range(_signed(r["extra_low"]), _signed(r["extra_high"]))
                    if r["extra_low"] == r["extra_low"] else missing()]
        rows.append(row)
    first = value.iloc[0]
    cost = _("{cost} than A over the run").format(
        cost=fmt_cost_diff("B", first["cost_diff"], first["cost_diff_low"], first["cost_diff_high"]))
    notes = [cost]
    if equal_cost:
        notes.append(_("at equal cost: B's count per Rp 100 juta minus A's, paired by replication (the programme "
                       "assumed to scale with its budget)"))
        notes.append(_("per extra Rp 100 juta: (B - A) / (B's cost - A's cost) x Rp 100 juta, Fieller's interval; "
                       "n/a when the costs do not clearly differ"))
    return render_table(header, rows, title="value") + "\n" + textwrap.fill("(" + "; ".join(notes) + ")", width=100)


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
