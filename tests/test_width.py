"""Terminal answers fit 100 columns: every line that run, compare, threshold, frontier and sweep print."""

from __future__ import annotations

import textwrap

import pytest

from kube_sim.cli.common import render_table
from kube_sim.cli.main import main

WIDTH = 100
EXPERIMENT = """
name = "tiny"
months = 24
replications = 2
master_seed = 3

[factors]
"facilitators.groups_per_facilitator" = [5, 20]
"""


def _commands(tmp_path):
    experiment = tmp_path / "tiny.toml"
    experiment.write_text(textwrap.dedent(EXPERIMENT), encoding="utf-8")
    out = str(tmp_path / "out")
    return {
        "run": ["run", "--months", "12", "--no-plots", "--out", out],
        "compare": ["compare", "baseline", "ratio_1_20", "--replications", "2", "--months", "12", "--no-progress",
                    "--equal-cost", "--name-a", "today's one part-time facilitator per ten groups",
                    "--name-b", "one facilitator for every twenty groups, as the ratio_1_20 scenario has it"],
        "threshold": ["threshold", "--caseloads", "1,5,30", "--replications", "2", "--months", "30", "--horizon", "12",
                      "--workers", "1", "--no-progress", "--out", out],
        "frontier": ["frontier", "--years", "2", "--months", "30", "--replications", "2", "--facilitator-shares",
                     "0,0.1,0.3", "--equipment-shares", "0,0.3", "--workers", "1", "--no-progress", "--out", out],
        "sweep": ["sweep", str(experiment), "--workers", "1", "--no-progress", "--out", out],
    }


@pytest.mark.parametrize("command", ["run", "compare", "threshold", "frontier", "sweep"])
def test_every_line_of_the_answer_fits_100_columns(tmp_path, capsys, command):
    assert main(_commands(tmp_path)[command]) == 0
    out = capsys.readouterr().out
    long = [line for line in out.splitlines() if len(line) > WIDTH]
    assert not long, "\n".join(long)


def test_a_wide_table_wraps_its_widest_cells_and_keeps_every_word():
    header = ["outcome", "A: a long name for the reference option", "B: another long name", "95% CI"]
    rows = [["households lifted out of poverty (36 months after funding)", "Rp 1.45 miliar", "Rp 1.44 miliar",
             "−Rp 241 juta to +Rp 223 juta"]]
    text = render_table(header, rows)
    assert max(len(line) for line in text.splitlines()) <= WIDTH
    assert len(text.splitlines()) > 3  # wrapped
    assert " ".join(text.split()).count("Rp") == 4
    narrow = render_table(["a", "b"], [["1", "2"]])
    assert narrow.splitlines() == ["a  b", "-  -", "1  2"]
