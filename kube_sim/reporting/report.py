"""A planner's report of a sweep: figures, summary tables and notes, as Markdown and self-contained HTML.

:func:`write_report` reads a results folder (``runs.parquet``, ``groups.parquet``,
``monthly.parquet``, ``manifest.json``), computes the statistics (:mod:`kube_sim.analysis.statistics`), draws
the figures (:mod:`kube_sim.reporting.report_figures`) and writes ``report/`` inside the folder:

* ``report.md`` and ``report.html`` (the HTML embeds every figure, so it can be emailed alone);
* the figures as PNG files;
* the tables behind the report as CSV (``summary.csv``, ``paired_differences.csv``,
  ``survival.csv``, ``km_curves.csv``, ``logrank.csv``, ``factor_effects.csv``).

Nothing here runs or imports the model.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from kube_sim.analysis import statistics as analysis
from kube_sim.analysis.ensemble import ensemble_differences, has_ensemble
from kube_sim.analysis.value import PER_MILIAR, PER_RP, value_for_money
from kube_sim.common import keys
from kube_sim.common.i18n import N_, _, language
from kube_sim.common.outputs import BY_COLUMN, label_of
from kube_sim.common.survival import SURVIVAL_HORIZONS, durations
from kube_sim.reporting import report_figures as figs
from kube_sim.reporting.arms import arm_names, reference_reason, resolve_arm
from kube_sim.reporting.ensemble import READING as ENSEMBLE_READING
from kube_sim.reporting.ensemble import ensemble_cells
from kube_sim.reporting.ensemble import header as ensemble_header
from kube_sim.reporting.formats import (
    cost_interval,
    finite,
    fmt_ci,
    fmt_cost_change,
    fmt_diff,
    fmt_fixed,
    fmt_level,
    fmt_p,
    fmt_range,
    fmt_rp,
    fmt_setting,
    fmt_signed,
    fmt_value,
    missing,
)
from kube_sim.reporting.readings import difference_reading, per_budget_reading
from kube_sim.reporting.tables import record
from kube_sim.store import sweep_folder as store
from kube_sim.store.files import write_bytes, write_text
from kube_sim.store.parts import PARTS_DIR

REPORT_DIR = "report"
FIGURE_DPI = 130
MAX_APPENDIX_ARMS = 12
"""Most arms shown side by side in the table of every outcome (more: see summary.csv)."""

SUMMARY_OUTCOMES: tuple[str, ...] = analysis.KEY_OUTCOMES
"""Columns of the plain summary table, in order."""



# ----------------------------------------------------------------------------------------------
# Reading a results folder
# ----------------------------------------------------------------------------------------------

@dataclass
class Results:
    """The tables of one results folder.

    Attributes:
        path: The results folder.
        runs: One row per run.
        groups: One row per group per run (with ``duration_months`` and ``failed``).
        monthly: One row per run and month (may be empty).
        manifest: The manifest (may be empty).
    """

    path: Path
    runs: pd.DataFrame
    groups: pd.DataFrame
    monthly: pd.DataFrame
    manifest: dict[str, Any] = field(default_factory=dict)


def _table(path: Path, table: str) -> pd.DataFrame:
    """A table of the results folder (see :func:`kube_sim.store.sweep_folder.read_table`), empty when it has none."""
    try:
        return store.read_table(path, table)
    except FileNotFoundError:
        return pd.DataFrame()


def _with_durations(groups: pd.DataFrame, months: int | None) -> pd.DataFrame:
    """Add ``duration_months`` and ``failed`` from funding and failure months when missing."""
    if groups.empty or {"duration_months", "failed"} <= set(groups.columns):
        return groups
    if months is None or not {"funded_month", "failed_month"} <= set(groups.columns):
        raise ValueError("the groups table has neither duration_months/failed nor funded_month/failed_month "
                         "with the run length in the manifest")
    duration, failed = durations(groups["funded_month"].to_numpy(), groups["failed_month"].to_numpy(), months)
    return groups.assign(duration_months=duration, failed=failed)


def load_results(results_dir: str | Path) -> Results:
    """Read a results folder through :mod:`kube_sim.store.sweep_folder`: a finished sweep, or an unfinished one's parts.

    Args:
        results_dir: The folder a sweep wrote.

    Returns:
        Its tables; groups and monthly rows of failed runs are dropped.

    Raises:
        FileNotFoundError: If the folder or its runs table is missing.
    """
    path = Path(results_dir)
    if not path.is_dir():
        raise FileNotFoundError(f"{path}: no such results folder")
    runs = _table(path, "runs")
    if runs.empty:
        hint = " and no finished run yet" if (path / PARTS_DIR).is_dir() else " (is this a sweep's results folder?)"
        raise FileNotFoundError(f"{path}: no runs.parquet{hint}")
    try:
        manifest = store.load_manifest(path)
    except FileNotFoundError:
        manifest = {}
    groups = _table(path, "groups")
    monthly = _table(path, "monthly")
    ok_ids = set(analysis.ok_runs(runs)["run_id"]) if "run_id" in runs.columns else None
    if ok_ids is not None:
        if "run_id" in groups.columns:
            groups = groups[groups["run_id"].isin(ok_ids)]
        if "run_id" in monthly.columns:
            monthly = monthly[monthly["run_id"].isin(ok_ids)]
    groups = _with_durations(groups, manifest.get("months"))
    return Results(path=path, runs=runs, groups=groups.reset_index(drop=True), monthly=monthly.reset_index(drop=True),
                   manifest=manifest)


# ----------------------------------------------------------------------------------------------
# Arms
# ----------------------------------------------------------------------------------------------

def _level_key(value: Any) -> tuple[int, float, str]:
    """Sort numbers numerically, then anything else as text."""
    if isinstance(value, int | float | np.number) and not isinstance(value, bool):
        return 0, float(value), ""
    return 1, 0.0, str(value)


# ----------------------------------------------------------------------------------------------
# A tiny document model rendered to Markdown and HTML
# ----------------------------------------------------------------------------------------------

@dataclass
class _Doc:
    blocks: list[tuple[str, Any]] = field(default_factory=list)

    def heading(self, level: int, text: str) -> None:
        self.blocks.append(("h", (level, text)))

    def para(self, text: str) -> None:
        self.blocks.append(("p", text))

    def bullets(self, items: Sequence[str]) -> None:
        if items:
            self.blocks.append(("ul", list(items)))

    def table(self, header: Sequence[str], rows: Sequence[Sequence[str]], note: str | None = None) -> None:
        self.blocks.append(("table", (list(header), [list(r) for r in rows], note)))
        title = next((data[1] for kind, data in reversed(self.blocks) if kind == "h"), "")
        record(title, header, rows)  # for --xlsx and --csv

    def figure(self, file: str, caption: str, title: str) -> None:
        self.blocks.append(("figure", (file, caption, title)))

    def code(self, text: str, summary: str) -> None:
        self.blocks.append(("code", (text, summary)))


def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _to_markdown(doc: _Doc) -> str:
    out: list[str] = []
    for kind, data in doc.blocks:
        if kind == "h":
            level, text = data
            out.append(f"{'#' * level} {text}\n")
        elif kind == "p":
            out.append(f"{data}\n")
        elif kind == "ul":
            out.append("\n".join(f"- {item}" for item in data) + "\n")
        elif kind == "table":
            header, rows, note = data
            lines = ["| " + " | ".join(_md_cell(h) for h in header) + " |",
                     "|" + "|".join(["---"] * len(header)) + "|"]
            lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
            out.append("\n".join(lines) + "\n")
            if note:
                out.append(f"*{note}*\n")
        elif kind == "figure":
            file, caption, title = data
            out.append(f"![{title}]({file})\n\n*{caption}*\n")
        elif kind == "code":
            text, summary = data
            out.append(f"{summary}:\n\n```toml\n{text.rstrip()}\n```\n")
    return "\n".join(out)


_CSS = """
body { font-family: -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color: #222;
       max-width: 1100px; margin: 2em auto; padding: 0 1.5em; line-height: 1.45; }
