"""Numbers as people read them: shares as percentages, money in rupiah, p-values, parameter levels.

Each outcome is formatted by its declared kind (:mod:`kube_sim.common.outputs`); a column that is not
a declared outcome is shown as a plain number. Missing values (None, NaN) read "n/a".
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from kube_sim.common.outputs import kind_of

MISSING = "n/a"


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
        return f"{v:,.0f}" if v == int(v) else f"{v:,.1f}"
    return _significant(v)


def _significant(v: float, digits: int = 3) -> str:
    """A number to ``digits`` significant digits in plain notation (0.0000593, never 5.93e-05)."""
    if v == 0 or not math.isfinite(v):
        return "0" if v == 0 else str(v)
    if abs(v) >= 10 ** digits:
        return f"{v:,.0f}"
    return np.format_float_positional(v, precision=digits, unique=False, fractional=False, trim="-")


def fmt_number(value: float, digits: int = 3) -> str:
    """A number to ``digits`` significant digits in plain notation (``18,800``, ``0.0000593``; never ``1.88e+04``).

    Args:
        value: The number.
        digits: Significant digits.

    Returns:
        The text.
    """
    return _significant(float(value), digits)


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
        return MISSING
    v = float(value)
    sign, a = ("−" if v < 0 else "+" if signed and v > 0 else ""), abs(v)
    for size, word in ((1e9, "miliar"), (1e6, "juta")):
        if a >= size * 0.9995:
            return f"{sign}Rp {_significant(a / size)} {word}"
    return f"{sign}Rp {a:,.0f}"


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
        return MISSING
    v = float(value) / 1e6
    digits = 0 if abs(v) >= 100 else 1
    text = f"Rp {abs(v):,.{digits}f} juta"
    if not signed:
        return text if v >= 0 else "−" + text
    return ("+" if v > 0 else "−" if v < 0 else "±") + text


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


def _by_kind(outcome: str, value: Any, share: Callable[[float], str], rp: Callable[[float], str],
             other: Callable[[float], str]) -> str:
    """Format a value with the function for its outcome's kind ("n/a" when missing)."""
    if not finite(value):
        return MISSING
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
    return _by_kind(outcome, value, lambda v: f"{v:.1%}", lambda v: f"Rp {v:,.0f}", _number)


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
        return MISSING
    text = fmt_value(outcome, mean)
    if finite(low) and finite(high):
        text += f" ({fmt_value(outcome, low)} to {fmt_value(outcome, high)})"
    return text


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
    return _by_kind(outcome, value, signed(lambda a: f"{a * 100:.1f} pp"), signed(lambda a: f"Rp {a:,.0f}"),
                    signed(other))


def _count(a: float) -> str:
    """A count or a difference of counts: whole numbers as such, others to one decimal."""
    return f"{a:,.0f}" if a == int(a) else f"{a:,.1f}"


def fmt_p(p: Any) -> str:
    """Format a p-value (``<0.001`` for tiny ones).

    Args:
        p: The p-value.

    Returns:
        The text.
    """
    if not finite(p):
        return MISSING
    return "<0.001" if float(p) < 0.001 else f"{float(p):.3f}"


def fmt_level(value: Any) -> str:
    """Format a parameter value: whole numbers with thousands separators, others to 4 significant digits.

    Args:
        value: A parameter value (number, bool or text).

    Returns:
        The text.
    """
    if isinstance(value, float) and value.is_integer():
        return f"{value:,.0f}"
    if isinstance(value, float):
        return _significant(value, 4) if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return f"{int(value):,}"
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
    return f"{round(float(value)):,}" if finite(value) else MISSING


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
        return f"{years} year" + ("" if years == 1 else "s")
    return f"{m} months"


def fmt_cost_period(total: Any, months: Any) -> str:
    """A cost with the period it covers and its yearly rate: ``Rp 2.11 miliar over 8 years, Rp 264 juta a year``.

    Args:
        total: Rupiah over the whole period.
        months: The period, in months.

    Returns:
        The text ("n/a" when the cost is missing).
    """
    if not finite(total) or not finite(months) or int(months) <= 0:
        return MISSING
    return f"{fmt_rp(total)} over {fmt_years(months)}, {fmt_rp(float(total) * 12 / int(months))} a year"


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
        return f"{name}'s cost difference is n/a"
    d = float(diff)
    if d == 0 and not (finite(low) and finite(high) and low != high):
        return f"{name} costs the same"
    word = "more" if d >= 0 else "less"
    text = f"{name} costs {fmt_rp(abs(d))} {word}"
    if finite(low) and finite(high):
        lo, hi = (float(low), float(high)) if d >= 0 else (float(high), float(low))

        def end(v: float) -> str:
            return f"{fmt_rp(abs(v))} {'more' if v > 0 else 'less'}" if v != 0 else "the same"

        text += f" (95% CI {end(lo)} to {end(hi)})" if (lo > 0) != (hi > 0) or lo == 0 else (
            f" (95% CI {fmt_rp(abs(lo))} to {fmt_rp(abs(hi))})")
    return text


def fmt_per_budget(value: Any) -> str:
    """A count per unit of budget (per Rp 1 miliar): two significant digits, whole from 10 (``2.9``, ``31``).

    Args:
        value: The count per unit.

    Returns:
        The text ("n/a" when missing).
    """
    if not finite(value):
        return MISSING
    v = float(value)
    return f"{v:,.0f}" if abs(v) >= 10 else _significant(v, 2)
