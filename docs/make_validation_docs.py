"""Write the validation tables of ``docs/VALIDATION.md`` from saved results, so its numbers come from the code.

The tables sit between markers in ``docs/VALIDATION.md``; each is rendered from a CSV kept in
``docs/data/`` (the results it was made from), and a test checks that the document and the CSV agree::

    python docs/make_validation_docs.py validation DIR   # DIR: a finished `kube-sim validate --out DIR`
    python docs/make_validation_docs.py leave-one-out    # run the leave-one-target-out check (minutes)
    python docs/make_validation_docs.py policy-sensitivity  # Morris then Sobol of the policy effects (~15 min)
    python docs/make_validation_docs.py render           # rewrite every table from docs/data/
    python docs/make_validation_docs.py --check          # exit 1 if a table is stale
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd

DOCS = Path(__file__).resolve().parent
DOCUMENT = DOCS / "VALIDATION.md"
DATA = DOCS / "data"
VALIDATION_CSV = DATA / "validation.csv"
LEAVE_ONE_OUT_CSV = DATA / "leave_one_out.csv"
LEAVE_ONE_OUT_DIR = Path("results") / "leave_one_out"
POLICY_DIR = Path("results") / "policy_sensitivity"
POLICY_MORRIS_CSV = DATA / "policy_sensitivity_morris.csv"
POLICY_SOBOL_CSV = DATA / "policy_sensitivity_sobol.csv"
POLICY_ENDS_CSV = DATA / "policy_sensitivity_ends.csv"
POLICY_FIGURE = DOCS / "figures" / "policy_sensitivity.png"
POLICY_SIZES = ["--trajectories", "6", "--samples", "64", "--top", "6", "--replications", "2", "--months", "64",
                "--seed", "42"]
"""The documented sizes of the policy-effects sensitivity (base scenario baseline, --span declared)."""
POLICY_KEPT = 12
"""Parameters of the Morris ranking kept in docs/data (the top by score over the policy effects)."""
POLICY_ENDS_TOP = 3
"""Top parameters per policy effect whose ends the could-reverse-or-halve table shows."""


def _md(text: object) -> str:
    return str(text).replace("|", "\\|")


def render_validation(table: pd.DataFrame) -> str:
    """The validation table as Markdown: pattern, role, grade, target, simulated value, result, reading.

    Args:
        table: A ``validation.csv``.

    Returns:
        Markdown text (the table and its tally).
    """
    from kube_sim.cli.validate import _cells, tally

    lines = ["| pattern | role | grade | target | simulated [95% interval] | p | result | reading |",
             "|---|---|---|---|---|---|---|---|"]
    for _, row in table.iterrows():
        interval, p = _cells(row)
        lines.append(f"| {_md(row['pattern'])} | {row['role']} | {row['grade']} | {_md(row['target'])} | "
                     f"{_md(interval)} | {p} | **{str(row['result']).upper()}** | {_md(row['reading'])} |")
    lines += ["", *(f"- {line.strip()}" for line in tally(table))]
    return "\n".join(lines) + "\n"


def render_leave_one_out(frame: pd.DataFrame) -> str:
    """The leave-one-target-out table as Markdown.

    Args:
        frame: What :func:`kube_sim.experiments.calibration.leave_one_out` returns.

    Returns:
        Markdown text (the table and how many targets were predicted).
    """
    from kube_sim.analysis.patterns import format_value

    def value(x: float, unit: str) -> str:
        return format_value(float(x), unit)

    lines = ["| target left out | band | fitted with it | predicted without it [95% interval] | ensemble 5-95% "
             "| point in band | ensemble meets band |", "|---|---|---|---|---|---|---|"]
    for _, r in frame.iterrows():
        u = str(r["unit"])
        point = f"{value(r['estimate'], u)} [{value(r['ci_low'], u)}, {value(r['ci_high'], u)}]"
        lines.append(f"| {_md(r['pattern'])} | {_md(r['target'])} | {value(r['fitted_estimate'], u)} | {point} | "
                     f"{value(r['p05'], u)} to {value(r['p95'], u)} | {'yes' if r['in_band'] else 'no'} | "
                     f"{'yes' if r['overlaps'] else 'no'} |")
    lines += ["", f"{int(frame['in_band'].sum())} of {len(frame)} targets predicted inside their band without "
              f"being fitted to them; the ensemble's range meets the band for {int(frame['overlaps'].sum())}."]
    return "\n".join(lines) + "\n"


def _effects() -> list[str]:
    from kube_sim.analysis.sensitivity import EFFECT_LABELS

    return list(EFFECT_LABELS)


def _value(outcome: str, x: float) -> str:
    import math

    from kube_sim.reporting.formats import fmt_number

    if not math.isfinite(float(x)):
        return "n/a"
    return fmt_number(float(x), 2)


def render_policy_morris(table: pd.DataFrame) -> str:
    """The Morris screening of the policy effects as Markdown: mu* and rank per outcome for the top parameters.

    Args:
        table: A ``policy_sensitivity_morris.csv`` (the Morris ranking's rows for the kept parameters).

    Returns:
        Markdown text.
    """
    order = list(dict.fromkeys(table.sort_values("order")["factor"]))
    lines = _factor_grid(table, order, lambda o, r: f"{_value(o, r['mu_star'])} (#{int(r['rank'])}"
                                                    f"{'' if r['above_noise'] else ', noise'})")
    return "\n".join(lines) + "\n"


def _factor_grid(table: pd.DataFrame, order: list[str], cell: Callable[[str, pd.Series], str]) -> list[str]:
    """Markdown rows of a parameter x outcome table: one row per factor of ``order``, one column per outcome.

    Args:
        table: Rows with ``outcome`` and ``factor`` (one per pair).
        order: The factors, in the order of the rows.
        cell: The text of one cell from its outcome and row.

    Returns:
        The header, the rule and the rows.
    """
    from kube_sim.analysis.sensitivity import outcome_label

    outcomes = list(dict.fromkeys(table["outcome"]))
    by = table.set_index(["outcome", "factor"])
    lines = ["| parameter | " + " | ".join(_md(outcome_label(o, [10, 20])) for o in outcomes) + " |",
             "|---|" + "---|" * len(outcomes)]
    lines += [f"| `{factor}` | " + " | ".join(cell(o, by.loc[(o, factor)]) for o in outcomes) + " |"
              for factor in order]
    return lines


def render_policy_sobol(table: pd.DataFrame) -> str:
    """The Sobol indices of the policy effects as Markdown: ST ± half-width (S1) per effect.

    Args:
        table: A ``policy_sensitivity_sobol.csv`` (the Sobol ranking).

    Returns:
        Markdown text (the table and the seed-noise share of each effect).
    """
    import math

    from kube_sim.analysis.sensitivity import outcome_label

    outcomes = list(dict.fromkeys(table["outcome"]))
    order = list(dict.fromkeys(table[table["outcome"] == outcomes[0]].sort_values("rank")["factor"]))
    by = table.set_index(["outcome", "factor"])
    lines = _factor_grid(table, order, lambda o, r: "n/a" if not math.isfinite(r["ST"]) else
                         f"{r['ST']:.2f} ± {r['ST_conf']:.2f} ({r['S1']:.2f} ± {r['S1_conf']:.2f})")
    shares = [f"{_md(outcome_label(o, [10, 20]))} {by.loc[o]['noise_share'].iloc[0]:.2f}" for o in outcomes]
    lines += ["", "Share of the variance that seed noise alone gives: " + "; ".join(shares) + "."]
    return "\n".join(lines) + "\n"


def render_policy_ends(table: pd.DataFrame) -> str:
    """The could-reverse-or-halve table as Markdown.

    Args:
        table: A ``policy_sensitivity_ends.csv``.

    Returns:
        Markdown text.
    """
    from kube_sim.analysis.sensitivity import outcome_label
    from kube_sim.reporting.formats import fmt_number

    lines = ["| policy answer | at the calibrated point (± se) | parameter (rank) | range | at low end | at high end "
             "| could |", "|---|---|---|---|---|---|---|"]
    for _, r in table.iterrows():
        could = "**reverse**" if r["reverses"] else "**halve**" if r["halves"] else "neither"
        lines.append(f"| {_md(outcome_label(r['outcome'], [10, 20]))} | {_value(r['outcome'], r['at_point'])} ± "
                     f"{_value(r['outcome'], r['at_point_se'])} | `{r['factor']}` (#{int(r['rank'])}) | "
                     f"{fmt_number(r['low'], 3)} to {fmt_number(r['high'], 3)} | {_value(r['outcome'], r['at_low'])} | "
                     f"{_value(r['outcome'], r['at_high'])} | {could} |")
    return "\n".join(lines) + "\n"


def policy_sensitivity(workers: int) -> None:
    """Run the Morris screening and the Sobol indices of the policy effects and keep their small summaries.

    Both runs go to ``results/policy_sensitivity`` (resumed if stopped); the Morris ranking's top
    parameters, the Sobol ranking and the could-reverse-or-halve table go to ``docs/data``, the figure
    to ``docs/figures/policy_sensitivity.png``.

    Args:
        workers: Parallel processes.
    """
    from kube_sim.analysis import sensitivity as indices
    from kube_sim.cli.main import main as kube_sim
    from kube_sim.reporting.sensitivity import top_ends
    from kube_sim.store import sweep_folder as store

    common = ["sensitivity", "--effects", *POLICY_SIZES, "--workers", str(workers), "--out", str(POLICY_DIR)]
    for method in ("morris", "sobol"):
        resume = ["--resume"] if (POLICY_DIR / method / "manifest.json").exists() else []
        outcomes = [] if method == "morris" else ["--outcomes", ",".join(_effects())]
        if kube_sim([*common, "--method", method, *outcomes, *resume]) != 0:
            raise SystemExit(f"kube-sim sensitivity --method {method} failed")
    morris = pd.read_csv(POLICY_DIR / "morris" / "ranking.csv")
    order = indices.overall_order(morris[morris["outcome"].isin(_effects())])[:POLICY_KEPT]
    kept = morris[morris["factor"].isin(order)].copy()
    kept["order"] = kept["factor"].map({f: i for i, f in enumerate(order)})
    columns = ["outcome", "factor", "order", "rank", "mu_star", "mu_star_conf", "sigma", "noise", "above_noise"]
    kept[columns].to_csv(POLICY_MORRIS_CSV, index=False, float_format="%.6g")
    folder = POLICY_DIR / "sobol"
    sobol = pd.read_csv(folder / "ranking.csv")
    sobol.drop(columns=["method", "unit"]).to_csv(POLICY_SOBOL_CSV, index=False, float_format="%.6g")
    ends = indices.ends(store.load_runs(folder), store.load_manifest(folder), _effects())
    top = top_ends(sobol, ends, POLICY_ENDS_TOP)
    top.to_csv(POLICY_ENDS_CSV, index=False, float_format="%.6g")
    _policy_figure(kept, sobol).savefig(POLICY_FIGURE, dpi=110)


def _policy_figure(morris: pd.DataFrame, sobol: pd.DataFrame) -> object:
    """Per policy effect: Morris mu* of the kept parameters (left) and Sobol S1 and ST with intervals (right)."""
    import numpy as np

    from kube_sim.analysis.sensitivity import outcome_label
    from kube_sim.reporting.canvas import new_figure, style

    effects = _effects()
    with style(0.8):
        fig = new_figure(figsize=(12.0, 3.2 * len(effects)))
        axes = fig.subplots(len(effects), 2, squeeze=False)
        for row, outcome in zip(axes, effects, strict=True):
            part = morris[morris["outcome"] == outcome].sort_values("mu_star", ascending=False)
            y = np.arange(len(part))
            colours = ["C0" if a else "0.7" for a in part["above_noise"]]
            row[0].barh(y, part["mu_star"], xerr=part["mu_star_conf"], color=colours, capsize=2)
            row[0].set_yticks(y, part["factor"], fontsize=7)
            row[0].invert_yaxis()
            row[0].set_title(f"Morris mu*: {outcome_label(outcome, [10, 20])}", fontsize=9)
            s = sobol[sobol["outcome"] == outcome].sort_values("rank")
            y = np.arange(len(s))
            row[1].barh(y - 0.2, s["S1"], height=0.4, xerr=s["S1_conf"], label="first order S1", capsize=2)
            row[1].barh(y + 0.2, s["ST"], height=0.4, xerr=s["ST_conf"], label="total ST", capsize=2)
            row[1].set_yticks(y, s["factor"], fontsize=7)
            row[1].invert_yaxis()
            row[1].set_title(f"Sobol: {outcome_label(outcome, [10, 20])}", fontsize=9)
            row[1].legend(fontsize=7, loc="lower right")
    return fig


BLOCKS = {"validation": (VALIDATION_CSV, render_validation),
          "leave-one-out": (LEAVE_ONE_OUT_CSV, render_leave_one_out),
          "policy-morris": (POLICY_MORRIS_CSV, render_policy_morris),
          "policy-sobol": (POLICY_SOBOL_CSV, render_policy_sobol),
          "policy-ends": (POLICY_ENDS_CSV, render_policy_ends)}
"""Each table's marker name, its CSV and its renderer."""


def _markers(name: str) -> tuple[str, str]:
    return f"<!-- {name}:start -->\n", f"<!-- {name}:end -->"


def render(document: str) -> str:
    """The document with every table rewritten from its CSV.

    Args:
        document: The text of ``VALIDATION.md``.

    Returns:
        The new text.

    Raises:
        ValueError: If a table's markers are missing.
    """
    for name, (csv, renderer) in BLOCKS.items():
        start, end = _markers(name)
        if start not in document or end not in document:
            raise ValueError(f"docs/VALIDATION.md: markers of the {name} table are missing")
        head, rest = document.split(start, 1)
        _, tail = rest.split(end, 1)
        document = head + start + renderer(pd.read_csv(csv)) + end + tail
    return document


def main(argv: list[str] | None = None) -> int:
    """Run the script.

    Args:
        argv: Arguments (default: the command line).

    Returns:
        Exit status (1 when ``--check`` finds a stale table).
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", nargs="?", choices=["validation", "leave-one-out", "policy-sensitivity", "render"],
                        default="render")
    parser.add_argument("folder", nargs="?", type=Path, help="a finished validation's folder (for 'validation')")
    parser.add_argument("--workers", type=int, default=2, help="parallel processes of the leave-one-out runs")
    parser.add_argument("--check", action="store_true", help="exit 1 if a table of VALIDATION.md is stale")
    args = parser.parse_args(argv)
    text = DOCUMENT.read_text(encoding="utf-8")
    if args.check:
        if render(text) != text:
            print("docs/VALIDATION.md is stale: run python docs/make_validation_docs.py render", file=sys.stderr)
            return 1
        return 0
    DATA.mkdir(exist_ok=True)
    if args.what == "validation":
        if args.folder is None:
            parser.error("give the folder of a finished validation")
        shutil.copyfile(args.folder / "validation.csv", VALIDATION_CSV)
    elif args.what == "leave-one-out":
        from kube_sim.experiments.calibration import leave_one_out
        from kube_sim.experiments.scenario import load_scenario

        frame = leave_one_out(LEAVE_ONE_OUT_DIR, load_scenario("baseline"), workers=args.workers,
                              say=lambda line: print(line, file=sys.stderr))
        frame.to_csv(LEAVE_ONE_OUT_CSV, index=False)
    elif args.what == "policy-sensitivity":
        policy_sensitivity(args.workers)
    DOCUMENT.write_text(render(text), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
