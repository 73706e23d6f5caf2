"""District files: a planner's own district, as a CSV filled in a spreadsheet, one row per kecamatan.

The file has the columns ``kecamatan,population,terrain,travel_hours,villages`` (in any order,
any case) and optional settings in comment lines ``# key = value`` at the top::

    # name = Majene
    # poverty_line_rp = 461255
    kecamatan,population,terrain,travel_hours,villages
    Banggae,37333,coast,1,8
    Ulumanda,8266,mountain,4,8

``terrain`` is ``coast``, ``lowland`` or ``mountain`` (or pesisir, dataran rendah, pegunungan);
``travel_hours`` is a facilitator's travel per visit to a group there. An optional column
``village_names`` gives the kecamatan's villages by name, separated by ``|`` (as many names as
``villages``; an empty cell leaves that kecamatan's villages numbered). Without ``# name``, the
district is named after the file; without ``# poverty_line_rp``, ``poverty.line_rp_per_person``
keeps its value. Other comment lines (sources, notes) are ignored, but a comment of the form
``# word = value`` is a setting and must be one of :data:`SETTINGS`.

What spreadsheets do is forgiven: a byte-order mark, CRLF line ends, blank and all-empty rows,
spaces around cells, a semicolon or tab instead of a comma, trailing empty cells, and thousands
separators in whole numbers (``54,843``, ``54.843``, ``54 843``). What the file means is not
guessed: every problem raises :class:`~kube_sim.common.errors.InputError` naming the file, the row
(its line number) and the column.

A district is found like a scenario: by name (``majene``) in ``$KUBE_SIM_DISTRICTS`` or the
shipped folder ``kube_sim/shipped/districts/``, or by path (ending in ``.csv`` or holding a
folder separator). :func:`use_district` puts it into a scenario.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
import re
from collections.abc import Iterator
from pathlib import Path

from kube_sim.common import keys
from kube_sim.common.errors import InputError
from kube_sim.common.i18n import N_, _, localize, ngettext
from kube_sim.experiments.files import TomlFiles, display_path, read_text, suggestion
from kube_sim.experiments.scenario import Scenario
from kube_sim.model.geography import POLEWALI_MANDAR, TERRAINS, DistrictMap, Kecamatan
from kube_sim.model.parameters import make_parameters

COLUMNS: tuple[str, ...] = ("kecamatan", "population", "terrain", "travel_hours", "villages")
"""The columns a district file must have, each once."""

OPTIONAL_COLUMNS: tuple[str, ...] = ("village_names",)
"""Columns a district file may have, each once: the villages' names (``Lero|Ambo|Lapeo``)."""

VILLAGE_SEPARATOR = "|"
"""What separates the villages' names in a ``village_names`` cell."""

SETTINGS: tuple[str, ...] = ("name", "poverty_line_rp")
"""Settings a comment line may hold (``# name = Majene``)."""

TERRAIN_WORDS: dict[str, str] = {
    **{t: t for t in TERRAINS},
    "pesisir": "coast", "pantai": "coast",
    "dataran rendah": "lowland", "dataran_rendah": "lowland", "dataran": "lowland",
    "pegunungan": "mountain", "gunung": "mountain",
}
"""Words accepted in the terrain column (English or Indonesian), and the terrain each means."""

MAX_TRAVEL_HOURS = 24.0
"""Longest travel per visit accepted, in hours."""

MAX_VILLAGES = 10_000
"""Most villages accepted in one kecamatan."""

MAX_KECAMATAN = 1_000
"""Most kecamatan accepted in one district."""

DISTRICT_FILES = TomlFiles(kind=N_("district"), folder_name=N_("districts"), env="KUBE_SIM_DISTRICTS", suffix=".csv")
"""District files: by name in ``$KUBE_SIM_DISTRICTS`` or the shipped folder, or by path."""

DEFAULT_DISTRICT = "polewali_mandar"
"""The shipped file that holds the default district (the same as :data:`POLEWALI_MANDAR`)."""

_SETTING = re.compile(r"^#\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$")
_GROUPED = re.compile(r"^\d{1,3}(?:([,. _\u00a0\u202f'])\d{3})(?:\1\d{3})*$")
_WHOLE_FLOAT = re.compile(r"^\d+\.0+$")


def list_district_names() -> list[str]:
    """Return the names of the district files in the districts folder, sorted."""
    return DISTRICT_FILES.names()


