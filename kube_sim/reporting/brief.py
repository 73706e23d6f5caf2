"""The one-page brief for the head of office, from a finished comparison's results folder.

The brief says, on one A4 page (``brief.html``, which prints on one sheet, and ``brief.md``): the
question, the two options with their cost a year, the groups still running 3 years after funding,
the households lifted out of poverty per Rp 1 miliar with its interval in words, the assumptions
that matter most (from a sensitivity result, when one is in the folder or given) and the date and
version. It reads saved results only, through the report's own document builder
(:mod:`kube_sim.reporting.report`); nothing here runs the model.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from kube_sim.common.errors import InputError
from kube_sim.common.i18n import _, language
from kube_sim.reporting.formats import finite, fmt_count, fmt_date, fmt_rp, fmt_setting, fmt_signed, fmt_years

BRIEF_MD = "brief.md"
BRIEF_HTML = "brief.html"
TOP_ASSUMPTIONS = 3
"""How many of the most influential assumptions the brief names."""

PRINT_CSS = """
@page { size: A4; margin: 16mm 15mm; }
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; color: #222; font-size: 10pt;
       line-height: 1.35; max-width: 180mm; margin: 0 auto; }
h1 { font-size: 15pt; border-bottom: 2px solid #2a6f97; padding-bottom: .15em; margin: 0 0 .4em 0; }
h2 { font-size: 11.5pt; color: #2a6f97; margin: .9em 0 .3em 0; }
p, ul { margin: .3em 0; }
table { border-collapse: collapse; margin: .4em 0; font-size: 9.5pt; width: 100%; }
th, td { border: 1px solid #ccc; padding: .2em .45em; text-align: left; vertical-align: top; }
th { background: #eef4f8; }
.note { font-size: 8.5pt; color: #555; font-style: italic; }
"""
"""The brief's page: A4, margins a printer keeps, type small enough for one sheet."""


@dataclass(frozen=True)
class Comparison:
    """A finished comparison, as saved: its folder, manifest and runs."""

    folder: Path
    manifest: dict[str, Any]
    runs: pd.DataFrame


def load_comparison(folder: Path) -> Comparison:
    """Read a finished two-arm comparison from its results folder.

    Args:
        folder: The folder ``kube-sim compare --out`` wrote.

    Returns:
        The comparison.

    Raises:
        InputError: When the folder holds no finished comparison (one line naming the fix).
    """
    from kube_sim.store import sweep_folder as store

    fix = f"run 'kube-sim compare A B --out {folder}' first"
    manifest_file = folder / "manifest.json"
    if not folder.is_dir():
        raise InputError(f"no such folder; {fix}", source=str(folder))
    if not manifest_file.is_file():
        raise InputError(f"holds no comparison (no manifest.json); {fix}", source=str(folder))
    try:
        manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"manifest.json cannot be read ({exc}); {fix}", source=str(folder)) from None
    arms = manifest.get("arms") or []
    command = manifest.get("command") or []
    if len(arms) != 2 or "compare" not in command[:2]:
        raise InputError(f"holds no comparison of two options (it is another command's results); {fix}",
                         source=str(folder))
    if not manifest.get("finished") or not (folder / "runs.parquet").is_file():
        raise InputError("holds an unfinished comparison; finish it with the same 'kube-sim compare' command "
                         "and --resume", source=str(folder))
    runs = store.load_runs(folder)
    ok = runs[runs["status"] == "ok"] if "status" in runs.columns else runs
    if set(ok["arm"]) != {0, 1}:
        raise InputError(f"holds no finished run of both options; {fix}", source=str(folder))
    return Comparison(folder, manifest, runs)


def find_sensitivity(folder: Path, given: Path | None = None) -> Path | None:
    """The sensitivity result the brief takes its assumptions from.

    Args:
        folder: The comparison's folder (a sensitivity result inside it is used).
        given: A sensitivity result given by the user (a method folder, or the folder holding one).

    Returns:
        The result's JSON file, or None when there is none.

    Raises:
        InputError: When ``given`` holds no sensitivity result.
    """
    from kube_sim.reporting.sensitivity import INDICES_JSON

    def inside(root: Path) -> Path | None:
        found = [root / INDICES_JSON, *sorted(root.glob(f"*/{INDICES_JSON}")),
                 *sorted(root.glob(f"*/*/{INDICES_JSON}"))]
        return next((p for p in found if p.is_file()), None)

    if given is not None:
        found = inside(given)
        if found is None:
            raise InputError(f"holds no {INDICES_JSON}; run 'kube-sim sensitivity --out {given}' first",
                             source="--sensitivity", key=str(given))
        return found
    return inside(folder)


def assumptions(path: Path | None, top: int = TOP_ASSUMPTIONS) -> list[str]:
    """The assumptions that matter most, in words, from a sensitivity result.

    Args:
        path: The result's JSON file (None: none was run).
        top: How many to name.

    Returns:
        One line each, most influential first (empty when there is no result).
    """
    if path is None:
        return []
    data = json.loads(path.read_text(encoding="utf-8"))
    factors = {f["name"]: f for f in data.get("factors", [])}
    try:  # the sweep's manifest says what each parameter means
        notes = json.loads((path.parent / "manifest.json").read_text(encoding="utf-8")).get("parameter_notes", {})
    except (OSError, ValueError):
        notes = {}
    lines = []
    for name in list(data.get("overall", {}))[:top]:
        factor = factors.get(name, {})
        english = (notes.get(name) or {}).get("meaning")
        meaning = _(english) if english else name
        unit = f" {_(factor['unit'])}" if factor.get("unit") else ""
        lines.append(_("{meaning} ({name}, tried from {low} to {high}{unit})").format(
            meaning=meaning, name=name, low=_bound(name, factor.get("low")), high=_bound(name, factor.get("high")),
            unit=unit))
    return lines


def _bound(key: str, value: Any) -> str:
    """One end of a parameter's tried range, in the locale's numbers (``?`` when the result does not say)."""
    return "?" if value is None else fmt_setting(key, value)


def _mean(rows: pd.DataFrame, column: str) -> float:
    return float(rows[column].mean()) if column in rows and rows[column].notna().any() else float("nan")


def _groups_at_3_years(rows: pd.DataFrame) -> str:
    """Groups still running 3 years after funding (survival at 36 months x groups funded), with its interval."""
    from kube_sim.analysis.statistics import t_interval

    if "survival_36" not in rows or rows["survival_36"].isna().all():
        return _("not seen: the runs are too short to follow a group 3 years")
    _n, mean, _sd, low, high = t_interval(rows["survival_36"] * rows["groups_funded"])
    text = _("{mean} of {funded} funded").format(mean=fmt_count(mean), funded=fmt_count(_mean(rows, "groups_funded")))
    if finite(low) and finite(high):
        text += " " + _("(95% CI {low} to {high})").format(low=fmt_count(max(0.0, low)), high=fmt_count(high))
    return text


def build_brief(comparison: Comparison, sensitivity: Path | None) -> tuple[Any, str]:
    """The brief as a document of the report's kind.

    Args:
        comparison: The finished comparison.
        sensitivity: Its sensitivity result's JSON file, or None.

    Returns:
        ``(document, title)``.
    """
    from kube_sim import __version__
    from kube_sim.analysis.value import PER_MILIAR, PER_RP, value_for_money
    from kube_sim.reporting.readings import per_budget_reading, spans_zero
    from kube_sim.reporting.report import _Doc

    manifest, runs = comparison.manifest, comparison.runs
    months = int(manifest.get("months") or runs["months"].max())
    names = [str(arm.get("name") or arm.get("arm_label")) for arm in manifest["arms"]]
    ok = runs[runs["status"] == "ok"] if "status" in runs.columns else runs
    district = (manifest.get("district") or {}).get("name") or "Polewali Mandar"
    doc = _Doc()
    title = _("Brief: {b} or {a}?").format(a=names[0], b=names[1])
    doc.heading(1, title)
    doc.para(_("The question: should the social office of {district} run the programme as {b} rather than as {a} "
               "(today's reference)? Both options were simulated with the same {n} seeds over {years}.").format(
        district=district, a=names[0], b=names[1], n=fmt_count(manifest.get("replications")),
        years=fmt_years(months)))

    value = value_for_money(runs, 0, 1)
    lifted = value[value["outcome"] == "households_lifted"]
    scale = PER_MILIAR / PER_RP
    what = _("households lifted out of poverty")
    header = [_("option"), _("cost a year"), _("groups still running 3 years after funding"),
              _("households lifted out of poverty per Rp 1 miliar")]
    rows = []
    for arm, (letter, key) in enumerate((("A", "reference"), ("B", "arm"))):
        part = ok[ok["arm"] == arm]
        per = (per_budget_reading(what, lifted.iloc[0][f"{key}_per_100m"] * scale,
                                  lifted.iloc[0][f"{key}_low"] * scale, lifted.iloc[0][f"{key}_high"] * scale)
               if not lifted.empty else _("not counted in these runs"))
        rows.append([f"{letter}: {names[arm]}", fmt_rp(_mean(part, "cost_total_rp") * 12 / months),
                     _groups_at_3_years(part), per])
    doc.heading(2, _("The options"))
    doc.table(header, rows)

    doc.heading(2, _("What it means"))
    points = []
    if not lifted.empty:
        r = lifted.iloc[0]
        diff, low, high = r["diff_per_100m"] * scale, r["diff_low"] * scale, r["diff_high"] * scale
        if spans_zero(low, high):
            points.append(_("For the same money, {b} and {a} lift about as many households out of poverty: the "
                            "difference, {diff} per Rp 1 miliar (95% CI {low} to {high}), is within the noise of "
                            "the simulation.").format(a=names[0], b=names[1], diff=fmt_signed(diff),
                                                      low=fmt_signed(low), high=fmt_signed(high)))
        else:
            more = _("more") if diff > 0 else _("fewer")
            points.append(_("For the same money, {b} lifts {more} households out of poverty than {a}: {diff} per "
                            "Rp 1 miliar (95% CI {low} to {high}).").format(
                a=names[0], b=names[1], more=more, diff=fmt_signed(diff), low=fmt_signed(low), high=fmt_signed(high)))
    cost_a, cost_b = (_mean(ok[ok["arm"] == arm], "cost_total_rp") * 12 / months for arm in (0, 1))
    if finite(cost_a) and finite(cost_b):
        if cost_b > cost_a:
            points.append(_("{b} costs {amount} a year more than {a}.").format(
                a=names[0], b=names[1], amount=fmt_rp(cost_b - cost_a)))
        elif cost_b < cost_a:
            points.append(_("{b} costs {amount} a year less than {a}.").format(
                a=names[0], b=names[1], amount=fmt_rp(cost_a - cost_b)))
        else:
            points.append(_("{b} and {a} cost the same.").format(a=names[0], b=names[1]))
    doc.bullets(points)

    doc.heading(2, _("The assumptions that matter most"))
    found = assumptions(sensitivity)
    if found:
        doc.para(_("From the sensitivity analysis ({file}): the answer moves most with").format(
            file=sensitivity.parent.name if sensitivity is not None else ""))
        doc.bullets(found)
    else:
        doc.para(_("No sensitivity analysis was run for this comparison, so the brief cannot say which assumptions "
                   "matter most; 'kube-sim sensitivity' finds them."))

    commit = str(manifest.get("git_commit") or "")[:12]
    doc.para(_("Simulated with kube-sim {version}{commit}, an agent-based model of KUBE groups: it compares "
               "options under the model's assumptions and is not a forecast. Brief of {date}; runs of {finished} "
               "in {folder}/.").format(
        version=manifest.get("kube_sim_version") or __version__, commit=f" ({commit})" if commit else "",
        date=fmt_date(), finished=fmt_date(manifest.get("finished")), folder=comparison.folder.name))
    return doc, title


def write_brief(folder: Path, out: Path, sensitivity: Path | None = None) -> list[Path]:
    """Write ``brief.md`` and ``brief.html`` of a finished comparison.

    Args:
        folder: The comparison's results folder.
        out: The folder to write into (created when missing).
        sensitivity: A sensitivity result given by the user (default: one inside ``folder``, if any).

    Returns:
        The files written.

    Raises:
        InputError: When the folder holds no finished comparison, or ``sensitivity`` no result.
    """
    from kube_sim.reporting.report import _to_html, _to_markdown
    from kube_sim.store.files import write_text

    comparison = load_comparison(folder)
    doc, title = build_brief(comparison, find_sensitivity(folder, sensitivity))
    out.mkdir(parents=True, exist_ok=True)
    md = write_text(out / BRIEF_MD, _to_markdown(doc))
    page = write_text(out / BRIEF_HTML, _to_html(doc, title, {}, css=PRINT_CSS, lang=language()))
    return [md, page]
