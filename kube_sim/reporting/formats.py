"""Numbers as people read them: shares as percentages, money in rupiah, p-values, parameter levels.

Each outcome is formatted by its declared kind (:mod:`kube_sim.common.outputs`); a column that is not
a declared outcome is shown as a plain number. Missing values (None, NaN) read "n/a".

Numbers follow the language spoken (:mod:`kube_sim.common.i18n`): rounding is the same in every
language, and Babel writes the rounded number with the locale's separators (``2.11`` in English,
``2,11`` in Bahasa Indonesia; ``2,110,587,679`` and ``2.110.587.679``), its percent sign and its
dates (``7 December 2026``, ``7 Desember 2026``).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from kube_sim.common.i18n import DEFAULT_LANGUAGE, N_, _, fmt_fixed, language, localize, ngettext
from kube_sim.common.outputs import kind_of
from kube_sim.reporting.tables import Num, Range

MISSING = N_("n/a")
"""The text of a missing value, in English (:func:`missing` gives it in the language spoken)."""


def missing() -> str:
    """The text of a missing value in the language spoken ("n/a"; "t/a" in Indonesian)."""
    return _(MISSING)


def fmt_signed(value: float, decimals: int = 1) -> str:
    """A number with its sign always shown: ``+1,234.5`` and ``-0.3`` (``+1.234,5`` in Indonesian).

    Args:
        value: The number.
        decimals: Digits after the decimal point.

    Returns:
        The text.
    """
    text = f"{float(value):+.{decimals}f}"
    return Num(text[0] + fmt_fixed(abs(float(value)), decimals), float(value))


def fmt_percent(value: float, decimals: int = 1) -> str:
    """A share as a percentage: ``83.0%`` (``83,0%`` in Indonesian).

    Args:
        value: The share (0 to 1).
        decimals: Digits after the decimal point.

    Returns:
        The text.
    """
    text = f"{float(value):.{decimals}%}"
    if language() != DEFAULT_LANGUAGE:
        text = localize(text.removesuffix("%")) + "%"
    return Num(text, float(value))


def fmt_date(value: str | dt.date | dt.datetime | None = None) -> str:
    """A date as the language writes it: ``7 December 2026`` (``7 Desember 2026``).

    Args:
        value: A date, a datetime or an ISO 8601 text (default: today).

    Returns:
        The text (the value as given when it is not a date).
    """
    from babel.dates import format_date

    if value is None:
        value = dt.date.today()
    if isinstance(value, str):
        text = value
        try:
            value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return text
    if isinstance(value, dt.datetime):
        value = value.date()
    return format_date(value, format="long", locale=language())


def finite(x: Any) -> bool:
    """Whether a value is a finite number.

    Args:
        x: Anything.

    Returns:
        False for None, NaN, infinities and non-numbers.
    """
    try:
        return x is not None and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def _number(v: float) -> str:
    if abs(v) >= 100 or v == int(v):
        return fmt_fixed(v, 0) if v == int(v) else fmt_fixed(v, 1)
    return _significant(v)


def _significant(v: float, digits: int = 3) -> str:
    """A number to ``digits`` significant digits in plain notation (0.0000593, never 5.93e-05)."""
    if v == 0 or not math.isfinite(v):
        return "0" if v == 0 else str(v)
    if abs(v) >= 10 ** digits:
        return fmt_fixed(v, 0)
    return localize(np.format_float_positional(v, precision=digits, unique=False, fractional=False, trim="-"))


def fmt_number(value: float, digits: int = 3) -> str:
    """A number to ``digits`` significant digits in plain notation (``18,800``, ``0.0000593``; never ``1.88e+04``).

    Args:
        value: The number.
        digits: Significant digits.

    Returns:
        The text.
    """
    return Num(_significant(float(value), digits), float(value))


def fmt_rp(value: Any, signed: bool = False) -> str:
    """An amount of money as a head of office says it: ``Rp 5 juta``, ``Rp 1.99 miliar``, ``Rp 70,601``.

    Args:
        value: Rupiah.
        signed: Show ``+`` before a positive amount (for differences).

    Returns:
        Rp miliar (thousand millions) from Rp 1 miliar, Rp juta (millions) from Rp 1 juta, whole rupiah
        below, with a minus sign when negative ("n/a" when missing).
    """
    if not finite(value):
        return missing()
    v = float(value)
    sign, a = ("−" if v < 0 else "+" if signed and v > 0 else ""), abs(v)
    for size, word in ((1e9, "miliar"), (1e6, "juta")):
        if a >= size * 0.9995:
            return Num(f"{sign}Rp {_significant(a / size)} {word}", v)
    return Num(f"{sign}Rp {fmt_fixed(a, 0)}", v)


def fmt_juta(value: Any, signed: bool = False) -> str:
    """Rupiah always in juta (millions), e.g. ``Rp 708 juta``, ``Rp 1,592 juta`` or ``+Rp 12.5 juta``.

    For columns that should read on one scale (:func:`fmt_rp` switches to miliar from Rp 1 miliar).

    Args:
        value: Rupiah.
        signed: Show the sign (for differences).

    Returns:
        Text ("n/a" when missing).
    """
    if not finite(value):
        return missing()
    v = float(value) / 1e6
    digits = 0 if abs(v) >= 100 else 1
    text = f"Rp {fmt_fixed(abs(v), digits)} juta"
    if not signed:
        return Num(text if v >= 0 else "−" + text, float(value))
    return Num(("+" if v > 0 else "−" if v < 0 else "±") + text, float(value))


def fmt_setting(key: str, value: Any) -> str:
    """A parameter's value as a planner reads it: money (keys ending ``_rp``) in Rp juta, else :func:`fmt_level`.

    Args:
        key: Dotted parameter key (or a factor name).
        value: Its value.

    Returns:
        The text, e.g. ``Rp 5 juta`` for ``grants.equipment_rp = 5000000``.
    """
    if str(key).endswith("_rp") and isinstance(value, int | float | np.number) and not isinstance(value, bool):
        return fmt_rp(value)
    return fmt_level(value)


def _exact(text: str, value: Any) -> str:
    """The text of a value, carrying the value itself for tables written to a workbook (see :class:`Num`)."""
    return Num(text, float(value)) if finite(value) else text


def _by_kind(outcome: str, value: Any, share: Callable[[float], str], rp: Callable[[float], str],
             other: Callable[[float], str]) -> str:
    """Format a value with the function for its outcome's kind ("n/a" when missing)."""
    if not finite(value):
        return missing()
    kind = kind_of(outcome)
    return (share if kind == "share" else rp if kind == "rp" else other)(float(value))


