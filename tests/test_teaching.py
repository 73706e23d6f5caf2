"""The classroom guide quotes the model: docs/teaching.md is its template filled by docs/make_teaching_figures.py."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("make_teaching_figures", DOCS / "make_teaching_figures.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


@pytest.fixture(scope="module")
def figures(script):
    return script.figures()


def test_the_guide_holds_the_figures_the_model_gives(script, figures):
    expected = script.render(script.TEMPLATE.read_text(encoding="utf-8"), figures)
    current = script.OUTPUT.read_text(encoding="utf-8")
    assert current == expected, "docs/teaching.md is stale or was edited by hand: edit docs/teaching.template.md " \
                                "and run python docs/make_teaching_figures.py"


def test_the_guides_words_are_what_the_figures_show(script, figures):
    assert script.broken_claims(figures) == []


def test_the_figures_are_the_side_by_side_views(script, figures):
    from kube_sim.app import compare, state

    # The page's defaults: its seed, its number of replications and months, read from the app's own constants.
    assert figures["seed"] == str(state.Settings().seed)
    assert figures["replications"] == str(compare.REPLICATIONS)
    assert figures["months"] == str(compare.REPLICATION_MONTHS)
    assert compare.replication_seeds(42) == list(range(42, 42 + compare.REPLICATIONS))


def _lesson_paragraphs(text: str) -> list[str]:
    return [p for p in text.split("\n\n") if p.startswith(("**What students should see.**", "**Where the red rings"))]


OUTCOME_NAMES = re.compile(r"\b1:|\bat (12|24) months")
"""Digits that name rather than quote: a caseload ratio's "1:" and the page's outcomes, "survival at 24 months"."""


def test_the_lessons_quote_no_figure_by_hand(script):
    template = script.TEMPLATE.read_text(encoding="utf-8")
    paragraphs = _lesson_paragraphs(template)
    assert len(paragraphs) == 5
    for paragraph in paragraphs:
        by_hand = re.findall(r"\d", OUTCOME_NAMES.sub("", script.PLACEHOLDER.sub("", paragraph)))
        assert not by_hand, f"a lesson quotes a number not computed by the script: {paragraph[:80]}..."


def test_a_placeholder_the_script_does_not_compute_is_an_error(script, figures):
    with pytest.raises(KeyError, match="no_such_figure"):
        script.render("{no_such_figure}", figures)
    assert script.render("{seed}", figures).endswith(figures["seed"])


def test_a_broken_claim_is_reported(script, figures):
    reversed_staffing = {**figures, "staff5_survival_24": figures["staff20_survival_24"]}
    assert any("1:5" in claim for claim in script.broken_claims(reversed_staffing))
