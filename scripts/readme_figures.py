"""Write the README's examples from what the commands print: the demo's summary and the planner's question.

Each example is a command's own output, cut to its opening lines, between ``<!-- NAME:start -->`` and
``<!-- NAME:end -->`` markers in README.md; ``tests/test_readme.py`` runs the same commands and checks
the README holds what they print. Run it after a change that moves the numbers::

    python scripts/readme_figures.py           # rewrite the examples in README.md
    python scripts/readme_figures.py --check   # exit 1 if README.md differs; write nothing
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

DEMO_ROWS = ("groups funded", "groups still active at the end", "member households", "facilitators",
             "groups per facilitator (carried)", "survival at 36 months", "survival at 60 months",
             "income per member per month", "households lifted out of poverty (end of run)",
             "households lifted out of poverty (36 months after funding)", "poor without the programme",
             "poor with the programme", "total programme cost", "cost per surviving group", "failure causes")
"""Rows of the run summary the README shows (the rest are in docs/OUTCOMES.md)."""

QUESTION = (
    ["compare", "baseline", "baseline", "--set-b", "facilitators.count=6", "--equal-cost"],
    ["compare", "baseline", "baseline", "--set-b", "grants.equipment_rp=5000000", "--equal-cost"],
)
"""The planner's question, "hire 3 more facilitators or give each group an equipment grant?", as two comparisons."""


def _output(argv: list[str]) -> str:
    from kube_sim.cli.main import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        status = main(argv)
    if status != 0:
        raise SystemExit(f"kube-sim {' '.join(argv)} failed with status {status}")
    return out.getvalue()


def demo() -> str:
    """What ``make demo`` (``kube-sim run baseline``) prints, abridged: its opening and the main rows."""
    with tempfile.TemporaryDirectory() as tmp:
        text = _output(["run", "baseline", "--no-plots", "--out", str(Path(tmp) / "baseline")])
    opening, _, table = text.partition("\n\n")
    rows = [line for line in table.splitlines()
            if any(re.match(rf"{re.escape(label)}\s{{2,}}", line) for label in DEMO_ROWS)]
    return "$ kube-sim run baseline\n" + opening + "\n\n" + "\n".join(rows) + "\n...\n"


def question() -> str:
    """The opening of each of the question's two comparisons, as they print it (up to the tables)."""
    parts = []
    for argv in QUESTION:
        with tempfile.TemporaryDirectory():
            text = _output([*argv, "--no-progress", "--workers", "2"])
        lead = text.strip("\n").split("\n\noutcome ", 1)[0].split("\n\n", 1)[-1]
        parts.append(f"$ kube-sim {' '.join(argv)}\n...\n{lead}\n...\n")
    return "\n".join(parts)


BLOCKS = {"demo": demo, "question": question}
"""The README's generated examples, by marker name."""


def render(readme: str, blocks: dict[str, str]) -> str:
    """README text with each marked block replaced by its generated text (as a fenced code block).

    Args:
        readme: The README's text.
        blocks: Generated text by marker name.

    Returns:
        The new text.

    Raises:
        SystemExit: If a marker is missing.
    """
    for name, text in blocks.items():
        pattern = re.compile(rf"(<!-- {name}:start -->\n).*?(<!-- {name}:end -->)", re.S)
        if not pattern.search(readme):
            raise SystemExit(f"README.md has no <!-- {name}:start --> ... <!-- {name}:end --> block")
        readme = pattern.sub(lambda m, text=text: m.group(1) + "```\n" + text + "```\n" + m.group(2), readme)
    return readme


def main(argv: list[str] | None = None) -> int:
    """Rewrite the README's examples, or with ``--check`` say whether they are current.

    Args:
        argv: Command-line arguments.

    Returns:
        0, or 1 when ``--check`` finds the README stale.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if README.md is out of date; write nothing")
    parser.add_argument("--only", choices=sorted(BLOCKS), action="append", help="only this block (repeatable)")
    args = parser.parse_args(argv)
    names = args.only or list(BLOCKS)
    current = README.read_text(encoding="utf-8")
    new = render(current, {name: BLOCKS[name]() for name in names})
    if args.check:
        if new != current:
            print("README.md's examples are out of date: run python scripts/readme_figures.py", file=sys.stderr)
            return 1
        return 0
    README.write_text(new, encoding="utf-8")
    print(f"rewrote {', '.join(names)} in {README}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