def fmt_value(outcome: str, value: Any) -> str:
    """Format one value of an outcome: percent for shares, ``Rp 1,234,567`` for money.

    Args:
        outcome: Outcome column.
        value: The value.

    Returns:
        The text ("n/a" when missing).
    """
    return _exact(_by_kind(outcome, value, fmt_percent, lambda v: f"Rp {fmt_fixed(v, 0)}", _number), value)


def fmt_ci(outcome: str, mean: Any, low: Any, high: Any) -> str:
    """Format a mean with its confidence interval, e.g. ``69.1% (66.0% to 72.3%)``.

    Args:
        outcome: Outcome column.
        mean: The mean.
        low: Lower end of the interval.
        high: Upper end of the interval.

    Returns:
        The text; just the mean when the interval is missing.
    """
    if not finite(mean):
        return missing()
    text = fmt_value(outcome, mean)
    if finite(low) and finite(high):
        text += " " + fmt_interval(fmt_value(outcome, low), fmt_value(outcome, high))
    return text


def fmt_range(low: str, high: str) -> str:
    """Two ends of a range in words: ``0.6 to 3.3`` (``0,6 sampai 3,3``).

    Args:
        low: The lower end, formatted.
        high: The upper end, formatted.

    Returns:
        The text.
    """
    return Range(_("{low} to {high}").format(low=low, high=high), low, high)


def fmt_interval(low: str, high: str) -> str:
    """An interval in brackets: ``(0.6 to 3.3)``.

    Args:
        low: The lower end, formatted.
        high: The upper end, formatted.

    Returns:
        The text.
    """
    return f"({fmt_range(low, high)})"


def fmt_diff(outcome: str, value: Any) -> str:
    """Format a difference with its sign: percentage points for shares, Rp for money.

    Args:
        outcome: Outcome column.
        value: The difference.

    Returns:
        The text.
    """
    def signed(text: Callable[[float], str]) -> Callable[[float], str]:
        return lambda v: ("+" if v > 0 else "−" if v < 0 else "±") + text(abs(v))

    other = _count if kind_of(outcome) == "count" else _significant
    return _exact(_by_kind(outcome, value, signed(lambda a: _("{points} pp").format(points=fmt_fixed(a * 100, 1))),
                           signed(lambda a: f"Rp {fmt_fixed(a, 0)}"), signed(other)), value)


def _count(a: float) -> str:
    """A count or a difference of counts: whole numbers as such, others to one decimal."""
    return fmt_fixed(a, 0) if a == int(a) else fmt_fixed(a, 1)


def fmt_p(p: Any) -> str:
    """Format a p-value (``<0.001`` for tiny ones).

    Args:
        p: The p-value.

    Returns:
        The text.
    """
    if not finite(p):
        return missing()
    return "<" + localize("0.001") if float(p) < 0.001 else fmt_fixed(float(p), 3)


def fmt_level(value: Any) -> str:
    """Format a parameter value: whole numbers with thousands separators, others to 4 significant digits.

    Args:
        value: A parameter value (number, bool or text).

    Returns:
        The text.
    """
    if isinstance(value, float) and value.is_integer():
        return fmt_fixed(value, 0)
    if isinstance(value, float):
        return _significant(value, 4) if abs(value) < 1000 else fmt_fixed(value, 0)
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return localize(f"{int(value):,}")
    return str(value)


