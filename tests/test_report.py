"""The sweep report, from folders written by real sweeps: finished, with a failed run, and stopped part way."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import patch_model_runs

from kube_sim.analysis import statistics as analysis
from kube_sim.cli.main import main
from kube_sim.experiments.experiment import load_experiment, replication_seeds
from kube_sim.experiments.sweep import plan_experiment, run_sweep
from kube_sim.reporting import arms, formats, readings, report, report_figures
from kube_sim.store import parts, sweep_folder
from kube_sim.store.parts import finished_run_ids

RATIO = "facilitators.groups_per_facilitator"
HOURS = "facilitators.hours_per_month"


def make_results(path: Path, factors: dict[str, list], replications: int = 4, months: int = 24,
                 fail: tuple[int, int] | None = (1, 2), extra: str = "") -> Path:
    """Run a small real sweep (full factorial of ``factors``) into ``path`` with the sweep's own writer.

    ``fail = (arm, replication)`` makes that one run raise, so the sweep records it as failed.
    """
    levels = "\n".join(f'"{key}" = {json.dumps(values)}' for key, values in factors.items())
    path.mkdir(parents=True, exist_ok=True)
    toml = path.parent / f"{path.name}.toml"
    toml.write_text(f'name = "staffing_test"\ndescription = "Staffing sweep for tests."\nmonths = {months}\n'
                    f"replications = {replications}\nmaster_seed = 3\n{extra}\n[factors]\n{levels}\n",
                    encoding="utf-8")
    plan = plan_experiment(load_experiment(toml))
    failing_seed = replication_seeds(3, replications)[fail[1]] if fail else None
    failing_params = plan.arms[fail[0]].params if fail else None

    with pytest.MonkeyPatch.context() as patch:
        patch_model_runs(patch, fail=lambda params, seed: params == failing_params and seed == failing_seed)
        summary = run_sweep(plan, path, workers=1, progress=False, echo=None)
    assert summary.complete and summary.runs_failed == (1 if fail else 0)
    return path


@pytest.fixture(scope="module")
def three_arms(tmp_path_factory) -> Path:
    return make_results(tmp_path_factory.mktemp("results") / "staffing", {RATIO: [5, 10, 20]}, replications=5)


@pytest.fixture(scope="module")
def three_arm_report(three_arms) -> Path:
    return report.write_report(three_arms)


def test_report_writes_markdown_html_and_figures(three_arm_report, three_arms):
    folder = three_arm_report
    assert folder == three_arms / "report"
    for name in ("report.md", "report.html", "survival.png", "income.png", "cost.png", "workload.png",
                 "factor_effects.png", "groups_over_time.png", "summary.csv", "paired_differences.csv",
                 "survival.csv", "km_curves.csv", "logrank.csv"):
        assert (folder / name).is_file(), name
        assert (folder / name).stat().st_size > 0
    for png in folder.glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_html_embeds_every_figure(three_arm_report):
    text = (three_arm_report / "report.html").read_text(encoding="utf-8")
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)
    assert len(images) == len(list(three_arm_report.glob("*.png")))
    assert all(base64.b64decode(i)[:4] == b"\x89PNG" for i in images)
    assert 'src="survival.png"' not in text  # nothing points outside the file
    assert "<table>" in text and "How to read this report" in text


def test_summary_mentions_every_arm_and_formats_numbers(three_arm_report, three_arms):
    md = (three_arm_report / "report.md").read_text(encoding="utf-8")
    manifest = json.loads((three_arms / "manifest.json").read_text())
    summary = md.split("## Summary by arm", 1)[1].split("\n## ", 1)[0]
    for arm in manifest["arms"]:
        assert f"| {arm['arm']}" in summary
        value = arm["parameters"][RATIO]
        assert f"| 1:{value} caseload |" in summary  # arms read as a planner names them
        assert arm["arm_label"] not in summary
    assert "Rp " in summary and re.search(r"Rp \d{1,3},\d{3}", summary)
    assert re.search(r"\d+\.\d%", summary) or "survival at 36 months | n/a" not in summary
    assert summary.index("households lifted out of poverty") < summary.index("survival at 36 months")
    assert "(reference)" in summary and "baseline" not in summary
    assert "Staffing sweep for tests." in md
    assert "![Survival of groups by arm](survival.png)" in md
    assert "Failed runs" in md and "a model failure for the test" in md
    assert "common random numbers" in md


def test_baseline_is_the_base_scenario_arm(three_arm_report):
    paired = pd.read_csv(three_arm_report / "paired_differences.csv")
    assert set(paired["baseline_arm"]) == {1}  # groups_per_facilitator = 10 is the model default
    assert set(paired["arm"]) == {0, 2}
    md = (three_arm_report / "report.md").read_text(encoding="utf-8")
    assert "Differences from the reference arm (arm 1: 1:10 caseload)" in md
    assert "this arm has the base scenario's parameters" in md  # the report says why it uses this arm


def test_failed_run_left_out(three_arm_report):
    summary = pd.read_csv(three_arm_report / "summary.csv")
    n = summary[summary["outcome"] == "mean_member_income_rp"].set_index("arm")["n"]
    assert n.to_dict() == {0: 5, 1: 4, 2: 5}
    paired = pd.read_csv(three_arm_report / "paired_differences.csv")
    assert set(paired[paired["outcome"] == "mean_member_income_rp"]["n_pairs"]) == {4}


def test_factorial_report_with_many_arms_and_custom_output(tmp_path):
    results = make_results(tmp_path / "combined", {RATIO: [5, 10, 15, 20, 30], HOURS: [40, 80]}, replications=3,
                           months=12, fail=None)
    out = report.write_report(results, tmp_path / "elsewhere", baseline_arm=2)
    assert out == tmp_path / "elsewhere"
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "Differences from the reference arm (arm 2" in md
    assert "Failed runs" not in md
    effects = pd.read_csv(out / "factor_effects.csv")
    assert set(effects["factor"]) == {RATIO, HOURS}
    with pytest.raises(ValueError):
        report.write_report(results, tmp_path / "bad", baseline_arm=99)


def test_single_arm_and_missing_folder(tmp_path):
    results = make_results(tmp_path / "one", {RATIO: [10]}, replications=3, fail=None)
    out = report.write_report(results)
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "nothing to compare" in md
    with pytest.raises(FileNotFoundError):
        report.write_report(tmp_path / "nope")


def test_formatting_helpers():
    assert formats.fmt_value("mean_member_income_rp", 35693.4) == "Rp 35,693"
    assert formats.fmt_value("survival_36", 0.6915) == "69.2%"
    assert formats.fmt_value("cost_by_item_training_rp", 3.3e8) == "Rp 330,000,000"  # kind from the declaration
    assert formats.fmt_value("groups_active_end", 31.0) == "31"
    assert formats.fmt_value("visits_per_group_month", 0.5211) == "0.521"
    assert formats.fmt_ci("survival_36", 0.5, 0.4, 0.6) == "50.0% (40.0% to 60.0%)"
    assert formats.fmt_diff("survival_36", 0.032) == "+3.2 pp"
    assert formats.fmt_diff("cost_per_surviving_group_rp", -1234567) == "−Rp 1,234,567"
    assert formats.fmt_p(0.0001) == "<0.001" and formats.fmt_p(0.0432) == "0.043"
    assert formats.fmt_value("survival_60", None) == "n/a"
    assert formats.fmt_level(2.5e6) == "2,500,000" and formats.fmt_level(0.125) == "0.125"
    assert report_figures.rupiah_scale([2.2e9]) == (1e6, "Rp juta")
    assert report_figures.rupiah_scale([35_000]) == (1e3, "Rp ribu")
    assert report_figures.short_label("facilitators.groups_per_facilitator=5") == "groups per facilitator = 5"


def test_figures_return_figures(three_arms):
    res = report.load_results(three_arms)
    labels = {a: str(a) for a in range(3)}
    km = analysis.km_by_arm(res.groups)
    fig = report_figures.survival_figure(km, labels, baseline_arm=1)
    assert fig.axes and fig.canvas.get_width_height()[0] > 0


def test_many_arms_figures_stay_readable(tmp_path):
    n = report_figures.MANY_ARMS + 2
    results = make_results(tmp_path / "lhs", {RATIO: list(range(5, 5 + n))}, replications=2, months=12,
                           fail=None)
    res = report.load_results(results)
    labels = {a: f"arm {a}" for a in range(n)}
    km = analysis.km_by_arm(res.groups)
    survival = report_figures.survival_figure(km, labels, baseline_arm=5)
    assert len(survival.axes) == 1  # one panel of thin lines, not n small panels
    income = report_figures.income_figure(res.runs, labels, baseline_arm=5)
    ticks = [t.get_text() for t in income.axes[0].get_yticklabels()]
    assert ticks[5] == "arm 5 (reference)" and len(ticks) == n
    assert income.get_size_inches()[1] < 0.3 * n


STOPPED = """
name = "stopped"
description = "Three caseloads, many short replications: a sweep to stop part way."
months = 24
replications = 20
master_seed = 5

