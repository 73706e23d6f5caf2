"""The ``kube-sim validate`` command: every study finding and calibration target as a check.

Runs the validation design (:mod:`kube_sim.experiments.validation`), prints the table of checks and
writes it to the output folder as ``validation.csv`` and ``validation.md``, with the per-run
measurements (``measurements.csv``, ``measurements.parquet``), ``runs.jsonl`` (each run as it finished,
so a stopped validation resumes with ``--resume``) and ``manifest.json`` (versions, git commit, parameters, seeds).
The exit status is 0 whenever the validation ran, whatever passed.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path
from typing import Any

import pandas as pd

from kube_sim.cli.common import (
    Study,
    add_district_option,
    add_resume_options,
    add_seed_option,
    add_table_options,
    add_workers_option,
    register,
    stopped_by,
    whole_number,
    with_district,
)
from kube_sim.model.defaults import DEFAULT_MASTER_SEED, DEFAULT_VALIDATION_REPLICATIONS, MAX_REPLICATIONS

DEFAULT_OUT = Path("results") / "validation"

EPILOG = """\
Each check compares one simulated pattern with its target: a band (the mean over replications lies
in it; the 95% t-interval is shown), an interval above a threshold, a rate ratio, or a direction
(arm minus baseline, paired by seed, two-sided t-test at 5%). Arms share their seeds (common
random numbers). See docs/VALIDATION.md for every pattern, its source and how it is measured.

Each run is saved as it finishes (runs.jsonl); after a stop, the same command with --resume runs
only the missing ones (--overwrite starts again).

examples:
  kube-sim validate                                # results/validation/, every CPU
  kube-sim validate --replications 20 --workers 2 --out results/quick
