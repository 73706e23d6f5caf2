"""Write the validation tables of ``docs/VALIDATION.md`` from saved results, so its numbers come from the code.

Two tables sit between markers in ``docs/VALIDATION.md``; each is rendered from a CSV kept in
``docs/data/`` (the results it was made from), and a test checks that the document and the CSV agree::

    python docs/make_validation_docs.py validation DIR   # DIR: a finished `kube-sim validate --out DIR`
    python docs/make_validation_docs.py leave-one-out    # run the leave-one-target-out check (minutes)
    python docs/make_validation_docs.py render           # rewrite both tables from docs/data/
    python docs/make_validation_docs.py --check          # exit 1 if a table is stale
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import pandas as pd

DOCS = Path(__file__).resolve().parent
DOCUMENT = DOCS / "VALIDATION.md"
DATA = DOCS / "data"
VALIDATION_CSV = DATA / "validation.csv"
LEAVE_ONE_OUT_CSV = DATA / "leave_one_out.csv"
LEAVE_ONE_OUT_DIR = Path("results") / "leave_one_out"


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


BLOCKS = {"validation": (VALIDATION_CSV, render_validation),
          "leave-one-out": (LEAVE_ONE_OUT_CSV, render_leave_one_out)}
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
    parser.add_argument("what", nargs="?", choices=["validation", "leave-one-out", "render"], default="render")
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
    DOCUMENT.write_text(render(text), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