def _grouped(value: int) -> str:
    """A whole number with the language's thousands separator."""
    return localize(f"{value:,}")


def _where(row: int, column: str | None = None) -> str:
    return _("row {row}").format(row=row) + (_(", column {column}").format(column=column) if column else "")


def _delimiter(lines: list[str]) -> str:
    """The delimiter of the header line: comma, semicolon or tab, whichever splits it into most cells."""
    for line in lines:
        text = line.strip()
        if text and not text.startswith("#") and text.strip(",;\t"):
            counts = {d: text.count(d) for d in (",", ";", "\t")}
            return max(counts, key=lambda d: (counts[d], d == ","))
    return ","


def _rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """Every row of the CSV with its line number, cells stripped; all-empty rows are skipped."""
    lines = text.splitlines()
    reader = csv.reader(io.StringIO("\n".join(lines)), delimiter=_delimiter(lines), skipinitialspace=True)
    try:
        for cells in reader:
            stripped = [c.strip() for c in cells]
            if any(stripped):
                yield reader.line_num, stripped
    except csv.Error as exc:
        raise InputError(_("malformed CSV: {why}").format(why=exc), key=_where(reader.line_num)) from None


def _whole(text: str, column: str, row: int, low: int, high: int) -> int:
    """A whole number, allowing thousands separators grouped in threes."""
    cleaned = text
    if _GROUPED.match(text):
        cleaned = re.sub(r"[,. _\u00a0\u202f']", "", text)
    elif _WHOLE_FLOAT.match(text):
        cleaned = text.split(".")[0]
    negative = cleaned.startswith("-") and cleaned[1:].replace(".", "", 1).isdigit()
    if negative:
        raise InputError(_("must be at least {low}, got {value} (it cannot be negative)").format(
            low=_grouped(low), value=repr(text)), key=_where(row, column))
    if not cleaned.isdigit():
        raise InputError(_("expected a whole number, got {value}").format(value=repr(text)), key=_where(row, column))
    value = int(cleaned)
    if value < low:
        raise InputError(_("{value} is below the minimum {low}").format(value=_grouped(value), low=_grouped(low))
                         + (_(" (it cannot be zero)") if low == 1 else ""),
                         key=_where(row, column))
    if value > high:
        raise InputError(_("{value} is above the maximum {high}").format(value=_grouped(value), high=_grouped(high)),
                         key=_where(row, column))
    return value


def _number(text: str, column: str, row: int, low: float, high: float, *, positive: bool = False) -> float:
    """A number such as ``1.5`` (or ``1,5`` with a decimal comma); ``1,500`` is refused as ambiguous."""
    cleaned = text.replace("\u00a0", "").replace(" ", "").replace("_", "")
    if "," in cleaned and "." not in cleaned:
        if re.fullmatch(r"-?\d+,\d{3}", cleaned):
            reason = _("ambiguous number {value}: write a decimal point (1.5) and no thousands separator")
            raise InputError(reason.format(value=repr(text)), key=_where(row, column))
        cleaned = cleaned.replace(",", ".", 1)
    try:
        value = float(cleaned)
    except ValueError:
        raise InputError(_("expected a number, got {value}").format(value=repr(text)),
                         key=_where(row, column)) from None
    if not math.isfinite(value):
        raise InputError(_("expected a finite number, got {value}").format(value=repr(text)), key=_where(row, column))
    if positive and value <= 0:
        raise InputError(_("must be above zero, got {value}").format(value=repr(text)), key=_where(row, column))
    if value < low:
        raise InputError(_("{value} is below the minimum {low} (it cannot be negative)").format(
            value=f"{value:g}", low=f"{low:g}"), key=_where(row, column))
    if value > high:
        raise InputError(_("{value} is above the maximum {high}").format(value=f"{value:g}", high=f"{high:g}"),
                         key=_where(row, column))
    return value


def _setting(cells: list[str], row: int, settings: dict[str, tuple[str, int]]) -> None:
    """Record a ``# key = value`` comment line's setting (other comments are ignored)."""
    text = ",".join(cells).rstrip(",; \t")
    match = _SETTING.match(text)
    if not match:
        return
    key, value = match.group(1).lower(), match.group(2).strip().strip('"').strip()
    if key not in SETTINGS:
        raise InputError(_("unknown setting{hint}").format(hint=suggestion(key, SETTINGS, N_("settings"))),
                         key=_where(row, key))
    if key in settings:
        raise InputError(_("set twice (first in row {row})").format(row=settings[key][1]), key=_where(row, key))
    if not value:
        raise InputError(_("expected a value after '='"), key=_where(row, key))
    settings[key] = (value, row)