"""


def _replications(text: str) -> int:
    return whole_number(text, 2, MAX_REPLICATIONS)


class Validate(Study):
    """``kube-sim validate``: the validation design's runs, and every check against its target."""

    name = "validate"
    summary = "check the model against the study's findings and the calibration targets"
    description = ("Run the baseline and one arm per directional pattern with paired replications, and check "
                   "every finding of the study and every calibration target: pattern, target and source, "
                   "simulated value with its 95% interval, pass or fail.")
    epilog = EPILOG

    @classmethod
    def add_options(cls, parser: argparse.ArgumentParser) -> None:
        """Add the replications, the folder, the scenario and the run options.

        Args:
            parser: The command's parser.
        """
        parser.add_argument("--replications", type=_replications, default=DEFAULT_VALIDATION_REPLICATIONS,
                            metavar="N", help=f"replications per arm, 2 or more (default: "
                                              f"{DEFAULT_VALIDATION_REPLICATIONS})")
        parser.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="DIR",
                            help=f"folder for the table, measurements and manifest (default: {DEFAULT_OUT})")
        parser.add_argument("--scenario", default="baseline", metavar="NAME",
                            help="scenario every arm starts from, a name or a TOML path (default: baseline, which "
                                 "holds the calibrated values)")
        add_seed_option(parser, DEFAULT_MASTER_SEED, "master seed of the replication seeds")
        add_district_option(parser)
        add_workers_option(parser, "parallel local processes; 1 runs in this process")
        add_resume_options(parser, "a validation")
        add_table_options(parser)

    def check(self) -> None:
        """The results folder."""
        self.folder = self.args.out

    def work(self, plan: Any, folder: Path) -> Any:
        """The validation's runs (its own design, saved in runs.jsonl as they finish) and checks."""
        from kube_sim.common.provenance import now_iso
        from kube_sim.experiments.scenario import load_scenario
        from kube_sim.experiments.validation import run_validation

        args = self.args
        self.scenario = with_district(load_scenario(args.scenario), args)
        self.started = now_iso()
        geography = self.scenario.params.geography if args.district else None
        return run_validation(folder, replications=args.replications, seed=args.seed, workers=args.workers,
                              base=self.scenario.overrides, progress=not args.no_progress and sys.stderr.isatty(),
                              say=_say, resume=args.resume, overwrite=args.overwrite, geography=geography)

    def write(self, result: Any, folder: Path) -> list[str]:
        """The measurements, the table (CSV and Markdown) and the manifest."""
        from kube_sim.common.provenance import environment, now_iso
        from kube_sim.experiments.validation import ARMS
        from kube_sim.store.files import dumps, write_text
        from kube_sim.store.run_folder import write_table

        validation, scenario, args = result, self.scenario, self.args
        files = write_table(validation.measurements, folder, "measurements", csv=True)
        files.append(write_text(folder / "validation.csv", validation.table.to_csv(index=False)).name)
        files.append(write_text(folder / "validation.md", format_markdown(validation.table)).name)
        manifest = {
            "environment": environment(),
            "design": validation.design,
            "scenario": {"name": scenario.name, "path": str(scenario.path), "overrides": scenario.overrides},
            "parameters": scenario.params.to_dict(),
            "district": scenario.params.geography.record(),
            "arm_changes": ARMS,
            "runs": len(validation.measurements),
            "runs_resumed": validation.resumed,
            "started": self.started,
            "finished": now_iso(),
            "command": ["kube-sim", *getattr(args, "argv", sys.argv[1:])],
            "files": ["runs.jsonl", *files],
        }
        write_text(folder / "manifest.json", dumps(manifest))
        return files

    def write_problem(self, exc: OSError, folder: Path) -> str:
        """The runs are saved: the line says so (``--resume`` then writes the rest)."""
        return stopped_by(exc, folder)

    def closing(self, result: Any, written: Any, folder: Path) -> None:
        """The table of checks and where the files are."""
        print(format_text(result.table))
        print()
        print(textwrap.fill(f"results in {folder}/: {', '.join(sorted(['runs.jsonl', 'manifest.json', *written]))}",
                            width=100))


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``validate`` on the main parser.

    Args:
        subparsers: The main parser's subparsers.
    """
    register(subparsers, Validate)


def _cells(row: pd.Series) -> tuple[str, str]:
    """The simulated value with its interval, and the p-value, as text."""
    from kube_sim.analysis.patterns import format_value

    difference = bool(row["difference"])
    value = format_value(row["estimate"], row["unit"], difference)
    low, high = (format_value(row[c], row["unit"], difference) for c in ("ci_low", "ci_high"))
    interval = f"{value} [{low}, {high}]" if low != "n/a" else value
    p = "" if pd.isna(row["p_value"]) else f"{row['p_value']:.3g}"
    return interval, p


def tally(table: pd.DataFrame) -> list[str]:
    """How many checks pass, by role and, for the independent ones, by the grade of their source.

    Args:
        table: The validation table.

    Returns:
        Lines of text: the total, then fitted, independent (against the study or data, against
        assumptions) and built-in checks.
    """
    from kube_sim.analysis.patterns import ASSUMPTION, BUILT_IN, FITTED, INDEPENDENT

    def count(rows: pd.DataFrame) -> str:
        return f"{int((rows['result'] == 'pass').sum())} of {len(rows)}"

    independent = table[table["role"] == INDEPENDENT]
    on_data = independent[independent["grade"] != ASSUMPTION]
    return [f"{count(table)} checks pass",
            f"  fitted (calibration targets, so no evidence): {count(table[table['role'] == FITTED])}",
            f"  independent, against the study or data: {count(on_data)}",
            f"  independent, against an assumed band: {count(independent[independent['grade'] == ASSUMPTION])}",
            f"  built in (a rule of the model writes the direction): {count(table[table['role'] == BUILT_IN])}"]


def format_text(table: pd.DataFrame) -> str:
    """The checks as an aligned plain-text table.

    Args:
        table: The validation table.

    Returns:
        Multi-line text.
    """
    rows = [("pattern", "role", "grade", "arm", "target", "simulated [95% interval]", "p", "result", "reading")]
    for _, row in table.iterrows():
        interval, p = _cells(row)
        rows.append((row["pattern"], row["role"], row["grade"], row["arm"], row["target"], interval, p,
                     row["result"].upper(), row["reading"]))
    from kube_sim.reporting.tables import record

    record("validation", rows[0], rows[1:])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append("")
    lines += tally(table)
    return "\n".join(lines)


def _md(text: str) -> str:
    return str(text).replace("|", "\\|")


def format_markdown(table: pd.DataFrame) -> str:
    """The checks as a Markdown table (with source, measure and arms).

    Args:
        table: The validation table.

    Returns:
        Markdown text.
    """
    lines = ["| pattern | role | grade | target | source | basis | measured as | arm | n | simulated [95% interval] "
             "| p | result | reading |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for _, row in table.iterrows():
        interval, p = _cells(row)
        result = row["result"].upper()
        lines.append(f"| {_md(row['pattern'])} | {row['role']} | {row['grade']} | {_md(row['target'])} | "
                     f"{_md(row['source'])} | {_md(row['basis'])} | {_md(row['measured_as'])} | {_md(row['arm'])} | "
                     f"{row['n']} | {_md(interval)} | {p} | **{result}** | {_md(row['reading'])} |")
    lines += ["", *(line.strip() for line in tally(table))]
    return "\n".join(lines) + "\n"


def _say(text: str) -> None:
    print(text, file=sys.stderr)
