"""``kube-sim brief``: one page for the head of office, from a real (tiny) comparison."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from kube_sim import __version__
from kube_sim.cli.main import main
from kube_sim.reporting.formats import fmt_date

CHROMIUM = shutil.which("chromium")
try:
    from playwright.sync_api import sync_playwright
except ImportError:
    sync_playwright = None


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    folder = tmp_path_factory.mktemp("brief") / "ratio"
    assert main(["compare", "baseline", "ratio_1_20", "--replications", "2", "--months", "12", "--no-progress",
                 "--out", str(folder)]) == 0
    return folder


def test_the_brief_of_a_comparison_answers_the_question_with_costs_groups_and_households(compared, tmp_path,
                                                                                          capsys):
    out = tmp_path / "brief"
    assert main(["brief", str(compared), "--out", str(out)]) == 0
    assert "brief in" in capsys.readouterr().out
    md = (out / "brief.md").read_text()
    assert "should the social office of Polewali Mandar run the programme as ratio_1_20 rather than as baseline" in md
    assert "| A: baseline | Rp " in md and "| B: ratio_1_20 | Rp " in md
    assert "cost a year" in md and "groups still running 3 years after funding" in md
    assert "households lifted out of poverty per Rp 1 miliar (95% CI" in md
    assert "the runs are too short to follow a group 3 years" in md  # 12 months cannot show 3 years
    assert "No sensitivity analysis was run" in md
    assert f"kube-sim {__version__}" in md and fmt_date() in md
    html = (out / "brief.html").read_text()
    assert "@page { size: A4" in html and "<table>" in html


def test_report_brief_writes_the_same_brief_in_the_report_folder(compared, capsys):
    assert main(["report", str(compared), "--brief"]) == 0
    assert (compared / "report" / "brief.md").read_text().startswith("# Brief: ratio_1_20 or baseline?")
    assert not (compared / "report" / "report.md").exists()


def test_the_brief_names_the_assumptions_of_a_sensitivity_result_in_the_folder(compared, tmp_path):
    from kube_sim.model.parameters import PARAMETER_SPECS

    sens = compared / "sensitivity"
    keys = ("members.dropout_probability", "groups.min_active_share")
    try:  # the sensitivity command's own result, written where the brief looks for it
        assert main(["sensitivity", "--parameters", ",".join(keys), "--trajectories", "2", "--replications", "1",
                     "--months", "12", "--outcomes", "survival_12", "--workers", "1", "--no-progress",
                     "--out", str(sens)]) == 0
        ranked = list(json.loads((sens / "morris" / "sensitivity.json").read_text())["overall"])
        assert main(["brief", str(compared), "--out", str(tmp_path / "en")]) == 0
        assert main(["--lang", "id", "brief", str(compared), "--out", str(tmp_path / "id")]) == 0
    finally:
        shutil.rmtree(sens, ignore_errors=True)
    assert sorted(ranked) == sorted(keys)
    md = (tmp_path / "en" / "brief.md").read_text()
    first, second = (md.index(f"{PARAMETER_SPECS[key].doc} ({key}, tried from ") for key in ranked)
    assert first < second and "No sensitivity analysis" not in md
    indonesian = (tmp_path / "id" / "brief.md").read_text()
    for key in keys:  # each assumption in the planner's language, its key kept as the name to look up
        assert f"({key}, " in indonesian and PARAMETER_SPECS[key].doc not in indonesian
    assert "anggota aktif yang lebih sedikit dari proporsi ini" in indonesian


@pytest.mark.parametrize("kind", ["empty", "missing", "run"])
def test_a_brief_of_a_folder_without_a_finished_comparison_is_one_line_naming_the_fix(tmp_path, capsys, kind):
    folder = tmp_path / "f"
    if kind == "empty":
        folder.mkdir()
    elif kind == "run":
        assert main(["run", "--months", "3", "--no-plots", "--out", str(folder)]) == 0
        capsys.readouterr()
    assert main(["brief", str(folder)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"kube-sim: error: {folder}: ") and "kube-sim compare" in err[0]
    assert not (folder / "report").exists()


def _pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf))


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
@pytest.mark.skipif(sync_playwright is None, reason="the playwright Python package is not installed")
def test_the_brief_prints_on_one_a4_page_in_chromium(compared, tmp_path):
    assert main(["brief", str(compared), "--out", str(tmp_path)]) == 0
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        page.goto((tmp_path / "brief.html").as_uri())
        pdf = page.pdf(format="A4", prefer_css_page_size=True)
        page.set_content("<p>x</p>" * 400)  # the count is one that can fail: a long page prints on several
        long = page.pdf(format="A4")
        browser.close()
    assert _pages(long) > 1
    assert _pages(pdf) == 1


def test_a_comparison_long_enough_counts_the_groups_running_3_years_after_funding(tmp_path, capsys):
    folder = tmp_path / "long"
    assert main(["compare", "baseline", "ratio_1_20", "--replications", "2", "--months", "48", "--no-progress",
                 "--out", str(folder)]) == 0
    assert main(["brief", str(folder), "--lang", "id"]) == 0
    md = (folder / "report" / "brief.md").read_text()
    row = r"\| A: baseline \| Rp [\d.,]+ (juta|miliar) \| \d+ dari \d+ yang didanai \(SK 95% \d+ sampai \d+\)"
    assert re.search(row, md), md
    assert '<html lang="id">' in (folder / "report" / "brief.html").read_text()