def _header(cells: list[str], row: int) -> dict[str, int]:
    """The position of each column, checking that every column is there once and no other."""
    positions: dict[str, int] = {}
    known = {re.sub(r"\s+", "_", c.strip().lower()) for c in cells} & set(COLUMNS)
    if not known:
        raise InputError(_("no header: the first row that is not a comment must name the columns {columns}").format(
            columns=",".join(COLUMNS)), key=_where(row))
    for i, cell in enumerate(cells):
        name = re.sub(r"\s+", "_", cell.lstrip("\ufeff").strip().lower())
        if not name:
            if any(cells[i:]):
                raise InputError(_("column {i} has no name (columns: {columns})").format(
                    i=i + 1, columns=", ".join(COLUMNS)), key=_where(row))
            break
        if name not in COLUMNS + OPTIONAL_COLUMNS:
            hint = suggestion(name, COLUMNS + OPTIONAL_COLUMNS, N_("columns"))
            raise InputError(_("unknown column{hint}").format(hint=hint), key=_where(row, cell))
        if name in positions:
            raise InputError(_("appears twice in the header"), key=_where(row, name))
        positions[name] = i
    missing = [c for c in COLUMNS if c not in positions]
    if missing:
        raise InputError(ngettext("missing column {names} (the header needs {columns})",
                                  "missing columns {names} (the header needs {columns})", len(missing)).format(
            names=", ".join(missing), columns=",".join(COLUMNS)), key=_where(row))
    return positions


def _kecamatan(cells: list[str], row: int, positions: dict[str, int], width: int) -> Kecamatan:
    """One kecamatan row, checked."""
    extra = [c for c in cells[width:] if c]
    if extra:
        raise InputError(_("more cells than columns ({value} has no column; write numbers without a thousands "
                           "separator, or put them in quotes)").format(value=repr(extra[0])), key=_where(row))

    def cell(column: str) -> str:
        i = positions[column]
        value = cells[i] if i < len(cells) else ""
        if not value:
            raise InputError(_("missing value"), key=_where(row, column))
        return value

    name = re.sub(r"\s+", " ", cell("kecamatan"))
    population = _whole(cell("population"), "population", row, 1, 100_000_000)
    word = re.sub(r"\s+", " ", cell("terrain").lower())
    if word not in TERRAIN_WORDS:
        raise InputError(_("unknown terrain {value} (one of {choices})").format(value=repr(cell("terrain")),
                                                                             choices=", ".join(TERRAINS)),
                         key=_where(row, "terrain"))
    travel = _number(cell("travel_hours"), "travel_hours", row, 0.0, MAX_TRAVEL_HOURS)
    villages = _whole(cell("villages"), "villages", row, 1, MAX_VILLAGES)
    i = positions.get("village_names", -1)
    names = _village_names(cells[i] if 0 <= i < len(cells) else "", villages, row)
    return Kecamatan(name=name, population=population, terrain=TERRAIN_WORDS[word], travel_hours=travel,
                     villages=villages, village_names=names)


def _village_names(text: str, villages: int, row: int) -> tuple[str, ...]:
    """The villages' names of a ``village_names`` cell: none when empty, else one per village, each once."""
    if not text.strip():
        return ()
    names = [re.sub(r"\s+", " ", part).strip() for part in text.split(VILLAGE_SEPARATOR)]
    where = _where(row, "village_names")
    if len(names) != villages:
        raise InputError(ngettext("expected {n} village name separated by '{sep}' (villages = {n}), got {got}",
                                  "expected {n} village names separated by '{sep}' (villages = {n}), got {got}",
                                  villages).format(n=villages, sep=VILLAGE_SEPARATOR, got=len(names)), key=where)
    seen: dict[str, int] = {}
    for position, name in enumerate(names, 1):
        if not name:
            raise InputError(_("village name {i} is empty (names are separated by '{sep}')").format(
                i=position, sep=VILLAGE_SEPARATOR), key=where)
        if name.casefold() in seen:
            raise InputError(_("village {name} appears twice (names {first} and {i})").format(
                name=repr(name), first=seen[name.casefold()], i=position), key=where)
        seen[name.casefold()] = position
    return tuple(names)


