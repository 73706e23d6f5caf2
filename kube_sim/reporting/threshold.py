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
from kube_sim.reporting.canvas import new_figure, style
from kube_sim.reporting.formats import MISSING, finite
from kube_sim.store.files import atomic_write, write_json, write_text

TABLE_CSV = "threshold.csv"
FIGURE = "threshold.png"
ANSWER_JSON = "threshold.json"


def _pct(x: Any) -> str:
    return f"{float(x):.1%}" if finite(x) else MISSING


def _ratio(x: float) -> str:
    return f"1:{x:.0f}" if float(x).is_integer() else f"1:{x:.1f}"


def crossing_text(answer: Threshold) -> str:
    """Where expected survival crosses the target, with its interval.

    Args:
        answer: The threshold.

    Returns:
        A sentence.
    """
    grid = answer.curve["caseload"].to_numpy()
    level = f"{answer.confidence:.0%}"
    low = _ratio(answer.crossing_low) if answer.crossing_low is not None else f"below 1:{grid[0]}"
    high = _ratio(answer.crossing_high) if answer.crossing_high is not None else f"above 1:{grid[-1]}"
    if answer.crossing is None:
        fitted = answer.curve["fitted"].to_numpy()
        where = f"above 1:{grid[-1]}" if fitted[-1] >= answer.target else f"below 1:{grid[0]}"
        return (f"Expected survival does not cross {answer.target:.0%} inside the grid (the crossing is {where}; "
                f"{level} interval {low} to {high}).")
    return (f"Expected survival falls to {answer.target:.0%} at about {_ratio(answer.crossing)} groups per "
            f"facilitator ({level} interval {low} to {high}).")


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
    goal = (f"survival at {answer.horizon} months at or above {answer.target:.0%} with {answer.confidence:.0%} "
            f"confidence")
    staff = f"facilitators working {hours:g} hours a month"
    if answer.status == FOUND:
        row = curve[curve["caseload"] == answer.caseload].iloc[0]
        first = (f"Threshold: at most {answer.caseload} groups per facilitator ({staff}) keeps {goal} (at 1:"
                 f"{answer.caseload}: expected {_pct(row['fitted'])}, lower bound {_pct(row['lower'])}).")
    elif answer.status == ALL:
        first = (f"Every caseload evaluated, up to 1:{grid[-1]}, keeps {goal} ({staff}): the threshold lies above "
                 f"1:{grid[-1]}; add larger caseloads with --caseloads to find it.")
    else:
        row = curve.iloc[0]
        first = (f"No caseload evaluated keeps {goal}: even at 1:{grid[0]}, the most staff evaluated, expected "
                 f"survival is {_pct(row['fitted'])} (lower bound {_pct(row['lower'])}). More {staff} alone do not "
                 "reach the target; try more hours (--hours), a lower target, or other levers (kube-sim frontier).")
    return f"{first} {crossing_text(answer)}"


def curve_rows(answer: Threshold) -> tuple[list[str], list[list[str]]]:
    """The curve as a printed table.

    Args:
        answer: The threshold.

    Returns:
        ``(header, rows)``.
    """
    level = f"{answer.confidence:.0%}"
    header = ["groups per facilitator", "runs", "mean survival", "fitted", f"lower bound ({level}, one-sided)",
              f"{level} band", "meets target"]
    rows = []
    for r in answer.curve.itertuples(index=False):
        rows.append([f"1:{r.caseload}", str(r.runs), _pct(r.mean), _pct(r.fitted), _pct(r.lower),
                     f"{_pct(r.band_low)} to {_pct(r.band_high)}", "yes" if r.passes else "no"])
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
    level = f"{answer.confidence:.0%}"
    with style(0.85):
        fig = new_figure(figsize=(7.0, 4.2))
        ax = fig.subplots()
        ax.fill_between(c["caseload"], c["band_low"], c["band_high"], alpha=0.25, color="C0",
                        label=f"{level} bootstrap band")
        ax.plot(c["caseload"], c["fitted"], color="C0", lw=2, label="fitted (monotone) curve")
        ax.plot(c["caseload"], c["lower"], color="C0", lw=1, ls="--", label=f"lower bound ({level}, one-sided)")
        ax.plot(c["caseload"], c["mean"], "o", color="C0", ms=4, alpha=0.7, label="mean of the runs")
        ax.axhline(answer.target, color="C3", lw=1, label=f"target {answer.target:.0%}")
        if answer.caseload is not None:
            ax.axvline(answer.caseload, color="C2", lw=1.5, label=f"threshold 1:{answer.caseload}")
        if answer.crossing_low is not None or answer.crossing_high is not None:
            low = answer.crossing_low if answer.crossing_low is not None else c["caseload"].min()
            high = answer.crossing_high if answer.crossing_high is not None else c["caseload"].max()
            ax.axvspan(low, high, color="C2", alpha=0.08, label=f"crossing, {level} interval")
        ax.set_xlabel("groups per facilitator")
        ax.set_ylabel(f"survival at {answer.horizon} months")
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_ylim(0, 1)
        ax.set_title(f"Survival at {answer.horizon} months by caseload ({hours:g} facilitator hours a month, "
                     f"{answer.replications} paired replications)", fontsize=9)
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
