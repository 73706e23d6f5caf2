"""The documents stay true to the code: parameter table, code paths, mechanisms and parameter keys."""

from __future__ import annotations

import importlib
import importlib.util
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kube_sim.model.parameters import PARAMETER_SPECS, SECTIONS

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
ODD = DOCS / "ODD.md"

STUDY_MECHANISMS: tuple[str, ...] = (
    "proposal -> village head -> agency",
    "NIK/KK verification; targeting accuracy",
    "quota: 2 villages per kecamatan per year",
    "max 10 members",
    "decree (Surat Penetapan)",
    "training before the business starts",
    "UEP grant",
    "facilitator 1:10 groups, part-time",
    "facilitator mediates, escalates to agency",
    "coordination & mentoring pattern with targets",
    "natural-resource fit",
    "1-3 of 10 members inactive",
    "missing equipment, saving to buy it",
    "groups not accompanied fail",
)
"""The mechanisms the study asks of the model (the domain brief, section 3), by their seed finding."""

FILE_SUFFIXES = {"py", "md", "toml", "txt", "csv", "json", "parquet", "png", "svg", "pdf", "yaml", "yml"}
CODE_SPAN = re.compile(r"`([^`\n]+)`")
DOTTED = re.compile(r"\b[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")
LOWER_PAIR = re.compile(r"[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*")


