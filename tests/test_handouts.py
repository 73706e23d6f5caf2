"""The classroom handouts: one printable page per exercise, current with the guide, holding its numbers."""

from __future__ import annotations

import importlib.util
import re
import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SPEC = importlib.util.spec_from_file_location("make_handouts", REPO / "docs" / "make_handouts.py")
make_handouts = importlib.util.module_from_spec(SPEC)
sys.modules["make_handouts"] = make_handouts
SPEC.loader.exec_module(make_handouts)

GUIDE = (REPO / "docs" / "teaching.md").read_text(encoding="utf-8")


def test_the_handouts_are_current_with_the_guide(capsys):
    assert make_handouts.main(["--check"]) == 0, capsys.readouterr().err


def test_there_is_one_handout_per_exercise_and_it_holds_the_guides_numbers():
    exercises = re.findall(r"^## Exercise (\d+) ", GUIDE, flags=re.MULTILINE)
    found = make_handouts.handouts(GUIDE)
    assert [str(h.number) for h in found] == exercises and len(found) >= 4
    for handout in found:
        page = (REPO / "docs" / "handouts" / handout.file_name).read_text(encoding="utf-8")
        seen = re.search(r"\*\*What students should see\.\*\*(.*?)(?:\n\n|\Z)", handout.markdown, flags=re.S)
        assert seen, handout.number
        for number in re.findall(r"[+-]?\d[\d,.]*", seen.group(1)):
            assert number in page, (handout.number, number)
        assert page.count("<div></div>") == make_handouts.ANSWER_LINES
        assert "Questions to ask" in page and "Steps" in page


def test_a_changed_guide_makes_the_handouts_stale(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(make_handouts, "FOLDER", REPO / "docs" / "handouts")
    changed = tmp_path / "teaching.md"
    changed.write_text(GUIDE.replace("## Exercise 2 — ", "## Exercise 2 — Changed: "), encoding="utf-8")
    monkeypatch.setattr(make_handouts, "GUIDE", changed)
    assert make_handouts.main(["--check"]) == 1
    assert "exercise-2.html is stale" in capsys.readouterr().err


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed")
def test_each_handout_prints_on_one_a4_page():
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
        page = browser.new_page()
        for path in sorted((REPO / "docs" / "handouts").glob("exercise-*.html")):
            page.goto(path.as_uri())
            pdf = page.pdf(prefer_css_page_size=True)
            assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1, path.name
        browser.close()
