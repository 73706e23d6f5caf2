"""Pieces every ``kube-sim`` command shares: the parser and help formatter, option parsers, exit codes.

Command modules import this module only, never one another; :mod:`kube_sim.cli.main` assembles them.
The study commands (``sweep``, ``compare``, ``threshold``, ``frontier``, ``sensitivity``, ``validate``,
``calibrate``) are each a :class:`Study` run by the one skeleton :func:`run_study` at the end of this module.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn

from kube_sim.common.errors import InputError
from kube_sim.common.i18n import _
from kube_sim.experiments.batching import DEFAULT_WORKER_MEMORY_MIB
from kube_sim.model.defaults import MAX_MONTHS, MAX_REPLICATIONS, MAX_SEED

if TYPE_CHECKING:
    from kube_sim.experiments.scenario import Scenario
    from kube_sim.experiments.sweep import SweepSummary
    from kube_sim.store.targets import Target

PROG = "kube-sim"
EXIT_INPUT = 2
"""Exit status for bad input (one line on stderr)."""
EXIT_STOPPED = 1
"""Exit status of a sweep that stopped early (its finished runs are saved)."""
EXIT_INTERRUPTED = 130
"""Exit status after Ctrl-C."""
EXIT_BROKEN_PIPE = 128 + 13
"""Exit status when the reader of standard output went away (128 + SIGPIPE, as the shell reports it)."""
MAX_WORKERS = 1024
RESULTS = Path("results")
"""Where results go by default: ``results/<name>`` below the working folder."""

_RAW = "\x00raw\x00"
"""Marks help text (the epilogs) that the formatter prints as written."""


class Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors take one line on stderr (exit status 2)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Any value that starts like a negative number is a value, not an option (no option name starts
        # with a digit): '--caseloads -5,10' then gets the option's own range check, not "expected one argument".
        self._negative_number_matcher = re.compile(r"^-\.?\d")

    def _print_message(self, message: str, file: Any = None) -> None:
        # argparse drops write errors here; let them through, so that help sent to a full disk or a closed
        # pipe ends like any other output (see kube_sim.cli.main).
        if message:
            (file or sys.stderr).write(message)

    def error(self, message: str) -> NoReturn:
        """Print one line naming the command and the problem, then exit with status 2."""
        self.exit(EXIT_INPUT, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


class Formatter(argparse.HelpFormatter):
    """Wraps the description but keeps epilogs marked by :func:`raw` as written."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=32, width=100)

    def add_argument(self, action: argparse.Action) -> None:
        """Add an option's help, leaving room for the longest command name."""
        super().add_argument(action)
        if isinstance(action, argparse._SubParsersAction):
            # argparse measures command names one indent short; leave room so none wraps.
            longest = max((len(name) for name in action.choices), default=0)
            self._action_max_length = max(self._action_max_length, longest + self._current_indent + 6)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith(_RAW):
            return "".join(indent + line for line in text[len(_RAW):].splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


def raw(text: str) -> str:
    """Mark help text (an epilog of examples) to be printed as written.

    Args:
        text: The text.

    Returns:
        The marked text.
    """
    return _RAW + text


def add_command(subparsers: argparse._SubParsersAction, name: str, *, summary: str, description: str,
                epilog: str | None = None) -> argparse.ArgumentParser:
    """Add a command to the main parser.

    Args:
        subparsers: The main parser's subparsers.
        name: The command's name.
        summary: One line for the main help's list of commands.
        description: The command's own help text (wrapped; no ``%`` formatting).
        epilog: Examples, printed as written.

    Returns:
        The command's parser.
    """
    parser = subparsers.add_parser(name, help=summary, description=description,
                                   epilog=raw(epilog) if epilog else None, formatter_class=Formatter)
    add_lang_option(parser, default=argparse.SUPPRESS)
    return parser


def add_lang_option(parser: argparse.ArgumentParser, default: Any = None) -> None:
    """Add ``--lang``: the language of the answers (tables, readings, reports, figures, errors).

    Args:
        parser: The main parser or a command's.
        default: The value when not given (commands suppress it, so ``kube-sim --lang id run`` holds).
    """
    from kube_sim.common.i18n import ENV_LANGUAGE, LANGUAGES

    choices = ", ".join(f"{code} ({name})" for code, name in LANGUAGES.items())
    parser.add_argument("--lang", metavar="LANG", default=default,
                        help=f"language of the answers: {choices} (default: ${ENV_LANGUAGE}, else en)")


def whole_number(text: str, low: int, high: int) -> int:
    """Parse an option's value as a whole number from ``low`` to ``high`` (``_`` separators allowed).

    Args:
        text: The option's value.
        low: Smallest value allowed.
        high: Largest value allowed.

    Returns:
        The number.

    Raises:
        argparse.ArgumentTypeError: If it is not a whole number in range.
    """
    try:
        value = int(text.strip().replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
    if value > high:
        raise argparse.ArgumentTypeError(f"must be at most {high:_}, got {value:_}")
    return value


def seed_arg(text: str) -> int:
    """Parse a seed: a whole number from 0 to :data:`~kube_sim.model.defaults.MAX_SEED`."""
    return whole_number(text, 0, MAX_SEED)


def months_arg(text: str) -> int:
    """Parse ``--months``: a whole number from 1 to :data:`~kube_sim.model.defaults.MAX_MONTHS`."""
    return whole_number(text, 1, MAX_MONTHS)


def replications_arg(text: str) -> int:
    """Parse ``--replications``: a whole number from 1 to :data:`~kube_sim.model.defaults.MAX_REPLICATIONS`."""
    return whole_number(text, 1, MAX_REPLICATIONS)


def share_arg(text: str) -> float:
    """Parse a share strictly between 0 and 1 (``--target``, ``--confidence``)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a share between 0 and 1, e.g. 0.5, got {text!r}") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1 (exclusive), got {text}")
    return value


def hours_arg(text: str) -> float:
    """Parse ``--hours``: facilitator hours a month, above 0 and at most 300."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected hours a month, e.g. 20, got {text!r}") from None
    if not 0 < value <= 300:
        raise argparse.ArgumentTypeError(f"must be above 0 and at most 300, got {text}")
    return value


MAX_BATCH_OPTION = 10_000
"""Largest ``--batch-size`` accepted."""

def workers_arg(text: str) -> int:
    """Parse ``--workers``: a whole number from 1 to :data:`MAX_WORKERS`."""
    return whole_number(text, 1, MAX_WORKERS)


def default_workers() -> int:
    """The CPUs this process may use (at least 1)."""
    count = os.process_cpu_count() if hasattr(os, "process_cpu_count") else os.cpu_count()
    return max(1, count or 1)


def add_seed_option(parser: argparse.ArgumentParser, default: int, meaning: str) -> None:
    """Add ``--seed``.

    Args:
        parser: A command's parser.
        default: The default seed.
        meaning: What the seed seeds, for the help.
    """
    parser.add_argument("--seed", type=seed_arg, default=default, metavar="N",
                        help=f"{meaning}, a whole number >= 0 (default: {default})")


def add_months_option(parser: argparse.ArgumentParser, default: int | None, meaning: str) -> None:
    """Add ``--months``.

    Args:
        parser: A command's parser.
        default: The default run length (None: the option is absent unless given).
        meaning: What the months are, for the help.
    """
    shown = "" if default is None else f", default: {default}"
    parser.add_argument("--months", type=months_arg, default=default, metavar="M",
                        help=f"{meaning} (1 to {MAX_MONTHS}{shown})")


def add_workers_option(parser: argparse.ArgumentParser, meaning: str) -> None:
    """Add ``--workers`` (default: the CPUs this process may use) and ``--no-progress``.

    Args:
        parser: A command's parser.
        meaning: What the workers are, for the help.
    """
    cpus = default_workers()
    parser.add_argument("--workers", type=workers_arg, default=cpus, metavar="N",
                        help=f"{meaning} (default: {cpus}, the CPUs available)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    parser.add_argument("--batch-size", type=lambda text: whole_number(text, 0, MAX_BATCH_OPTION), default=0,
                        metavar="N",
                        help="runs of one design point simulated together in one model (each run's results are "
                             "the same as alone; default 0: chosen from --worker-memory and the runs to do)")
    parser.add_argument("--worker-memory", type=lambda text: whole_number(text, 64, 1_048_576),
                        default=DEFAULT_WORKER_MEMORY_MIB, metavar="MIB",
                        help=f"memory a worker may use for one batch of runs, MiB "
                             f"(default: {DEFAULT_WORKER_MEMORY_MIB})")


def configure_batching(args: argparse.Namespace) -> None:
    """Set the batching of the command's sweeps from ``--batch-size`` and ``--worker-memory`` (if it has them).

    Args:
        args: The parsed command line.
    """
    from kube_sim.experiments.batching import BatchSettings, configure

    configure(BatchSettings(batch_size=getattr(args, "batch_size", 0),
                            worker_memory_mib=getattr(args, "worker_memory", DEFAULT_WORKER_MEMORY_MIB)))


def add_set_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--set KEY=VALUE`` (repeatable) into ``args.assignments``.

    Args:
        parser: A command's parser.
    """
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="assignments",
                        help="change one parameter on top of the scenario, e.g. grants.equipment_rp=5000000; "
                             "repeat for more (see 'kube-sim params' for keys)")


def add_district_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--district FILE`` (a district file's name or path) into ``args.district``.

    Args:
        parser: A command's parser.
    """
    parser.add_argument("--district", metavar="FILE",
                        help="the district to run in: a shipped name (polewali_mandar, majene) or a path to a CSV "
                             "with the columns kecamatan,population,terrain,travel_hours,villages "
                             "(default: Polewali Mandar; see docs/districts.md)")


def with_district(scenario: Scenario, args: argparse.Namespace) -> Scenario:
    """Return the scenario in the district ``--district`` names (the scenario itself when it names none).

    Args:
        scenario: A loaded scenario.
        args: Parsed arguments with the option of :func:`add_district_option`.

    Returns:
        The scenario, in the district.

    Raises:
        InputError: For a missing or bad district file (naming the file, row and column).
    """
    if not getattr(args, "district", None):
        return scenario
    from kube_sim.experiments.district_file import load_district, use_district

    return use_district(scenario, load_district(args.district))


def output_folder(out: Path | None, name: str) -> Path:
    """Return the results folder: ``--out`` if given, else ``results/<name>`` with a name safe as a folder.

    Args:
        out: The ``--out`` option.
        name: The scenario's or experiment's name.

    Returns:
        The folder.
    """
    if out is not None:
        return out
    from kube_sim.store.files import safe_name

    return RESULTS / (safe_name(name) or "unnamed")


def command_line(args: argparse.Namespace) -> list[str]:
    """Return the command as typed, for manifests.

    Args:
        args: Parsed arguments (``args.argv`` is set by :func:`kube_sim.cli.main.main`).

    Returns:
        ``["kube-sim", ...arguments]``.
    """
    argv = getattr(args, "argv", None)
    return [PROG, *(argv if argv is not None else sys.argv[1:])]


def add_sweep_options(parser: argparse.ArgumentParser, what: str) -> None:
    """Add ``--resume``, ``--overwrite``, ``--backend`` and ``--scheduler``, the sweep engine's options.

    Args:
        parser: A command's parser.
        what: What the results folder holds, for the help ("a sweep", "a sensitivity run").
    """
    add_resume_options(parser, what)
    add_backend_options(parser)


def add_resume_options(parser: argparse.ArgumentParser, what: str) -> None:
    """Add ``--resume`` and ``--overwrite``: the one rule for a results folder that already holds runs.

    Every long command saves each run as it finishes. Run again on a folder that holds runs, it stops
    (exit 2) unless told what to do: ``--resume`` runs only the missing runs of the same work (the same
    settings, else exit 2) and ``--overwrite`` deletes the saved runs and starts again. The two together
    are refused (see :func:`check_resume_options`).

    Args:
        parser: A command's parser.
        what: What the results folder holds, for the help ("a sweep", "a validation").
    """
    parser.add_argument("--resume", action="store_true",
                        help=f"finish {what} started earlier in the results folder: run only its missing runs")
    parser.add_argument("--overwrite", action="store_true",
                        help="delete the runs already saved in the results folder and start again (not with --resume)")


def check_resume_options(args: argparse.Namespace) -> None:
    """Refuse ``--resume`` with ``--overwrite``.

    Args:
        args: Parsed arguments with the options of :func:`add_resume_options`.

    Raises:
        InputError: When both are given.
    """
    if getattr(args, "resume", False) and getattr(args, "overwrite", False):
        raise InputError("--resume and --overwrite contradict each other: give one", source="--overwrite")


def add_backend_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--backend`` and ``--scheduler``: where runs execute (checked by :func:`check_sweep_options`).

    Args:
        parser: A command's parser.
    """
    parser.add_argument("--backend", choices=("local", "dask"), default="local",
                        help="where runs execute: local processes, or Dask distributed (default: local)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="Dask scheduler address, e.g. tcp://10.0.0.5:8786 (with --backend dask; "
                             "default: start a local cluster); kube-sim must be installed on its workers")


DEFAULT_ENSEMBLE = "calibrated"
"""The ensemble the planning answers (compare, threshold, frontier) run over unless ``--point`` is given."""


def add_ensemble_option(parser: argparse.ArgumentParser, default: str | None = None) -> None:
    """Add ``--ensemble NAME``: run the replications over a calibration's accepted parameter sets.

    With a default (the planning answers), ``--point`` is added too: the calibrated point alone.

    Args:
        parser: A command's parser.
        default: The ensemble run when the option is not given (None: none).
    """
    parser.add_argument("--ensemble", metavar="NAME", default=default,
                        help="run the replications over the ensemble of a calibrated scenario (e.g. 'calibrated'): "
                             "replication i uses member i mod K (K = min(members, replications / 2)), so "
                             "differences carry parameter uncertainty as well as seed noise"
                             + (f" (default: {default}; --point for the calibrated point alone)" if default else ""))
    if default:
        parser.add_argument("--point", action="store_true",
                            help="run at the calibrated point alone: intervals then carry seed noise only, not "
                                 "the uncertainty of the calibrated parameters")


def ensemble_used(args: argparse.Namespace) -> str | None:
    """The ensemble a command runs over: ``--ensemble`` (or its default), none with ``--point``."""
    if getattr(args, "point", False):
        return None
    return getattr(args, "ensemble", None) or None


def basis_line(runs: Any, args: argparse.Namespace, outcome: str = "survival_36", difference: bool = False) -> str:
    """Which parameters an answer used and, over an ensemble, how much of its spread is theirs.

    Args:
        runs: The runs table of the answer's sweep.
        args: Parsed arguments (``--ensemble``, ``--point``).
        outcome: The outcome whose interval is decomposed (per arm; the range over arms is given).
        difference: Decompose each arm's paired difference from the first arm instead of its level.

    Returns:
        One sentence.
    """
    import pandas as pd

    from kube_sim.analysis.ensemble import ENSEMBLE_COLUMN, decompose, has_ensemble
    from kube_sim.common.i18n import _
    from kube_sim.reporting.formats import fmt_percent

    name = ensemble_used(args)
    if name is None or not has_ensemble(runs):
        return _("Answered at the calibrated point alone (--point): the intervals carry seed noise, not the "
                 "uncertainty of the calibrated parameters.")
    shares, members = [], 0
    if difference and outcome in runs.columns:
        from kube_sim.analysis.ensemble import ensemble_differences

        table = ensemble_differences(runs, 0, [outcome])
        members = int(table["members"].max()) if len(table) else 0
        shares = [float(x) for x in table["param_share"] if pd.notna(x)]
        outcome = _("the difference in {outcome}").format(outcome=outcome)
    elif outcome in runs.columns:
        for _arm, rows in runs.groupby("arm"):
            found = decompose(rows[outcome].to_numpy(dtype=float), rows[ENSEMBLE_COLUMN].to_numpy())
            members = max(members, int(found["members"]))
            if pd.notna(found["param_share"]):
                shares.append(float(found["param_share"]))
    if not shares:
        share = _("too few parameter sets or seeds to split its interval")
    elif len(shares) == 1 or max(shares) - min(shares) < 0.005:
        share = _("{share} of the interval's variance of {outcome} comes from the parameters").format(
            share=fmt_percent(shares[0], 0), outcome=outcome)
    else:
        share = _("{low} to {high} of the interval's variance of {outcome} comes from the parameters, by "
                  "option").format(low=fmt_percent(min(shares), 0), high=fmt_percent(max(shares), 0), outcome=outcome)
    return _("Answered over the calibrated ensemble '{name}' ({members} parameter sets, with seed noise; "
             "--point for the point alone): {share}.").format(name=name, members=members, share=share)


def apply_ensemble(plan: Any, args: argparse.Namespace) -> Any:
    """The plan over the ensemble ``--ensemble`` names (the plan itself without the option).

    Args:
        plan: A :class:`kube_sim.experiments.sweep.SweepPlan`.
        args: Parsed arguments with ``--ensemble``.

    Returns:
        The plan.

    Raises:
        InputError: If the scenario is missing or holds no ensemble.
    """
    name = ensemble_used(args)
    if not name:
        return plan
    from kube_sim.experiments.scenario import load_scenario
    from kube_sim.experiments.sweep import with_ensemble

    try:
        calibrated = load_scenario(name)
    except InputError as exc:
        raise InputError(exc.one_line(), source="--ensemble") from None
    return with_ensemble(plan, calibrated)


def check_sweep_options(args: argparse.Namespace) -> None:
    """Refuse option combinations the sweep engine cannot honour, before any work starts.

    Args:
        args: Parsed arguments (the options of :func:`add_sweep_options` that the command has).

    Raises:
        InputError: For ``--resume`` with ``--overwrite``, ``--scheduler`` without ``--backend dask``, or a
            scheduler that does not answer.
    """
    check_resume_options(args)
    scheduler = getattr(args, "scheduler", None)
    if scheduler and args.backend != "dask":
        raise InputError("--scheduler needs --backend dask", source="--scheduler", key=scheduler)
    if scheduler:
        from kube_sim.experiments.executors import check_scheduler

        check_scheduler(scheduler)


def run_plan(plan: Any, folder: Path, args: argparse.Namespace, *, report: bool = True,
             overwrite: bool | None = None) -> SweepSummary | None:
    """Run a sweep plan with the command's options and print how it went.

    Args:
        plan: A :class:`kube_sim.experiments.sweep.SweepPlan`.
        folder: The results folder.
        args: Parsed arguments with ``--workers`` and the options of :func:`add_sweep_options` (a command
            without ``--backend`` runs on local processes).
        report: Print the ``done: ...`` line.
        overwrite: Replace the runs saved in the folder (default: ``--overwrite``).

    Returns:
        The sweep's summary, or None when the sweep stopped early (its finished runs are saved; a write
        that failed once the runs had started, such as a full disk, is one of these).

    Raises:
        InputError: For an unusable folder, or one another command is writing.
    """
    from kube_sim.common.i18n import _
    from kube_sim.experiments.sweep import SweepAborted, format_duration, run_sweep
    from kube_sim.reporting.formats import fmt_fixed

    except_line = _("{prog}: error: {problem}")
    backend = getattr(args, "backend", "local")
    try:
        summary = run_sweep(plan, folder, backend=backend, workers=args.workers,
                            scheduler=getattr(args, "scheduler", None), resume=args.resume,
                            overwrite=args.overwrite if overwrite is None else overwrite,
                            progress=not args.no_progress,
                            manifest_extra={"command": command_line(args), "backend": backend,
                                            "workers": args.workers})
    except SweepAborted as exc:
        print(except_line.format(prog=PROG, problem=exc), file=sys.stderr)
        return None
    except OSError as exc:
        print(except_line.format(prog=PROG, problem=stopped_by(exc, folder)), file=sys.stderr)
        return None
    if report:
        print(_("done: {ok} runs ok, {failed} failed, of {total}").format(
            ok=summary.runs_ok, failed=summary.runs_failed, total=summary.runs_total)
              + (_("; {now} ran now in {duration} ({rate} runs/s)").format(
                  now=summary.runs_this_time, duration=format_duration(summary.wall_s),
                  rate=fmt_fixed(summary.runs_per_s, 2)) if summary.runs_this_time else ""))
    return summary


def stopped_by(exc: OSError, folder: Path) -> str:
    """One line for a write that failed once the work had started (a full disk, a folder gone).

    Args:
        exc: The error.
        folder: The results folder.

    Returns:
        The line, naming the file and saying what is kept.
    """
    from kube_sim.experiments.files import display_path

    where = display_path(Path(exc.filename)) if exc.filename else display_path(folder)
    return _("cannot write {where}: {reason}; what was saved before stays in {folder}/ "
             "(finish with --resume once the problem is fixed)").format(where=where, reason=exc.strerror or exc,
                                                                      folder=display_path(folder))


def write_failure(exc: OSError, folder: Path) -> str:
    """One line for results that could not be written once the work was done (a full disk).

    Args:
        exc: The error.
        folder: The results folder.

    Returns:
        The line, naming the file.
    """
    from kube_sim.experiments.files import display_path

    where = display_path(Path(exc.filename)) if exc.filename else display_path(folder)
    return _("cannot write {where}: {reason}").format(where=where, reason=exc.strerror or exc)


def write_error(exc: OSError, folder: Path) -> InputError:
    """Turn a failure to write results into bad input naming ``--out`` and the path.

    Args:
        exc: The error.
        folder: The results folder.

    Returns:
        The error to raise.
    """
    return InputError(_("cannot write results: {reason}").format(reason=exc.strerror or exc), source="--out",
                      key=str(exc.filename or folder))


TABLE_WIDTH = 100
"""Terminal tables fit this many columns: the widest cells wrap onto more lines."""


def render_table(header: Sequence[str], rows: Sequence[Sequence[str]], left: int = 1, title: str = "",
                 width: int = TABLE_WIDTH) -> str:
    """Align a table of text cells in columns (the first ``left`` columns left, the others right).

    A table wider than ``width`` is made to fit, in this order: an option's column title
    (``B: baseline + count=8``) is shortened to its letter, a label longer than the room left is
    cut and numbered (``households lifted out of poverty (36… [1]``), with the full words in a key
    below the table; then the widest cells wrap at spaces onto more lines. The table is also kept for
    ``--xlsx`` and ``--csv`` with its cells whole (see :mod:`kube_sim.reporting.tables`).

    Args:
        header: Column titles.
        rows: Cells.
        left: Number of left-aligned columns.
        title: What the table is (the name of its sheet and CSV file).
        width: Widest line, in characters.

    Returns:
        The table as lines of text.
    """
    import textwrap

    from kube_sim.reporting.tables import record

    record(title, header, rows)
    table = [[str(c) for c in r] for r in [header, *rows]]
    n = len(header)
    key: list[str] = []

    def widths_of() -> list[int]:
        return [max(len(r[i]) for r in table) for i in range(n)]

    def too_wide(widths: Sequence[int]) -> bool:
        return sum(widths) + 2 * (n - 1) > width

    if too_wide(widths_of()):
        for i in range(left, n):
            match = re.match(r"^([A-Z]): (.+)$", table[0][i])
            if match:
                table[0][i] = match[1]
                key.append(table[0][i] + ": " + match[2])
    cut = 0

    def cut_labels(room: int) -> None:
        nonlocal cut
        for r in table[1:]:
            if len(r[0]) > room:
                cut += 1
                key.append(f"[{cut}] {r[0].strip()}")
                mark = f"… [{cut}]"
                r[0] = r[0][: room - len(mark)].rstrip() + mark

    widths = widths_of()
    if too_wide(widths) and left:
        cut_labels(max(30, width - (sum(widths[1:]) + 2 * (n - 1))))
        widths = widths_of()
    floors = [widths[i] if i < left else max(6, *(len(w) for r in table for w in r[i].split())) for i in range(n)]
    while too_wide(widths):
        narrowable = [i for i in range(n) if widths[i] > floors[i]]
        if not narrowable:
            break
        widths[max(narrowable, key=lambda i: widths[i])] -= 1
    if too_wide(widths) and left:
        cut_labels(max(12, width - (sum(widths[1:]) + 2 * (n - 1))))
        widths[0] = max(len(r[0]) for r in table)

    def lines(cells: Sequence[str]) -> list[str]:
        parts = [textwrap.wrap(c, w, break_long_words=False) or [""] if len(c) > w else [c]
                 for c, w in zip(cells, widths, strict=True)]
        out = []
        for k in range(max(len(p) for p in parts)):
            row = [p[k] if k < len(p) else "" for p in parts]
            out.append("  ".join(c.ljust(w) if i < left else c.rjust(w)
                                 for i, (c, w) in enumerate(zip(row, widths, strict=True))).rstrip())
        return out

    body = [line for r in table[1:] for line in lines(r)]
    notes = [textwrap.fill(k, width, subsequent_indent="    ") for k in key]
    return "\n".join([*lines(table[0]), "  ".join("-" * w for w in widths).rstrip(), *body, *notes])


def add_table_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--xlsx`` and ``--csv``: the command's tables written as a workbook or as CSV files.

    Both paths are checked before any work starts (:func:`check_table_outputs`) and written once the
    command has finished, by :mod:`kube_sim.cli.main`.

    Args:
        parser: A command's parser.
    """
    from kube_sim.reporting.tables import CSV_RULE

    parser.add_argument("--xlsx", type=Path, metavar="FILE",
                        help="also write the tables shown as an Excel workbook: one sheet per table, numbers as "
                             "numbers")
    parser.add_argument("--csv", type=Path, metavar="FILE",
                        help=f"also write the tables shown as CSV, numbers as numbers: {CSV_RULE}")


def table_targets(args: argparse.Namespace) -> dict[str, Any]:
    """The ``--xlsx`` and ``--csv`` files of a command, for :func:`kube_sim.store.targets.check_outputs`.

    Args:
        args: Parsed arguments (commands without the options give none).

    Returns:
        ``{option: Target}`` for the options in use.
    """
    from kube_sim.store.targets import FILE, Target

    return {option: Target(getattr(args, option[2:]), FILE) for option in ("--xlsx", "--csv")
            if getattr(args, option[2:], None) is not None}


def write_table_outputs(args: argparse.Namespace, tables: Sequence[Any]) -> None:
    """Write the tables a command showed to its ``--xlsx`` and ``--csv`` files, and say where.

    Args:
        args: Parsed arguments.
        tables: The tables recorded (:class:`kube_sim.reporting.tables.Table`).
    """
    from kube_sim.experiments.files import display_path
    from kube_sim.reporting.tables import write_csv, write_xlsx

    stream = sys.stderr if getattr(args, "json", False) else sys.stdout
    for option, target in table_targets(args).items():
        if not tables:
            warn(f"{option} {target.path}: this command showed no table; nothing written")
            continue
        path = Path(target.path)
        if option == "--xlsx":
            write_xlsx(path, tables)
            print(f"tables in {display_path(path)} ({len(tables)} sheets: "
                  f"{', '.join(t.title for t in tables)})", file=stream)
        else:
            paths = write_csv(path, tables)
            print(f"tables in {', '.join(display_path(p) for p in paths)}", file=stream)


def add_sensitivity_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--sensitivity``: the sensitivity result the brief names its assumptions from.

    Args:
        parser: The ``brief`` or ``report`` parser.
    """
    parser.add_argument("--sensitivity", type=Path, metavar="DIR",
                        help="a 'kube-sim sensitivity' results folder the brief takes the assumptions that "
                             "matter most from (default: one inside the comparison's folder, if any)")


def write_brief_command(args: argparse.Namespace) -> int:
    """Write the brief of a finished comparison.

    Args:
        args: Parsed ``brief`` (or ``report --brief``) arguments.

    Returns:
        Exit status 0.

    Raises:
        InputError: When the folder holds no finished comparison, or an output cannot be written.
    """
    from kube_sim.experiments.files import display_path
    from kube_sim.reporting.brief import find_sensitivity, load_comparison, write_brief
    from kube_sim.reporting.report import REPORT_DIR
    from kube_sim.store.targets import FOLDER, Target, check_outputs

    load_comparison(args.results_dir)  # no finished comparison: one line naming the fix, before anything
    find_sensitivity(args.results_dir, args.sensitivity)
    out = args.out if args.out is not None else args.results_dir / REPORT_DIR
    check_outputs({"--out": Target(out, FOLDER, typed=args.out is not None)})
    paths = write_brief(args.results_dir, out, args.sensitivity)
    from kube_sim.common.i18n import _

    print(_("brief in {folder}: {files} (the HTML prints on one A4 page)").format(
        folder=f"{display_path(out)}/", files=", ".join(p.name for p in paths)))
    return 0


def add_planning_options(parser: argparse.ArgumentParser, what: str, default_out: str) -> None:
    """Add the options every planning command shares.

    They are ``--set``, ``--seed``, ``--workers``, ``--out``, the sweep engine's options, ``--district``
    and ``--ensemble``.

    Args:
        parser: A command's parser.
        what: What its results folder holds, for the help ("a threshold run").
        default_out: The results folder's name below ``results/``.
    """
    add_set_option(parser)
    add_seed_option(parser, 42, "master seed of the replication seeds and the bootstrap")
    add_workers_option(parser, "parallel runs: local processes (1 runs in this process) or local Dask workers")
    parser.add_argument("--out", type=Path, metavar="DIR", help=f"results folder (default: results/{default_out})")
    add_sweep_options(parser, what)
    add_district_option(parser)
    add_ensemble_option(parser, DEFAULT_ENSEMBLE)


def planned_scenario(args: argparse.Namespace) -> Scenario:
    """The ``--scenario`` in the ``--district`` with the ``--set`` changes on top.

    Args:
        args: Parsed arguments with ``scenario``, ``assignments`` and the district option.

    Returns:
        The scenario.

    Raises:
        InputError: For a bad scenario, district or assignment.
    """
    from kube_sim.experiments.scenario import load_scenario

    return with_changes(with_district(load_scenario(args.scenario), args), args.assignments)


def say(text: str, width: int = TABLE_WIDTH) -> None:
    """Print prose wrapped to the terminal width, each line of ``text`` its own paragraph.

    Args:
        text: The text (a line that starts with spaces or is empty is kept as it is).
        width: Widest line.
    """
    import textwrap

    print("\n".join(textwrap.fill(line, width, subsequent_indent="  " if line.startswith("- ") else "")
                     if line.strip() and not line.startswith(" ") else line for line in text.split("\n")))


def warn(message: str) -> None:
    """One warning line on stderr: ``kube-sim: warning: ...``.

    Args:
        message: What the command did not do, naming the option or key.
    """
    from kube_sim.common.i18n import _

    print(_("{prog}: warning: {message}").format(prog=PROG, message=message), file=sys.stderr)


def with_changes(scenario: Scenario, assignments: Sequence[str] | None, source: str = "--set") -> Scenario:
    """The scenario with ``--set``-style changes on top, warning once for each change that changes nothing.

    Args:
        scenario: The scenario.
        assignments: ``KEY=VALUE`` strings.
        source: The option they came from (``--set``, ``--set-b``).

    Returns:
        The changed scenario.

    Raises:
        InputError: For a bad assignment.
    """
    from kube_sim.common.i18n import _
    from kube_sim.experiments.scenario import apply_overrides, parse_assignments, unchanged_keys
    from kube_sim.reporting.formats import fmt_level

    overrides = parse_assignments(list(assignments or []), source=source)
    for key in unchanged_keys(scenario, overrides):
        warn(f"{source} {key}={fmt_level(overrides[key])} " + _("changes nothing: {name} already has {setting}").format(
            name=scenario.name, setting=f"{key} = {fmt_level(overrides[key])}"))
    return apply_overrides(scenario, overrides, source=source)


def warn_unreached(scenario: Scenario, months: int, name: str = "") -> None:
    """Warn once for each lever changed on the command line that acts only after the run ends.

    Args:
        scenario: The scenario run (its ``--set`` changes are checked).
        months: Length of the run.
        name: The scenario or arm, named in the warning when given.
    """
    from kube_sim.experiments.scenario import unreached_changes

    asked = [key for key, source in scenario.sources.items() if source.startswith("--set")]
    for sentence in unreached_changes(scenario.params, months, asked):
        warn((f"{name}: " if name else "") + sentence)


def today_of(scenario: Scenario, runs: Any, months: int, name: str = "", per_round: bool = False) -> Any:
    """The reference an answer opens with, from the scenario's parameters and its runs.

    Args:
        scenario: The reference scenario.
        runs: Its runs: a runs table (one row per run) or one run's flat outcomes.
        months: Length of each run.
        name: How the answer names the reference (default: the scenario's name).
        per_round: Give its cost a year per year of funding rounds (the frontier's budget period).

    Returns:
        A :class:`kube_sim.reporting.today.Today`.
    """
    import pandas as pd

    from kube_sim.experiments.scenario import parameter_value
    from kube_sim.model.parameters import PARAMETER_SPECS
    from kube_sim.reporting.today import LOCAL_KEYS, Today, local_figures

    frame = runs if isinstance(runs, pd.DataFrame) else pd.DataFrame([runs])

    def mean(column: str) -> float | None:
        if column not in frame or frame[column].isna().all():
            return None
        return float(frame[column].astype(float).mean())

    p = scenario.params
    district = p.geography.name
    from kube_sim.experiments.files import display_path

    local = local_figures({key: parameter_value(p, key) for key in LOCAL_KEYS},
                          {k: display_path(Path(v)) if "/" in v else v for k, v in scenario.sources.items()
                           if k in LOCAL_KEYS},
                          {key: PARAMETER_SPECS[key].source for key in LOCAL_KEYS}, district)
    return Today(name=name or scenario.name, district=district, months=months,
                 facilitators=mean("facilitators") or 0.0, headcount=p.facilitators.count,
                 caseload_rule=p.facilitators.groups_per_facilitator, caseload_carried=mean("mean_caseload"),
                 hours=p.facilitators.hours_per_month, equipment_rp=p.grants.equipment_rp,
                 budget_rp=p.funding.annual_budget_rp, groups_funded=mean("groups_funded") or 0.0,
                 members=mean("members") or 0.0, cost_total_rp=mean("cost_total_rp") or 0.0, local=local,
                 rounds=int(p.funding.rounds) if per_round else 0,
                 facilitators_range=(float(frame["facilitators"].min()), float(frame["facilitators"].max()))
                 if "facilitators" in frame and frame["facilitators"].notna().any() else None)


def print_today(today: Any, width: int = 100) -> None:
    """Print the answer's opening: today's reference and the local figures with their sources.

    Args:
        today: A :class:`kube_sim.reporting.today.Today`.
        width: Line width.
    """
    import textwrap

    from kube_sim.reporting.today import local_sentence, today_sentence

    print(textwrap.fill(today_sentence(today), width=width))
    local = local_sentence(today)
    if local:
        print(textwrap.fill(local, width=width))


# --- the skeleton of the study commands ---------------------------------------------------------------
#
# The one skeleton every study command runs on: a study is its options, its plan and its analysis.
#
# ``sweep``, ``compare``, ``threshold``, ``frontier``, ``sensitivity``, ``validate`` and ``calibrate``
# all follow the same steps, and :func:`run_study` takes them in this order for each:
#
# 1. the engine's option rules (:func:`kube_sim.cli.common.check_sweep_options`), then
#    :meth:`Study.check`: the study's own rules and its scenario, before anything is written;
# 2. :meth:`Study.targets`: every output the command will write, checked by
#    :func:`kube_sim.store.targets.check_outputs` before any work (a bad ``--out`` costs nothing);
# 3. :meth:`Study.plan`: the sweep to run, over the ``--ensemble`` when the command has one;
# 4. :meth:`Study.workspace`: the results folder, held against another command writing it (or a
#    temporary folder);
# 5. :meth:`Study.work`: the runs, with progress; a sweep that stops early (a worker died, a full disk)
#    prints one line and the command exits 1 with its finished runs saved; Ctrl-C leaves them saved too
#    and :mod:`kube_sim.cli.main` exits 130;
# 6. :meth:`Study.analyse` (from the saved runs), :meth:`Study.show` (tables and readings),
#    :meth:`Study.write` (the study's files; a write that fails exits 1) and :meth:`Study.closing`
#    (where the results are).
#
# A new study subclasses :class:`Study`, fills in :meth:`Study.add_options`, :meth:`Study.plan` and
# :meth:`Study.analyse` (and :meth:`Study.show` to print), and is registered with :func:`register`.


class Stopped(Exception):
    """The work stopped early and said why on stderr; the command exits :data:`~kube_sim.cli.common.EXIT_STOPPED`."""


def error_line(problem: str) -> None:
    """Print ``kube-sim: error: PROBLEM`` on stderr.

    Args:
        problem: What went wrong, in one line.
    """
    from kube_sim.common.i18n import _

    print(_("{prog}: error: {problem}").format(prog=PROG, problem=problem), file=sys.stderr)


class Study:
    """One study command: one instance per invocation, holding its parsed options and what it planned.

    Subclasses set the class attributes and override the hooks; :func:`run_study` calls them in order.
    """

    name: ClassVar[str]
    """The command's name (``kube-sim NAME``)."""
    summary: ClassVar[str]
    """One line for the main help's list of commands."""
    description: ClassVar[str]
    """The command's own help text."""
    epilog: ClassVar[str | None] = None
    """Examples and details, printed as written."""
    lock: ClassVar[bool] = True
    """Hold the results folder for the whole study (a plain sweep's engine holds it itself)."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.folder: Path | None = None
        """The results folder (set by :meth:`check` or :meth:`targets`; None: none is kept)."""

    @classmethod
    def add_options(cls, parser: argparse.ArgumentParser) -> None:
        """Add the command's options.

        Args:
            parser: The command's parser.
        """

    def check(self) -> None:
        """Apply the option rules and plan the scenario, writing nothing.

        Raises:
            InputError: For options that contradict each other or a bad scenario.
        """

    def targets(self) -> list[tuple[str, Target]]:
        """The outputs the command writes, each with the option that names it, checked before any work.

        Returns:
            ``(option, Target)`` pairs, checked in order (default: ``--out`` as :attr:`folder`, if any).
        """
        from kube_sim.store.targets import FOLDER, Target

        if self.folder is None:
            return []
        return [("--out", Target(self.folder, FOLDER, typed=getattr(self.args, "out", None) is not None))]

    def plan(self) -> Any:
        """The sweep to run, once the outputs are known to be usable.

        Returns:
            A :class:`kube_sim.experiments.sweep.SweepPlan` (the skeleton puts it over the ``--ensemble``),
            or None for a study whose :meth:`work` runs its own engine.
        """
        return None

    @contextlib.contextmanager
    def workspace(self) -> Iterator[Path]:
        """Hold the results folder for the duration of the work (with :attr:`lock`).

        Yields:
            The folder the runs go to.
        """
        if self.folder is None:
            raise NotImplementedError(f"{type(self).__name__} names no results folder")
        if not self.lock:
            yield self.folder
            return
        from kube_sim.store.lock import hold

        with hold(self.folder, command_line(self.args)):
            yield self.folder

    def work(self, plan: Any, folder: Path) -> Any:
        """Run the plan.

        Args:
            plan: What :meth:`plan` returned, over the ensemble.
            folder: The folder :meth:`workspace` yielded.

        Returns:
            What :meth:`analyse` needs (default: the sweep's summary).

        Raises:
            Stopped: When the work stopped early (its line printed).
        """
        return self.sweep(plan, folder)

    def analyse(self, done: Any, folder: Path) -> Any:
        """Compute the study's answer from the saved runs.

        Args:
            done: What :meth:`work` returned.
            folder: The folder the runs went to.

        Returns:
            The answer, for :meth:`show`, :meth:`write` and :meth:`closing`.
        """
        return done

    def show(self, result: Any, folder: Path) -> None:
        """Print the answer's tables and readings.

        Args:
            result: What :meth:`analyse` returned.
            folder: The folder the runs went to.
        """

    def write(self, result: Any, folder: Path) -> Any:
        """Write the study's own files next to its runs.

        Args:
            result: What :meth:`analyse` returned.
            folder: The folder the runs went to.

        Returns:
            What was written, for :meth:`closing`.

        Raises:
            OSError: When a file cannot be written (the command then exits 1).
            Stopped: When the study reported a failure itself.
        """
        return None

    def closing(self, result: Any, written: Any, folder: Path) -> None:
        """Print the last lines (once the folder is released): where the results are.

        Args:
            result: What :meth:`analyse` returned.
            written: What :meth:`write` returned.
            folder: The folder the runs went to.
        """

    def write_problem(self, exc: OSError, folder: Path) -> str:
        """The line for a write of the study's files that failed.

        Args:
            exc: The error.
            folder: The results folder.

        Returns:
            The line (default: the file and the reason).
        """
        return write_failure(exc, self.folder or folder)

    def sweep(self, plan: Any, folder: Path, *, report: bool = True, overwrite: bool | None = None) -> SweepSummary:
        """Run one sweep plan with the command's engine options (:func:`kube_sim.cli.common.run_plan`).

        Args:
            plan: A :class:`kube_sim.experiments.sweep.SweepPlan`.
            folder: Its results folder.
            report: Print the ``done: ...`` line.
            overwrite: Replace saved runs (default: ``--overwrite``).

        Returns:
            The sweep's summary.

        Raises:
            Stopped: When the sweep stopped early (its finished runs are saved).
        """
        summary = run_plan(plan, folder, self.args, report=report, overwrite=overwrite)
        if summary is None:
            raise Stopped
        return summary


def run_study(study: Study) -> int:
    """Run a study through the shared prologue and epilogue.

    Args:
        study: The study, holding its parsed options.

    Returns:
        Exit status: 0 when the study finished, 1 when it stopped early (what was saved stays).

    Raises:
        InputError: For bad input, found before any work where it can be.
        KeyboardInterrupt: When interrupted (the runs saved stay; :mod:`kube_sim.cli.main` exits 130).
    """
    from kube_sim.store.targets import check_outputs

    check_sweep_options(study.args)
    study.check()
    for option, target in study.targets():
        check_outputs({option: target})
    plan = study.plan()
    if plan is not None:
        plan = apply_ensemble(plan, study.args)
    with study.workspace() as folder:
        try:
            done = study.work(plan, folder)
        except Stopped:
            return EXIT_STOPPED
        except OSError as exc:
            error_line(stopped_by(exc, folder))
            return EXIT_STOPPED
        result = study.analyse(done, folder)
        study.show(result, folder)
        try:
            written = study.write(result, folder)
        except Stopped:
            return EXIT_STOPPED
        except OSError as exc:
            error_line(study.write_problem(exc, folder))
            return EXIT_STOPPED
    study.closing(result, written, folder)
    return 0


def register(subparsers: argparse._SubParsersAction, study: type[Study]) -> argparse.ArgumentParser:
    """Add a study command to the main parser.

    Args:
        subparsers: The main parser's subparsers.
        study: The study's class.

    Returns:
        The command's parser.
    """
    parser = add_command(subparsers, study.name, summary=study.summary, description=study.description,
                         epilog=study.epilog)
    study.add_options(parser)
    parser.set_defaults(func=StudyCommand(study))
    return parser


class StudyCommand:
    """A study command's handler: runs a new instance of its study on the parsed options."""

    def __init__(self, study: type[Study]) -> None:
        self.study = study

    def __call__(self, args: argparse.Namespace) -> int:
        """Run the study.

        Args:
            args: Parsed arguments.

        Returns:
            Exit status (see :func:`run_study`).
        """
        return run_study(self.study(args))
