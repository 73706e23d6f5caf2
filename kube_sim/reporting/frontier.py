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

from kube_sim.reporting.canvas import new_figure, style
from kube_sim.reporting.formats import finite, fmt_juta
from kube_sim.store.files import atomic_write, write_json, write_text

TABLE_CSV = "frontier.csv"
FIGURE = "frontier.png"
ANSWER_JSON = "frontier.json"
SHOWN = 10
"""Frontier allocations the printed table shows at most (the CSV holds every allocation)."""


def _groups(x: Any, signed: bool = False) -> str:
    if not finite(x):
        return "n/a"
    return f"{float(x):+.1f}" if signed else f"{float(x):.1f}"


def _bare(x: Any, signed: bool = False) -> str:
    """Rupiah in juta without the unit, for the ends of an interval."""
    return fmt_juta(x, signed).replace("Rp ", "").replace(" juta", "")


def _interval(row: Mapping[str, Any], name: str, fmt: Any, diff: bool = False) -> str:
    key = f"diff_{name}" if diff else name
    ends = _bare if fmt is fmt_juta else fmt
    return f"{fmt(row[key], diff)} ({ends(row[f'{key}_low'], diff)} to {ends(row[f'{key}_high'], diff)})"


def allocation_text(row: Mapping[str, Any]) -> str:
    """An allocation in a planner's words: the shares and what they set.

    Args:
        row: A row of the frontier table.

    Returns:
        E.g. ``facilitators 8% (1:6), equipment 20% (Rp 5.6 juta a group)``.
    """
    if row.get("today"):
        caseload = int(row["facilitators.groups_per_facilitator"])
        staff = "no facilitators" if caseload == 0 else f"1:{caseload}"
        equipment = (f"equipment {fmt_juta(row['grants.equipment_rp'])} a group" if row["grants.equipment_rp"] > 0
                     else "no equipment grant")
        return f"today ({staff}, {equipment}, {int(row['funding.villages_per_kecamatan'])} villages per kecamatan)"
    return str(row["label"])


def best_rows(table: pd.DataFrame, confidence: float = 0.95) -> tuple[list[str], list[list[str]]]:
    """The frontier's allocations (cheapest first) and today's, as a printed table.

    Args:
        table: The frontier table.
        confidence: Level of its intervals (for the header).

    Returns:
        ``(header, rows)``.
    """
    level = f"{confidence:.0%}"
    header = ["allocation", "cost a year", "groups funded", f"surviving groups ({level})",
              f"income to eligible ({level})", "vs today: surviving", "vs today: income", "on frontier"]
    today = table[table["today"].astype(bool)]
    front = table[table["on_frontier"] & ~table["today"].astype(bool)].sort_values("cost_per_year_rp").head(SHOWN)
    rows = []
    for _, r in pd.concat([today, front]).iterrows():
        is_today = bool(r["today"])
        rows.append([allocation_text(r), fmt_juta(r["cost_per_year_rp"]), _groups(r["groups_funded"]),
                     _interval(r, "surviving_groups", _groups), _interval(r, "eligible_income_rp", fmt_juta),
                     "—" if is_today else _interval(r, "surviving_groups", _groups, diff=True),
                     "—" if is_today else _interval(r, "eligible_income_rp", fmt_juta, diff=True),
                     f"{r['frontier_share']:.0%}"])
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
    lines = [f"Budget {fmt_juta(budget)} a year over {years} yearly rounds; today's allocation spends "
             f"{fmt_juta(today['cost_per_year_rp'])} a year (simulated) and ends with {today['surviving_groups']:.1f} "
             f"surviving groups after {months} months and {fmt_juta(today['eligible_income_rp'])} paid to eligible "
             "households."]
    front = table[table["on_frontier"] & ~table["today"].astype(bool)]
    if len(front) == 0:
        lines.append("No allocation within the budget improves on today's in either outcome.")
        return " ".join(lines)
    most = front.loc[front["surviving_groups"].idxmax()]
    richest = front.loc[front["eligible_income_rp"].idxmax()]
    lines.append(f"Most surviving groups: {allocation_text(most)}, "
                 f"{_interval(most, 'surviving_groups', _groups, diff=True)} groups against today at "
                 f"{fmt_juta(most['cost_per_year_rp'])} a year.")
    if richest["arm"] != most["arm"]:
        lines.append(f"Most income to eligible households: {allocation_text(richest)}, "
                     f"{_interval(richest, 'eligible_income_rp', fmt_juta, diff=True)} against today.")
    over = int((~table["within_budget"]).sum())
    if over:
        lines.append(f"{over} allocation(s) cost more than the budget in simulation and are left off the frontier.")
    lines.append("Income to eligible is what the groups paid to eligible households over the whole run. "
                 "'On frontier' is the share of bootstrap resamples in which the allocation is not beaten on all "
                 "three of surviving groups, eligible income and cost; near 100% is a safe choice, a low share "
                 "means neighbours do as well within the noise.")
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
    panels = (("surviving_groups", "surviving groups at the end", 1.0),
              ("eligible_income_rp", "income paid to eligible households (Rp juta)", 1e6))
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
                        elinewidth=0.6, alpha=0.7, label="other allocations")
            front = table["on_frontier"] & ~today
            ax.errorbar(x[front], y[front], xerr=xerr[:, front], yerr=yerr[:, front], fmt="o", ms=5, color="C0",
                        elinewidth=0.9, label="on the frontier")
            ax.errorbar(x[today], y[today], xerr=xerr[:, today], yerr=yerr[:, today], fmt="*", ms=13, color="C3",
                        elinewidth=0.9, label="today's allocation")
            ax.axvline(budget / 1e6, color="0.3", ls="--", lw=0.8, label="budget")
            ax.set_xlabel("simulated cost a year (Rp juta)")
            ax.set_ylabel(label)
            ax.xaxis.set_major_formatter(lambda v, _p: f"{v:,.0f}")
            ax.yaxis.set_major_formatter(lambda v, _p: f"{v:,.0f}")
        axes[0].legend(fontsize=7, loc="best")
        fig.suptitle(f"Allocations of Rp {budget / 1e6:,.0f} juta a year ({manifest.get('replications')} paired "
                     "replications, 95% intervals)", fontsize=10)
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
