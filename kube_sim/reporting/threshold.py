"""The staffing threshold as sentences, a table and a figure (survival against caseload with its band).

Reads only the :class:`~kube_sim.analysis.threshold.Threshold` computed by
:mod:`kube_sim.analysis.threshold` and the sweep's manifest.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from kube_sim.analysis.threshold import ALL, FOUND, Threshold
from kube_sim.common.i18n import _
from kube_sim.reporting.canvas import new_figure, style
from kube_sim.reporting.formats import finite, fmt_fixed, fmt_percent, fmt_range, missing
from kube_sim.store.files import atomic_write, write_json, write_text

TABLE_CSV = "threshold.csv"
FIGURE = "threshold.png"
ANSWER_JSON = "threshold.json"


def _pct(x: Any) -> str:
    return fmt_percent(x) if finite(x) else missing()


def _ratio(x: float) -> str:
    return "1:" + fmt_fixed(x, 0 if float(x).is_integer() else 1)


def _hours_text(hours: float) -> str:
    return fmt_fixed(hours, 0) if float(hours).is_integer() else fmt_fixed(hours, 1)


def crossing_text(answer: Threshold) -> str:
    """Where expected survival crosses the target, with its interval.

    Args:
        answer: The threshold.

    Returns:
        A sentence.
    """
    grid = answer.curve["caseload"].to_numpy()
    level = fmt_percent(answer.confidence, 0)
    below = _("below {ratio}").format(ratio=f"1:{grid[0]}")
    above = _("above {ratio}").format(ratio=f"1:{grid[-1]}")
    low = _ratio(answer.crossing_low) if answer.crossing_low is not None else below
    high = _ratio(answer.crossing_high) if answer.crossing_high is not None else above
    target = fmt_percent(answer.target, 0)
    if answer.crossing is None:
        fitted = answer.curve["fitted"].to_numpy()
        where = above if fitted[-1] >= answer.target else below
        return _("Expected survival does not cross {target} inside the grid (the crossing is {where}; {level} "
                 "interval {low} to {high}).").format(target=target, where=where, level=level, low=low, high=high)
    return _("Expected survival falls to {target} at about {ratio} groups per facilitator ({level} interval {low} "
             "to {high}).").format(target=target, ratio=_ratio(answer.crossing), level=level, low=low, high=high)


def answer_text(answer: Threshold, hours: float) -> str:
    """The answer in a planner's words.

    Args:
        answer: The threshold.
        hours: Facilitator hours per month.

    Returns:
        Two or three sentences.
    """
    curve = answer.curve
    grid = curve["caseload"].to_numpy()
    goal = _("survival at {horizon} months at or above {target} with {confidence} confidence").format(
        horizon=answer.horizon, target=fmt_percent(answer.target, 0), confidence=fmt_percent(answer.confidence, 0))
    staff = _("facilitators working {hours} hours a month").format(hours=_hours_text(hours))
    if answer.status == FOUND:
        row = curve[curve["caseload"] == answer.caseload].iloc[0]
        first = _("Threshold: at most {caseload} groups per facilitator ({staff}) keeps {goal} (at 1:{caseload}: "
                  "expected {fitted}, lower bound {lower}).").format(
            caseload=answer.caseload, staff=staff, goal=goal, fitted=_pct(row["fitted"]), lower=_pct(row["lower"]))
    elif answer.status == ALL:
        first = _("Every caseload evaluated, up to 1:{largest}, keeps {goal} ({staff}): the threshold lies above "
                  "1:{largest}; add larger caseloads with --caseloads to find it.").format(
            largest=grid[-1], goal=goal, staff=staff)
    else:
        row = curve.iloc[0]
        first = _("No caseload evaluated keeps {goal}: even at 1:{smallest}, the most staff evaluated, expected "
                  "survival is {fitted} (lower bound {lower}). More {staff} alone do not reach the target; try more "
                  "hours (--hours), a lower target, or other levers (kube-sim frontier).").format(
            goal=goal, smallest=grid[0], fitted=_pct(row["fitted"]), lower=_pct(row["lower"]), staff=staff)
    return f"{first} {crossing_text(answer)}"


def curve_rows(answer: Threshold) -> tuple[list[str], list[list[str]]]:
    """The curve as a printed table.

    Args:
        answer: The threshold.

    Returns:
        ``(header, rows)``.
    """
    level = fmt_percent(answer.confidence, 0)
    header = [_("groups per facilitator"), _("runs"), _("mean survival"), _("fitted"),
              _("lower bound ({level}, one-sided)").format(level=level), _("{level} band").format(level=level),
              _("meets target")]
    rows = []
    for r in answer.curve.itertuples(index=False):
        rows.append([f"1:{r.caseload}", str(r.runs), _pct(r.mean), _pct(r.fitted), _pct(r.lower),
                     fmt_range(_pct(r.band_low), _pct(r.band_high)), _("yes") if r.passes else _("no")])
    return header, rows


def threshold_figure(answer: Threshold, hours: float) -> Figure:
    """Survival at the horizon against the caseload: run means, fitted curve, band, target and threshold.

    Args:
        answer: The threshold.
        hours: Facilitator hours per month.

    Returns:
        The figure.
    """
    c = answer.curve
    level = fmt_percent(answer.confidence, 0)
    with style(0.85):
        fig = new_figure(figsize=(7.0, 4.2))
        ax = fig.subplots()
        ax.fill_between(c["caseload"], c["band_low"], c["band_high"], alpha=0.25, color="C0",
                        label=_("{level} bootstrap band").format(level=level))
        ax.plot(c["caseload"], c["fitted"], color="C0", lw=2, label=_("fitted (monotone) curve"))
        ax.plot(c["caseload"], c["lower"], color="C0", lw=1, ls="--",
                label=_("lower bound ({level}, one-sided)").format(level=level))
        ax.plot(c["caseload"], c["mean"], "o", color="C0", ms=4, alpha=0.7, label=_("mean of the runs"))
        ax.axhline(answer.target, color="C3", lw=1,
                   label=_("target {target}").format(target=fmt_percent(answer.target, 0)))
        if answer.caseload is not None:
            ax.axvline(answer.caseload, color="C2", lw=1.5,
                       label=_("threshold {ratio}").format(ratio=f"1:{answer.caseload}"))
        if answer.crossing_low is not None or answer.crossing_high is not None:
            low = answer.crossing_low if answer.crossing_low is not None else c["caseload"].min()
            high = answer.crossing_high if answer.crossing_high is not None else c["caseload"].max()
            ax.axvspan(low, high, color="C2", alpha=0.08, label=_("crossing, {level} interval").format(level=level))
        ax.set_xlabel(_("groups per facilitator"))
        ax.set_ylabel(_("survival at {months} months").format(months=answer.horizon))
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_ylim(0, 1)
        ax.set_title(_("Survival at {months} months by caseload ({hours} facilitator hours a month, {replications} "
                       "paired replications)").format(months=answer.horizon, hours=_hours_text(hours),
                                                      replications=answer.replications), fontsize=9)
        ax.legend(fontsize=7, loc="upper right")
    return fig


def write_outputs(folder: Path, answer: Threshold, manifest: Mapping[str, Any]) -> dict[str, Path]:
    """Write the curve (CSV), the figure (PNG) and the answer (JSON).

    Args:
        folder: The threshold sweep's folder.
        answer: The threshold.
        manifest: The sweep's manifest.

    Returns:
        The files written, by kind.
    """
    hours = float(manifest["threshold"]["hours_per_month"])
    paths = {"csv": folder / TABLE_CSV, "figure": folder / FIGURE, "json": folder / ANSWER_JSON}
    write_text(paths["csv"], answer.curve.to_csv(index=False, float_format="%.6g"))
    fig = threshold_figure(answer, hours)
    atomic_write(paths["figure"], lambda tmp: fig.savefig(tmp, format="png", dpi=110), durable=False)
    write_json(paths["json"], {
        "status": answer.status, "threshold_caseload": answer.caseload, "crossing": answer.crossing,
        "crossing_interval": [answer.crossing_low, answer.crossing_high], "target": answer.target,
        "horizon": answer.horizon, "confidence": answer.confidence, "hours_per_month": hours,
        "replications": answer.replications, "bootstrap_resamples": answer.resamples,
        "answer": answer_text(answer, hours),
        "curve": answer.curve.replace({np.nan: None}).to_dict(orient="records"),
    })
    return paths