def parse_district(text: str, source: str, default_name: str) -> DistrictMap:
    """Check the text of a district file and build the district.

    Args:
        text: The CSV text.
        source: The file as errors name it (and as the district records it).
        default_name: The district's name when the file has no ``# name`` line.

    Returns:
        The :class:`~kube_sim.model.geography.DistrictMap`.

    Raises:
        InputError: For an empty file, a missing, unknown or repeated column, a bad or missing value, an
            unknown terrain or setting, or a repeated kecamatan; the message names the row and column.
    """
    try:
        return _parse(text.lstrip("\ufeff"), source, default_name)
    except InputError as exc:
        raise exc.located(source) from None


def _parse(text: str, source: str, default_name: str) -> DistrictMap:
    settings: dict[str, tuple[str, int]] = {}
    positions: dict[str, int] | None = None
    width = 0
    kecamatan: list[Kecamatan] = []
    first_row: dict[str, int] = {}
    for row, cells in _rows(text):
        if cells[0].startswith("#"):
            _setting(cells, row, settings)
            continue
        if positions is None:
            positions = _header(cells, row)
            width = max(positions.values()) + 1
            continue
        k = _kecamatan(cells, row, positions, width)
        key = k.name.casefold()
        if key in first_row:
            raise InputError(_("kecamatan {name} appears twice (first in row {row})").format(
                name=repr(k.name), row=first_row[key]),
                             key=_where(row, "kecamatan"))
        first_row[key] = row
        kecamatan.append(k)
        if len(kecamatan) > MAX_KECAMATAN:
            raise InputError(_("more than {n} kecamatan").format(n=MAX_KECAMATAN), key=_where(row))
    if positions is None:
        raise InputError(_("empty: expected a header row {columns} and one row per kecamatan").format(
            columns=",".join(COLUMNS)))
    if not kecamatan:
        raise InputError(_("no kecamatan: add one row per kecamatan below the header"))
    name = settings["name"][0] if "name" in settings else default_name
    poverty = None
    if "poverty_line_rp" in settings:
        value, row = settings["poverty_line_rp"]
        poverty = _number(value, "poverty_line_rp", row, 0.0, math.inf, positive=True)
    return DistrictMap(name=name, kecamatan=tuple(kecamatan), poverty_line_rp=poverty, source=source)


def load_district(name_or_path: str | Path) -> DistrictMap:
    """Find, read and check a district file.

    Args:
        name_or_path: A district name (a file in the districts folder, e.g. ``"majene"``) or a path to a CSV file.

    Returns:
        The district; its ``source`` is the file's path.

    Raises:
        InputError: For a missing file, a file that is not UTF-8 text, or any problem :func:`parse_district` finds.
    """
    path = DISTRICT_FILES.find(name_or_path)
    source = display_path(path)
    district = parse_district(read_text(path, source), source, path.stem.replace("_", " ").title())
    return dataclasses.replace(district, source=str(path.resolve()))


def default_district() -> DistrictMap:
    """The district runs use unless told otherwise: Polewali Mandar (built in, the same as the shipped file)."""
    return POLEWALI_MANDAR


def use_district(scenario: Scenario, district: DistrictMap) -> Scenario:
    """Return a scenario run in another district.

    The district's name becomes ``district.name`` and its poverty line (when the file gives one)
    ``poverty.line_rp_per_person``, unless the scenario itself sets them; ``--set`` applied afterwards wins.
    The scenario's description names the new district in place of the one it was written for.

    Args:
        scenario: The scenario.
        district: The district.

    Returns:
        The scenario with the district in its parameters and the changes recorded as its overrides.
    """
    changes: dict[str, object] = {keys.DISTRICT_NAME: district.name}
    if district.poverty_line_rp is not None:
        changes[keys.POVERTY_LINE] = district.poverty_line_rp
    changes = {key: value for key, value in changes.items() if key not in scenario.overrides}
    base = dataclasses.replace(scenario.params, geography=district)
    origin = district.source or district.name
    old = scenario.params.district.name
    description = scenario.description
    if old != district.name:  # the scenario's words speak of the district it is now run in, and of no other
        description = description.replace(f"{old} as the study describes it",
                                          f"{district.name} under the programme rules of the field study")
        description = description.replace(old, district.name)
    return dataclasses.replace(
        scenario,
        description=description,
        params=make_parameters(changes, base=base),
        overrides={**scenario.overrides, **changes},
        sources={**scenario.sources, **dict.fromkeys(changes, origin)},
    )
