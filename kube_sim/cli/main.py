"""The ``kube-sim`` entry point: assembles the commands' parsers and runs the chosen command.

Bad input (a missing file, malformed TOML, an unknown key, a wrong type or range, in a scenario or
experiment file or in an option) gives exactly one line ``kube-sim: error: ...`` on stderr naming
the file (or option) and the key, and exit status 2; so does an output that cannot be written,
found before any work starts. Ctrl-C gives one line and exit status 130; what was computed stays
saved (a sweep's finished runs; ``--resume`` finishes it). A write that fails once the work has
started (a full disk) or a full standard output gives one line and exit status 1; a reader of
standard output that went away (``| head``) ends the command quietly with status 141 (128 + SIGPIPE).

Each command lives in its own module (``run``, ``scenarios``, ``params``, ``sweep``, ``report``,
``compare``) with an ``add_parser`` that registers it; its handler takes the parsed arguments,
returns the exit status and raises :class:`~kube_sim.common.errors.InputError` for bad input. The
study commands are each a :class:`~kube_sim.cli.common.Study` registered with
:func:`~kube_sim.cli.common.register`, and run by the one skeleton :func:`~kube_sim.cli.common.run_study`.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from pathlib import Path
from typing import Any

from kube_sim import __version__
from kube_sim.cli import (
    app,
    brief,
    calibrate,
    compare,
    frontier,
    params,
    report,
    run,
    scenarios,
    sensitivity,
    sweep,
    threshold,
    validate,
)
from kube_sim.cli.common import (
    EXIT_BROKEN_PIPE,
    EXIT_INPUT,
    EXIT_INTERRUPTED,
    EXIT_STOPPED,
    PROG,
    Formatter,
    Parser,
    add_lang_option,
    configure_batching,
    raw,
    table_targets,
    write_table_outputs,
)
from kube_sim.common.errors import InputError
from kube_sim.common.i18n import _, language, language_from, set_language
from kube_sim.common.provenance import package_version
from kube_sim.experiments.files import display_path
from kube_sim.reporting.tables import recording
from kube_sim.store.targets import check_outputs

COMMANDS = (run, scenarios, params, sweep, report, brief, compare, validate, sensitivity, calibrate, threshold,
            frontier, app)
"""The command modules, in the order the help lists them."""

EPILOG = """\
examples:
  kube-sim run                                   # the baseline, seed 42, 96 months
  kube-sim run ratio_1_20 --seed 7 --months 60   # a shipped scenario by name
  kube-sim run my_district.toml --out results/mine
  kube-sim run baseline --set grants.equipment_rp=5000000 --set facilitators.pattern=needs_based
  kube-sim run baseline --json --no-plots > summary.json
  kube-sim scenarios                             # what ships, and what each one changes
  kube-sim params --markdown                     # every parameter, its unit and source