h1 { border-bottom: 2px solid #2a6f97; padding-bottom: .2em; }
h2 { color: #2a6f97; margin-top: 1.8em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: .8em 0; font-size: .92em; }
th, td { border: 1px solid #ccc; padding: .3em .6em; text-align: left; vertical-align: top; }
th { background: #eef4f8; }
tr:nth-child(even) td { background: #fafafa; }
figure { margin: 1.2em 0; }
figure img { max-width: 100%; border: 1px solid #e5e5e5; }
figcaption { font-size: .92em; color: #444; margin-top: .3em; }
.note { font-size: .88em; color: #555; font-style: italic; }
pre { background: #f6f6f6; padding: .8em; overflow-x: auto; font-size: .85em; }
details { margin: .8em 0; }
"""


def _to_html(doc: _Doc, title: str, images: Mapping[str, bytes], css: str = _CSS, lang: str = "en") -> str:
    esc = html.escape
    body: list[str] = []
    for kind, data in doc.blocks:
        if kind == "h":
            level, text = data
            body.append(f"<h{level}>{esc(text)}</h{level}>")
        elif kind == "p":
            body.append(f"<p>{esc(data)}</p>")
        elif kind == "ul":
            body.append("<ul>" + "".join(f"<li>{esc(i)}</li>" for i in data) + "</ul>")
        elif kind == "table":
            header, rows, note = data
            head = "".join(f"<th>{esc(str(h))}</th>" for h in header)
            rows_html = "".join("<tr>" + "".join(f"<td>{esc(str(c))}</td>" for c in row) + "</tr>" for row in rows)
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows_html}</tbody></table>")
            if note:
                body.append(f'<p class="note">{esc(note)}</p>')
        elif kind == "figure":
            file, caption, alt = data
            encoded = base64.b64encode(images[file]).decode("ascii")
            body.append(f'<figure><img src="data:image/png;base64,{encoded}" alt="{esc(alt)}">'
                        f"<figcaption>{esc(caption)}</figcaption></figure>")
        elif kind == "code":
            text, summary = data
            body.append(f"<details><summary>{esc(summary)}</summary><pre>{esc(text)}</pre></details>")
    return ("<!DOCTYPE html>\n"
            f"<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{esc(title)}</title>\n<style>{css}</style>\n</head>\n<body>\n"
            + "\n".join(body) + "\n</body>\n</html>\n")


# ----------------------------------------------------------------------------------------------
# Figures as PNG
# ----------------------------------------------------------------------------------------------

def _png(fig: Figure) -> bytes:
    """Return the figure as PNG bytes, reduced to a 256-colour palette.

    That is about a third of the size, so the HTML report stays small enough to email; the plots
    look the same.
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=FIGURE_DPI)
    try:
        from PIL import Image  # installed with matplotlib
    except ImportError:  # pragma: no cover
        return buffer.getvalue()
    buffer.seek(0)
    with Image.open(buffer) as image:
        palette = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT,
                                                dither=Image.Dither.NONE)
    small = io.BytesIO()
    palette.save(small, format="PNG", optimize=True)
    return small.getvalue() if small.tell() < buffer.getbuffer().nbytes else buffer.getvalue()


# ----------------------------------------------------------------------------------------------
# Building the report
# ----------------------------------------------------------------------------------------------

def _arm_labels(runs: pd.DataFrame, manifest: Mapping[str, Any]) -> dict[int, str]:
    labels = {int(a["arm"]): str(a.get("arm_label", a["arm"])) for a in manifest.get("arms") or []}
    if "arm" in runs.columns:
        for arm, label in analysis._labels(runs).items():
            labels.setdefault(arm, label)
    return dict(sorted(labels.items()))


def _arm_factors(runs: pd.DataFrame, manifest: Mapping[str, Any]) -> tuple[list[str], dict[int, dict[str, Any]]]:
    """The sweep's factors and each arm's values of them."""
    factors = list((manifest.get("factors") or {}).keys())
    values: dict[int, dict[str, Any]] = {}
    for arm in manifest.get("arms") or []:
        params = analysis._flatten(arm.get("parameters") or {})
        for key in factors:  # a factor that is not a parameter (e.g. "scenario" in a comparison)
            if key not in params and key in arm:
                params[key] = arm[key]
        values[int(arm["arm"])] = params
        for key in params:
            if key not in factors:
                factors.append(key)
    for key in analysis.factor_columns(runs):
        if key not in factors:
            factors.append(key)
    for key in factors:  # a parameter some arms leave unchanged (scenario comparisons): the model default
        note = _parameter_note(manifest, key)
        if note:
            for entry in values.values():
                entry.setdefault(key, note.get("default"))
    if factors and "arm" in runs.columns:
        first = runs.drop_duplicates("arm").set_index("arm")
        for arm, row in first.iterrows():
            entry = values.setdefault(int(arm), {})
            for key in factors:
                if key in row.index and key not in entry:
                    entry[key] = row[key]
    return factors, values


COMPARISON = N_("Paired comparison of scenario {b} against {a}.")
"""The description ``compare`` gives its sweep (in English in the manifest; shown in the language spoken)."""


def _experiment_description(manifest: Mapping[str, Any]) -> str:
    for key in ("description", "experiment_description"):
        if manifest.get(key):
            given = str(manifest[key])
            match = re.fullmatch(r"Paired comparison of scenario (.+) against (.+)\.", given)
            return _(COMPARISON).format(b=match[1], a=match[2]) if match else given
    text = manifest.get("experiment_text")
    if text:
        try:
            parsed = tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            return ""
        for where in (parsed, parsed.get("experiment", {})):
            if isinstance(where, dict) and where.get("description"):
                return str(where["description"])
    return ""


def _base_scenario_text(base: Any) -> str:
    if base is None:
        return _("model defaults")
    if isinstance(base, str):
        return base
    if isinstance(base, Mapping):
        name = base.get("name")
        changes = (base.get("overrides") if "overrides" in base else base.get("parameters")) or {}
        if isinstance(changes, Mapping) and changes:
            listed = ", ".join(f"{k} = {v}" for k, v in analysis._flatten(changes).items())
            return f"{name}: {listed}" if name else listed
        return str(name) if name else _("model defaults")
    return str(base)


def _versions_text(manifest: Mapping[str, Any]) -> str:
    parts = []
    versions = manifest.get("versions")
    if isinstance(versions, Mapping):
        parts += [f"{k} {v}" for k, v in versions.items()]
    parts += [f"{key.removesuffix('_version')} {value}" for key, value in manifest.items()
              if key.endswith("_version") and isinstance(value, str | int | float)]
    commit = manifest.get("git_commit") or manifest.get("commit") or (
        manifest.get("git", {}).get("commit") if isinstance(manifest.get("git"), Mapping) else None)
    if commit:
        parts.append(f"git commit {str(commit)[:12]}")
    return ", ".join(parts) if parts else _("not recorded")


DESIGN_NAMES = {"scenarios": N_("scenarios compared"), "factorial": N_("factorial"), "grid": N_("grid"),
                "lhs": N_("Latin hypercube"), "sobol": N_("Sobol sequence"), "morris": N_("Morris trajectories")}
"""A design's kind (as the manifest records it) in words."""


def _design_text(design: Any, n_arms: int) -> str:
    """``factorial (8 points)``, ``lhs: 64 samples, sampling seed 7`` or whatever the manifest holds."""
    if isinstance(design, Mapping):
        kind = str(design.get("kind", "design"))
        kind = _(DESIGN_NAMES[kind]) if kind in DESIGN_NAMES else kind
        parts = []
        if design.get("samples"):
            parts.append(_("{samples} samples").format(samples=design["samples"]))
        if design.get("seed") is not None:
            parts.append(_("sampling seed {seed}").format(seed=design["seed"]))
        if not parts:
            parts.append(_("{points} points").format(points=design.get("points", n_arms)))
        return f"{kind} ({', '.join(parts)})"
    return str(design) if design else _("not recorded")


def _parameter_note(manifest: Mapping[str, Any], key: str) -> dict[str, Any]:
    """Unit, model default and meaning of a varied parameter, as the sweep's manifest records them."""
    return (manifest.get("parameter_notes") or {}).get(key) or {}


def _what_was_run(doc: _Doc, res: Results, labels: Mapping[int, str], factors: Sequence[str],
                  arm_values: Mapping[int, Mapping[str, Any]], baseline: int, why: str) -> None:
    m = res.manifest
    runs = res.runs
    n_ok = len(analysis.ok_runs(runs))
    n_failed = len(runs) - n_ok
    doc.heading(2, _("What was run"))
    description = _experiment_description(m)
    if description:
        doc.para(description)
    replications = m.get("replications")
    if replications is None and "replication" in runs.columns:
        replications = runs["replication"].nunique()
    unrecorded = _("not recorded")
    facts = [
        _("Experiment: {name}").format(name=m.get("experiment_name") or res.path.name),
        _("Base scenario: {base}").format(base=_base_scenario_text(m.get("base_scenario"))),
        _("Design: {design}; {arms} arms x {replications} replications = {runs} runs ({ok} finished, {failed} "
          "failed)").format(design=_design_text(m.get("design"), len(labels)), arms=len(labels),
                            replications=replications, runs=m.get("runs_total", len(runs)), ok=n_ok,
                            failed=n_failed),
        _("Months simulated per run: {months}").format(months=m.get("months", unrecorded)),
        _("Master seed: {seed}; replication seeds: {seeds}").format(seed=m.get("master_seed", unrecorded),
                                                                   seeds=_seed_text(m.get("seeds"), runs)),
        _("Started {started}, finished {finished}").format(started=m.get("started", "?"),
                                                           finished=m.get("finished") or _("not finished")),
        _("Software: {versions}").format(versions=_versions_text(m)),
    ]
    doc.bullets(facts)
    total = m.get("runs_total")
    if total is not None and len(runs) < int(total):
        doc.para(_("Note: the sweep is incomplete — {saved} of {total} runs are in the results folder. Every number "
                   "below uses only the finished runs.").format(saved=len(runs), total=total))
    if factors:
        doc.heading(3, _("Factors varied"))
        rows = []
        for key in factors:
            note = _parameter_note(m, key)
            values = (m.get("factors") or {}).get(key)
            if values is None:
                values = sorted({v[key] for v in arm_values.values() if key in v}, key=_level_key)
            shown = (", ".join(fmt_setting(key, v) for v in values) if isinstance(values, list | tuple)
                     else str(values))
            rows.append([figs.factor_label(key), key, _(note.get("unit", "")), shown,
                         fmt_setting(key, note["default"]) if "default" in note else "", _(note.get("meaning", ""))])
        doc.table([_("factor"), _("parameter"), _("unit"), _("values"), _("model default"), _("meaning")], rows)
    doc.heading(3, _("Arms"))
    rows = []
    for arm, label in labels.items():
        rows.append([_arm_cell(arm, baseline), label,
                     *[fmt_setting(k, arm_values.get(arm, {}).get(k, "")) for k in factors]])
    doc.table([_("arm"), _("name"), *[figs.factor_label(k) for k in factors]], rows,
              note=_("The reference arm, arm {arm} ({name}), is the one every other arm is compared with: "
                     "{why}.").format(arm=baseline, name=labels[baseline], why=why))
    text = m.get("experiment_text")
    if text:
        doc.code(str(text), _("The experiment file"))


def _arm_cell(arm: int, baseline: int) -> str:
    """An arm's number in a table, marked when it is the reference: ``0 (reference)``."""
    return _("{arm} (reference)").format(arm=arm) if arm == baseline else str(arm)


def _seed_text(seeds: Any, runs: pd.DataFrame) -> str:
    if isinstance(seeds, list | tuple) and seeds:
        shown = ", ".join(str(s) for s in seeds[:6])
        return shown + (_in_all(len(seeds)) if len(seeds) > 6 else "")
    if isinstance(seeds, Mapping) and seeds:
        items = list(seeds.items())[:6]
        shown = ", ".join(f"{k}: {v}" for k, v in items)
        return shown + (_in_all(len(seeds)) if len(seeds) > 6 else "")
    if "seed" in runs.columns:
        unique = sorted(runs["seed"].dropna().unique())
        return ", ".join(str(int(s)) for s in unique[:6]) + (_in_all(len(unique)) if len(unique) > 6 else "")
    return _("not recorded")


def _in_all(n: int) -> str:
    return _(", ... ({n} in all)").format(n=n)


def _summary_table(doc: _Doc, summary: pd.DataFrame, labels: Mapping[int, str], baseline: int,
                   runs: pd.DataFrame) -> None:
    outcomes = [o for o in SUMMARY_OUTCOMES if o in set(summary["outcome"])]
    ok = analysis.ok_runs(runs)
    counts = ok.groupby("arm").size() if len(ok) else pd.Series(dtype=int)
    s = summary.set_index(["arm", "outcome"])
    rows = []
    for arm, label in labels.items():
        row = [_arm_cell(arm, baseline), label, str(int(counts.get(arm, 0)))]
        for o in outcomes:
            if (arm, o) in s.index:
                r = s.loc[(arm, o)]
                row.append(fmt_ci(o, r["mean"], r["ci_low"], r["ci_high"]))
            else:
                row.append(missing())
        rows.append(row)
    header = [_("arm"), _("name"), _("runs"), *[label_of(o) for o in outcomes]]
    doc.table(header, rows, note=_("Mean over replications, with the 95% confidence interval in brackets. n/a: not "
                                   "available (e.g. the runs were too short to follow groups 36 months)."))


def _findings(summary: pd.DataFrame, paired: pd.DataFrame, labels: Mapping[int, str], baseline: int) -> list[str]:
    """One plain sentence per key outcome: which arm did best and how it compares with the reference arm."""
    items: list[str] = []
    if len(labels) < 2:
        return items
    for outcome in SUMMARY_OUTCOMES:
        sub = summary[(summary["outcome"] == outcome) & np.isfinite(summary["mean"])]
        if sub.empty:
            continue
        higher = BY_COLUMN[outcome].higher_is_better is not False
        best = sub.loc[sub["mean"].idxmax() if higher else sub["mean"].idxmin()]
        arm = int(best["arm"])
        text = _("{outcome}: best in arm {arm} ({name}), {value}").format(
            outcome=label_of(outcome).capitalize(), arm=arm, name=labels.get(arm, arm),
            value=fmt_ci(outcome, best["mean"], best["ci_low"], best["ci_high"]))
        if arm == baseline:
            text += _("; that is the reference arm.")
        else:
            d = paired[(paired["arm"] == arm) & (paired["outcome"] == outcome)]
            if len(d):
                r = d.iloc[0]
                compared = int((paired["outcome"] == outcome).sum())
                several = compared > 1
                p = r["pvalue_holm"] if several else r["pvalue"]
                clear = finite(p) and p < 0.05
                if several:
                    verdict = (_("a clear difference, even allowing for the {n} comparisons") if clear else
                               _("not clearly different once the {n} comparisons are allowed for")).format(n=compared)
                else:
                    verdict = _("a clear difference") if clear else _("not clearly different")
                shown = f"p {fmt_p(r['pvalue'])}" + (_(", Holm-adjusted {p}").format(p=fmt_p(p)) if several else "")
                text += _("; {diff} against {reference} (95% CI {low} to {high}, {shown}: {verdict}).").format(
                    diff=fmt_diff(outcome, r["mean_diff"]), reference=labels.get(baseline, baseline),
                    low=fmt_diff(outcome, r["ci_low"]), high=fmt_diff(outcome, r["ci_high"]), shown=shown,
                    verdict=verdict)
        items.append(text)
    return items


def _surprising(outcome: str, row: pd.Series, paired: pd.DataFrame) -> bool:
    """A result to explain: the arm costs clearly more than the reference yet this outcome is worse on average."""
    better = BY_COLUMN[outcome].higher_is_better if outcome in BY_COLUMN else None
    if better is None or not finite(row["mean_diff"]) or outcome.startswith("cost_"):
        return False
    cost = paired[(paired["arm"] == row["arm"]) & (paired["outcome"] == "cost_total_rp")]
    costs_more = len(cost) and finite(cost.iloc[0]["ci_low"]) and cost.iloc[0]["ci_low"] > 0
    return bool(costs_more) and (row["mean_diff"] > 0) != better and row["mean_diff"] != 0


def _paired_tables(doc: _Doc, paired: pd.DataFrame, labels: Mapping[int, str], baseline: int) -> None:
    if paired.empty:
        doc.para(_("There is only one arm, so there is nothing to compare.") if len(labels) < 2 else
                 _("No run of the reference arm has finished yet, so there is nothing to compare with."))
        return
    by_arm = {int(arm): {r["outcome"]: r for _i, r in sub.iterrows()} for arm, sub in paired.groupby("arm")}
    for outcome in SUMMARY_OUTCOMES:
        sub = paired[paired["outcome"] == outcome]
        if sub.empty:
            continue
        doc.heading(3, label_of(outcome).capitalize())
        rows = []
        for _i, r in sub.iterrows():
            rows.append([str(int(r["arm"])), labels.get(int(r["arm"]), str(r["arm_label"])), str(int(r["n_pairs"])),
                         fmt_value(outcome, r["baseline_mean"]), fmt_value(outcome, r["arm_mean"]),
                         f"{fmt_diff(outcome, r['mean_diff'])} "
                         f"({fmt_range(fmt_diff(outcome, r['ci_low']), fmt_diff(outcome, r['ci_high']))})",
                         fmt_p(r["pvalue"]), fmt_p(r["pvalue_holm"])])
        doc.table([_("arm"), _("name"), _("pairs"),
                   _("reference: {name}").format(name=labels.get(baseline, baseline)), _("this arm"),
                   _("difference (95% CI)"), "p", _("p (Holm)")], rows)
        why = [difference_reading(outcome, r, by_arm[int(r["arm"])], arm=labels.get(int(r["arm"]), str(r["arm"])),
                                  reference=labels.get(baseline, str(baseline)))
               for _i, r in sub.iterrows() if _surprising(outcome, r, paired)]
        if why:
            doc.para(_("Costs more, does worse? Arms that cost clearly more than the reference but do worse on "
                       "average here:"))
            doc.bullets([w for w in why if w])


def _ensemble_section(doc: _Doc, runs: pd.DataFrame, manifest: Mapping[str, Any], labels: Mapping[int, str],
                      baseline: int, confidence: float) -> pd.DataFrame:
    """Differences from the reference over the calibrated ensemble: seed noise and parameter uncertainty apart."""
    outcomes = [o for o in SUMMARY_OUTCOMES if o in runs.columns and runs[o].notna().any()]
    table = ensemble_differences(runs, baseline, outcomes, confidence)
    info = manifest.get("ensemble") or {}
    doc.heading(2, _("Parameter uncertainty (calibrated ensemble)"))
    doc.para(_("The replications ran over the ensemble '{name}': replication i used parameter set i mod {members} in "
               "every arm, so each difference below carries the uncertainty of the calibrated parameters as well as "
               "seed noise. {reading} A large share from parameters means more replications will not narrow the "
               "interval; better knowledge of the assumptions would.").format(
        name=info.get("name", "?"), members=int(table["members"].max()) if len(table) else 0,
        reading=_(ENSEMBLE_READING)))
    for outcome in outcomes:
        sub = table[table["outcome"] == outcome]
        if sub.empty:
            continue
        rows = [[str(int(r["arm"])), labels.get(int(r["arm"]), str(r["arm"])), str(int(r["n_pairs"])),
                 *ensemble_cells(outcome, r)] for _i, r in sub.iterrows()]
        doc.heading(3, _("{outcome} (ensemble)").format(outcome=label_of(outcome).capitalize()))
        doc.table([_("arm"), _("name"), _("pairs"), *ensemble_header()], rows)
    return table


def _survival_tables(doc: _Doc, table: pd.DataFrame, lr: pd.DataFrame, labels: Mapping[int, str],
                     baseline: int) -> None:
    horizons = sorted(table["horizon"].unique()) if len(table) else []
    rows = []
    for arm, label in labels.items():
        sub = table[table["arm"] == arm].set_index("horizon")
        if sub.empty:
            rows.append([str(arm), label, "0", *[missing()] * len(horizons)])
            continue
        first = sub.iloc[0]
        cells = [fmt_ci("survival_12", sub.loc[h, "survival"], sub.loc[h, "lower"], sub.loc[h, "upper"])
                 for h in horizons]
        rows.append([_arm_cell(arm, baseline), label,
                     f"{fmt_level(int(first['groups']))} ({fmt_level(int(first['failed']))})", *cells])
    doc.table([_("arm"), _("name"), _("groups (failed)"), *[_("{months} months").format(months=h) for h in horizons]],
              rows,
              note=_("Kaplan-Meier share of groups still active that many months after their own funding, all "
                     "replications pooled, with the 95% pointwise band; 0 once every group had failed; n/a where "
                     "no group was followed that long while some were still active."))
    if lr.empty:
        return
    reference = labels.get(baseline, str(baseline))
    doc.para(_("Log-rank tests: does each arm's survival curve differ from the reference arm's (arm {arm}: "
               "{name})?").format(arm=baseline, name=reference))
    rows = []
    for _i, r in lr.iterrows():
        if not finite(r["pvalue"]):
            reading = _("no failures to compare")
        elif r["pvalue"] >= 0.05:
            reading = _("no clear difference")
        elif r["statistic"] < 0:
            reading = _("groups fail less often than under {reference}").format(reference=reference)
        else:
            reading = _("groups fail more often than under {reference}").format(reference=reference)
        rows.append([str(int(r["arm"])), str(r["arm_label"]),
                     f"{fmt_level(int(r['groups']))} ({fmt_level(int(r['failed']))})",
                     fmt_fixed(r["statistic"], 2) if finite(r["statistic"]) else missing(), fmt_p(r["pvalue"]),
                     reading])
    doc.table([_("arm"), _("name"), _("groups (failed)"), _("statistic z"), "p", _("reading at the 5% level")], rows,
              note=_("z is SciPy's signed log-rank statistic (z² is the usual chi-squared with 1 degree of freedom); "
                     "negative z: fewer failures than expected if the arms were alike. Groups within a run are not "
                     "independent, so treat small p-values from very large pooled samples with some caution."))


HOW_TO_READ: tuple[str, ...] = (
    N_("Arms and replications. Each arm is one combination of the parameter values in the sweep. Each replication "
    "is one simulated district with its own random seed; replication i uses the same seed in every arm "
    "(common random numbers), so every arm faces the same villages, members and chance events and the arms "
    "differ only by their parameters."),
    N_("Paired differences. Because of the shared seeds, each arm is compared with the reference arm replication by "
    "replication, and the differences are averaged. This removes most of the luck that two separate samples "
    "would carry, so paired intervals are much narrower than the difference of two separate intervals suggests."),
    N_("Confidence intervals. A 95% confidence interval is the range of values compatible with the runs: if the "
    "sweep were repeated with new seeds, about 95 in 100 such intervals would contain the model's long-run "
    "average. An interval of a difference that excludes zero means the arms clearly differ in the model. The "
    "intervals cover the model's randomness only, not doubts about its assumptions or parameter values; more "
    "replications narrow them."),
    N_("p-values. A p-value below 0.05 means a difference this large would rarely arise by chance if the arms "
    "really were the same. With many arms some small p-values appear by chance alone; the Holm-adjusted "
    "p-value allows for the number of arms compared."),
    N_("Survival. 'Groups active 36 months after funding' in the summary table is worked out in each run and then "
    "averaged over replications. The survival curves and the log-rank tests pool all groups of an arm; their "
    "bands treat groups as independent and are therefore narrower than the between-replication intervals."),
    N_("Money. Amounts are in rupiah (Rp); figures use Rp juta (millions) or Rp ribu (thousands) as marked. Income "
    "per member per month is the income members received from their group, averaged over the months they "
    "were members."),
)
"""How to read the report, in English (translated where shown)."""


def _figure_specs(res: Results, summary: pd.DataFrame, km: pd.DataFrame, effects: Mapping[str, pd.DataFrame],
                  labels: Mapping[int, str], baseline: int, confidence: float
                  ) -> list[tuple[str, str, str, Callable[[], Figure]]]:
    ok = analysis.ok_runs(res.runs)
    by_ratio = keys.CASELOAD in ok.columns and ok[keys.CASELOAD].nunique() > 1
    specs: list[tuple[str, str, str, Callable[[], Figure]]] = [
        ("survival.png", _("Survival of groups by arm"),
         _("Each line is the share of groups still active by months since their own funding (Kaplan-Meier, all "
         "replications of an arm pooled), with its 95% band shaded; a line that stays higher means groups last "
         "longer."),
         lambda: figs.survival_figure(km, labels, baseline)),
        ("income.png", _("Income and poverty by arm"),
         _("Each dot is one run: average income per member per month from the group (left) and share of members "
         "above the poverty line (right); boxes span the middle half of the runs, white diamonds mark the mean, "
         "and further right is better."),
         lambda: figs.income_figure(ok, labels, baseline)),
        ("cost.png", _("Cost against surviving groups"),
         _("Left: each dot is one run's total programme cost against the groups still active at its end (lower "
         "and further right is better value); right: mean cost per surviving group with its 95% confidence "
         "interval (further left is cheaper)."),
         lambda: figs.cost_figure(ok, summary, labels, baseline)),
        ("workload.png", _("Facilitator workload"),
         (_("Facilitator visits each group received per month (left) and share of running groups with no visit in "
            "the last three months (right), against the number of groups per facilitator, as means with 95% "
            "confidence intervals.") if by_ratio else
          _("Facilitator visits each group received per month (left) and share of running groups with no visit in "
            "the last three months (right), by arm, as means with 95% confidence intervals.")),
         lambda: figs.workload_figure(ok, labels, baseline, confidence)),
    ]
    if effects:
        specs.append(("factor_effects.png", _("Effect of each factor"),
                      _("Each panel shows the mean of one outcome (rows) at each value of one factor (columns), "
                      "averaged over every run at that value whatever the other factors, with 95% confidence "
                      "intervals; a steep line means the factor matters for that outcome."),
                      lambda: figs.factor_effects_figure(effects)))
    if not res.monthly.empty and "groups_active" in res.monthly.columns and "arm" in res.monthly.columns:
        specs.append(("groups_over_time.png", _("Groups running over time"),
                      _("Number of groups running in each month of the programme: mean over replications (line) and "
                      "the lowest to highest replication (shaded)."),
                      lambda: figs.groups_over_time_figure(res.monthly, labels, baseline)))
    return specs


def _last_line(error: Any) -> str:
    """The last line of an error text (the exception itself), shortened; "" when there is none."""
    if not isinstance(error, str) or not error.strip():
        return ""
    return error.strip().splitlines()[-1][:200]


def _all_outcomes(doc: _Doc, summary: pd.DataFrame, outcomes: Sequence[str], labels: Mapping[int, str]) -> None:
    """Appendix: every outcome (rows) by arm (columns), or a pointer to summary.csv for many arms."""
    doc.heading(2, _("All outcomes by arm"))
    if len(labels) > MAX_APPENDIX_ARMS:
        doc.para(_("With {arms} arms the table of every outcome is too wide to print here; it is in summary.csv next "
                   "to this report (one row per arm and outcome: n, mean, sd, 95% CI).").format(arms=len(labels)))
        return
    rows = []
    for outcome in outcomes:
        s = summary[summary["outcome"] == outcome].set_index("arm")
        rows.append([label_of(outcome), outcome,
                     *[fmt_ci(outcome, s.loc[a, "mean"], s.loc[a, "ci_low"], s.loc[a, "ci_high"])
                       if a in s.index else missing() for a in labels]])
    doc.table([_("outcome"), _("column"), *[_("arm {arm}").format(arm=a) for a in labels]], rows,
              note=_("Mean (95% CI) over finished runs. The tables behind this report are in the CSV files next "
                     "to it."))


def _value_section(doc: _Doc, runs: pd.DataFrame, summary: pd.DataFrame, names: Mapping[int, str],
                   baseline: int, confidence: float) -> pd.DataFrame:
    """Staff, cost and what each arm buys per Rp 100 juta against the reference; returns the table behind it."""
    doc.heading(2, _("Cost and value for money"))
    doc.para(_("Options rarely cost the same. For each arm: the households it lifted out of poverty per Rp 1 miliar "
             "of its cost (households poor on their own income and at or above the line with the programme at the "
             "end of the run; never-poor and still-poor households count zero), with its 95% interval over "
             "replications; the facilitators it recruited and the groups each actually carried, its total cost "
             "and the difference from the reference, the groups still active at the end per Rp 100 juta spent, "
             "the difference at equal cost (that count per Rp 100 juta, arm minus reference, paired by "
             "replication: what one budget of Rp 100 juta buys more, if the programme scales with its budget), "
             "and what the arm's extra money buys (extra groups still active per extra Rp 100 juta, Fieller's "
             "interval; n/a when the costs do not clearly differ)."))
    s = summary.set_index(["arm", "outcome"])
    scale = PER_MILIAR / PER_RP

    def mean(arm: int, outcome: str) -> Any:
        return s.loc[(arm, outcome), "mean"] if (arm, outcome) in s.index else None

    def lifted(value: pd.DataFrame, key: str) -> str:
        row = value[value["outcome"] == "households_lifted"]
        if row.empty:
            return missing()
        r = row.iloc[0]
        return per_budget_reading(_("households"), r[f"{key}_per_100m"] * scale, r[f"{key}_low"] * scale,
                                  r[f"{key}_high"] * scale)

    def two(v: float, signed: bool = False) -> str:
        return fmt_signed(float(v), 2) if signed else fmt_fixed(float(v), 2)

    def with_interval(mean: float, low: float, high: float) -> str:
        return f"{two(mean, True)} ({fmt_range(two(low, True), two(high, True))})"

    tables, rows = [], []
    for arm, name in names.items():
        row = [_arm_cell(arm, baseline), name,
               fmt_value("facilitators", mean(arm, "facilitators")),
               fmt_value("mean_caseload", mean(arm, "mean_caseload")),
               fmt_rp(mean(arm, "cost_total_rp"))]
        if arm == baseline:
            value = value_for_money(runs, baseline, baseline, confidence)
            first = value[value["outcome"] == "groups_active_end"]
            per = first.iloc[0]["reference_per_100m"] if len(first) else None
            rows.append([row[0], row[1], lifted(value, "reference"), *row[2:], "",
                         two(float(per)) if per is not None and finite(per) else missing(), "", ""])
            continue
        value = value_for_money(runs, baseline, arm, confidence)
        tables.append(value.assign(arm=arm, reference_arm=baseline))
        g = value[value["outcome"] == "groups_active_end"]
        if g.empty:
            rows.append([row[0], row[1], lifted(value, "arm"), *row[2:], *[missing()] * 4])
            continue
        r = g.iloc[0]
        extra = (with_interval(r["extra_per_100m"], r["extra_low"], r["extra_high"])
                 if finite(r["extra_low"]) else missing())
        rows.append([row[0], row[1], lifted(value, "arm"), *row[2:],
                     _cost_against(r["cost_diff"], r["cost_diff_low"], r["cost_diff_high"]),
                     two(r["arm_per_100m"]), with_interval(r["diff_per_100m"], r["diff_low"], r["diff_high"]), extra])
    doc.table([_("arm"), _("name"), _("households lifted out of poverty per Rp 1 miliar"), _("facilitators"),
               _("groups per facilitator (carried)"), _("total cost"), _("cost against the reference (95% CI)"),
               _("groups still active per Rp 100 juta"), _("at equal cost: difference (95% CI)"),
               _("extra groups per extra Rp 100 juta (95% CI)")], rows,
              note=_("Means over replications. Counts per Rp 100 juta are worked out run by run; value_for_money.csv "
                     "holds the same for households lifted out of poverty, groups active 36 months after funding "
                     "and member households reached."))
    return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()


def _cost_against(diff: Any, low: Any, high: Any) -> str:
    """An arm's cost against the reference without who pays it: ``Rp 94 juta more (95% CI ...)``."""
    if not finite(diff):
        return missing()
    d = float(diff)
    if d == 0 and not (finite(low) and finite(high) and low != high):
        return _("the same")
    text = fmt_cost_change(d) if d != 0 else _("the same")
    return text + cost_interval(d, low, high)


def write_report(results_dir: str | Path, out: str | Path | None = None, *,
                 baseline_arm: int | str | None = None, confidence: float = 0.95) -> Path:
    """Write a planner's report of a sweep: figures, ``report.md``, ``report.html`` and CSV tables.

    Args:
        results_dir: The folder a sweep wrote (``runs.parquet``, ``groups.parquet``, ``monthly.parquet``,
            ``manifest.json``).
        out: Folder to write into (``<results_dir>/report`` when None); created if needed.
        baseline_arm: The arm others are compared with, by number or name (by default the experiment's
            reference arm, else the arm equal to the base scenario, else arm 0; see
            :func:`kube_sim.analysis.statistics.default_baseline_arm`).
        confidence: Confidence level of every interval.

    Returns:
        The report folder.

    Raises:
        FileNotFoundError: If the results folder or its runs table is missing.
        ValueError: If the runs table has no ``arm`` column or the baseline arm is unknown.
    """
    res = load_results(results_dir)
    folder = Path(out) if out is not None else res.path / REPORT_DIR
    folder.mkdir(parents=True, exist_ok=True)
    runs = res.runs
    if "arm" not in runs.columns:
        raise ValueError(f"{res.path}: the runs table has no 'arm' column")
    labels = _arm_labels(runs, res.manifest)
    factors, arm_values = _arm_factors(runs, res.manifest)
    names = arm_names(list(labels), res.manifest, factors, arm_values)  # names for tables and figures
    baseline = (analysis.default_baseline_arm(res.manifest, runs) if baseline_arm is None
                else resolve_arm(baseline_arm, names))
    if baseline not in labels:
        raise ValueError(f"baseline arm {baseline} is not one of the arms ({', '.join(map(str, labels))})")
    why = reference_reason(res.manifest, baseline, analysis.base_scenario_arm(res.manifest), baseline_arm is not None)

    outcomes = analysis.outcome_columns(runs)
    summary = analysis.arm_summary(runs, outcomes, confidence)
    has_baseline = baseline in set(analysis.ok_runs(runs)["arm"])  # an unfinished sweep may not have reached it
    paired = analysis.paired_differences(runs, baseline, outcomes, confidence) if has_baseline else pd.DataFrame(
        columns=list(analysis.PAIRED_COLUMNS))
    groups = res.groups
    has_groups = not groups.empty and "arm" in groups.columns
    km = analysis.km_by_arm(groups, confidence) if has_groups else pd.DataFrame(columns=list(analysis.KM_COLUMNS))
    surv = analysis.survival_table(groups, SURVIVAL_HORIZONS, confidence) if has_groups else pd.DataFrame(
        columns=["arm", "horizon", "survival", "lower", "upper", "at_risk", "groups", "failed"])
    lr = analysis.logrank_all(groups, baseline, names) if has_groups else pd.DataFrame(
        columns=list(analysis.LOGRANK_COLUMNS))
    varying = [f for f in analysis.factor_columns(runs) if analysis.ok_runs(runs)[f].nunique() > 1]
    effects = {o: analysis.factor_effects(runs, o, varying, confidence)
               for o in SUMMARY_OUTCOMES if o in runs.columns} if varying else {}

    for name, frame in (("summary", summary), ("paired_differences", paired), ("survival", surv),
                        ("km_curves", km), ("logrank", lr)):
        write_text(folder / f"{name}.csv", frame.to_csv(index=False))
    if effects:
        table = pd.concat([e.assign(outcome=o) for o, e in effects.items()], ignore_index=True)
        write_text(folder / "factor_effects.csv", table.to_csv(index=False))

    name = res.manifest.get("experiment_name") or res.path.name
    title = _("KUBE programme simulation: {name}").format(name=name)
    doc = _Doc()
    doc.heading(1, title)
    doc.para(_("Report written {when} from {folder}/. The numbers come from an agent-based simulation of KUBE joint "
               "business groups; they compare policy options under the model's assumptions, they are not "
               "forecasts.").format(when=_dt.datetime.now().astimezone().isoformat(timespec="seconds"),
                                    folder=res.path.name))
    findings = _findings(summary, paired, names, baseline)
    if findings:
        doc.heading(2, _("Key findings"))
        doc.para(_("Every arm is compared with the reference arm, arm {arm}: {name} ({why}).").format(
            arm=baseline, name=names[baseline], why=why))
        doc.bullets(findings)
    _what_was_run(doc, res, names, factors, arm_values, baseline, why)
    doc.heading(2, _("Summary by arm"))
    _summary_table(doc, summary, names, baseline, runs)
    if has_baseline and len(names) > 1:
        value = _value_section(doc, runs, summary, names, baseline, confidence)
        write_text(folder / "value_for_money.csv", value.to_csv(index=False))
    doc.heading(2, _("Differences from the reference arm (arm {arm}: {name})").format(arm=baseline,
                                                                                       name=names[baseline]))
    doc.para(_("Each arm minus the reference ({name}; {why}), replication by replication (paired by seed); mean "
               "difference with its 95% confidence interval and the paired t-test p-value.").format(
        name=names[baseline], why=why))
    _paired_tables(doc, paired, names, baseline)
    if has_baseline and has_ensemble(runs):
        ensemble = _ensemble_section(doc, runs, res.manifest, names, baseline, confidence)
        write_text(folder / "ensemble_differences.csv", ensemble.to_csv(index=False))
    doc.heading(2, _("Survival of groups"))
    if has_groups:
        _survival_tables(doc, surv, lr, names, baseline)
    else:
        doc.para(_("The results hold no group table, so there are no survival curves."))

    doc.heading(2, _("Figures"))
    images: dict[str, bytes] = {}
    for file, fig_title, caption, draw in _figure_specs(res, summary, km, effects, names, baseline,
                                                        confidence):
        png = _png(draw())
        write_bytes(folder / file, png)
        images[file] = png
        doc.heading(3, fig_title)
        doc.figure(file, caption, fig_title)

    failed = runs[runs["status"] != "ok"] if "status" in runs.columns else runs.iloc[0:0]
    if len(failed):
        doc.heading(2, _("Failed runs"))
        doc.para(_("{n} run(s) raised an error and are left out of every number above.").format(n=len(failed)))
        rows = [[str(r.get("run_id", "")), str(r.get("arm", "")), str(r.get("replication", "")),
                 _last_line(r.get("error"))]
                for _i, r in failed.head(20).iterrows()]
        doc.table([_("run"), _("arm"), _("replication"), _("error")], rows,
                  note=_("First 20 shown.") if len(failed) > 20 else None)

    doc.heading(2, _("How to read this report"))
    doc.bullets([_(item) for item in HOW_TO_READ])
    _all_outcomes(doc, summary, outcomes, names)

    write_text(folder / "report.md", _to_markdown(doc))
    write_text(folder / "report.html", _to_html(doc, title, images, lang=language()))
    return folder
