"""``kube-sim params``: every model parameter with its key, default, unit, range, source and meaning."""

from __future__ import annotations

import argparse
import sys
import textwrap

from kube_sim.cli.common import add_command
from kube_sim.experiments.scenario import toml_value
from kube_sim.model.parameters import BUSINESS_TYPES, PARAMETER_SPECS, SECTIONS, ParameterSpec


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``params`` on the main parser.

    Args:
        subparsers: The main parser's subparsers.
    """
    params = add_command(
        subparsers, "params", summary="list every parameter: key, default, unit, range, source, meaning",
        description="List every model parameter by its dotted key (as used in scenario files and --set), "
                    "with its default, unit, valid range, source (or 'assumption') and meaning.",
    )
    params.add_argument("--markdown", action="store_true", help="print Markdown tables, one per section")
    params.set_defaults(func=cmd_params)


def value_range(spec: ParameterSpec) -> str:
    """Describe the valid values of a parameter.

    Args:
        spec: The parameter's spec.

    Returns:
        Text such as ``0 to 1``, ``>= 0``, ``one of: a, b`` or ``true or false``.
    """
    if spec.choices:
        return "one of: " + ", ".join(spec.choices)
    if spec.type is bool:
        return "true or false"
    if spec.type is str:
        return "text"
    lo, hi = spec.low, spec.high
    if lo is None and hi is None:
        bounds = "any number"
    elif hi is None:
        bounds = f">= {lo:g}"
    elif lo is None:
        bounds = f"<= {hi:g}"
    else:
        bounds = f"{lo:g} to {hi:g}"
    if spec.type is tuple:
        return f"{len(spec.default)} values ({', '.join(BUSINESS_TYPES)}), each {bounds}"
    return bounds


def _range_cell(spec: ParameterSpec) -> str:
    """The range with where its upper bound comes from, for a table."""
    return f"{value_range(spec)} (upper bound: {spec.bound})" if spec.bound else value_range(spec)


def _section_doc(section: str) -> str:
    doc = (SECTIONS[section].__doc__ or "").strip()
    return doc.splitlines()[0] if doc else ""


def _md(text: str) -> str:
    return str(text).replace("|", "\\|")


def format_params(markdown: bool = False) -> str:
    """Render every parameter: dotted key, default, unit, range, source and meaning.

    Args:
        markdown: Markdown tables (one per section) instead of plain text.

    Returns:
        Multi-line text.
    """
    lines: list[str] = []
    for section in SECTIONS:
        specs = [s for s in PARAMETER_SPECS.values() if s.section == section]
        if markdown:
            lines += [f"### `[{section}]`: {_md(_section_doc(section))}", "",
                      "| key | default | unit | range | source | meaning |",
                      "|---|---|---|---|---|---|"]
            lines += [f"| `{s.key}` | `{_md(toml_value(s.default))}` | {_md(s.unit)} | {_md(_range_cell(s))} | "
                      f"{_md(s.source)} | {_md(s.doc)} |" for s in specs]
            lines.append("")
        else:
            lines.append(f"[{section}]  {_section_doc(section)}")
            for s in specs:
                lines.append(f"  {s.key} = {toml_value(s.default)}   [{s.unit}; {value_range(s)}]")
                bound = f"; upper bound: {s.bound}" if s.bound else ""
                lines.append(textwrap.fill(f"{s.doc} (source: {s.source}{bound})", width=100, initial_indent="      ",
                                           subsequent_indent="      "))
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def cmd_params(args: argparse.Namespace) -> int:
    """Print every parameter.

    Args:
        args: Parsed ``params`` arguments.

    Returns:
        Exit status.
    """
    sys.stdout.write(format_params(markdown=args.markdown))
    return 0
