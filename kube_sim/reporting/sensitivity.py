"""The sensitivity ranking as text, Markdown and CSV, and its figure (Morris mu* against sigma; Sobol bars).

Reads only the ranking computed by :mod:`kube_sim.analysis.sensitivity` and the sweep's manifest.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from kube_sim.analysis.sensitivity import outcome_label, overall_scores
from kube_sim.common.outputs import kind_of
from kube_sim.reporting.canvas import new_figure, style
from kube_sim.reporting.formats import fmt_fixed, fmt_number, fmt_rp
from kube_sim.store.files import atomic_write, write_json, write_text

RANKING_CSV = "ranking.csv"
RANKING_MD = "ranking.md"
FIGURE = "sensitivity.png"
INDICES_JSON = "sensitivity.json"
ENDS_CSV = "ends.csv"
LABELLED = 5
"""Factors named on each Morris panel."""


def _number(x: Any, money: bool = False) -> str:
    """An index in plain notation (never ``1.66e+04``); rupiah outcomes as Rp juta or miliar."""
    if x is None or not math.isfinite(float(x)):
        return "n/a"
    return fmt_rp(x) if money else fmt_number(float(x))


def _cells(table: pd.DataFrame, outcomes: Sequence[str], factors: Sequence[str]) -> list[list[str]]:
    morris = "mu_star" in table.columns
    key, conf = ("mu_star", "mu_star_conf") if morris else ("ST", "ST_conf")
    scores = overall_scores(table)
    by = table.set_index(["outcome", "factor"])
    rows = []
    for i, factor in enumerate(factors, start=1):
        row = [str(i), factor, fmt_fixed(scores[factor], 2)]
        for outcome in outcomes:
            r = by.loc[(outcome, factor)]
            money = morris and kind_of(outcome.removeprefix("delta_")) == "rp"
            text = f"{_number(r[key], money)} ± {_number(r[conf], money)} (#{int(r['rank'])})"
            if not morris:
                text = f"S1 {_number(r['S1'])}, ST {text}"
            elif not r["above_noise"]:
                text += " ~noise"
            row.append(text)
        rows.append(row)
    return rows


def _header(table: pd.DataFrame, outcomes: Sequence[str], caseloads: Sequence[int]) -> list[str]:
    return ["rank", "parameter", "score", *(outcome_label(o, caseloads) for o in outcomes)]


def ranking_rows(table: pd.DataFrame, caseloads: Sequence[int],
                 top: int | None = None) -> tuple[list[str], list[list[str]]]:
    """The ranking as header and rows of text cells: factors by overall score, each outcome's index and rank.

    Args:
        table: From :func:`kube_sim.analysis.sensitivity.ranking`.
        caseloads: The compared caseloads.
        top: Factors shown (None: all).

    Returns:
        The header and the rows.
    """
    outcomes = list(dict.fromkeys(table["outcome"]))
    factors = list(overall_scores(table).index)[:top]
    return _header(table, outcomes, caseloads), _cells(table, outcomes, factors)


def ranking_markdown(table: pd.DataFrame, manifest: Mapping[str, Any], top: int | None = None) -> str:
    """The ranking as a Markdown table with a note on how to read it.

    Args:
        table: The ranking.
        manifest: The sweep's manifest.
        top: Factors shown (None: all).

    Returns:
        Markdown text.
    """
    sens = manifest["sensitivity"]
    header, rows = ranking_rows(table, sens["caseloads"], top)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cells) + " |" for cells in rows]
    skipped = [f"- `{key}`: {reason}" for key, reason in sens["skipped"].items()]
    tail = "\n\nNot varied:\n\n" + "\n".join(skipped) if skipped else ""
    return f"{reading_note(manifest)}\n\n" + "\n".join(lines) + tail + "\n"


def reading_note(manifest: Mapping[str, Any]) -> str:
    """How the ranking was made and how to read it, in a few sentences.

    Args:
        manifest: The sweep's manifest.

    Returns:
        Text.
    """
    sens = manifest["sensitivity"]
    caseloads = ("arms " + ", ".join(sens["variants"]) + " (and the calibrated point)" if sens.get("variants")
                 else "caseloads " + ", ".join(f"1:{c}" for c in sens["caseloads"]))
    common = (f"{len(sens['factors'])} parameters, {sens['points']} design points, each at {caseloads} "
              f"with {manifest.get('replications')} paired replications of {manifest.get('months')} months; "
              "indices on replication means. Score: the largest index across outcomes, each outcome scaled to its "
              "most influential parameter.")
    if sens["method"] == "morris":
        return (f"Morris screening ({sens['trajectories']} trajectories). Each cell: mu* (mean absolute change of "
                "the outcome when the parameter moves across its whole range) ± half-width of its 95% bootstrap "
                "interval, and the rank for that outcome; '~noise' marks a mu* that cannot be told from the mu* "
                "that seed noise alone would give. " + common)
    return (f"Sobol indices (base sample {sens['base_samples']}). Each cell: first-order S1 and total ST, ± "
            "half-width of ST's 95% bootstrap interval, and the rank by ST. " + common)


def sensitivity_figure(table: pd.DataFrame, caseloads: Sequence[int], top: int = 10) -> Figure:
    """Morris: mu* against sigma per outcome; Sobol: S1 and ST bars with 95% intervals per outcome.

    Args:
        table: The ranking.
        caseloads: The compared caseloads.
        top: Factors drawn per Sobol panel (the highest ST).

    Returns:
        The figure.
    """
    outcomes = list(dict.fromkeys(table["outcome"]))
    morris = "mu_star" in table.columns
    cols = min(2, len(outcomes))
    rows = math.ceil(len(outcomes) / cols)
    with style(0.8):
        fig = new_figure(figsize=(6.0 * cols, 4.2 * rows))
        axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
        for ax, outcome in zip(axes, outcomes, strict=False):
            part = table[table["outcome"] == outcome].sort_values("rank")
            ax.set_title(outcome_label(outcome, caseloads), fontsize=10)
            if morris:
                _morris_panel(ax, part)
            else:
                _sobol_panel(ax, part.head(top))
        for ax in axes[len(outcomes):]:
            ax.set_visible(False)
    return fig


def _morris_panel(ax: Any, part: pd.DataFrame) -> None:
    ax.errorbar(part["mu_star"], part["sigma"], xerr=part["mu_star_conf"], fmt="o", ms=4, alpha=0.8, elinewidth=0.8)
    for _, r in part.head(LABELLED).iterrows():
        if math.isfinite(r["mu_star"]) and math.isfinite(r["sigma"]):
            ax.annotate(r["factor"], (r["mu_star"], r["sigma"]), fontsize=7, xytext=(3, 3),
                        textcoords="offset points")
    noise = part["noise"].median()
    if math.isfinite(noise):
        ax.axvline(noise, color="grey", ls="--", lw=0.8, label="mu* of seed noise alone (median)")
        ax.legend(fontsize=7, loc="upper left")
    ax.set_xlabel("mu* (mean |effect| over the range)")
    ax.set_ylabel("sigma (spread of effects)")


def _sobol_panel(ax: Any, part: pd.DataFrame) -> None:
    if not part["ST"].notna().any():
        ax.text(0.5, 0.5, "not computed: a design point has no value", ha="center", va="center",
                transform=ax.transAxes, fontsize=9)
        ax.set_axis_off()
        return
    y = np.arange(len(part))
    ax.barh(y - 0.2, part["S1"], height=0.4, xerr=part["S1_conf"], label="first order S1", capsize=2)
    ax.barh(y + 0.2, part["ST"], height=0.4, xerr=part["ST_conf"], label="total ST", capsize=2)
    ax.set_yticks(y, part["factor"], fontsize=7)
    ax.invert_yaxis()
    share = part["noise_share"].iloc[0] if len(part) else float("nan")
    if math.isfinite(share):
        ax.axvline(share, color="grey", ls="--", lw=0.8, label="seed-noise share")
    ax.set_xlabel("index (share of variance)")
    ax.legend(fontsize=7, loc="lower right")


def top_ends(table: pd.DataFrame, ends: pd.DataFrame, top: int) -> pd.DataFrame:
    """The ends of the ``top`` parameters of each outcome's ranking, in rank order.

    Args:
        table: The ranking.
        ends: From :func:`kube_sim.analysis.sensitivity.ends`.
        top: Parameters per outcome.

    Returns:
        The rows of ``ends`` for those parameters, with their ``rank``.
    """
    ranks = table[table["rank"] <= top][["outcome", "factor", "rank"]]
    order = {o: i for i, o in enumerate(dict.fromkeys(table["outcome"]))}
    found = ends.merge(ranks, on=["outcome", "factor"])
    return found.sort_values(["outcome", "rank"], key=lambda c: c.map(order) if c.name == "outcome" else c,
                             kind="stable")


def _end_number(outcome: str, x: float) -> str:
    return _number(x, money=outcome.endswith("_rp") or "income" in outcome)


def ends_rows(table: pd.DataFrame, ends: pd.DataFrame, top: int, outcome: str | None = None
              ) -> tuple[list[str], list[list[str]]]:
    """The could-reverse-or-halve table: for each outcome's top parameters, the outcome at each end of their range.

    Args:
        table: The ranking.
        ends: From :func:`kube_sim.analysis.sensitivity.ends`.
        top: Parameters per outcome.
        outcome: Only this outcome (its column left out); default: every outcome.

    Returns:
        Header and rows.
    """
    rows = []
    part = top_ends(table, ends, top)
    if outcome is not None:
        part = part[part["outcome"] == outcome]
    for _, r in part.iterrows():
        flag = "REVERSES" if r["reverses"] else "halves" if r["halves"] else ""
        cells = [str(int(r["rank"])), r["factor"], f"{fmt_number(r['low'])} to {fmt_number(r['high'])}",
                 _end_number(r["outcome"], r["at_low"]), _end_number(r["outcome"], r["at_high"]),
                 _end_number(r["outcome"], r["at_point"]), flag]
        rows.append(cells if outcome is not None else [outcome_label(r["outcome"], [10, 20]), *cells])
    header = ["rank", "parameter", "range", "at low end", "at high end", "calibrated point", "answer"]
    return (header if outcome is not None else ["outcome", *header]), rows


def ends_note() -> str:
    """How to read the could-reverse-or-halve table.

    Returns:
        Text.
    """
    return ("At an end: the mean over the design points with the parameter in the lowest (highest) quarter of its "
            "range, the others anywhere in theirs. REVERSES: an end has the other sign than the calibrated point; "
            "halves: the same sign and less than half its size.")


def ends_markdown(table: pd.DataFrame, ends: pd.DataFrame, top: int) -> str:
    """The could-reverse-or-halve table in Markdown.

    Args:
        table: The ranking.
        ends: From :func:`kube_sim.analysis.sensitivity.ends`.
        top: Parameters per outcome.

    Returns:
        Markdown.
    """
    header, rows = ends_rows(table, ends, top)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(c if i != 2 else f"`{c}`" for i, c in enumerate(row)) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def write_outputs(folder: Path, table: pd.DataFrame, manifest: Mapping[str, Any],
                  ends: pd.DataFrame | None = None) -> dict[str, Path]:
    """Write the ranking (CSV, Markdown), the figure and the indices with their design (JSON).

    Args:
        folder: The sensitivity sweep's folder.
        table: The ranking.
        manifest: The sweep's manifest.
        ends: The outcomes at each end of each parameter's range (policy-effects designs): ends.csv.

    Returns:
        The files written, by kind.
    """
    sens = manifest["sensitivity"]
    paths = {"csv": folder / RANKING_CSV, "markdown": folder / RANKING_MD, "figure": folder / FIGURE,
             "json": folder / INDICES_JSON}
    write_text(paths["csv"], table.to_csv(index=False))
    write_text(paths["markdown"], ranking_markdown(table, manifest))
    fig = sensitivity_figure(table, sens["caseloads"])
    atomic_write(paths["figure"], lambda tmp: fig.savefig(tmp, format="png", dpi=120), durable=False)
    summary = {"method": sens["method"], "caseloads": sens["caseloads"], "replications": manifest.get("replications"),
               "months": manifest.get("months"), "skipped": sens["skipped"],
               "factors": [{k: f[k] for k in ("name", "low", "high", "default", "unit")} for f in sens["factors"]],
               "overall": overall_scores(table).round(6).to_dict(),
               "indices": table.replace({np.nan: None}).to_dict(orient="records")}
    write_json(paths["json"], summary)
    if ends is not None:
        paths["ends"] = folder / ENDS_CSV
        write_text(paths["ends"], ends.to_csv(index=False))
    return paths
