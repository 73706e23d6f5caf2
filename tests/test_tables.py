"""--xlsx and --csv: the tables a command shows, written as a workbook or CSV with numbers as numbers."""

from __future__ import annotations

import csv

import openpyxl
import pytest

from kube_sim.cli.main import main
from kube_sim.reporting.tables import Num, Table, cell_value, csv_paths, split_intervals

TINY_COMPARE = ["compare", "baseline", "ratio_1_20", "--replications", "2", "--months", "12", "--no-progress"]


@pytest.mark.parametrize(("cell", "value"), [
    ("83.0%", 0.83), ("−3.5 pp", -0.035), ("Rp 264 juta", 264_000_000), ("Rp 2.11 miliar", 2_110_000_000),
    ("−1,234", -1234),
    ("+4.39", 4.39), ("±0", 0), ("12", 12), ("n/a", None), ("1.2 to 3.4", "1.2 to 3.4"), ("1:10", "1:10"),
    ("baseline", "baseline"), (Num("about 3", 3.25), 3.25),
])
def test_a_cell_is_written_as_the_number_it_shows(cell, value):
    assert cell_value(cell) == value


def test_a_column_of_intervals_is_written_as_its_low_and_high_ends():
    table = split_intervals(Table("t", ["outcome", "95% CI"], [["cost", "−Rp 241 juta to +Rp 223 juta"],
                                                               ["income", "n/a"], ["name", "1:10"]][:2]))
    assert table.header == ["outcome", "95% CI low", "95% CI high"]
    assert table.rows == [["cost", -241_000_000, 223_000_000], ["income", None, None]]
    mixed = split_intervals(Table("t", ["a"], [["1 to 2"], ["text"]]))
    assert mixed.header == ["a"]


def test_several_tables_go_to_one_csv_file_each_named_after_the_table(tmp_path):
    tables = [Table("compare", ["a"], [["1"]]), Table("value", ["a"], [["2"]])]
    assert csv_paths(tmp_path / "out.csv", tables) == [tmp_path / "out-compare.csv", tmp_path / "out-value.csv"]
    assert csv_paths(tmp_path / "out.csv", tables[:1]) == [tmp_path / "out.csv"]


def test_compare_writes_its_tables_as_a_workbook_and_csv_with_numbers_as_numbers(tmp_path, capsys):
    book_path, csv_path = tmp_path / "answer.xlsx", tmp_path / "answer.csv"
    assert main([*TINY_COMPARE, "--point", "--xlsx", str(book_path), "--csv", str(csv_path)]) == 0
    out = capsys.readouterr().out
    assert f"tables in {book_path}" in out
    book = openpyxl.load_workbook(book_path)
    assert book.sheetnames == ["compare", "value"]  # at the point: no ensemble table
    sheet = book["compare"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("outcome", "A: baseline", "B: ratio_1_20")
    by_label = {r[0]: r for r in rows[1:]}
    funded = by_label["groups funded"]
    assert isinstance(funded[1], int) and funded[1] > 0
    cost = by_label["total programme cost"]
    assert isinstance(cost[1], (int, float)) and cost[1] > 1e8 and cost[1] % 1e6 != 0  # the mean, not as rounded
    low, high = rows[0].index("95% CI low"), rows[0].index("95% CI high")  # an interval is two numbers
    assert isinstance(cost[low], (int, float)) and isinstance(cost[high], (int, float)) and cost[low] <= cost[high]
    with (tmp_path / "answer-value.csv").open() as f:
        value_rows = list(csv.reader(f))
    assert value_rows[0] == ["per Rp 100 juta spent", "A", "B"]
    float(value_rows[1][1])  # a plain number


@pytest.mark.parametrize("option", ["--xlsx", "--csv"])
def test_an_unwritable_table_file_is_one_line_and_exit_2_before_any_run(tmp_path, capsys, option):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    bad = blocker / "answer.xlsx"
    out = tmp_path / "runs"
    assert main([*TINY_COMPARE, "--out", str(out), option, str(bad)]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"kube-sim: error: {option}: {bad}: ")
    assert not out.exists() and "Today" not in captured.out


def test_run_writes_its_summary_as_a_sheet(tmp_path, capsys):
    book_path = tmp_path / "run.xlsx"
    assert main(["run", "--months", "6", "--no-plots", "--out", str(tmp_path / "r"), "--xlsx", str(book_path)]) == 0
    rows = {r[0]: r[1] for r in openpyxl.load_workbook(book_path)["summary"].iter_rows(values_only=True)}
    assert isinstance(rows["groups funded"], int)


def test_named_arms_are_used_in_the_tables_readings_and_brief(tmp_path, capsys):
    out = tmp_path / "named"
    assert main([*TINY_COMPARE, "--name-a", "today", "--name-b", "1 per 20", "--out", str(out),
                 "--xlsx", str(tmp_path / "n.xlsx")]) == 0
    text = capsys.readouterr().out
    assert "A: today" in text and "B: 1 per 20" in text and "baseline" not in text.split("Households lifted")[1]
    header = next(openpyxl.load_workbook(tmp_path / "n.xlsx")["compare"].iter_rows(values_only=True))
    assert header[1:3] == ("A: today", "B: 1 per 20")
    assert main(["brief", str(out)]) == 0
    assert (out / "report" / "brief.md").read_text().startswith("# Brief: 1 per 20 or today?")


@pytest.mark.parametrize(("names", "option"), [(["--name-a", " "], "--name-a"),
                                               (["--name-a", "x", "--name-b", "x"], "--name-b")])
def test_bad_arm_names_are_one_line(capsys, names, option):
    assert main([*TINY_COMPARE, *names]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"kube-sim: error: {option}: ")