def _load_table_script():
    spec = importlib.util.spec_from_file_location("make_parameter_table", DOCS / "make_parameter_table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _table_rows(text: str) -> list[list[str]]:
    """Cells of every Markdown table row in ``text`` (header and separator rows included)."""
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("|") and line.endswith("|"):
            rows.append([cell.strip() for cell in line[1:-1].split("|")])
    return rows


def _section(text: str, heading_prefix: str) -> str:
    """The text under the level-2 heading that starts with ``heading_prefix``, up to the next one."""
    match = re.search(rf"^## {re.escape(heading_prefix)}.*?$(.*?)(?=^## |\Z)", text, flags=re.M | re.S)
    assert match, f"no section '## {heading_prefix}'"
    return match.group(1)


def _normalise(text: str) -> str:
    return " ".join(text.split()).lower()


def _mechanism_tables(odd: str) -> str:
    return _section(odd, "8. Mechanisms from the study") + _section(odd, "9. The study's roles and factors")


def _resolve(path: str) -> object:
    """Import the longest importable module prefix of a dotted path and getattr the rest."""
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            obj = getattr(obj, name)
        return obj
    raise ImportError(path)


def test_state_table_is_up_to_date():
    spec = importlib.util.spec_from_file_location("make_state_table", DOCS / "make_state_table.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    written = (DOCS / "STATE.md").read_text(encoding="utf-8")
    assert written == script.render(), "docs/STATE.md is stale: run python docs/make_state_table.py"
    for _, table, _ in script.TABLES:
        for name, column in table.columns.items():
            assert f"| `{name}` | {np.dtype(column.dtype).name} | {column.unit} |" in written, name


def test_parameter_table_is_up_to_date():
    script = _load_table_script()
    written = (DOCS / "PARAMETERS.md").read_text(encoding="utf-8")
    assert written == script.render(), "docs/PARAMETERS.md is stale: run python docs/make_parameter_table.py"
    for key in PARAMETER_SPECS:
        assert f"`{key}`" in written


def test_parameter_table_check_flag(tmp_path):
    script = _load_table_script()
    target = tmp_path / "PARAMETERS.md"
    assert script.main(["--check", "--output", str(target)]) == 1
    assert script.main(["--output", str(target)]) == 0
    assert script.main(["--check", "--output", str(target)]) == 0
    target.write_text(target.read_text(encoding="utf-8") + "edited\n", encoding="utf-8")
    assert script.main(["--check", "--output", str(target)]) == 1


def test_markdown_escaping_keeps_table_cells():
    script = _load_table_script()
    assert script.escape("a | b") == "a \\| b"
    assert script.escape("x_y *z*") == "x\\_y \\*z\\*"


def test_code_paths_in_mechanism_tables_resolve():
    odd = ODD.read_text(encoding="utf-8")
    tables = _mechanism_tables(odd)
    paths = {span for span in CODE_SPAN.findall(tables) if span.startswith("kube_sim.")}
    assert len(paths) >= 15, "the mechanism tables name too few code paths"
    everywhere = {span for span in CODE_SPAN.findall(odd) if span.startswith("kube_sim.")}
    failures = []
    for path in sorted(paths | everywhere):
        try:
            _resolve(path)
        except (ImportError, AttributeError) as error:
            failures.append(f"{path}: {error}")
    assert not failures, "unresolvable code paths in docs/ODD.md:\n" + "\n".join(failures)


def _mechanism_rows() -> list[list[str]]:
    rows = _table_rows(_section(ODD.read_text(encoding="utf-8"), "8. Mechanisms from the study"))
    assert rows and _normalise(rows[0][0]) == "seed finding"
    return rows[2:]


def test_every_study_mechanism_has_a_row():
    first_column = [_normalise(row[0]) for row in _mechanism_rows()]
    missing = [finding for finding in STUDY_MECHANISMS if _normalise(finding) not in first_column]
    assert not missing, f"study mechanisms missing from ODD.md's mechanism table: {missing}"
    extra = sorted(set(first_column) - {_normalise(finding) for finding in STUDY_MECHANISMS})
    assert not extra, f"rows in ODD.md's mechanism table that are not study mechanisms: {extra}"


@pytest.mark.parametrize("finding", STUDY_MECHANISMS)
def test_each_mechanism_is_carried_by_code_and_parameters(finding):
    row = next(row for row in _mechanism_rows() if _normalise(row[0]) == _normalise(finding))
    assert len(row) == 5 and all(row), f"incomplete mechanism row: {row}"
    code = [span for span in CODE_SPAN.findall(row[2]) if span.startswith("kube_sim.")]
    assert code, f"no code path for {finding}"
    for path in code:
        assert callable(_resolve(path)) or isinstance(_resolve(path), type), f"{path} is not code"
    keys = CODE_SPAN.findall(row[3])
    assert keys and all(key in PARAMETER_SPECS for key in keys), f"unknown parameters for {finding}: {keys}"


def test_roles_and_factors_are_all_mapped():
    rows = _table_rows(_section(ODD.read_text(encoding="utf-8"), "9. The study's roles and factors"))
    labels = {_normalise(row[0]) for row in rows[2:]}
    expected = ({f"role {i}" for i in range(1, 4)} | {f"supporting factor {i}" for i in range(1, 5)}
                | {f"inhibiting factor {i}" for i in range(1, 4)})
    assert expected <= labels, f"missing: {sorted(expected - labels)}"
    for row in rows[2:]:
        assert "`kube_sim." in row[3], f"no code path for {row[0]}"


def _parameter_keys_mentioned(text: str) -> set[str]:
    """Dotted parameter keys a document mentions in code spans or fenced blocks."""
    found = set()
    blocks = re.findall(r"^```.*?$(.*?)^```", text, flags=re.M | re.S)
    inline = CODE_SPAN.findall(re.sub(r"^```.*?^```", "", text, flags=re.M | re.S))
    for span in inline:
        if LOWER_PAIR.fullmatch(span) and span.rsplit(".", 1)[1] not in FILE_SUFFIXES:
            found.add(span)  # a whole span of the form word.word is meant as a parameter key
    for chunk in inline + blocks:
        for token in DOTTED.findall(chunk):
            head, _, rest = token.partition(".")
            if head in SECTIONS and rest.split(".")[-1] not in FILE_SUFFIXES:
                found.add(token)
    return found


@pytest.mark.parametrize("name", ["ODD.md", "GLOSSARY.md", "threshold.md", "frontier.md", "compare.md", "report.md"])
def test_parameter_keys_in_docs_exist(name):
    keys = _parameter_keys_mentioned((DOCS / name).read_text(encoding="utf-8"))
    unknown = sorted(key for key in keys if key not in PARAMETER_SPECS)
    assert not unknown, f"docs/{name} names unknown parameters: {unknown}"
    if name == "ODD.md":
        assert len(keys) > 40


def test_key_detection_catches_a_typo():
    text = "See `facilitators.groups_per_facilitatr` and\n```\np = groups.conflict_probabilty x 2\n```\n"
    assert _parameter_keys_mentioned(text) == {"facilitators.groups_per_facilitatr", "groups.conflict_probabilty"}


def test_validation_tables_agree_with_their_results():
    spec = importlib.util.spec_from_file_location("make_validation_docs", DOCS / "make_validation_docs.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    written = (DOCS / "VALIDATION.md").read_text(encoding="utf-8")
    assert written == script.render(written), "docs/VALIDATION.md is stale: run python docs/make_validation_docs.py"
    from kube_sim.analysis.patterns import RESULT_COLUMNS
    from kube_sim.experiments.validation import CHECKS, FITTED_PATTERNS

    table = pd.read_csv(DOCS / "data" / "validation.csv")
    assert list(table.columns) == list(RESULT_COLUMNS)
    assert list(table["pattern"]) == [c.pattern for c in CHECKS], "re-run the validation: the checks changed"
    assert list(table["role"]) == [c.role(FITTED_PATTERNS) for c in CHECKS]
    assert list(table["grade"]) == [c.grade for c in CHECKS]
    loo = pd.read_csv(DOCS / "data" / "leave_one_out.csv")
    assert list(loo["pattern"]) == list(FITTED_PATTERNS)


def test_policy_sensitivity_summaries_cover_every_policy_effect():
    from kube_sim.analysis.sensitivity import EFFECT_LABELS

    data = DOCS / "data"
    morris = pd.read_csv(data / "policy_sensitivity_morris.csv")
    sobol = pd.read_csv(data / "policy_sensitivity_sobol.csv")
    ends = pd.read_csv(data / "policy_sensitivity_ends.csv")
    for table in (morris, sobol, ends):
        assert set(EFFECT_LABELS) <= set(table["outcome"])
    assert ends["reverses"].dtype == bool and ends["halves"].dtype == bool
    assert (DOCS / "figures" / "policy_sensitivity.png").stat().st_size > 0
    assert "figures/policy_sensitivity.png" in (DOCS / "VALIDATION.md").read_text(encoding="utf-8")