def fmt_brief(outcome: str, value: Any) -> str:
    """Like :func:`fmt_value`, with money in Rp juta or miliar (``Rp 1.99 miliar``) for tables a planner scans.

    Args:
        outcome: Outcome column.
        value: The value.

    Returns:
        The text.
    """
    return fmt_rp(value) if kind_of(outcome) == "rp" else fmt_value(outcome, value)


def fmt_brief_diff(outcome: str, value: Any) -> str:
    """Like :func:`fmt_diff`, with money in Rp juta or miliar (``+Rp 94.2 juta``).

    Args:
        outcome: Outcome column.
        value: The difference.

    Returns:
        The text.
    """
    return fmt_rp(value, signed=True) if kind_of(outcome) == "rp" else fmt_diff(outcome, value)


def fmt_count(value: Any) -> str:
    """A count a planner says aloud: a whole number (``88``, ``1,234``; a mean over replications is rounded).

    Args:
        value: The count, or a mean of counts.

    Returns:
        The text ("n/a" when missing).
    """
    return Num(localize(f"{round(float(value)):,}"), float(value)) if finite(value) else missing()


def fmt_years(months: Any) -> str:
    """A period in the words of a budget: ``8 years``, ``1 year``, ``30 months``.

    Args:
        months: Length in months.

    Returns:
        The text.
    """
    m = int(months)
    if m % 12 == 0:
        years = m // 12
        return ngettext("{years} year", "{years} years", years).format(years=years)
    return _("{months} months").format(months=m)


def fmt_cost_period(total: Any, months: Any) -> str:
    """A cost with the period it covers and its yearly rate: ``Rp 2.11 miliar over 8 years, Rp 264 juta a year``.

    Args:
        total: Rupiah over the whole period.
        months: The period, in months.

    Returns:
        The text ("n/a" when the cost is missing).
    """
    if not finite(total) or not finite(months) or int(months) <= 0:
        return missing()
    return _("{total} over {period}, {yearly} a year").format(
        total=fmt_rp(total), period=fmt_years(months), yearly=fmt_rp(float(total) * 12 / int(months)))


def fmt_cost_diff(name: str, diff: Any, low: Any = None, high: Any = None) -> str:
    """A cost difference as a sentence that reads the right way: ``B costs Rp 94 juta more`` or ``... less``.

    Args:
        name: Who costs more or less (``B``, an option's name).
        diff: Its cost minus the reference's (Rp).
        low: Lower end of the difference's interval (optional).
        high: Upper end of the difference's interval (optional).

    Returns:
        The text, with the interval in the same direction when given.
    """
    if not finite(diff):
        return _("{name}'s cost difference is n/a").format(name=name)
    d = float(diff)
    if d == 0 and not (finite(low) and finite(high) and low != high):
        return _("{name} costs the same").format(name=name)
    message = _("{name} costs {amount} more") if d >= 0 else _("{name} costs {amount} less")
    text = message.format(name=name, amount=fmt_rp(abs(d)))
    return text + cost_interval(d, low, high)


def cost_interval(diff: float, low: Any, high: Any) -> str:
    """The interval of a cost difference, after it: `` (95% CI Rp 19.1 juta to Rp 50.6 juta)`` ("" without one).

    Args:
        diff: The difference (its sign says which end is read first).
        low: The interval's low end.
        high: Its high end.

    Returns:
        The interval with a leading space, or "" when either end is missing.
    """
    if not (finite(low) and finite(high)):
        return ""
    lo, hi = (float(low), float(high)) if diff >= 0 else (float(high), float(low))

    def end(v: float) -> str:
        return fmt_cost_change(v) if v != 0 else _("the same")

    if (lo > 0) != (hi > 0) or lo == 0:
        return " " + _("(95% CI {low} to {high})").format(low=end(lo), high=end(hi))
    return " " + _("(95% CI {low} to {high})").format(low=fmt_rp(abs(lo)), high=fmt_rp(abs(hi)))


def fmt_cost_change(diff: float) -> str:
    """An amount of money more or less, without who pays it: ``Rp 94 juta more``, ``Rp 3 juta less``.

    Args:
        diff: The difference (Rp); positive is more.

    Returns:
        The text.
    """
    message = _("{amount} more") if diff > 0 else _("{amount} less")
    return message.format(amount=fmt_rp(abs(float(diff))))


def fmt_per_budget(value: Any) -> str:
    """A count per unit of budget (per Rp 1 miliar): two significant digits, whole from 10 (``2.9``, ``31``).

    Args:
        value: The count per unit.

    Returns:
        The text ("n/a" when missing).
    """
    if not finite(value):
        return missing()
    v = float(value)
    return localize(f"{v:,.0f}") if abs(v) >= 10 else _significant(v, 2)
