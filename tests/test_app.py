"""The teaching app without a browser: its adapter to the model, paired replications, charts, labels, command."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from kube_sim.app import state
from kube_sim.app.charts import SeriesChart
from kube_sim.app.clock import Clock
from kube_sim.app.compare import COMPARED_OUTCOMES, paired_replications
from kube_sim.app.labels import LABELS, LANGUAGES, label
from kube_sim.cli.main import main
from kube_sim.model.codes import FAILURE_CAUSES, EventKind, FailureCause, GroupStatus
from kube_sim.model.parameters import Parameters, make_parameters

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def model():
    m = state.build_model(state.Settings(seed=3))
    for _ in range(30):
        m.step()
    return m


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(REPO), "PATH": ""})


def test_the_model_never_imports_the_app():
    result = _python("import sys, kube_sim.model.run, kube_sim.experiments.scenario\n"
                     "print(sorted(m for m in sys.modules if m.startswith('kube_sim.app')))")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_importing_the_page_builds_no_model():
    pytest.importorskip("solara")
    result = _python("import kube_sim.model.model as mm\n"
                     "built = []\n"
                     "init = mm.KubeModel.__init__\n"
                     "mm.KubeModel.__init__ = lambda self, *a, **k: built.append(1) or init(self, *a, **k)\n"
                     "import kube_sim.app.page\n"
                     "print(len(built))")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0"


def test_controls_set_parameters_on_top_of_the_scenario():
    settings = state.Settings(scenario="equipment_grant", seed=5,
                              values={"facilitators.groups_per_facilitator": 5, "members.initial_inactive_share": 0.4})
    params = state.make_params(settings)
    assert params.facilitators.groups_per_facilitator == 5
    assert params.members.initial_inactive_share == 0.4
    assert params.grants.equipment_rp == 7_000_000  # the scenario's own change survives
    assert state.make_params(state.Settings(scenario="ratio_1_5")).facilitators.groups_per_facilitator == 5
    assert state.scenario_names()[0] == "baseline"
    assert {"ratio_1_5", "equipment_grant"} <= set(state.scenario_names())


def test_same_settings_same_months():
    a, b = (state.build_model(state.Settings(seed=9)) for _ in range(2))
    for _ in range(15):
        a.step()
        b.step()
    assert state.monthly_series(a).equals(state.monthly_series(b))
    assert state.district_view(a) == state.district_view(b)


def test_district_view_shows_every_village_and_group_once(model):
    view = state.district_view(model)
    assert len(view) == len(model.district.kecamatan_names) == 16
    villages = [v.index for kec in view for v in kec.villages]
    assert sorted(villages) == list(range(model.district.n_villages))
    groups = [g for kec in view for v in kec.villages for g in v.groups]
    assert sorted(g.index for g in groups) == list(range(model.groups.size))
    counts = state.state_counts(model)
    assert sum(counts[s] for s in state.GROUP_STATES) == model.groups.size
    failed = int(np.sum(model.groups.status == GroupStatus.FAILED))
    assert counts["failed"] == failed > 0
    assert not any(g.unvisited for g in groups if g.state == "failed")


def test_caseloads_cover_the_running_groups(model):
    loads = state.caseloads(model)
    assert len(loads) == model.facilitators.size > 0
    running = model.groups.status != GroupStatus.FAILED
    assert sum(c.groups for c in loads) == int(np.sum(running & (model.groups.facilitator >= 0)))
    assert all(0 <= c.unvisited <= c.groups for c in loads)
    assert sum(c.visits for c in loads) == int(model.groups.visits.sum())


def test_series_and_survival(model):
    monthly = state.monthly_series(model)
    assert list(monthly.index) == list(range(1, 31))
    raw = model.datacollector.get_model_vars_dataframe()
    assert (monthly["groups_running"].to_numpy() == (raw["groups_funded"] - raw["groups_failed"]).to_numpy()).all()
    assert monthly["cost_to_date_rp"].is_monotonic_increasing
    survival = state.survival_curve(model)
    assert survival.iloc[0] == 1.0
    assert survival.between(0, 1).all() and survival.min() < 1
    assert state.survival_curve(state.build_model(state.Settings())).empty
    assert state.monthly_series(state.build_model(state.Settings())).empty


def test_a_failed_groups_story_says_why(model):
    failed = int(np.flatnonzero(model.groups.status == GroupStatus.FAILED)[0])
    story = state.group_story(model, failed)
    assert dict(story.facts)["state"] == "failed"
    assert story.cause == FailureCause(int(model.groups.cause[failed])).name.lower() != "none"
    kinds = [kind for _, kind, _ in story.events]
    assert kinds[0] == "funded" and kinds[-1] == "failure"
    months = [month for month, _, _ in story.events]
    assert months == sorted(months)
    assert FAILURE_CAUSES[int(story.events[-1][2])] == story.cause
    assert len(story.members) == int(model.groups.members_at_start[failed])
    with pytest.raises(IndexError):
        state.group_story(model, model.groups.size)


def test_identical_arms_differ_by_exactly_nothing():
    params = Parameters()
    table = paired_replications(params, params, seeds=[1, 2, 3], months=30)
    assert list(table["outcome"]) == list(COMPARED_OUTCOMES)
    assert (table["n"] == 3).all()
    assert (table["diff"] == 0).all() and (table["low"] == 0).all() and (table["high"] == 0).all()


def test_halving_the_caseload_shows_through_the_paired_interval():
    done = []
    table = paired_replications(Parameters(), make_parameters({"facilitators.groups_per_facilitator": 5}),
                                seeds=list(range(100, 108)), months=36, on_done=done.append)
    assert done == list(range(1, 9))
    rows = table.set_index("outcome")
    assert (rows["low"] <= rows["diff"]).all() and (rows["diff"] <= rows["high"]).all()
    assert rows.loc["mean_share_unvisited_quarter", "high"] < 0  # more facilitators, fewer unaccompanied groups
    assert rows.loc["survival_24", "low"] > 0


def test_chart_limits_follow_the_data(model):
    chart = SeriesChart(["A"])
    empty = state.build_model(state.Settings())
    chart.update([("A", state.monthly_series(empty), state.survival_curve(empty))])
    chart.update([("A", state.monthly_series(model), state.survival_curve(model))])
    monthly = state.monthly_series(model)
    assert chart.axes["cost_to_date_rp"].get_ylim()[1] >= monthly["cost_to_date_rp"].max() / 1e6
    assert chart.axes["groups_running"].get_xlim()[1] == 36  # month 30, on a whole number of years
    assert chart.png()[:8] == b"\x89PNG\r\n\x1a\n"


def test_every_shown_name_has_words_in_both_languages():
    keys = [*state.CONTROL_KEYS, *state.GROUP_STATES, *state.SERIES, *COMPARED_OUTCOMES,
            *(kind.name.lower() for kind in EventKind), *(f"cause_{name}" for name in FAILURE_CAUSES),
            *(key for key, _ in state.group_story(_tiny_model(), 0).facts)]
    for key in keys:
        assert key in LABELS, key
        assert all(label(key, language) for language in LANGUAGES), key


def test_a_groups_story_takes_its_words_from_the_state_columns():
    from kube_sim.app.labels import STATE_COLUMNS
    from kube_sim.model.agents.group import GroupTable

    assert label("stock") == GroupTable.units.label and label("stock", "id") == GroupTable.units.label_id
    assert all(column.name in GroupTable.columns for column in STATE_COLUMNS.values())
    story_keys = {key for key, _ in state.group_story(_tiny_model(), 0).facts}
    assert set(STATE_COLUMNS) <= story_keys


def _tiny_model():
    m = state.build_model(state.Settings())
    m.step()
    return m


@pytest.mark.parametrize("argv", [["app", "--port", "0"], ["app", "--port", "http"], ["app", "--bogus"]])
def test_bad_app_options_give_one_line_and_status_2(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("kube-sim") and "error:" in err


def test_a_port_in_use_gives_one_line_and_status_2(capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        assert main(["app", "--port", str(busy.getsockname()[1])]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--host/--port" in err and "cannot listen" in err


def _until(condition, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the clock did not get there"
        time.sleep(0.01)


def _clock(now=time.monotonic) -> Clock:
    clock = Clock(now=now)
    clock.models_for("a", lambda: [state.build_model(state.Settings(seed=4))])
    return clock


def test_quick_steps_move_exactly_as_many_months():
    clock = _clock()
    for _ in range(20):
        clock.step()
    _until(lambda: clock.month == 20)
    assert clock.target == 20 and not clock.playing
    clock.close()


def test_play_runs_at_the_speed_it_says_and_stops_at_the_month_given():
    now = [0.0]
    clock = _clock(lambda: now[0])
    clock.play(6, 36)
    assert clock.due() == 0
    now[0] = 1.0
    assert clock.due() == 6  # six months a second
    _until(lambda: clock.month == 6)
    clock.set_speed(12)  # the new speed counts from now
    now[0] = 1.5
    assert clock.due() == 12
    now[0] = 100.0
    assert clock.due() == 36
    _until(lambda: not clock.playing)
    assert clock.month == 36
    clock.close()


def test_a_new_stop_month_while_playing_stops_there_or_at_once_when_passed():
    now = [0.0]
    clock = _clock(lambda: now[0])
    clock.play(6, 36)
    now[0] = 1.0
    _until(lambda: clock.month == 6)
    clock.set_stop_at(8)
    now[0] = 100.0
    _until(lambda: not clock.playing)
    assert clock.month == 8
    clock.play(6, 30)
    now[0] = 101.0
    _until(lambda: clock.month == 14)
    clock.set_stop_at(10)  # already passed: Play stops where it is
    _until(lambda: not clock.playing)
    assert clock.month == 14
    clock.close()


def test_new_inputs_or_reset_land_on_month_0_and_stop_play():
    clock = _clock()
    clock.play(12, 100)
    _until(lambda: clock.month >= 2)
    models = clock.models_for("b", lambda: [state.build_model(state.Settings(seed=4))])
    assert clock.month == 0 and not clock.playing and clock.models is models
    clock.step()
    _until(lambda: clock.month == 1)
    assert clock.models_for("b", list) is models  # the same inputs keep the same models
    clock.close()
