"""Bahasa Indonesia: the catalog is complete, ``--lang id`` answers hold no English, numbers follow the locale."""

from __future__ import annotations

import html
import re
import string
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from kube_sim.cli.main import main
from kube_sim.common import i18n
from kube_sim.common.catalog import source_catalog
from kube_sim.experiments.district_file import COLUMNS
from kube_sim.model.parameter_words import parameter_messages
from kube_sim.reporting import formats

PO = i18n.catalog_file("id")


def _catalog():
    with PO.open("rb") as f:
        return read_po(f, locale="id", domain=i18n.DOMAIN)


def _translated(string: str | tuple[str, ...]) -> bool:
    """Whether a catalog entry holds a translation (every plural form, for a message with plurals)."""
    return bool(string) and (isinstance(string, str) or all(string))


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


@pytest.fixture(autouse=True)
def _english_after():
    yield
    i18n.set_language("en")


# --- the catalog -------------------------------------------------------------------------------------

def test_every_message_of_the_code_has_an_indonesian_translation():
    catalog = _catalog()
    wanted = [m.id for m in source_catalog(parameter_messages()) if m.id]
    assert len(wanted) > 50
    missing = [m for m in wanted if m not in catalog or catalog[m].fuzzy or not _translated(catalog[m].string)]
    assert not missing, f"{len(missing)} messages lack a translation (run scripts/update_catalog.py): {missing[:5]}"


def test_an_untranslated_plural_form_counts_as_missing():
    assert not _translated(("", ""))
    assert not _translated(("kelompok", ""))
    assert not _translated("")
    assert _translated(("{n} kelompok", "{n} kelompok"))


def test_translations_keep_every_placeholder():
    for message in _catalog():
        if message.id and message.string and isinstance(message.id, str):
            assert _fields(message.string) == _fields(message.id), message.id


def test_the_catalog_holds_no_message_the_code_no_longer_asks_for():
    wanted = {m.id for m in source_catalog(parameter_messages()) if m.id}
    stale = [m.id for m in _catalog() if m.id and m.id not in wanted]
    assert not stale, f"run scripts/update_catalog.py: {stale[:5]}"


def test_a_missing_compiled_catalog_is_compiled_on_first_use(tmp_path, monkeypatch):
    locale = tmp_path / "locale"
    (locale / "id" / "LC_MESSAGES").mkdir(parents=True)
    (locale / "id" / "LC_MESSAGES" / "kube_sim.po").write_bytes(PO.read_bytes())
    monkeypatch.setattr(i18n, "LOCALE_DIR", locale)
    i18n.translations.cache_clear()
    try:
        assert i18n.translations("id").gettext("groups funded") == "kelompok didanai"
        assert (locale / "id" / "LC_MESSAGES" / "kube_sim.mo").is_file()
    finally:
        i18n.translations.cache_clear()


# --- choosing the language ---------------------------------------------------------------------------

@pytest.mark.parametrize("argv, env", [(["--lang", "xx", "run"], None), (["run", "--lang=fr"], None),
                                       (["run"], "klingon")])
def test_an_unknown_language_gets_one_line_naming_the_option_and_the_choices(capsys, monkeypatch, argv, env):
    if env:
        monkeypatch.setenv(i18n.ENV_LANGUAGE, env)
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert ("--lang" if env is None else i18n.ENV_LANGUAGE) in err
    assert "en (English)" in err and "id (Bahasa Indonesia)" in err


def test_numbers_money_and_dates_follow_the_locale():
    i18n.set_language("id")
    assert formats.fmt_rp(2_110_587_679) == "Rp 2,11 miliar"
    assert formats.fmt_value("survival_36", 0.83) == "83,0%"
    assert formats.fmt_value("cost_total_rp", 2_110_587_679) == "Rp 2.110.587.679"
    assert formats.fmt_juta(1_592e6) == "Rp 1.592 juta"
    assert formats.fmt_date("2026-12-07T02:00:00Z") == "7 Desember 2026"
    assert formats.fmt_diff("survival_36", -0.0123) == "−1,2 poin persen"
    i18n.set_language("en")
    assert formats.fmt_rp(2_110_587_679) == "Rp 2.11 miliar"
    assert formats.fmt_value("survival_36", 0.83) == "83.0%"
    assert formats.fmt_value("cost_total_rp", 2_110_587_679) == "Rp 2,110,587,679"
    assert formats.fmt_date("2026-12-07") == "December 7, 2026"


