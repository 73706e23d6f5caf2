"""Write one printable page per exercise of the classroom guide: ``docs/handouts/exercise-N.html``.

Each handout is the exercise's section of ``docs/teaching.md`` (its steps, the questions to ask, the
numbers students should see and the link to the study), so its figures are the guide's, which come
from the model (``docs/make_teaching_figures.py``); space to write the class's own answers follows
the questions. The pages are plain HTML with print styles (A4, one page each: the browser test prints
them in Chromium and counts the pages); open one and print it::

    python docs/make_handouts.py           # rewrite docs/handouts/ from docs/teaching.md
    python docs/make_handouts.py --check   # exit 1 if a handout is stale; write nothing
"""

from __future__ import annotations

import argparse
import html
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from markdown_it import MarkdownIt

DOCS = Path(__file__).resolve().parent
GUIDE = DOCS / "teaching.md"
FOLDER = DOCS / "handouts"

EXERCISE = re.compile(r"^## Exercise (\d+) — (.+)$", re.MULTILINE)
SECTION = re.compile(r"^## ", re.MULTILINE)
QUESTIONS = "**Questions to ask.**"
ANSWER_LINES = 4
"""Ruled lines left under the questions for the class's answers."""

STYLE = """
@page { size: A4; margin: 14mm 15mm; }
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 9.2pt; line-height: 1.32; color: #111; }
h1 { font-size: 14pt; margin: 0 0 2mm 0; }
.meta { color: #555; font-size: 8pt; margin-bottom: 3mm; }
p, ul, ol { margin: 1.2mm 0; }
li { margin: 0.4mm 0; }
.answers div { border-bottom: 1px solid #999; height: 6.5mm; }
"""


@dataclass(frozen=True)
class Handout:
    """One exercise's page.

    Attributes:
        number: The exercise's number.
        title: Its title.
        markdown: Its section of the guide, without the heading.
    """

    number: int
    title: str
    markdown: str

    @property
    def file_name(self) -> str:
        """``exercise-N.html``."""
        return f"exercise-{self.number}.html"


def handouts(guide: str) -> list[Handout]:
    """The exercises of the guide, in order.

    Args:
        guide: The text of ``docs/teaching.md``.

    Returns:
        One handout per ``## Exercise N — ...`` section.
    """
    found = []
    for match in EXERCISE.finditer(guide):
        rest = guide[match.end():]
        following = SECTION.search(rest)
        body = rest[:following.start()] if following else rest
        found.append(Handout(int(match.group(1)), match.group(2).strip(), body.strip()))
    return found


def render(handout: Handout, source: str = "docs/teaching.md") -> str:
    """The handout as a printable HTML page.

    Args:
        handout: The exercise.
        source: Where its text comes from, named on the page.

    Returns:
        The page.
    """
    body = handout.markdown
    if QUESTIONS in body:
        head, tail = body.split(QUESTIONS, 1)
        parts = re.split(r"\n(?=\*\*)", tail, maxsplit=1)
        lines = "".join("<div></div>" for _ in range(ANSWER_LINES))
        answers = f'\n\n<div class="answers"><p><b>Our answers.</b></p>{lines}</div>\n\n'
        body = head + QUESTIONS + parts[0] + answers + (parts[1] if len(parts) > 1 else "")
    content = MarkdownIt("commonmark", {"html": True}).render(body)
    title = f"Exercise {handout.number} — {handout.title}"
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
            f"<h1>{_inline(title)}</h1>\n"
            f'<div class="meta">kube-sim classroom handout · from {source}, whose figures the model computes '
            f"(docs/make_teaching_figures.py)</div>\n{content}</body>\n</html>\n")


def _inline(text: str) -> str:
    return MarkdownIt("commonmark").renderInline(text)


def pages(guide: str) -> dict[str, str]:
    """Every handout's file name and page."""
    return {handout.file_name: render(handout) for handout in handouts(guide)}


def main(argv: list[str] | None = None) -> int:
    """Write (or check) the handouts."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a handout is stale; write nothing")
    args = parser.parse_args(argv)
    wanted = pages(GUIDE.read_text(encoding="utf-8"))
    if not wanted:
        print(f"no '## Exercise N — ...' sections in {GUIDE}", file=sys.stderr)
        return 1
    stale = sorted(name for name, page in wanted.items()
                   if not (FOLDER / name).is_file() or (FOLDER / name).read_text(encoding="utf-8") != page)
    extra = sorted(p.name for p in FOLDER.glob("exercise-*.html") if p.name not in wanted) if FOLDER.is_dir() else []
    if args.check:
        for name in [*stale, *extra]:
            print(f"docs/handouts/{name} is stale: run python docs/make_handouts.py", file=sys.stderr)
        return 1 if stale or extra else 0
    FOLDER.mkdir(exist_ok=True)
    for name in extra:
        (FOLDER / name).unlink()
    for name, page in wanted.items():
        (FOLDER / name).write_text(page, encoding="utf-8")
        print(f"wrote docs/handouts/{name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
