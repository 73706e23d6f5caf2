"""The budget frontier as a table of the best allocations, a reading, and a figure (frontier against cost).

Reads only the table computed by :mod:`kube_sim.analysis.frontier` and the sweep's manifest.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from kube_sim.common import keys
from kube_sim.common.i18n import _
from kube_sim.reporting.canvas import new_figure, style
from kube_sim.reporting.formats import (
    finite,
    fmt_count,
    fmt_fixed,
    fmt_juta,
    fmt_percent,
    fmt_range,
    fmt_rp,
    fmt_signed,
    missing,
)
from kube_sim.reporting.readings import per_budget_reading
from kube_sim.store.files import atomic_write, write_json, write_text

TABLE_CSV = "frontier.csv"
FIGURE = "frontier.png"
ANSWER_JSON = "frontier.json"
SHOWN = 10
"""Frontier allocations the printed table shows at most (the CSV holds every allocation)."""


def _groups(x: Any, signed: bool = False) -> str:
    if not finite(x):
        return missing()
    if not signed:
        return fmt_fixed(float(x), 1)
    return fmt_signed(float(x), 1)


def _bare(x: Any, signed: bool = False) -> str:
    """Rupiah in juta without the unit, for the ends of an interval."""
    return fmt_juta(x, signed).replace("Rp ", "").replace(" juta", "")


def _interval(row: Mapping[str, Any], name: str, fmt: Any, diff: bool = False) -> str:
    key = f"diff_{name}" if diff else name
    ends = _bare if fmt is fmt_juta else fmt
    return f"{fmt(row[key], diff)} ({fmt_range(ends(row[f'{key}_low'], diff), ends(row[f'{key}_high'], diff))})"


def allocation_text(row: Mapping[str, Any]) -> str:
    """An allocation in a planner's words: the shares and what they set.

    Args:
        row: A row of the frontier table.

    Returns:
        E.g. ``facilitators 8% (1:6), equipment 20% (Rp 5.6 juta a group)``.
    """
    if row.get("today"):
        caseload = int(row[keys.CASELOAD])
        staff = _("no facilitators") if caseload == 0 else f"1:{caseload}"
        equipment = (_("equipment {amount} a group").format(amount=fmt_juta(row[keys.EQUIPMENT]))
                     if row[keys.EQUIPMENT] > 0 else _("no equipment grant"))
        return _("today ({staff}, {equipment}, {villages} villages per kecamatan)").format(
            staff=staff, equipment=equipment, villages=int(row[keys.VILLAGE_QUOTA]))
    if not all(finite(row.get(k)) for k in ("caseload", "equipment_rp", "pay_share", "equipment_share")):
        return str(row["label"])
    caseload = int(row["caseload"])
    staff = _("no facilitators") if caseload == 0 else f"1:{caseload}"
    equipment = (_("no equipment grant") if row["equipment_rp"] <= 0 else
                 _("Rp {amount} juta a group").format(amount=fmt_fixed(row["equipment_rp"] / 1e6, 1)))
    return _("pay {pay} ({staff}), equipment {share} ({equipment})").format(
        pay=fmt_percent(row["pay_share"], 0), staff=staff, share=fmt_percent(row["equipment_share"], 0),
        equipment=equipment)


def best_rows(table: pd.DataFrame, confidence: float = 0.95) -> tuple[list[str], list[list[str]]]:
    """The frontier's allocations (cheapest first) and today's, as a printed table.

    Args:
        table: The frontier table.
        confidence: Level of its intervals (for the header).

    Returns:
        ``(header, rows)``.
    """
    level = fmt_percent(confidence, 0)
    lifted = "lifted_per_miliar" in table.columns
    header = [_("allocation"), _("cost a year of rounds"),
              *([_("lifted per Rp 1 miliar ({level})").format(level=level)] if lifted else []),
              _("groups funded"), _("surviving groups ({level})").format(level=level),
              _("income to eligible ({level})").format(level=level), _("vs today: surviving"),
              _("vs today: income"), _("on frontier")]
    today = table[table["today"].astype(bool)]
    front = table[table["on_frontier"] & ~table["today"].astype(bool)].sort_values("cost_per_year_rp").head(SHOWN)
    rows = []
    for _i, r in pd.concat([today, front]).iterrows():
        is_today = bool(r["today"])
        rows.append([allocation_text(r), fmt_juta(r["cost_per_year_rp"]),
                     *([_interval(r, "lifted_per_miliar", _groups)] if lifted else []),
                     fmt_count(r["groups_funded"]),
                     _interval(r, "surviving_groups", _groups), _interval(r, "eligible_income_rp", fmt_juta),
                     "—" if is_today else _interval(r, "surviving_groups", _groups, diff=True),
                     "—" if is_today else _interval(r, "eligible_income_rp", fmt_juta, diff=True),
                     fmt_percent(r["frontier_share"], 0)])
    return header, rows


def reading(table: pd.DataFrame, manifest: Mapping[str, Any]) -> str:
    """A few sentences: the budget, today's spend, and what the best allocations buy.

    Args:
        table: The frontier table.
        manifest: The sweep's manifest.

    Returns:
        The text.
    """
    spec = manifest["frontier"]
    budget = float(spec["budget_rp"])
    today = table[table["today"].astype(bool)].iloc[0]
    years, months = int(spec["years"]), manifest.get("months")
    period = _("a year of funding rounds ({years} yearly rounds; each run lasts {months} months)").format(
        years=years, months=months)
    lines = []
    if "lifted_per_miliar" in table.columns:
        per = per_budget_reading(_("households"), today["lifted_per_miliar"], today["lifted_per_miliar_low"],
                                 today["lifted_per_miliar_high"])
        lines.append(_("Households lifted out of poverty under today's allocation: {per} of its cost ({lifted} "
                       "households at the end of the run).").format(per=per,
                                                                     lifted=fmt_count(today["households_lifted"])))
    lines.append(_("Budget {budget} for {period}: {total} over the {years} rounds; today's allocation spends {spend} "
                   "a year of rounds (simulated) and ends with {surviving} surviving groups after {months} months and "
                   "{income} paid to eligible households.").format(
        budget=fmt_juta(budget), period=period, total=fmt_rp(budget * years), years=years,
        spend=fmt_juta(today["cost_per_year_rp"]), surviving=fmt_fixed(today["surviving_groups"], 1), months=months,
        income=fmt_juta(today["eligible_income_rp"])))
    if today["cost_per_year_rp"] > budget:
        lines.append(_("Today's programme costs more than the budget: {spend} a year against {budget}, {over} a year "
                       "over it, so the comparison is with a programme this budget cannot pay for.").format(
            spend=fmt_juta(today["cost_per_year_rp"]), budget=fmt_juta(budget),
            over=fmt_juta(today["cost_per_year_rp"] - budget)))
    front = table[table["on_frontier"] & ~table["today"].astype(bool)]
    if len(front) == 0:
        lines.append(_("No allocation within the budget improves on today's in either outcome."))
        return " ".join(lines)
    most = front.loc[front["surviving_groups"].idxmax()]
    richest = front.loc[front["eligible_income_rp"].idxmax()]
    if "lifted_per_miliar" in front.columns:
        lifts = front.loc[front["lifted_per_miliar"].idxmax()]
        lines.append(_("Most households lifted out of poverty for the money: {allocation}, {reading}; against today "
                       "{diff} per Rp 1 miliar.").format(
            allocation=allocation_text(lifts),
            reading=per_budget_reading(_("households"), lifts["lifted_per_miliar"], lifts["lifted_per_miliar_low"],
                                       lifts["lifted_per_miliar_high"]),
            diff=_interval(lifts, "lifted_per_miliar", _groups, diff=True)))
    lines.append(_("Most surviving groups: {allocation}, {diff} groups against today at {cost} a year.").format(
        allocation=allocation_text(most), diff=_interval(most, "surviving_groups", _groups, diff=True),
        cost=fmt_juta(most["cost_per_year_rp"])))
    if richest["arm"] != most["arm"]:
        lines.append(_("Most income to eligible households: {allocation}, {diff} against today.").format(
            allocation=allocation_text(richest), diff=_interval(richest, "eligible_income_rp", fmt_juta, diff=True)))
    over = int((~table["within_budget"]).sum())
    if over:
        lines.append(_("{n} allocation(s) cost more than the budget in simulation and are left off the "
                       "frontier.").format(n=over))
    lines.append(_("Income to eligible is what the groups paid to eligible households over the whole run. "
                   "'On frontier' is the share of bootstrap resamples in which the allocation is not beaten on all "
                   "three of surviving groups, eligible income and cost; near 100% is a safe choice, a low share "
                   "means neighbours do as well within the noise."))
    return " ".join(lines)


def frontier_figure(table: pd.DataFrame, manifest: Mapping[str, Any]) -> Figure:
    """Surviving groups and eligible income against yearly cost, frontier joined, today's allocation marked.

    Args:
        table: The frontier table.
        manifest: The sweep's manifest.

    Returns:
        The figure.
    """
    budget = float(manifest["frontier"]["budget_rp"])
    panels = (("surviving_groups", _("surviving groups at the end"), 1.0),
              ("eligible_income_rp", _("income paid to eligible households (Rp juta)"), 1e6))
    today = table["today"].astype(bool)
    with style(0.8):
        fig = new_figure(figsize=(10.0, 4.2))
        axes = fig.subplots(1, 2)
        x = table["cost_per_year_rp"] / 1e6
        xerr = np.abs(np.vstack([x - table["cost_per_year_rp_low"] / 1e6, table["cost_per_year_rp_high"] / 1e6 - x]))
        for ax, (metric, label, scale) in zip(axes, panels, strict=True):
            y = table[metric] / scale
            yerr = np.abs(np.vstack([y - table[f"{metric}_low"] / scale, table[f"{metric}_high"] / scale - y]))
            other = ~table["on_frontier"] & ~today
            ax.errorbar(x[other], y[other], xerr=xerr[:, other], yerr=yerr[:, other], fmt="o", ms=3, color="0.6",
                        elinewidth=0.6, alpha=0.7, label=_("other allocations"))
            front = table["on_frontier"] & ~today
            ax.errorbar(x[front], y[front], xerr=xerr[:, front], yerr=yerr[:, front], fmt="o", ms=5, color="C0",
                        elinewidth=0.9, label=_("on the frontier"))
            ax.errorbar(x[today], y[today], xerr=xerr[:, today], yerr=yerr[:, today], fmt="*", ms=13, color="C3",
                        elinewidth=0.9, label=_("today's allocation"))
            ax.axvline(budget / 1e6, color="0.3", ls="--", lw=0.8, label=_("budget"))
            ax.set_xlabel(_("simulated cost a year (Rp juta)"))
            ax.set_ylabel(label)
            ax.xaxis.set_major_formatter(lambda v, _p: fmt_fixed(v, 0))
            ax.yaxis.set_major_formatter(lambda v, _p: fmt_fixed(v, 0))
        axes[0].legend(fontsize=7, loc="best")
        fig.suptitle(_("Allocations of Rp {budget} juta a year ({replications} paired replications, 95% intervals)")
                     .format(budget=fmt_fixed(budget / 1e6, 0), replications=manifest.get("replications")),
                     fontsize=10)
    return fig


def write_outputs(folder: Path, table: pd.DataFrame, manifest: Mapping[str, Any]) -> dict[str, Path]:
    """Write every allocation (CSV), the figure (PNG) and the best allocations with the reading (JSON).

    Args:
        folder: The frontier sweep's folder.
        table: The frontier table.
        manifest: The sweep's manifest.

    Returns:
        The files written, by kind.
    """
    paths = {"csv": folder / TABLE_CSV, "figure": folder / FIGURE, "json": folder / ANSWER_JSON}
    write_text(paths["csv"], table.to_csv(index=False, float_format="%.6g"))
    fig = frontier_figure(table, manifest)
    atomic_write(paths["figure"], lambda tmp: fig.savefig(tmp, format="png", dpi=100), durable=False)
    spec = manifest["frontier"]
    best = table[table["on_frontier"] | table["today"].astype(bool)].sort_values("cost_per_year_rp")
    write_json(paths["json"], {
        "budget_rp": spec["budget_rp"], "years": spec["years"], "months": manifest.get("months"),
        "replications": manifest.get("replications"), "cost_rules": spec["cost_rules"],
        "reading": reading(table, manifest),
        "best": best.replace({np.nan: None}).to_dict(orient="records"),
    })
    return paths