# --- no English left in an Indonesian answer ---------------------------------------------------------

_IDENTIFIERS = re.compile(r"\S*[/_\\]\S*|--[\w-]+|\b\w+\.(?:png|csv|json|parquet|html|md|xlsx|toml)\b"
                          r"|^(?:threshold|frontier):(?= )", flags=re.MULTILINE)
"""Names, not English: paths, options, file names, keys, and a sweep's name opening its plan line."""

_SCENARIO_NAMES = re.compile(r"\b(?:" + "|".join(sorted(
    p.stem for p in (Path(__file__).resolve().parents[1] / "scenarios").glob("*.toml"))) + r")\b")
"""The shipped scenarios' code names as written (``baseline``): names too; their titles ("Baseline") are English."""


def _ids(message) -> list[str]:
    """The English of a catalog entry: its msgid, and its plural too for a message with plurals."""
    return [message.id] if isinstance(message.id, str) else list(message.id)


def _strings(message) -> str:
    return message.string if isinstance(message.string, str) else " ".join(message.string)


def english_left(text: str) -> list[str]:
    """Every catalog message whose English (any part of it between placeholders) appears in ``text``.

    File names, paths, options and dotted or snake_case keys are left out first: they are names, not English.
    """
    plain = _SCENARIO_NAMES.sub(" ", _IDENTIFIERS.sub(" ", text))
    found = []
    for message in _catalog():
        translated = _strings(message)
        if not message.id or translated in _ids(message):
            continue
        for literal, *_ in (part for msgid in _ids(message) for part in string.Formatter().parse(msgid)):
            fragment = literal.strip(" .,:;()[]'\"-+=")
            if not re.search(r"[A-Za-z]{2,}", fragment) or len(fragment) < 3 or fragment in translated:
                continue   # no word, or a word both languages use (KUBE, UEP, kecamatan)
            if re.search(rf"(?<![\w-]){re.escape(fragment)}(?![\w-])", plain, flags=re.IGNORECASE):
                found.append(fragment)
    return sorted(set(found))


def _answer(capsys, *argv: str) -> str:
    code = main(list(argv))
    out = capsys.readouterr()
    assert code == 0, out.err
    return out.out + out.err


def test_run_in_indonesian_holds_no_english_sentence(capsys, tmp_path):
    text = _answer(capsys, "run", "--lang", "id", "--months", "40", "--out", str(tmp_path / "run"))
    assert "kelompok didanai" in text and "Rp " in text
    assert english_left(text) == []
    english = _answer(capsys, "run", "--months", "40", "--no-plots", "--out", str(tmp_path / "en"))
    assert "groups funded" in english
    assert len(english_left(english)) > 10   # the walk finds English where there is some


