"""The outcomes of a run, declared once: name, unit, meaning, how to format them, which way is better.

A run summary (``summary.json``, ``kube-sim run --json``) nests four families of outcomes
(``survival`` by horizon, ``poverty`` by measure, ``cost_by_item_rp`` by item, ``failure_causes`` by
cause); a sweep's runs table has one flat column per outcome (``survival_36``, ``cost_by_item_training_rp``,
``failure_causes_conflict``). Both are laid out from :data:`OUTCOMES`, in its order; the report's
labels and number formats and ``docs/OUTCOMES.md`` are read from it too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kube_sim.common.i18n import _
from kube_sim.common.survival import SURVIVAL_HORIZONS

KINDS: dict[str, str] = {
    "count": "a number of things (shown as a plain number)",
    "rate": "a number per unit, e.g. per group and month (shown as a plain number)",
    "share": "a share from 0 to 1 (shown as a percentage)",
    "rp": "an amount in rupiah (shown as Rp 1,234,567)",
}
"""How each kind of outcome is shown."""

COST_ITEMS: dict[str, str] = {
    "uep_grants": "UEP start-up grants to groups",
    "equipment_grants": "equipment grants to groups",
    "training": "training of members before the business starts",
    "facilitators": "facilitators' pay",
    "administration": "the agency's administration",
    "follow_up_support": "follow-up top-ups to groups short of capital",
}
"""Programme cost items, in the order of ``cost_by_item_rp``."""

FAILURE_CAUSES: dict[str, str] = {
    "conflict": "a free-riding conflict left unresolved too long",
    "inactive_members": "too few active members for too long",
    "low_cohesion": "the group fell apart",
    "no_capital": "no stock and no cash to restock",
}
"""Causes of group failure, in the order of ``failure_causes`` (the first that applies)."""

POVERTY_HORIZON_MONTHS = 36
"""Months after its group's funding at which a household's poverty is counted (beside the end of the run)."""

_H = POVERTY_HORIZON_MONTHS
_LIFTED = ("eligible member households poor without the programme (own income per person below the line) and at "
           "or above the line with it (own income plus recent group income per person), the same household in the "
           "same run; never-poor and still-poor households count zero")
_PUSHED = ("eligible member households at or above the line without the programme and below it with it (counted "
           "apart, never netted; group income is never negative in this model, so this stays 0 unless a change "
           "makes it so)")
_CLOSED = ("poverty gap closed: the sum over eligible member households of (shortfall below the line without the "
           "programme - shortfall with it) x persons per household, Rp a month")

POVERTY_MEASURES: dict[str, tuple[str, str, str, str, bool | None]] = {
    "eligible_households": ("count", "households", "eligible member households",
                            "member households that are really poor and eligible (the ones poverty is measured on)",
                            None),
    "poor_without": ("count", "households", "eligible households poor without the programme",
                     "eligible member households whose own income per person (without the programme) is below the "
                     "poverty line", None),
    "lifted_end": ("count", "households", "households lifted out of poverty (end of run)",
                   _LIFTED + ", judged in the last month of the run", True),
    "pushed_below_end": ("count", "households", "households pushed below the line (end of run)",
                         _PUSHED + ", judged in the last month of the run", False),
    "gap_closed_end_rp": ("rp", "Rp per month", "poverty gap closed (end of run)",
                          _CLOSED + ", judged in the last month of the run", True),
    f"followed_{_H}": ("count", "households", f"eligible households followed {_H} months",
                       f"eligible member households whose group was funded at least {_H} months before the run "
                       "ended (those the counts at that time are made on)", None),
    f"lifted_{_H}": ("count", "households", f"households lifted out of poverty ({_H} months after funding)",
                     _LIFTED + f", judged {_H} months after their group's funding (with the recent group income of "
                     "that month, whether the group still ran or not); households whose group was funded less than "
                     f"{_H} months before the end are not counted", True),
    f"pushed_below_{_H}": ("count", "households", f"households pushed below the line ({_H} months after funding)",
                           _PUSHED + f", judged {_H} months after their group's funding", False),
    f"gap_closed_{_H}_rp": ("rp", "Rp per month", f"poverty gap closed ({_H} months after funding)",
                            _CLOSED + f", judged {_H} months after each household's group's funding, over the "
                            "households followed that long", True),
    "headcount_without": ("share", "share of eligible households", "poor without the programme",
                          "share of eligible member households below the poverty line on their own income", None),
    "headcount_with": ("share", "share of eligible households", "poor with the programme",
                       "share of eligible member households below the line with their recent group income added",
                       False),
    "gap_without": ("share", "share of the line", "poverty gap without the programme",
                    "mean shortfall below the line (BPS P1) of eligible member households on their own income", None),
    "gap_with": ("share", "share of the line", "poverty gap with the programme",
                 "mean shortfall below the line (BPS P1) of eligible member households with their group income",
                 False),
}
"""Poverty of the eligible member households, in the order of ``poverty``: kind, unit, label, meaning, better."""

POVERTY_KEYS: tuple[str, ...] = tuple(POVERTY_MEASURES)
"""Keys of the ``poverty`` family, in order."""


@dataclass(frozen=True)
class Outcome:
    """One outcome of a run.

    Attributes:
        column: Flat name (the runs table's column).
        summary_key: Key in the run summary; for a family, ``(family, member)``.
        kind: ``count``, ``rate``, ``share`` or ``rp`` (see :data:`KINDS`).
        unit: Unit, in words.
        label: Short plain-language name, for axes and tables.
        meaning: What it measures.
        higher_is_better: Which way is better for a planner (None: neither).
    """

    column: str
    summary_key: str | tuple[str, str]
    kind: str
    unit: str
    label: str
    meaning: str
    higher_is_better: bool | None = None


def _one(column: str, kind: str, unit: str, label: str, meaning: str,
         higher_is_better: bool | None = None) -> tuple[Outcome]:
    return (Outcome(column, column, kind, unit, label, meaning, higher_is_better),)


def _survival() -> tuple[Outcome, ...]:
    return tuple(Outcome(f"survival_{h}", ("survival", str(h)), "share", "share of groups",
                         f"survival at {h} months",
                         f"Kaplan-Meier share of groups still active {h} months after their own funding (0 when "
                         "every group had failed by then; missing when no group was followed that long)", True)
                 for h in SURVIVAL_HORIZONS)


def _costs() -> tuple[Outcome, ...]:
    return tuple(Outcome(f"cost_by_item_{item}_rp", ("cost_by_item_rp", item), "rp", "Rp",
                         f"cost: {item.replace('_', ' ').replace('uep', 'UEP')}", f"programme cost of {meaning}",
                         False)
                 for item, meaning in COST_ITEMS.items())


def _causes() -> tuple[Outcome, ...]:
    return tuple(Outcome(f"failure_causes_{cause}", ("failure_causes", cause), "count", "groups",
                         f"groups failed by {cause.replace('_', ' ')}", f"groups that failed because of {meaning}",
                         False)
                 for cause, meaning in FAILURE_CAUSES.items())


def _poverty() -> tuple[Outcome, ...]:
    return tuple(Outcome(f"poverty_{key}", ("poverty", key), kind, unit, label, meaning, better)
                 for key, (kind, unit, label, meaning, better) in POVERTY_MEASURES.items())


OUTCOMES: tuple[Outcome, ...] = (
    *_one("months", "count", "months", "months run", "length of the run"),
    *_one("groups_funded", "count", "groups", "groups funded", "KUBE groups decreed and funded during the run"),
    *_one("groups_active_end", "count", "groups", "groups still active at the end",
          "groups still running at the end of the run", True),
    *_one("members", "count", "households", "member households", "households that joined a group"),
    *_one("facilitators", "count", "people", "facilitators",
          "facilitators recruited (posts; the headcount, facilitators.count, when it is set)"),
    *_one("mean_caseload", "rate", "groups per facilitator", "groups per facilitator (carried)",
          "caseload actually carried: groups on a caseload per facilitator in post with groups, over the months "
          "any group was on one (group-months / facilitator-months)"),
    *_survival(),
    *_one("mean_member_income_rp", "rp", "Rp per member per month", "income per member per month",
          "income members received from their group, averaged over the months they were members", True),
    *_one("share_above_poverty_line", "share", "share of eligible households", "eligible members above the line",
          "share of eligible member households whose income per person, group income included, is at or above "
          "the poverty line (it counts households that were never poor too: the programme's effect is "
          "poverty[\"lifted_end\"])", True),
    *_poverty(),
    *_one("share_income_to_eligible", "share", "share of group income", "income going to eligible households",
          "share of the income paid out by groups that went to households eligible for the programme"),
    *_one("cost_total_rp", "rp", "Rp", "total programme cost", "programme cost over the run, all items", False),
    *_costs(),
    *_one("cost_per_surviving_group_rp", "rp", "Rp per group", "cost per surviving group",
          "total programme cost divided by the groups still active at the end", False),
    *_one("visits_per_group_month", "rate", "visits per group per month", "facilitator visits per group per month",
          "facilitator visits divided by the months groups were running", True),
    *_one("share_groups_unvisited_last_quarter", "share", "share of running groups",
          "running groups not visited in the last quarter",
          "share of groups running at the end with no facilitator visit in the last three months", False),
    *_one("mean_share_unvisited_quarter", "share", "share of running groups",
          "groups with no visit for a quarter (average month)",
          "monthly share of running groups with no visit in the past three months, averaged over the run", False),
    *_one("inactive_member_share", "share", "share of members in groups", "inactive members",
          "share of members still in a group at the end who no longer work in it", False),
    *_causes(),
)
"""Every outcome, in summary order."""

BY_COLUMN: dict[str, Outcome] = {o.column: o for o in OUTCOMES}
"""Outcomes by flat column name."""

COLUMNS: tuple[str, ...] = tuple(BY_COLUMN)
"""Flat outcome columns, in summary order."""

SUMMARY_KEYS: tuple[str, ...] = tuple(dict.fromkeys(
    o.summary_key if isinstance(o.summary_key, str) else o.summary_key[0] for o in OUTCOMES))
"""Top-level keys of a run summary's outcomes, in order."""


def summary_value(summary: Mapping[str, Any], outcome: Outcome) -> Any:
    """One outcome's value in a nested run summary.

    Args:
        summary: A run summary (``summary.json``).
        outcome: The outcome.

    Returns:
        The value, or None when the summary lacks it.
    """
    if isinstance(outcome.summary_key, str):
        return summary.get(outcome.summary_key)
    family, member = outcome.summary_key
    return (summary.get(family) or {}).get(member)


def flatten_summary(summary: Mapping[str, Any]) -> dict[str, Any]:
    """A nested run summary as flat outcome columns (``survival_36``, ``cost_by_item_training_rp``).

    Entries that are not declared outcomes (``scenario``, ``seed``) are kept under their own names.

    Args:
        summary: A run summary.

    Returns:
        A flat dict: the other entries first, then every declared outcome in order.
    """
    families = {o.summary_key[0] for o in OUTCOMES if not isinstance(o.summary_key, str)}
    flat = {k: v for k, v in summary.items() if k not in BY_COLUMN and k not in families}
    flat.update((o.column, summary_value(summary, o)) for o in OUTCOMES)
    return flat


def kind_of(column: str) -> str | None:
    """The declared kind of an outcome column.

    Args:
        column: Flat outcome name.

    Returns:
        ``count``, ``rate``, ``share`` or ``rp``; None for a column that is not an outcome.
    """
    outcome = BY_COLUMN.get(column)
    return outcome.kind if outcome else None


def label_of(column: str) -> str:
    """The plain-language name of an outcome, in the language spoken (the column name with spaces for any other column).

    Args:
        column: Flat outcome name.

    Returns:
        A short label.
    """
    outcome = BY_COLUMN.get(column)
    return _(outcome.label) if outcome else column.removesuffix("_rp").replace("_", " ")


def item_label(column: str) -> str:
    """The name of a cost item's column without the ``cost:`` prefix, in the language spoken (``UEP grants``).

    Args:
        column: Flat outcome name (``cost_by_item_uep_rp``).

    Returns:
        A short label.
    """
    outcome = BY_COLUMN.get(column)
    return _(outcome.label.removeprefix("cost: ")) if outcome else label_of(column)


def markdown_table() -> str:
    """The table of outcomes for ``docs/OUTCOMES.md``.

    Returns:
        A Markdown table: column, summary key, unit, shown as, better, meaning.
    """
    lines = ["| column | in summary.json | unit | shown as | better | meaning |", "|---|---|---|---|---|---|"]
    for o in OUTCOMES:
        key = o.summary_key if isinstance(o.summary_key, str) else f'{o.summary_key[0]}["{o.summary_key[1]}"]'
        better = {True: "higher", False: "lower", None: ""}[o.higher_is_better]
        lines.append(f"| `{o.column}` | `{key}` | {o.unit} | {o.kind} | {better} | {o.meaning} |")
    return "\n".join(lines) + "\n"