"""


def _version() -> str:
    return f"{PROG} {__version__} (Mesa {package_version('mesa')}, Python {platform.python_version()})"


def build_parser() -> argparse.ArgumentParser:
    """Build the ``kube-sim`` argument parser with all commands.

    Returns:
        The parser.
    """
    parser = Parser(
        prog=PROG,
        description="Agent-based simulation of KUBE joint business groups (Kelompok Usaha Bersama) "
                    "in a district such as Polewali Mandar: formation, grants, facilitators, survival.",
        epilog=raw(EPILOG),
        formatter_class=Formatter,
    )
    parser.add_argument("--version", action="version", version=_version(),
                        help="show the kube-sim, Mesa and Python versions and exit")
    add_lang_option(parser)
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", dest="command")
    for command in COMMANDS:
        command.add_parser(subparsers)
    return parser


def command_names(parser: argparse.ArgumentParser) -> list[str]:
    """Return the names of a parser's commands.

    Args:
        parser: The parser from :func:`build_parser`.

    Returns:
        The names, in the order the help lists them.
    """
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return list(action.choices)
    return []


def _exit_code(exc: SystemExit) -> int:
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=sys.stderr)
    return 1


def _lang_option(argv: list[str]) -> str | None:
    """The last ``--lang`` given on a command line (read before parsing, so parse errors speak it too)."""
    found = None
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        if arg == "--lang" and i + 1 < len(argv):
            found = argv[i + 1]
        elif arg.startswith("--lang="):
            found = arg.split("=", 1)[1]
    return found


def main(argv: list[str] | None = None) -> int:
    """Run the ``kube-sim`` command line.

    Args:
        argv: Arguments without the program name (default ``sys.argv[1:]``).

    Returns:
        Exit status: 0 on success, 1 when the work stopped early (a worker died, a full disk; what was saved
        stays), 2 for bad input, 130 when interrupted, 141 when the reader of standard output went away.
    """
    arguments = list(sys.argv[1:] if argv is None else argv)
    spoken = language()
    try:
        set_language(language_from(_lang_option(arguments)))
    except InputError as exc:
        print(f"{PROG}: error: {exc.one_line()}", file=sys.stderr)
        return EXIT_INPUT
    try:
        return _run(arguments)
    finally:
        set_language(spoken)


def _run(arguments: list[str]) -> int:
    """Parse the arguments and run the command, in the language already chosen.

    Standard output that cannot take what is printed ends the command with one line and the usual
    status, never a traceback: a reader that went away (``kube-sim params | head -1``) gives
    :data:`EXIT_BROKEN_PIPE` and no message, as for any program the shell runs; a full disk
    (``> /dev/full``) or another write error gives one line and exit status 1. Results already
    written to disk stay there.
    """
    stdout = sys.stdout
    sys.stdout = _GuardedStream(stdout)
    try:
        status = _parse_and_call(arguments)
        sys.stdout.flush()
        return status
    except BrokenPipeError:
        _silence_stdout(stdout)
        return EXIT_BROKEN_PIPE
    except _StdoutError as exc:
        _silence_stdout(stdout)
        print(_("{prog}: error: {problem}").format(
            prog=PROG, problem=f"cannot write to standard output: {exc.strerror or exc}"), file=sys.stderr)
        return EXIT_STOPPED
    except OSError as exc:
        where = display_path(Path(exc.filename)) if exc.filename else "a file"
        print(_("{prog}: error: {problem}").format(
            prog=PROG, problem=f"cannot write to {where}: {exc.strerror or exc}"), file=sys.stderr)
        return EXIT_STOPPED
    finally:
        sys.stdout = stdout


def _parse_and_call(arguments: list[str]) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(arguments)
    except SystemExit as exc:
        return _exit_code(exc)
    func = getattr(args, "func", None)
    if func is None:
        print(_("{prog}: error: choose a command: {commands} (see '{prog} --help')").format(
            prog=PROG, commands=", ".join(command_names(parser))), file=sys.stderr)
        return EXIT_INPUT
    args.argv = arguments
    return dispatch(args)


def dispatch(args: argparse.Namespace) -> int:
    """Run a parsed command: its ``--xlsx`` and ``--csv`` checked first and written last, its errors as one line.

    Args:
        args: Parsed arguments with ``func``, the command's handler, and ``argv``.

    Returns:
        The command's exit status, :data:`~kube_sim.cli.common.EXIT_INPUT` for bad input,
        :data:`~kube_sim.cli.common.EXIT_INTERRUPTED` after Ctrl-C.
    """
    func = args.func
    configure_batching(args)
    try:
        targets = table_targets(args)
        check_outputs(targets)  # before any work: a bad --xlsx or --csv costs nothing
        with recording() as tables:
            status = int(func(args) or 0)
        if targets:
            write_table_outputs(args, tables)
        return status
    except InputError as exc:
        print(_("{prog}: error: {problem}").format(prog=PROG, problem=exc.one_line()), file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print(_("{prog}: interrupted").format(prog=PROG), file=sys.stderr)
        return EXIT_INTERRUPTED


class _StdoutError(OSError):
    """Standard output could not take what was written (a full disk, a device error)."""


class _GuardedStream:
    """Standard output whose write errors say that they are standard output's (see :func:`_run`)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise _StdoutError(exc.errno, exc.strerror) from exc

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise _StdoutError(exc.errno, exc.strerror) from exc

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _silence_stdout(stream: Any) -> None:
    """Point standard output at the null device, so the flush at exit has nothing to complain about."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no file descriptor (a test's captured stream)
        pass


if __name__ == "__main__":
    sys.exit(main())