def test_the_environment_variable_chooses_the_language(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv(i18n.ENV_LANGUAGE, "id")
    text = _answer(capsys, "run", "--months", "12", "--no-plots", "--out", str(tmp_path / "run"))
    assert "kelompok didanai" in text
    assert english_left(text) == []


ENGLISH_WORDS = ("the", "of", "and", "with", "households", "groups", "than", "costs", "runs", "within", "from",
                 "per year", "a year", "a month", "is", "are", "to", "each", "which", "not", "no")
"""Common English words that no Indonesian sentence of kube-sim holds (outside names, paths and options)."""


def english_lines(text: str) -> list[str]:
    """Lines of ``text`` holding a common English word (file names, paths, options and keys left out first)."""
    words = re.compile(r"(?<![\w-])(?:" + "|".join(re.escape(w) for w in ENGLISH_WORDS) + r")(?![\w-])",
                       flags=re.IGNORECASE)
    return [line for line in text.splitlines() if words.search(_IDENTIFIERS.sub(" ", line))]


def test_the_english_word_check_finds_english():
    assert english_lines("B costs Rp 3 juta less than A\nB lebih murah Rp 3 juta dibanding A") == [
        "B costs Rp 3 juta less than A"]
    assert english_lines("hasil di results/the_run/ (--no-plots)") == []


def test_compare_in_indonesian_holds_no_english_sentence(capsys, tmp_path):
    argv = ["compare", "baseline", "ratio_1_20", "--replications", "2", "--months", "40", "--no-progress",
            "--equal-cost", "--set", "facilitators.hours_per_month=20", "--out", str(tmp_path / "cmp")]
    text = _answer(capsys, "--lang", "id", *argv)
    assert "Saat ini (A: baseline" in text and "rumah tangga keluar dari kemiskinan per Rp 1 miliar" in text
    assert "peringatan" in text and "SK 95%" in text
    assert english_left(text) == []
    assert english_lines(text) == []
    english = _answer(capsys, *argv, "--overwrite")
    assert "Today (A: baseline" in english
    assert len(english_left(english)) > 20 and len(english_lines(english)) > 10


def test_the_local_figures_sources_in_the_catalog_are_the_parameters_own():
    from kube_sim.model.parameters import PARAMETER_SPECS
    from kube_sim.reporting.today import LOCAL_KEYS, LOCAL_SOURCES

    assert LOCAL_SOURCES == tuple(PARAMETER_SPECS[key].source for key in LOCAL_KEYS)


def test_threshold_in_indonesian_holds_no_english_sentence(capsys, tmp_path):
    argv = ["threshold", "--caseloads", "5,10,20", "--replications", "2", "--no-progress", "--workers", "1",
            "--out", str(tmp_path / "thr")]
    text = _answer(capsys, "--lang", "id", *argv)
    assert "kelompok per pendamping" in text and "Saat ini (baseline, baris 1:10" in text
    assert english_left(text) == [] and english_lines(text) == []
    english = _answer(capsys, *argv, "--overwrite")
    assert "groups per facilitator" in english and len(english_lines(english)) > 5


def test_frontier_in_indonesian_holds_no_english_sentence(capsys, tmp_path):
    argv = ["frontier", "--years", "2", "--months", "30", "--replications", "2", "--facilitator-shares", "0,0.1,0.3",
            "--equipment-shares", "0,0.3", "--workers", "1", "--no-progress", "--out", str(tmp_path / "fr")]
    text = _answer(capsys, "--lang", "id", *argv)
    assert "alokasi saat ini" in text and "per Rp 1 miliar" in text
    assert english_left(text) == [] and english_lines(text) == []
    english = _answer(capsys, *argv, "--overwrite")
    assert "today's allocation" in english and len(english_lines(english)) > 5


def _without_names(text: str) -> str:
    """The report without the code's own names, which stay as they are in every language: a table cell holding
    a parameter's dotted key (``members.dropout_probability``) or an output column's key, and a dotted key in a
    parameter's meaning."""
    from kube_sim.common.outputs import BY_COLUMN
    from kube_sim.model.parameters import PARAMETER_SPECS

    keys = {*BY_COLUMN, *PARAMETER_SPECS, "scenario"}
    text = re.sub(r"\b[a-z_]+\.[a-z_]+\b", lambda m: "" if m.group() in PARAMETER_SPECS else m.group(), text)
    return "\n".join("|".join("" if cell.strip() in keys else cell for cell in line.split("|"))
                     for line in text.splitlines())


def test_the_report_in_indonesian_holds_no_english_sentence(capsys, tmp_path):
    folder = tmp_path / "cmp"
    _answer(capsys, "compare", "baseline", "ratio_1_20", "--replications", "2", "--months", "40", "--no-progress",
            "--out", str(folder))
    said = _answer(capsys, "--lang", "id", "report", str(folder), "--out", str(tmp_path / "id"))
    assert english_left(said) == [] and english_lines(said) == []
    for name in ("report.md", "report.html"):
        text = (tmp_path / "id" / name).read_text(encoding="utf-8")
        if name.endswith(".html"):
            text = re.sub(r"<style>.*?</style>|base64,[^\"]*", "", text, flags=re.S)
            text = re.sub(r"</t[dh]>\s*<t[dh]>", " | ", text)
            text = re.sub(r"<tr>\s*<t[dh]>", "\n| ", re.sub(r"</t[dh]>\s*</tr>", " |\n", text))
            text = html.unescape(re.sub(r"<[^>]+>", "\n", text))
        text = _without_names(text)
        assert "Temuan utama" in text and "Perbandingan berpasangan skenario ratio_1_20" in text
        assert english_left(text) == [], name
        assert english_lines(text) == [], name
    assert '<html lang="id">' in (tmp_path / "id" / "report.html").read_text(encoding="utf-8")
    _answer(capsys, "report", str(folder), "--out", str(tmp_path / "en"))
    english = (tmp_path / "en" / "report.md").read_text(encoding="utf-8")
    assert "Key findings" in english and len(english_lines(_without_names(english))) > 20


GLOSSARY_TERMS = ("group", "facilitator", "kecamatan, village", "UEP grant", "equipment grant", "training",
                  "caseload, groups per facilitator", "poverty line", "poverty gap", "replication",
                  "households lifted out of poverty", "reference arm", "95% CI (in tables)")
"""Glossary rows whose Indonesian term every translation of the English term uses (one word, one term)."""


def test_the_catalog_uses_the_glossary_term_for_each_programme_word():
    from kube_sim.common.catalog import read_catalog

    text = (Path(__file__).parents[1] / "docs" / "GLOSSARY.md").read_text(encoding="utf-8")
    table = text[text.index("| English answer |"):].splitlines()[2:]
    glossary = {}
    for line in table:
        if not line.startswith("|"):
            break
        english, indonesian, _note = (cell.strip() for cell in line.strip("|").split("|"))
        glossary[english] = indonesian
    catalog = [m for m in read_catalog("id") if m.id and isinstance(m.id, str)]
    for row in GLOSSARY_TERMS:
        terms = [re.sub(r"\(.*?\)", "", t).strip() for t in row.split(",")]
        words = [t.strip().lower() for t in re.sub(r"\(.*?\)", "", glossary[row]).split(",")]
        used = [m for m in catalog if any(re.search(rf"\b{re.escape(t)}\b", m.id, re.I) for t in terms)]
        assert used, row
        astray = [m.id for m in used if not any(w in m.string.lower() for w in words)]
        assert astray == [], f"{row}: {glossary[row]} not used in {astray[:3]}"


@pytest.mark.parametrize(("argv", "toml"), [
    (["run", "--set", "members.dropout_probability=7"], None),
    (["run", "--set", "facilitators.groups_per_facilitatr=7"], None),
    (["run", "--set", "grants.equipment_rp"], None),
    (["run", "no_such_scenario"], None),
    (["run", "{file}"], '[members]\ndropout_probability = "x"\n'),
    (["run", "{file}"], "[member]\nx = 1\n"),
    (["run", "{file}"], "x = [\n"),
    (["run", "{file}"], "[business]\ntype_weights = [1, 2]\n"),
])
def test_bad_input_in_indonesian_is_one_indonesian_line(capsys, tmp_path, argv, toml):
    path = tmp_path / "bad.toml"
    if toml is not None:
        path.write_text(toml, encoding="utf-8")
    args = [a.replace("{file}", str(path)) for a in argv]
    assert main(["--lang", "id", *args]) == 2
    said = capsys.readouterr().err
    assert said.startswith("kube-sim: galat: ") and said.count("\n") == 1
    reason = re.sub(r"'[^']*'|\"[^\"]*\"", " ", said)  # the values typed are quoted as typed
    assert english_left(reason) == [] and english_lines(reason) == [], said
    assert main(args) == 2
    assert capsys.readouterr().err.startswith("kube-sim: error: ")


@pytest.mark.parametrize("csv_text", [
    "kecamatan,population,terrain,travel_hours\nA,100,coast,1\n",
    "kecamatan,population,terrain,travel_hours,villages\nA,100,moon,1,3\n",
    "kecamatan,population,terrain,travel_hours,villages\nA,-5,coast,1,3\n",
    "kecamatan,population,terrain,travel_hours,villages\nA,100,coast,x,3\n",
    "kecamatan,population,terrain,travel_hours,villages,colour\nA,100,coast,1,3,red\n",
    "",
])
def test_a_bad_district_file_in_indonesian_is_one_indonesian_line(capsys, tmp_path, csv_text):
    path = tmp_path / "district.csv"
    path.write_text(csv_text, encoding="utf-8")
    assert main(["--lang", "id", "run", "--district", str(path)]) == 2
    said = capsys.readouterr().err
    assert said.startswith("kube-sim: galat: ") and said.count("\n") == 1
    assert "baris" in said or "kosong" in said
    reason = re.sub(r"'[^']*'|\"[^\"]*\"", " ", said)
    for column in COLUMNS:  # the file's own column names, as its header must spell them
        reason = re.sub(rf"\b{column}\b", " ", reason)
    assert english_left(reason) == [] and english_lines(reason) == [], said
