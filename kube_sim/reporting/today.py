"""The one "today" every answer opens with: the reference it compares to, in whole sentences.

"Today" is the reference arm as its runs have it: the shipped ``baseline`` scenario unless the
question names another (compare's A, the frontier's measured allocation, the threshold's own
scenario). Its staff (facilitators recruited, or the headcount when ``facilitators.count`` is set;
the caseload rule; the caseload actually carried), facilitators' hours, equipment grant, funding
budget, groups funded, members reached and cost are read from the runs and their parameters, never
from prose, and the local figures a district changes (poverty line, farm wage, business prices) are
shown with their source, marked as Polewali Mandar defaults when the district file does not give them.

Nothing here runs or imports the model.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kube_sim.common import keys
from kube_sim.common.i18n import N_, _, ngettext
from kube_sim.reporting.formats import finite, fmt_cost_period, fmt_count, fmt_fixed, fmt_number, fmt_rp, fmt_years

DEFAULT_DISTRICT = "Polewali Mandar"
"""The district whose figures are the model's defaults."""


@dataclass(frozen=True)
class Today:
    """The reference an answer compares to, as its runs have it.

    Attributes:
        name: The reference's name (``baseline``, ``A: baseline``).
        district: The district's name.
        months: Length of each run.
        facilitators: Facilitators recruited (mean over runs).
        headcount: ``facilitators.count`` (0: recruited by the caseload rule).
        caseload_rule: ``facilitators.groups_per_facilitator``.
        caseload_carried: Groups on a caseload per facilitator in post (mean over runs; None when none).
        hours: Facilitators' hours a month.
        equipment_rp: Equipment grant per group (Rp).
        budget_rp: The agency's yearly funding budget (Rp a year).
        groups_funded: Groups funded (mean over runs).
        members: Member households reached (mean over runs).
        cost_total_rp: Programme cost over the run (mean over runs, Rp).
        local: ``(label, value, source)`` of the figures a district changes.
        facilitators_range: Fewest and most facilitators recruited across the runs (None: one run).
        rounds: Yearly funding rounds, when the answer's costs are per year of rounds (the frontier's
            period); 0: costs a year are over the run's length.
    """

    name: str
    district: str
    months: int
    facilitators: float
    headcount: int
    caseload_rule: int
    caseload_carried: float | None
    hours: float
    equipment_rp: float
    budget_rp: float
    groups_funded: float
    members: float
    cost_total_rp: float
    local: tuple[tuple[str, str, str], ...] = field(default_factory=tuple)
    rounds: int = 0
    facilitators_range: tuple[float, float] | None = None


def _staff(t: Today) -> str:
    n = fmt_count(t.facilitators)
    low, high = t.facilitators_range or (t.facilitators, t.facilitators)
    if low != high:
        n = _("{low} to {high} ({mean} on average)").format(low=fmt_count(low), high=fmt_count(high),
                                                            mean=fmt_number(t.facilitators, 2))
    one = 1 if n == "1" else 2
    if t.headcount > 0:
        text = ngettext("{n} facilitator (the headcount, facilitators.count = {headcount})",
                        "{n} facilitators (the headcount, facilitators.count = {headcount})", one).format(
            n=n, headcount=t.headcount)
    elif t.caseload_rule > 0:
        text = ngettext("{n} facilitator recruited by the caseload rule of 1 per {rule} groups",
                        "{n} facilitators recruited by the caseload rule of 1 per {rule} groups", one).format(
            n=n, rule=t.caseload_rule)
    else:
        return _("no facilitators (facilitators.groups_per_facilitator = 0)")
    if t.caseload_carried is not None and finite(t.caseload_carried):
        text += _(", carrying {groups} groups each on average").format(groups=fmt_number(t.caseload_carried, 2))
    return text + _(", {hours} hours a month each").format(hours=fmt_number(t.hours, 3))


def today_sentence(t: Today) -> str:
    """The opening sentence of an answer: what it compares to.

    Args:
        t: The reference.

    Returns:
        One sentence.
    """
    grant = (_("an equipment grant of {amount} a group").format(amount=fmt_rp(t.equipment_rp))
             if t.equipment_rp > 0 else _("no equipment grant"))
    return _("Today ({name}, {district}, {period} as the runs have it): {staff}; {grant}; a funding budget of "
             "{budget} a year; {groups} groups funded and {members} member households reached; programme cost "
             "{cost}.").format(name=t.name, district=t.district, period=fmt_years(t.months), staff=_staff(t),
                               grant=grant, budget=fmt_rp(t.budget_rp), groups=fmt_count(t.groups_funded),
                               members=fmt_count(t.members), cost=_cost(t))


def _cost(t: Today) -> str:
    if t.rounds > 0:
        return _("{total} over the run of {period}, {yearly} a year of its {rounds} yearly funding rounds").format(
            total=fmt_rp(t.cost_total_rp), period=fmt_years(t.months), yearly=fmt_rp(t.cost_total_rp / t.rounds),
            rounds=t.rounds)
    return fmt_cost_period(t.cost_total_rp, t.months)


def local_sentence(t: Today) -> str:
    """The district's local figures with their sources, as one sentence.

    Args:
        t: The reference.

    Returns:
        One sentence ("" when there are none).
    """
    if not t.local:
        return ""
    return _("Local figures: {figures}.").format(
        figures="; ".join(f"{label} {value} ({source})" for label, value, source in t.local))


LOCAL_KEYS: dict[str, str] = {
    keys.POVERTY_LINE: N_("poverty line"),
    keys.FARM_WAGE: N_("farm wage"),
    keys.BUSINESS_PRICES: N_("business prices"),
}
"""The parameters a district is most likely to differ on, by label."""

LOCAL_SOURCES: tuple[str, ...] = (
    N_("BPS Sulawesi Barat, March 2021 (okezone 2023); a consumption line"),
    N_("batukita 2022"),
    N_("Rp 50k/kg live weight (tribunnews 2024); assumption for the others"),
)
"""The declared sources of :data:`LOCAL_KEYS` (``ParameterSpec.source``), marked for the catalog: every answer
shows them, so they are translated where shown (a test checks they are the parameters' own)."""


def local_figures(values: Mapping[str, Any], sources: Mapping[str, str], declared: Mapping[str, str],
                  district: str) -> tuple[tuple[str, str, str], ...]:
    """The local figures with where each came from.

    Args:
        values: ``{key: value}`` of :data:`LOCAL_KEYS`.
        sources: Where the run's changed parameters came from (``Scenario.sources``).
        declared: Each key's declared source (``ParameterSpec.source``).
        district: The district's name.

    Returns:
        ``(label, value, source)`` per key.
    """
    units = {keys.POVERTY_LINE: N_("Rp {amount} a person a month"),
             keys.FARM_WAGE: N_("Rp {amount} a day")}
    out = []
    for key, label in LOCAL_KEYS.items():
        value = values.get(key)
        if value is None:
            continue
        if isinstance(value, tuple | list):
            text = _("Rp {amounts} per kg, lot or shelf").format(
                amounts=" / ".join(fmt_fixed(v, 0) for v in value))
        else:
            text = _(units.get(key, "Rp {amount}")).format(amount=fmt_fixed(float(value), 0))
        if key in sources:
            origin = sources[key]
            where = (_("from {origin}") if origin.endswith((".csv", ".CSV")) or "/" in origin
                     else _("set in {origin}")).format(origin=origin)
        else:
            where = _(declared.get(key, ""))
            if district != DEFAULT_DISTRICT:
                where = _("{district} default: {source}").format(district=DEFAULT_DISTRICT, source=where)
        out.append((_(label), text, where))
    return tuple(out)
