"""Figures of one run, drawn from its tables: one function per figure, each returning a Figure.

Figures are built on the Agg canvas without pyplot, so they work headless and leave no global
figure state behind; seaborn supplies the styling. Nothing here runs the model.
"""

from __future__ import annotations

from contextlib import AbstractContextManager

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from kube_sim.common.i18n import _
from kube_sim.common.survival import SURVIVAL_HORIZONS, durations, survival_at, survival_curve
from kube_sim.reporting.canvas import new_figure, style
from kube_sim.reporting.formats import fmt_percent, localize


def _style() -> AbstractContextManager[None]:
    """The style of these figures."""
    return style(0.9)


def _rupiah(value: float, _pos: object = None) -> str:
    """Format an axis value in Rp (k, juta)."""
    if abs(value) >= 1e6:
        return f"{localize(f'{value / 1e6:g}')} jt"
    if abs(value) >= 1e3:
        return f"{localize(f'{value / 1e3:g}')}k"
    return localize(f"{value:g}")


def survival_figure(groups: pd.DataFrame, months: int, title: str) -> Figure:
    """Kaplan-Meier share of groups still active by months since their own funding.

    Draws the curve with its 95% pointwise band, and dashed reference lines at 12, 24, 36 and 60
    months, labelled along the top with the estimate there.

    Args:
        groups: One row per group, with ``funded_month`` and ``failed_month`` (-1 if running).
        months: Length of the run (groups still running are censored there).
        title: Figure title, e.g. the scenario name.

    Returns:
        The figure.
    """
    with _style():
        fig = new_figure(figsize=(7.5, 4.5))
        ax = fig.subplots()
        colour = sns.color_palette("colorblind")[0]
        if len(groups) == 0:
            ax.text(0.5, 0.5, _("no groups were funded"), ha="center", va="center", transform=ax.transAxes)
            x_max = max(months, 12)
        else:
            duration, failed = durations(groups["funded_month"].to_numpy(), groups["failed_month"].to_numpy(),
                                         months)
            curve = survival_curve(duration, failed)
            ax.fill_between(curve["month"], curve["lower"], curve["upper"], step="post", color=colour,
                            alpha=0.2, linewidth=0, label=_("95% confidence band"))
            ax.plot(curve["month"], curve["survival"], drawstyle="steps-post", color=colour, linewidth=2,
                    label=_("Kaplan-Meier ({groups} groups, {failed} failed)").format(
                        groups=len(groups), failed=int(failed.sum())))
            x_max = max(int(curve["month"].max()), 1)
            at = survival_at(duration, failed)
            shown = [h for h in SURVIVAL_HORIZONS if h <= x_max]
            for h in shown:
                ax.axvline(h, color="0.35", linestyle="--", linewidth=0.9)
            top = ax.secondary_xaxis("top")
            top.set_xticks(shown, [_("{months} m").format(months=h)
                                   + (f"\n{fmt_percent(share, 0)}" if (share := at[str(h)]) is not None else "")
                                   for h in shown])
            top.tick_params(labelsize=8, colors="0.25", length=0)
        ax.set_xlim(0, x_max)
        ax.set_ylim(0, 1.02)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_xlabel(_("months since the group's own funding"))
        ax.set_ylabel(_("groups still active"))
        ax.set_title(title)
        if len(groups):
            ax.legend(loc="best", frameon=True, fontsize=8)
    return fig


def monthly_figure(monthly: pd.DataFrame) -> Figure:
    """A small panel of the district month by month.

    Panels: groups running and failed; share of members inactive; group income paid out per
    member per month.

    Args:
        monthly: One row per month (``month``, ``groups_active``, ``groups_failed``,
            ``inactive_member_share``, ``income_per_member_rp``).

    Returns:
        The figure.
    """
    palette = sns.color_palette("colorblind")
    with _style():
        fig = new_figure(figsize=(11, 3.6))
        ax_groups, ax_inactive, ax_income = fig.subplots(1, 3, sharex=True)
        month = monthly["month"].to_numpy()

        ax_groups.plot(month, monthly["groups_active"], color=palette[0], label=_("running"))
        ax_groups.plot(month, monthly["groups_failed"], color=palette[3], label=_("failed"))
        ax_groups.set_title(_("groups"))
        ax_groups.set_ylabel(_("groups"))
        ax_groups.legend(fontsize=8)

        ax_inactive.plot(month, monthly["inactive_member_share"], color=palette[1])
        ax_inactive.set_title(_("inactive members"))
        ax_inactive.set_ylabel(_("share of members in groups"))
        ax_inactive.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax_inactive.set_ylim(bottom=0)

        income = monthly["income_per_member_rp"].to_numpy(dtype=float)
        ax_income.plot(month, income, color=palette[2], alpha=0.35, linewidth=1, label=_("monthly"))
        if len(income) >= 3:
            smooth = pd.Series(income).rolling(12, min_periods=1).mean()
            ax_income.plot(month, smooth, color=palette[2], linewidth=2, label=_("12-month mean"))
            ax_income.legend(fontsize=8)
        ax_income.set_title(_("income paid out per member"))
        ax_income.set_ylabel(_("Rp per month"))
        ax_income.yaxis.set_major_formatter(FuncFormatter(_rupiah))
        ax_income.set_ylim(bottom=0)

        for ax in (ax_groups, ax_inactive, ax_income):
            ax.set_xlabel(_("month"))
            if len(month) > 1:
                ax.set_xlim(float(np.min(month)), float(np.max(month)))
    return fig
