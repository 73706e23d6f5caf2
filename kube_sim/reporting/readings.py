"""Sentences that say what a paired difference means, by rule: within noise, or a real effect and what moved.

A planner who sees an equipment grant lower survival a little deserves a reason. The rules are
plain and honest:

* a difference whose interval spans 0 is **within noise**: the replications cannot tell the arms
  apart on that outcome, whatever the sign of the mean;
* a difference whose interval excludes 0 is **a real effect in the model**; for survival and groups
  the sentence names the failure causes that clearly moved with it, for cost the items that did,
  so the mechanism is read off the same paired runs, never written in advance.

Nothing here runs or imports the model.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from kube_sim.common.i18n import _
from kube_sim.common.outputs import BY_COLUMN, COST_ITEMS, FAILURE_CAUSES, item_label, label_of
from kube_sim.reporting.formats import finite, fmt_brief_diff

SURVIVAL_LIKE = ("survival_", "groups_active_end", "cost_per_surviving_group_rp")
"""Outcomes whose mechanism is read from the failure causes."""


def spans_zero(low: float, high: float) -> bool:
    """Whether an interval includes 0 (or is missing).

    Args:
        low: Lower end.
        high: Upper end.

    Returns:
        True when the interval does not exclude 0.
    """
    return not (finite(low) and finite(high)) or low <= 0 <= high


def _clear_moves(rows: Mapping[str, pd.Series], prefix: str, names: Mapping[str, str], suffix: str = "") -> list[str]:
    """``more groups failed by conflict (+2.1)`` for each member of a family whose interval excludes 0."""
    moved = []
    for key in names:
        column = f"{prefix}{key}{suffix}"
        r = rows.get(column)
        if r is None or spans_zero(r["ci_low"], r["ci_high"]):
            continue
        moved.append((abs(float(r["mean_diff"])), column, float(r["mean_diff"])))
    moved.sort(reverse=True)
    return [f"{item_label(column)} {fmt_brief_diff(column, diff)}"
            for _, column, diff in moved[:3]]


def difference_reading(outcome: str, row: pd.Series, arm_rows: Mapping[str, pd.Series], *, arm: str,
                       reference: str) -> str:
    """One sentence on a paired difference: within noise, or a real effect and what moved with it.

    Args:
        outcome: The outcome column.
        row: Its paired-difference row (``mean_diff``, ``ci_low``, ``ci_high``, ``n_pairs``).
        arm_rows: Every paired-difference row of the same arm, by outcome (for the mechanism).
        arm: The arm's name.
        reference: The reference arm's name.

    Returns:
        The sentence ("" when the difference is missing).
    """
    diff, low, high = row.get("mean_diff"), row.get("ci_low"), row.get("ci_high")
    if not finite(diff):
        return ""
    label = label_of(outcome)
    interval = _("{low} to {high}").format(low=fmt_brief_diff(outcome, low), high=fmt_brief_diff(outcome, high))
    if spans_zero(low, high):
        pairs = int(row.get("n_pairs", 0) or 0)
        return _("{label}: {diff} is within noise: the 95% interval ({interval}) includes no difference, so {pairs} "
                 "paired replications cannot tell {arm} from {reference} here.").format(
            label=label.capitalize(), diff=fmt_brief_diff(outcome, diff), interval=interval, pairs=pairs, arm=arm,
            reference=reference)
    better = BY_COLUMN[outcome].higher_is_better if outcome in BY_COLUMN else None
    if better is None or outcome.startswith("cost_"):
        message = (_("{label}: {diff} ({interval}) is a real difference in the model: higher under {arm} than "
                     "under {reference}") if diff > 0 else
                   _("{label}: {diff} ({interval}) is a real difference in the model: lower under {arm} than "
                     "under {reference}"))
    elif (diff > 0) == better:
        message = _("{label}: {diff} ({interval}) is a real difference in the model: better under {arm} than "
                    "under {reference}")
    else:
        message = _("{label}: {diff} ({interval}) is a real difference in the model: worse under {arm} than "
                    "under {reference}")
    text = message.format(label=label.capitalize(), diff=fmt_brief_diff(outcome, diff), interval=interval, arm=arm,
                          reference=reference)
    if outcome.startswith(SURVIVAL_LIKE) and outcome != "cost_per_surviving_group_rp":
        causes = _clear_moves(arm_rows, "failure_causes_", FAILURE_CAUSES)
        text += (_("; what moved with it: {moves}").format(moves=", ".join(causes)) if causes else
                 _("; no single failure cause moved clearly"))
    elif outcome.startswith("cost_") and outcome != "cost_per_surviving_group_rp":
        items = _clear_moves(arm_rows, "cost_by_item_", COST_ITEMS, "_rp")
        if items:
            text += _("; the items that moved: {moves}").format(moves=", ".join(items))
    elif outcome == "cost_per_surviving_group_rp":
        parts = _clear_moves(arm_rows, "", {"cost_total_rp": "", "groups_active_end": ""})
        if parts:
            text += _("; it moves with {moves}").format(moves=_(" and ").join(parts))
    return text + "."


def per_budget_reading(what: str, mean: float, low: float, high: float, unit: str | None = None) -> str:
    """A count per unit of budget in words, never rounding a small effect up to a claim.

    ``about 3 households lifted out of poverty per Rp 1 miliar (95% CI 2 to 4)``; when the interval
    holds zero, ``...; the interval includes none``; below one half, ``less than one (0.3) ...``.

    Args:
        what: What is counted, in the plural (``households lifted out of poverty``).
        mean: The mean count per unit.
        low: Lower end of its interval.
        high: Upper end of its interval.
        unit: The budget unit, in words (default: per Rp 1 miliar, in the language spoken).

    Returns:
        The phrase.
    """
    from kube_sim.reporting.formats import fmt_per_budget, missing

    unit = _("per Rp 1 miliar") if unit is None else unit

    if not finite(mean):
        return _("{what} {unit}: {missing}").format(what=what, unit=unit, missing=missing())
    if mean < 0.5:
        text = _("less than one ({mean}) of the {what} {unit}").format(mean=fmt_per_budget(mean), what=what,
                                                                       unit=unit)
    else:
        text = _("about {mean} {what} {unit}").format(mean=fmt_per_budget(mean), what=what, unit=unit)
    if finite(low) and finite(high):
        text += " " + _("(95% CI {low} to {high})").format(low=fmt_per_budget(low), high=fmt_per_budget(high))
        if low <= 0:
            text += _("; the interval includes none")
    return text
