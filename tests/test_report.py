"""The sweep report renders from a synthetic results folder that follows the results contract."""

from __future__ import annotations

import base64
import itertools
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kube_sim.analysis import statistics as analysis
from kube_sim.model.outcomes import durations, survival_at
from kube_sim.reporting import report, report_figures

RATIO = "facilitators.groups_per_facilitator"
HOURS = "facilitators.hours_per_month"


def make_results(path: Path, factors: dict[str, list], replications: int = 4, months: int = 48, seed: int = 0,
                 fail: tuple[int, int] | None = (1, 2), groups_per_run: int = 30) -> Path:
    """Write a small synthetic sweep (full factorial of ``factors``) following the results contract.

    Survival falls and cost per surviving group rises with groups per facilitator; replications share a
    common random effect across arms (as with common random numbers). ``fail = (arm, replication)``
    marks one run as failed.
    """
    rng = np.random.default_rng(seed)
    path.mkdir(parents=True, exist_ok=True)
    keys = list(factors)
    combos = list(itertools.product(*factors.values()))
    arms = [{"arm": i, "arm_label": ", ".join(f"{k}={v}" for k, v in zip(keys, c, strict=True)),
             "parameters": dict(zip(keys, c, strict=True))} for i, c in enumerate(combos)]
    seeds = [int(s) for s in rng.integers(1, 2**31, replications)]
    rep_effect = rng.normal(0, 1, replications)
    runs, groups, monthly = [], [], []
    for arm in arms:
        ratio = arm["parameters"].get(RATIO, 10)
        hours = arm["parameters"].get(HOURS, 40)
        for rep in range(replications):
            run_id = f"a{arm['arm']:03d}-r{rep:03d}"
            base = {"run_id": run_id, "arm": arm["arm"], "arm_label": arm["arm_label"], "replication": rep,
                    "seed": seeds[rep], "duration_s": 1.5, **arm["parameters"]}
            if fail == (arm["arm"], rep):
                runs.append({**base, "status": "failed", "error": "Traceback ...\nValueError: synthetic failure"})
                continue
            r = np.random.default_rng(seeds[rep] + 7919 * arm["arm"])
            scale = 70 / (1 + ratio / 15) * (1 + hours / 200)  # mean months to failure
            funded = r.choice([1, 13, 25], groups_per_run)
            life = np.ceil(r.exponential(scale, groups_per_run)).astype(int)
            failed_month = np.where(funded + life <= months, funded + life, -1)
            d, f = durations(funded, failed_month, months)
            surv = survival_at(d, f)
            active_end = int((~f).sum())
            income = 35_000 * (1 + 0.2 * rep_effect[rep]) * (1.3 - ratio / 60) + r.normal(0, 1500)
            cost = 2.0e9 + 4.4e8 * (10 / ratio) + r.normal(0, 3e7)
            visits = min(1.0, 4.0 / ratio) * (hours / 40) ** 0.5
            runs.append({**base, "status": "ok", "error": None, "months": months, "groups_funded": groups_per_run,
                         "groups_active_end": active_end, "facilitators": int(np.ceil(groups_per_run / ratio)),
                         **{f"survival_{h}": surv[str(h)] for h in (12, 24, 36, 60)},
                         "mean_member_income_rp": income,
                         "share_above_poverty_line": float(np.clip(0.2 + 0.02 * rep_effect[rep] - ratio / 500, 0, 1)),
                         "cost_total_rp": cost, "cost_by_item_training_rp": 3.3e8,
                         "cost_per_surviving_group_rp": cost / active_end if active_end else np.nan,
                         "visits_per_group_month": visits,
                         "share_groups_unvisited_last_quarter": float(np.clip((ratio - 8) / 40, 0, 1)),
                         "mean_share_unvisited_quarter": float(np.clip((ratio - 5) / 30, 0, 1)),
                         "inactive_member_share": 0.17, "failure_causes_conflict": int(f.sum() // 3)})
            groups.append(pd.DataFrame({
                "run_id": run_id, "arm": arm["arm"], "replication": rep, "group": np.arange(groups_per_run),
                "funded_month": funded, "failed_month": failed_month,
                "cause": np.where(f, "inactive_members", "none"), "business": "goats",
                "visits": r.integers(0, 20, groups_per_run), "duration_months": d, "failed": f}))
            month = np.arange(1, months + 1)
            active = np.array([int(((funded <= m) & ((failed_month < 0) | (failed_month > m))).sum()) for m in month])
            monthly.append(pd.DataFrame({
                "run_id": run_id, "arm": arm["arm"], "replication": rep, "month": month, "groups_active": active,
                "groups_failed": np.array([int(((failed_month >= 0) & (failed_month <= m)).sum()) for m in month]),
                "inactive_member_share": 0.17, "visits": active // 3, "income_per_member_rp": income,
                "cost_to_date_rp": cost * month / months, "facilitators_working": 3}))
    pd.DataFrame(runs).to_parquet(path / "runs.parquet")
    pd.concat(groups, ignore_index=True).to_parquet(path / "groups.parquet")
    pd.concat(monthly, ignore_index=True).to_parquet(path / "monthly.parquet")
    manifest = {
        "versions": {"kube_sim": "0.1.0", "mesa": "3.5.1", "python": "3.12.0"}, "git_commit": "0123456789abcdef",
        "experiment_name": "synthetic_staffing",
        "experiment_text": 'name = "synthetic_staffing"\ndescription = "Synthetic staffing sweep for tests."\n',
        "base_scenario": "baseline", "factors": factors, "design": "full_factorial",
        "replications": replications, "master_seed": seed, "months": months, "seeds": seeds, "arms": arms,
        "started": "2026-01-01T00:00:00+00:00", "finished": "2026-01-01T00:05:00+00:00",
        "runs_total": len(runs), "runs_ok": sum(r["status"] == "ok" for r in runs),
        "runs_failed": sum(r["status"] != "ok" for r in runs),
    }
    (path / "manifest.json").write_text(json.dumps(manifest, indent=2))
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
        assert f"| groups per facilitator = {value} |" in summary
        assert arm["arm_label"] in md  # the arms table keeps the sweep's own labels
    assert "Rp " in summary and re.search(r"Rp \d{1,3},\d{3}", summary)
    assert re.search(r"\d+\.\d%", summary)
    assert "(baseline)" in summary
    assert "Synthetic staffing sweep for tests." in md
    assert "![Survival of groups by arm](survival.png)" in md
    assert "Failed runs" in md and "synthetic failure" in md
    assert "common random numbers" in md


def test_baseline_is_the_base_scenario_arm(three_arm_report):
    paired = pd.read_csv(three_arm_report / "paired_differences.csv")
    assert set(paired["baseline_arm"]) == {1}  # groups_per_facilitator = 10 is the model default
    assert set(paired["arm"]) == {0, 2}
    md = (three_arm_report / "report.md").read_text(encoding="utf-8")
    assert "Differences from the baseline arm (arm 1" in md


def test_failed_run_left_out(three_arm_report):
    summary = pd.read_csv(three_arm_report / "summary.csv")
    n = summary[summary["outcome"] == "mean_member_income_rp"].set_index("arm")["n"]
    assert n.to_dict() == {0: 5, 1: 4, 2: 5}
    paired = pd.read_csv(three_arm_report / "paired_differences.csv")
    assert set(paired[paired["outcome"] == "mean_member_income_rp"]["n_pairs"]) == {4}


def test_factorial_report_with_many_arms_and_custom_output(tmp_path):
    results = make_results(tmp_path / "combined", {RATIO: [5, 10, 15, 20, 30], HOURS: [40, 80]}, replications=3,
                           months=40, fail=None)
    out = report.write_report(results, tmp_path / "elsewhere", baseline_arm=2)
    assert out == tmp_path / "elsewhere"
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "Differences from the baseline arm (arm 2" in md
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
    assert report.fmt_value("mean_member_income_rp", 35693.4) == "Rp 35,693"
    assert report.fmt_value("survival_36", 0.6915) == "69.2%"
    assert report.fmt_ci("survival_36", 0.5, 0.4, 0.6) == "50.0% (40.0% to 60.0%)"
    assert report.fmt_diff("survival_36", 0.032) == "+3.2 pp"
    assert report.fmt_diff("cost_per_surviving_group_rp", -1234567) == "−Rp 1,234,567"
    assert report.fmt_p(0.0001) == "<0.001" and report.fmt_p(0.0432) == "0.043"
    assert report.fmt_value("survival_60", None) == "n/a"
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
    results = make_results(tmp_path / "lhs", {RATIO: list(range(5, 5 + n))}, replications=2, months=30,
                           fail=None, groups_per_run=8)
    res = report.load_results(results)
    labels = {a: f"arm {a}" for a in range(n)}
    km = analysis.km_by_arm(res.groups)
    survival = report_figures.survival_figure(km, labels, baseline_arm=5)
    assert len(survival.axes) == 1  # one panel of thin lines, not n small panels
    income = report_figures.income_figure(res.runs, labels, baseline_arm=5)
    ticks = [t.get_text() for t in income.axes[0].get_yticklabels()]
    assert ticks[5] == "arm 5 (baseline)" and len(ticks) == n
    assert income.get_size_inches()[1] < 0.3 * n


def test_unfinished_sweep_reports_its_finished_runs(tmp_path):
    results = make_results(tmp_path / "partial", {RATIO: [5, 10]}, replications=4, fail=None)
    runs = pd.read_parquet(results / "runs.parquet")
    groups = pd.read_parquet(results / "groups.parquet")
    monthly = pd.read_parquet(results / "monthly.parquet")
    runs["run_id"] = range(len(runs))
    ids = dict(zip([f"a{a:03d}-r{r:03d}" for a, r in zip(runs["arm"], runs["replication"], strict=True)],
                   runs["run_id"], strict=True))
    for table, frame in (("groups", groups), ("monthly", monthly)):
        frame["run_id"] = frame["run_id"].map(ids)
        (results / "parts" / table).mkdir(parents=True)
        for run_id, part in frame.groupby("run_id"):
            if run_id in (0, 1, 2, 4, 5):
                part.to_parquet(results / "parts" / table / f"run-{run_id:06d}.parquet")
    (results / "parts" / "runs").mkdir(parents=True)
    for run_id in (0, 1, 2, 4, 5):  # 5 of 8 runs finished; nothing consolidated yet
        runs[runs["run_id"] == run_id].to_parquet(results / "parts" / "runs" / f"run-{run_id:06d}.parquet")
    for table in ("runs", "groups", "monthly"):
        (results / f"{table}.parquet").unlink()
    manifest = json.loads((results / "manifest.json").read_text())
    manifest["finished"] = None
    (results / "manifest.json").write_text(json.dumps(manifest))
    out = report.write_report(results)
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "the sweep is incomplete — 5 of 8 runs" in md
    summary = pd.read_csv(out / "summary.csv")
    assert summary[summary["outcome"] == "mean_member_income_rp"]["n"].tolist() == [3, 2]
    paired = pd.read_csv(out / "paired_differences.csv")
    assert set(paired["n_pairs"]) == {2}  # replications 0 and 1 finished in both arms
