"""The tables an answer shows, kept as tables so they can be written as a workbook or as CSV.

Every table a command prints (:func:`kube_sim.cli.common.render_table`) or a report writes is
recorded here while :func:`recording` is active, with its title, header and cells. A cell is text as
shown; :func:`cell_value` gives the number it stands for (``"83.0%"`` is 0.83, ``"+3.0 pp"`` is
0.03, ``"Rp 264 juta"`` is 264,000,000, ``"−1,234"`` is -1234), or the text itself when it is no
single number; a column of intervals (``"1.2 to 3.4"``) is written as two columns of numbers, its
low and high ends. A cell may carry its exact value (:class:`Num`; the formatters of
:mod:`kube_sim.reporting.formats` give one) or its ends (:class:`Range`), which are then used, so
a workbook holds the numbers at full precision, not as rounded for the screen.

:func:`write_xlsx` writes one sheet per table (numbers as numbers, bold headers);
:func:`write_csv` writes one file, or one per table named ``FILE-<table>.csv`` when there are
several. Both go through the atomic writer (:mod:`kube_sim.store.files`).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

CSV_RULE = ("one table: FILE itself; several: one file per table, FILE's name with the table's name added "
            "(out.csv gives out-compare.csv, out-value.csv, ...)")
"""How ``--csv`` names its files, for the help."""


class Num(str):
    """A cell's text as shown, carrying the exact number it stands for."""

    value: float | int | None

    def __new__(cls, text: str, value: float | int | None) -> Num:
        """Create the cell.

        Args:
            text: The text shown.
            value: The number (None: no number, the text is written).
        """
        cell = super().__new__(cls, text)
        cell.value = value
        return cell


class Range(str):
    """A range's text as shown (``1.2 to 3.4``), carrying its two ends (each a :class:`Num` where it was one)."""

    low: Any
    high: Any

    def __new__(cls, text: str, low: Any, high: Any) -> Range:
        """Create the cell.

        Args:
            text: The text shown.
            low: The lower end, as formatted.
            high: The upper end, as formatted.
        """
        cell = super().__new__(cls, text)
        cell.low, cell.high = low, high
        return cell


@dataclass
class Table:
    """One table: its title, column titles and cells."""

    title: str
    header: list[str]
    rows: list[list[Any]]


_recorded: list[Table] | None = None


@contextmanager
def recording() -> Iterator[list[Table]]:
    """Record every table shown while the block runs.

    Yields:
        The list the tables are added to.
    """
    global _recorded
    previous, _recorded = _recorded, []
    try:
        yield _recorded
    finally:
        _recorded = previous


def record(title: str, header: Sequence[Any], rows: Sequence[Sequence[Any]]) -> None:
    """Keep a table shown, when recording.

    Args:
        title: What the table is (its sheet's and file's name); "" gives ``table N``.
        header: Column titles.
        rows: Cells.
    """
    if _recorded is None:
        return
    _recorded.append(Table(title or f"table {len(_recorded) + 1}", [str(h) for h in header],
                           [list(r) for r in rows]))


_NUMBER = re.compile(r"^(?P<sign>[+\-−±]?)\s*(?P<rp>Rp\s*)?(?P<num>\d[\d.,\u00a0 ]*)\s*"
                     r"(?P<unit>%|pp|juta|miliar|ribu|rb|jt|M)?$")
_SCALE = {"ribu": 1000, "rb": 1000, "juta": 10**6, "jt": 10**6, "miliar": 10**9, "M": 10**9}


def cell_value(cell: Any) -> Any:
    """The value a cell is written as: its number when it is one, else its text.

    Args:
        cell: A cell as shown.

    Returns:
        An int or float, or the text (None for an empty cell or ``n/a``).
    """
    if isinstance(cell, Num):
        return cell.value if cell.value is not None else str(cell)
    if isinstance(cell, bool) or cell is None:
        return cell
    if isinstance(cell, (int, float)):
        return cell
    text = str(cell).strip()
    if text in ("", "n/a", "-", "—"):
        return None
    match = _NUMBER.match(text)
    if not match:
        return text
    number = _parse_number(match["num"].strip())
    if number is None:
        return text
    unit = match["unit"]
    if unit in ("%", "pp"):  # a share, or a difference of shares in percentage points
        number /= 100
    elif unit:
        number *= Decimal(_SCALE[unit])
    if match["sign"] in ("-", "−"):
        number = -number
    if unit not in ("%", "pp") and number == number.to_integral_value() and abs(number) < 2**53:
        return int(number)
    return float(number)


def _parse_number(text: str) -> Decimal | None:
    """A number written with the separators of the language spoken now (None when it is not one)."""
    from babel.numbers import NumberFormatError, parse_decimal

    from kube_sim.common.i18n import language

    try:
        return Decimal(parse_decimal(text.replace("\u00a0", "").replace(" ", ""), locale=language(), strict=True))
    except (NumberFormatError, ValueError):
        return None


