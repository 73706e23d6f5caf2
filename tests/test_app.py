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


# --- plain names, in both languages ------------------------------------------------------------------------------

VILLAGE_DISTRICT = """# name = Test Hills
kecamatan,population,terrain,travel_hours,villages,village_names
Alpha,30000,coast,1,3,Lero | Ambo  Tengah|Lapeo
Beta,20000,lowland,1.5,2,
"""


def _page():
    pytest.importorskip("solara")
    from kube_sim.app import page

    return page


def test_the_scenario_menu_in_indonesian_shows_titles_not_code_names():
    from kube_sim.common.i18n import translations
    from kube_sim.experiments.scenario import load_scenario

    english, indonesian = dict(state.scenario_menu("en")), dict(state.scenario_menu("id"))
    assert list(english) == list(indonesian) == state.scenario_names()
    for name in state.scenario_names():
        scenario = load_scenario(name)
        assert scenario.title, f"{name} has no title"
        assert english[name] == scenario.title != name
        assert indonesian[name] == translations("id").gettext(scenario.title) != scenario.title
        assert indonesian[name] != name
        assert state.scenario_description(name, "id") == translations("id").gettext(scenario.description)
        assert state.scenario_description(name, "id") != scenario.description
    assert indonesian["baseline"] == "Dasar" and english["ratio_1_5"] == "One facilitator per 5 groups"


def test_the_other_menus_show_plain_words():
    page = _page()
    menu = dict(state.district_menu())
    assert menu["polewali_mandar"] == "Polewali Mandar" and menu["majene"] == "Majene"
    assert dict(LANGUAGES.items()) == {"en": "English", "id": "Bahasa Indonesia"}
    patterns = [label(p, "id") for p in state.VISIT_PATTERNS]
    assert all(" " in words or words not in state.VISIT_PATTERNS for words in patterns)
    assert "round_robin" not in patterns and label("round_robin", "id") == "bergiliran"
    assert page.village_label("", 3, "id") == "Desa 3" and page.village_label("", 3, "en") == "Village 3"
    assert page.village_label("Lero", 3, "id") == "Lero"


def test_numbers_on_the_page_follow_the_language():
    page = _page()
    from kube_sim.common import i18n

    assert page._fmt(61_234, "income_per_member_rp", "id") == "Rp 61.234"
    assert page._fmt(61_234, "income_per_member_rp", "en") == "Rp 61,234"
    assert page._fmt(52_345_678, "cost_per_surviving_group_rp", "id") == "Rp 52,3 juta"
    assert page._fmt(1_408e6, "cost_to_date_rp", "id") == "Rp 1.408 juta"
    assert page._fmt(12_345, "groups_running", "id") == "12.345"
    assert page._fmt(0.73, "survival_12", "id") == "73%"
    assert page._fmt_diff(0.125, "survival_12", "id") == "+12,5 poin persen"
    assert page._fmt_diff(0.125, "survival_12", "en") == "+12.5 pp"
    assert page._fmt_diff(-2_500_000, "cost_per_surviving_group_rp", "id").endswith("Rp 2,5 juta")
    assert "Rp" in page._fmt_diff(12_000, "mean_member_income_rp", "en")  # money always with Rp
    assert page._fmt_diff(-1.5, "groups_active_end", "id") == "-1,5"
    assert page._event_detail("sale", 9_733_875, "id") == "Rp 9.733.875"
    assert page._event_detail("business_start", 1_250, "id") == "1.250"
    assert i18n.language() == "en"  # the page's language never leaks into the process's


def test_a_storys_numbers_are_in_the_language_asked_for(model):
    running = int(np.flatnonzero((model.groups.status != GroupStatus.FAILED) & (model.groups.cash >= 1000))[0])
    english = dict(state.snapshot(model, running, "en").story.facts)
    indonesian = dict(state.snapshot(model, running, "id").story.facts)
    cash = f"{float(model.groups.cash[running]):,.0f}"
    assert english["cash"] == f"Rp {cash}" and indonesian["cash"] == "Rp " + cash.replace(",", ".")
    assert "." in indonesian["cash"] and "," not in indonesian["cash"]
    assert indonesian["cohesion"] == english["cohesion"].replace(".", ",")