[factors]
"facilitators.groups_per_facilitator" = [5, 10, 20]
"""


@pytest.fixture(scope="module")
def stopped_sweep(tmp_path_factory) -> Path:
    """A real ``kube-sim sweep`` killed once a few runs are saved: parts on disk, nothing consolidated."""
    root = tmp_path_factory.mktemp("stopped")
    (root / "stopped.toml").write_text(STOPPED, encoding="utf-8")
    out = root / "out"
    code = "import sys; from kube_sim.cli.main import main; sys.exit(main(sys.argv[1:]))"
    proc = subprocess.Popen([sys.executable, "-c", code, "sweep", str(root / "stopped.toml"), "--workers", "1",
                             "--out", str(out), "--no-progress"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None and len(finished_run_ids(out)) < 25:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()
    assert 25 <= len(finished_run_ids(out)) < 60, "the sweep should have been stopped part way"
    assert not (out / "runs.parquet").exists()
    return out


def test_unfinished_sweep_reports_its_finished_runs(stopped_sweep, capsys):
    finished = sorted(finished_run_ids(stopped_sweep))
    out = stopped_sweep.parent / "report"
    assert main(["report", str(stopped_sweep), "--out", str(out)]) == 0  # the command, as a planner runs it
    printed = capsys.readouterr()
    assert "report in" in printed.out
    warning = printed.err.strip()
    assert warning.count("\n") == 0 and "warning" in warning
    assert f"holds an unfinished sweep ({len(finished)} of 60 runs saved)" in warning and "--resume" in warning
    md = (out / "report.md").read_text(encoding="utf-8")
    assert f"the sweep is incomplete — {len(finished)} of 60 runs" in md
    summary = pd.read_csv(out / "summary.csv")
    n = summary[summary["outcome"] == "mean_member_income_rp"].set_index("arm")["n"]
    expected = pd.Series([run_id // 20 for run_id in finished]).value_counts()  # run_id = arm * 20 + replication
    assert n[n > 0].to_dict() == expected.to_dict()
    km = pd.read_csv(out / "km_curves.csv")
    assert set(km["arm"]) == set(expected.index)
    paired = pd.read_csv(out / "paired_differences.csv")  # the baseline (arm 1, the default caseload) has runs
    pairs = paired.groupby("arm")["n_pairs"].max().to_dict()
    assert pairs[0] == expected[1] and pairs.get(2, 0) == expected.get(2, 0)  # replications finished in both


HOLDER = """
import sys, time
from pathlib import Path
from kube_sim.store.lock import FolderLock
FolderLock(Path(sys.argv[1]), ["kube-sim", "sweep", "stopped.toml"]).acquire()
print("held", flush=True)
time.sleep(120)
"""


def test_a_sweep_still_being_written_is_reported_with_a_warning(stopped_sweep, tmp_path, capsys):
    copy = tmp_path / "copy"
    shutil.copytree(stopped_sweep, copy)
    writer = subprocess.Popen([sys.executable, "-c", HOLDER, str(copy)], stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "held"
        assert main(["report", str(copy), "--out", str(tmp_path / "report")]) == 0
    finally:
        writer.kill()
        writer.wait()
    warning = capsys.readouterr().err.strip()
    saved = len(finished_run_ids(copy))
    assert warning.count("\n") == 0
    assert f"is still being written by 'kube-sim sweep stopped.toml' (PID {writer.pid}" in warning
    assert f"covers the {saved} of 60 runs saved so far" in warning


def test_a_finished_sweep_is_reported_without_a_warning(three_arms, tmp_path, capsys):
    assert main(["report", str(three_arms), "--out", str(tmp_path / "report")]) == 0
    assert capsys.readouterr().err == ""


def test_stopped_sweep_reads_like_its_consolidated_tables(stopped_sweep, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(stopped_sweep, copy)
    from_parts = {t: sweep_folder.read_table(copy, t) for t in ("runs", "groups", "monthly")}
    sweep_folder.consolidate(copy)
    parts.remove_parts(copy)
    for table, frame in from_parts.items():
        pd.testing.assert_frame_equal(frame, sweep_folder.read_table(copy, table), obj=table)


def test_every_results_file_is_written_by_the_one_atomic_writer(three_arms, tmp_path, monkeypatch):
    from kube_sim.store import files

    written = []
    real = files.atomic_write

    def recording(path, write, **options):
        written.append(path.name)
        return real(path, write, **options)

    monkeypatch.setattr(files, "atomic_write", recording)
    mask = os.umask(0o027)
    try:
        out = report.write_report(three_arms, tmp_path / "r")
        parts.write_part(tmp_path / "sweep", 0, b"runs", b"groups", None)
    finally:
        os.umask(mask)
    on_disk = sorted(p.name for p in out.iterdir()) + ["run-000000.arrow"] * 2
    assert sorted(written) == sorted(on_disk)
    for path in [*out.iterdir(), *(tmp_path / "sweep").rglob("*.arrow")]:
        assert path.stat().st_mode & 0o777 == 0o640, path  # the usual permissions under the umask


def test_parts_outrank_a_table_consolidated_earlier(stopped_sweep, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(stopped_sweep, copy)
    sweep_folder.read_table(copy, "runs").head(3).to_parquet(copy / "runs.parquet")  # as left by an earlier stop
    assert sweep_folder.read_table(copy, "runs")["run_id"].tolist() == sorted(finished_run_ids(copy))


NAMED = f"""reference = "hire: 1:5"
[arms]
"hire: 1:5" = {{ "{RATIO}" = 5 }}
"""


@pytest.fixture(scope="module")
def named_arms(tmp_path_factory) -> Path:
    return make_results(tmp_path_factory.mktemp("named") / "named", {RATIO: [5, 10, 20]}, replications=4,
                        months=24, fail=None, extra=NAMED)


def test_the_report_compares_with_the_experiments_reference_and_says_so(named_arms, tmp_path):
    folder = report.write_report(named_arms, tmp_path / "r")
    paired = pd.read_csv(folder / "paired_differences.csv")
    assert set(paired["baseline_arm"]) == {0}  # the file's reference, not the arm equal to the base scenario
    md = (folder / "report.md").read_text(encoding="utf-8")
    assert "arm 0: hire: 1:5 (the experiment file names it as its reference)" in md
    assert "| 1 | 1:10 caseload |" in md and "| 2 | 1:20 caseload |" in md  # unnamed arms read in words
    assert "than under hire: 1:5" in md and "baseline" not in md.split("## How to read", 1)[0].split(
        "## What was run", 1)[0]


def test_sentences_follow_the_reference_chosen_by_name(named_arms, tmp_path):
    folder = report.write_report(named_arms, tmp_path / "r", baseline_arm="1:20 caseload")
    md = (folder / "report.md").read_text(encoding="utf-8")
    assert set(pd.read_csv(folder / "paired_differences.csv")["baseline_arm"]) == {2}
    assert "chosen for this report with --baseline-arm (the experiment's own reference is arm 0)" in md
    logrank = md.split("Log-rank tests", 1)[1].split("\n## ", 1)[0]
    assert "than under 1:20 caseload" in logrank and "hire: 1:5" in logrank
    assert "than under hire" not in logrank and "than in the baseline" not in logrank
    with pytest.raises(ValueError, match="neither an arm's number nor its name"):
        report.write_report(named_arms, tmp_path / "bad", baseline_arm="1:7 caseload")


def test_the_report_puts_cost_and_value_for_money_side_by_side(named_arms, tmp_path):
    folder = report.write_report(named_arms, tmp_path / "r")
    md = (folder / "report.md").read_text(encoding="utf-8")
    section = md.split("## Cost and value for money", 1)[1].split("\n## ", 1)[0]
    assert "groups per facilitator (carried)" in section and "Rp 100 juta" in section
    assert re.search(r"Rp \d[\d.]* (juta|miliar)", section)
    value = pd.read_csv(folder / "value_for_money.csv")
    assert set(value["arm"]) == {1, 2} and set(value["reference_arm"]) == {0}
    # Fewer facilitators (1:10, 1:20) cost less than the reference 1:5.
    assert (value.groupby("arm")["cost_diff"].first() < 0).all()


def test_no_exponents_in_a_report(named_arms, tmp_path):
    folder = report.write_report(named_arms, tmp_path / "r")
    md = (folder / "report.md").read_text(encoding="utf-8")
    body = md.split("The experiment file:", 1)[0]
    assert not re.search(r"\d[eE][+-]\d", body)


def test_numbers_a_head_of_office_can_read():
    assert formats.fmt_diff("visits_per_group_month", -5.93e-05) == "−0.0000593"
    assert formats.fmt_diff("visits_per_group_month", 0.0161) == "+0.0161"
    assert formats.fmt_diff("groups_active_end", 2.31) == "+2.3" and formats.fmt_diff("facilitators", 3.0) == "+3"
    assert formats.fmt_rp(5e6) == "Rp 5 juta" and formats.fmt_rp(1.988e9) == "Rp 1.99 miliar"
    assert formats.fmt_rp(-1.13e8, signed=True) == "−Rp 113 juta"
    assert formats.fmt_rp(1.13e8, signed=True) == "+Rp 113 juta"
    assert formats.fmt_setting("grants.equipment_rp", 5_000_000.0) == "Rp 5 juta"
    assert formats.fmt_level(1e-5) == "0.00001"
    assert report_figures.setting_label("grants.equipment_rp") == "equipment"


def _row(diff, low, high, n=10):
    return pd.Series({"mean_diff": diff, "ci_low": low, "ci_high": high, "n_pairs": n})


def test_a_difference_within_noise_says_so():
    text = readings.difference_reading("survival_36", _row(-0.004, -0.016, 0.008), {}, arm="grant", reference="today")
    assert "within noise" in text and "cannot tell grant from today" in text and "−0.4 pp" in text


def test_a_real_difference_names_what_moved_with_it():
    rows = {"failure_causes_conflict": _row(-3.0, -4.5, -1.5), "failure_causes_no_capital": _row(0.2, -0.5, 0.9)}
    text = readings.difference_reading("survival_36", _row(0.05, 0.02, 0.08), rows, arm="hire 3", reference="today")
    assert "real difference" in text and "better under hire 3 than under today" in text
    assert "groups failed by conflict −3" in text and "no capital" not in text  # only clear moves are named
    worse = readings.difference_reading("survival_36", _row(-0.05, -0.08, -0.02), {}, arm="a", reference="b")
    assert "worse under a" in worse and "no single failure cause moved clearly" in worse
    cost = readings.difference_reading("cost_total_rp", _row(1.13e8, 5e7, 1.7e8),
                                       {"cost_by_item_facilitators_rp": _row(1.13e8, 5e7, 1.7e8)}, arm="a",
                                       reference="b")
    assert "higher under a" in cost and "facilitators +Rp 113 juta" in cost


def test_arms_read_in_words():
    assert arms.phrase("facilitators.groups_per_facilitator", 8) == "1:8 caseload"
    assert arms.phrase("facilitators.groups_per_facilitator", 0) == "no facilitators"
    assert arms.phrase("grants.equipment_rp", 0.0) == "no equipment grant"
    assert arms.phrase("grants.equipment_rp", 5e6) == "Rp 5 juta equipment grant"
    assert arms.phrase("facilitators.count", 10) == "10 facilitators"
    assert arms.phrase("members.initial_inactive_share", 0.2) == "20% inactive at start"
    assert arms.phrase("facilitators.support_months", 24) == "support months 24"
