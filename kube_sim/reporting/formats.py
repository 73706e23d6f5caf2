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
    return f"{v:.3g}"


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

    return _by_kind(outcome, value, signed(lambda a: f"{a * 100:.1f} pp"), signed(lambda a: f"Rp {a:,.0f}"),
                    signed(lambda a: f"{a:.3g}"))


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
        return f"{value:,.4g}"
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return f"{int(value):,}"
    return str(value)