def test_speaking_holds_only_in_its_block_and_thread():
    import threading

    from kube_sim.common import i18n

    seen = []
    with i18n.speaking("id"):
        assert i18n.language() == "id" and i18n._("Baseline") == "Dasar"
        thread = threading.Thread(target=lambda: seen.append(i18n.language()))
        thread.start()
        thread.join()
    assert seen == ["en"] and i18n.language() == "en" and i18n._("Baseline") == "Baseline"


def test_the_legend_names_the_current_policy():
    page = _page()
    plain = state.Settings()
    assert page.policy_name(plain, "en") == "Baseline" and page.policy_name(plain, "id") == "Dasar"
    moved = state.Settings(values={"facilitators.groups_per_facilitator": 5})
    assert state.changed_keys(moved) == ["facilitators.groups_per_facilitator"]
    assert page.policy_name(moved, "en") == "Baseline (changed)"
    assert page.policy_name(moved, "id") == "Dasar (diubah)"
    back = state.Settings(values={"facilitators.groups_per_facilitator": 10})  # moved, then back to 1:10
    assert state.changed_keys(back) == [] and page.policy_name(back, "en") == "Baseline"
    other = state.Settings(scenario="ratio_1_5", values={"facilitators.groups_per_facilitator": 5})
    assert page.policy_name(other, "id") == "Satu pendamping per 5 kelompok"


def test_survival_is_named_alike_on_the_chart_and_in_the_summary(model):
    page = _page()
    chart_title = label("survival")
    for language in LANGUAGES:
        assert label("survival_12", language).startswith(label("survival", language))
        assert label("survival_24", language).startswith(label("survival", language))
    snap = state.snapshot(model)
    names = [name for name, _ in page._latest(snap)]
    assert chart_title + ", at 12 months" in names
    young = state.build_model(state.Settings())
    for _ in range(5):
        young.step()
    names = [name for name, _ in page._latest(state.snapshot(young))]
    assert any(name.startswith(chart_title + ", at ") for name in names)


def test_village_names_from_a_district_file_reach_the_page(tmp_path):
    path = tmp_path / "test_hills.csv"
    path.write_text(VILLAGE_DISTRICT, encoding="utf-8")
    m = state.build_model(state.Settings(district=str(path)))
    view = state.district_view(m)
    assert [[(v.name, v.number) for v in kec.villages] for kec in view] == [
        [("Lero", 1), ("Ambo Tengah", 2), ("Lapeo", 3)], [("", 1), ("", 2)]]
    for _ in range(14):
        m.step()
    by_index = {v.index: v for kec in state.district_view(m) for v in kec.villages}
    assert m.groups.size > 0
    for i in range(m.groups.size):
        story = state.group_story(m, i)
        village = by_index[int(m.groups.village[i])]
        assert story.village == (village.name, village.number)
        assert dict(story.facts)["village"] == (village.name or str(village.number))
    # spread over another number of villages (district.villages), the file's names no longer fit: numbers instead
    spread = state.build_model(state.Settings(district=str(path), values={"district.villages": 12}))
    villages = [v for kec in state.district_view(spread) for v in kec.villages]
    assert len(villages) == 12 and not any(v.name for v in villages)
    assert [v.number for v in state.district_view(spread)[0].villages] == list(range(1, 1 + len(
        state.district_view(spread)[0].villages)))


def test_a_groups_member_facts_agree_with_its_member_marks(model):
    failed = 0
    for i in range(model.groups.size):
        story = state.group_story(model, i)
        facts = dict(story.facts)
        counts = story.member_counts
        kinds = [state.member_kind(active, inside) for _, active, inside in story.members]
        assert facts["members_active"] == f"{kinds.count('member_active')} / {len(story.members)}"
        assert facts["members_inactive"] == str(kinds.count("member_inactive")) == str(counts["member_inactive"])
        assert facts["members_left"] == str(kinds.count("member_left"))
        assert sum(counts.values()) == len(story.members) == int(model.groups.members_at_start[i]) > 0
        if facts["state"] == "failed":
            failed += 1
            assert counts["member_left"] == len(story.members)  # a failed group's members are all gone
    assert failed > 0