def number_format(cell: Any) -> str | None:
    """The Excel number format for a cell shown as a percentage or in rupiah, else None."""
    text = str(cell).strip()
    if text.endswith(("%", "pp")):
        return "0.0%"
    if "Rp" in text:
        return "#,##0"
    return None


_INTERVAL = re.compile(r"^(?P<low>.+?) (?:to|sampai) (?P<high>.+)$")


def split_intervals(table: Table) -> Table:
    """The table with each column of intervals (``-1.2 to +3.4``) split into its low and high ends, as numbers.

    Args:
        table: A table as shown.

    Returns:
        A table whose interval columns are two columns each (``95% CI low``, ``95% CI high``).
    """
    def ends(cell: Any) -> tuple[Any, Any] | None:
        if isinstance(cell, Range):
            low, high = cell_value(cell.low), cell_value(cell.high)
        elif match := _INTERVAL.match(str(cell).strip()):
            low, high = cell_value(match["low"]), cell_value(match["high"])
        else:
            return None
        return (low, high) if all(isinstance(v, (int, float)) for v in (low, high)) else None

    header: list[str] = []
    columns: list[list[Any]] = []
    for i, title in enumerate(table.header):
        cells = [r[i] if i < len(r) else "" for r in table.rows]
        split = [ends(c) for c in cells]
        shown = [c for c in cells if cell_value(c) is not None]
        if shown and all(e is not None for e, c in zip(split, cells, strict=True) if cell_value(c) is not None):
            header += [f"{title} low", f"{title} high"]
            columns.append([e[0] if e else None for e in split])
            columns.append([e[1] if e else None for e in split])
        else:
            header.append(title)
            columns.append(cells)
    rows = [list(r) for r in zip(*columns, strict=True)] if columns else []
    return Table(table.title, header, rows)


def _sheet_names(tables: Sequence[Table]) -> list[str]:
    """Sheet names: the titles cut to Excel's 31 characters without its forbidden ones, made unique."""
    names: list[str] = []
    for table in tables:
        base = re.sub(r"[\[\]:*?/\\]", " ", table.title).strip()[:31] or "table"
        name, n = base, 2
        while name.lower() in (x.lower() for x in names):
            suffix = f" ({n})"
            name, n = base[: 31 - len(suffix)] + suffix, n + 1
        names.append(name)
    return names


def write_xlsx(path: Path, tables: Sequence[Table]) -> Path:
    """Write tables as an Excel workbook, one sheet per table, atomically.

    Args:
        path: The workbook.
        tables: The tables.

    Returns:
        ``path``.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from kube_sim.store.files import atomic_write

    tables = [split_intervals(t) for t in tables]
    book = Workbook()
    book.remove(book.active)
    for name, table in zip(_sheet_names(tables), tables, strict=True):
        sheet = book.create_sheet(name)
        sheet.append(table.header)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append([cell_value(c) for c in row])
            for cell, shown in zip(sheet[sheet.max_row], row, strict=False):
                fmt = number_format(shown) if isinstance(cell.value, (int, float)) else None
                if fmt:
                    cell.number_format = fmt
        for column, title in enumerate(table.header, start=1):
            width = max([len(str(title)), *(len(str(r[column - 1])) for r in table.rows if len(r) >= column)])
            sheet.column_dimensions[sheet.cell(1, column).column_letter].width = min(60, width + 2)
        sheet.freeze_panes = "A2"

    def write(tmp: Path) -> None:
        book.save(tmp)

    return atomic_write(path, write)


def csv_paths(path: Path, tables: Sequence[Table]) -> list[Path]:
    """Where ``--csv FILE`` writes each table (see :data:`CSV_RULE`).

    Args:
        path: The file given.
        tables: The tables.

    Returns:
        One path per table.
    """
    if len(tables) == 1:
        return [path]
    suffix = path.suffix or ".csv"
    out: list[Path] = []
    for table in tables:
        slug = re.sub(r"[^0-9a-z]+", "-", table.title.lower()).strip("-") or "table"
        candidate, n = path.with_name(f"{path.stem}-{slug}{suffix}"), 2
        while candidate in out:
            candidate, n = path.with_name(f"{path.stem}-{slug}-{n}{suffix}"), n + 1
        out.append(candidate)
    return out


def write_csv(path: Path, tables: Sequence[Table]) -> list[Path]:
    """Write tables as CSV (numbers as plain numbers), atomically.

    Args:
        path: The file given.
        tables: The tables.

    Returns:
        The files written.
    """
    from kube_sim.store.files import write_text

    paths = csv_paths(path, tables)
    tables = [split_intervals(t) for t in tables]
    for file, table in zip(paths, tables, strict=True):
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(table.header)
        for row in table.rows:
            writer.writerow(["" if (v := cell_value(c)) is None else v for c in row])
        write_text(file, buffer.getvalue())
    return paths
