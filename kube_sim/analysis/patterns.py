"""Pattern-oriented validation: each pattern as a statistical check on a table of per-run measurements.

The measurements table has one row per run, with columns ``arm`` (the name of a set of parameter
changes), ``replication`` (the same seed in every arm, so arms are paired) and one column per
measurement. A :class:`Check` names a pattern, its source and how it is measured, and holds a rule:

* :class:`Band`: the mean over replications lies inside a target band (the Student-t interval is shown);
* :class:`Exceeds`: the whole 95% interval lies above a threshold;
* :class:`StratifiedRateRatio`: a ratio of event rates pooled over the runs and compared within
  strata (Mantel-Haenszel), so that strata holding only one of the two states (an age no visited
  group reaches) do not bias it; with one stratum it is the plain pooled rate ratio (Poisson interval
  on the log scale);
* :class:`PairedRatio`: the geometric mean, over replications, of arm / reference lies inside a band;
* :class:`Direction`: the mean (of a measurement, or of the paired difference arm - reference) has the
  expected sign and a two-sided t-test rejects zero at 5%.

A check passes or fails; it is ``n/a`` when the measurement cannot be estimated (for instance
five-year survival in runs shorter than five years). Each check also says what its verdict is worth:
its *role* (``fitted``: a calibration target, so passing it is no evidence; ``independent``: the
calibration never saw it; ``built in``: the direction is written into a rule of the model, so it
confirms the code rather than the world) and the *grade* of its source (``study``: the Polewali
Mandar study's own statement; ``data``: a count from another district, with its citation;
``assumption``: a band someone set, with who and why). A failing check reads differently by grade:
against the study or data the model is wrong; against an assumption the model or the assumption is.
Nothing here runs or imports the model.

References:
    Grimm, V. et al. (2005). Pattern-oriented modeling of agent-based complex systems. *Science*
    310(5750), 987-991.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from kube_sim.analysis.statistics import t_interval

ALPHA = 0.05
"""Significance level of the directional tests; intervals are at 1 - ALPHA."""

CONFIDENCE = 1.0 - ALPHA

PASS, FAIL, NOT_ESTIMABLE = "pass", "fail", "n/a"

RESULT_COLUMNS: tuple[str, ...] = (
    "pattern", "target", "source", "measured_as", "arm", "n", "estimate", "ci_low", "ci_high", "p_value", "result",
    "unit", "difference", "role", "grade", "basis", "reading",
)
"""Columns of the validation table, in order."""

FITTED, INDEPENDENT, BUILT_IN = "fitted", "independent", "built in"
ROLES: tuple[str, ...] = (FITTED, INDEPENDENT, BUILT_IN)
"""What a check's verdict is worth: a calibration target, a prediction the fit never saw, or a direction
a rule of the model writes in."""

STUDY, DATA, ASSUMPTION = "study", "data", "assumption"
GRADES: tuple[str, ...] = (STUDY, DATA, ASSUMPTION)
"""Where a target comes from: the study's own statement, a count from elsewhere, or an assumption."""

READINGS: dict[tuple[str, str], str] = {
    (PASS, FITTED): "reproduced, but fitted: no evidence",
    (PASS, INDEPENDENT): "reproduced",
    (PASS, BUILT_IN): "reproduced, as the rule makes it",
    (FAIL, STUDY): "model disagrees with the study",
    (FAIL, DATA): "model disagrees with the data",
    (FAIL, ASSUMPTION): "misses an assumption: model or assumption wrong",
}
"""How a verdict reads, by result and role (a pass) or grade (a failure)."""


def reading(result: str, role: str, grade: str) -> str:
    """How a verdict reads: a pass by the check's role, a failure by its source's grade.

    Args:
        result: pass, fail or n/a.
        role: One of :data:`ROLES`.
        grade: One of :data:`GRADES`.

    Returns:
        A few words (``not estimable`` for n/a).
    """
    if result == PASS:
        return READINGS[(PASS, role)]
    if result == FAIL:
        return READINGS[(FAIL, grade)]
    return "not estimable"

UNITS: tuple[str, ...] = ("share", "pp", "rp", "ratio", "number")
"""How a check's values are shown: a share (as %), a difference of shares (percentage points), rupiah,
a ratio (x) or a plain number."""


@dataclass(frozen=True)
class Estimate:
    """What a rule found.

    Attributes:
        n: Replications (or runs) used.
        estimate: The point estimate.
        ci_low: Lower end of its 95% interval.
        ci_high: Upper end of its 95% interval.
        p_value: The test's p-value (directional checks only; NaN otherwise).
        passed: Whether the pattern is reproduced (None when it cannot be estimated).
    """

    n: int
    estimate: float
    ci_low: float
    ci_high: float
    p_value: float
    passed: bool | None


def format_value(value: float, unit: str, difference: bool = False) -> str:
    """Show a value in its unit: ``72.3%``, ``Rp 1.25 juta`` (``Rp 46,300`` below a million), ``2.10x``, ``0.123``.

    Args:
        value: The value.
        unit: One of :data:`UNITS`.
        difference: The value is a difference (shares shown in percentage points, with a sign).

    Returns:
        The text (``n/a`` for a missing value).
    """
    if value is None or not np.isfinite(value):
        return "n/a"
    if unit == "share" and not difference:
        return f"{100 * value:.1f}%"
    if unit in ("share", "pp"):
        return f"{100 * value:+.1f} pp"
    if unit == "rp":
        sign = "+" if difference else ""
        return f"Rp {value / 1e6:{sign}.2f} juta" if abs(value) >= 1e6 else f"Rp {value:{sign},.0f}"
    if unit == "ratio":
        return f"{value:.2f}x"
    return f"{value:+.3f}" if difference else f"{value:.3f}"


def _band_text(low: float, high: float, unit: str) -> str:
    if math.isinf(low):
        return f"<= {format_value(high, unit)}"
    if math.isinf(high):
        return f">= {format_value(low, unit)}"
    return f"{format_value(low, unit)} to {format_value(high, unit)}"


def _arm_values(table: pd.DataFrame, arm: str, column: str) -> pd.Series:
    """One arm's values of a measurement, indexed by replication (NaN where missing)."""
    if column not in table.columns:
        raise KeyError(f"no measurement {column!r} in the table")
    rows = table[table["arm"] == arm]
    return rows.set_index("replication")[column].astype(float)


def _finite(values: pd.Series | np.ndarray) -> np.ndarray:
    x = np.asarray(values, dtype=float)
    return x[np.isfinite(x)]


def _mean_interval(values: np.ndarray) -> tuple[int, float, float, float]:
    n, mean, _sd, low, high = t_interval(values, CONFIDENCE)
    return n, mean, low, high


@dataclass(frozen=True)
class Band:
    """The mean of a measurement in one arm lies in ``[low, high]``.

    Attributes:
        column: The measurement.
        arm: The arm.
        low: Lowest value of the target (``-inf`` for none).
        high: Highest value of the target (``inf`` for none).
    """

    column: str
    arm: str
    low: float = -math.inf
    high: float = math.inf

    def evaluate(self, table: pd.DataFrame) -> Estimate:
        """Estimate the mean with its t-interval and compare it with the band.

        Args:
            table: Per-run measurements.

        Returns:
            The estimate.
        """
        n, mean, low, high = _mean_interval(_finite(_arm_values(table, self.arm, self.column)))
        passed = None if not np.isfinite(mean) else bool(self.low <= mean <= self.high)
        return Estimate(n, mean, low, high, math.nan, passed)

    def target(self, unit: str) -> str:
        """The target as text."""
        return _band_text(self.low, self.high, unit)

    def arms(self) -> str:
        """The arm(s) compared."""
        return self.arm


@dataclass(frozen=True)
class Exceeds:
    """The 95% interval of a measurement's mean in one arm lies wholly above ``threshold``.

    Attributes:
        column: The measurement.
        arm: The arm.
        threshold: The value the interval must clear.
    """

    column: str
    arm: str
    threshold: float = 0.0

    def evaluate(self, table: pd.DataFrame) -> Estimate:
        """Estimate the mean with its t-interval and compare the interval with the threshold.

        Args:
            table: Per-run measurements.

        Returns:
            The estimate.
        """
        n, mean, low, high = _mean_interval(_finite(_arm_values(table, self.arm, self.column)))
        if not np.isfinite(mean):
            passed = None
        elif np.isfinite(low):
            passed = bool(low > self.threshold)
        else:  # one run, or no spread: the mean must clear the threshold on its own
            passed = bool(mean > self.threshold)
        return Estimate(n, mean, low, high, math.nan, passed)

    def target(self, unit: str) -> str:
        """The target as text."""
        return f"> {format_value(self.threshold, unit)} (whole interval)"

    def arms(self) -> str:
        """The arm(s) compared."""
        return self.arm


HAZARD_COUNTS: tuple[str, ...] = ("fail_unvisited", "months_unvisited", "fail_visited", "months_visited")
"""The four counts of a stratum of a rate ratio, as suffixes of its measurement columns."""


@dataclass(frozen=True)
class StratifiedRateRatio:
    """A rate ratio compared within strata (Mantel-Haenszel), pooled over the runs of one arm.

    Each stratum ``s`` has four count columns ``{prefix}{s}_{count}`` (:data:`HAZARD_COUNTS`): events
    and exposure in the exposed state, events and exposure in the reference state, each summed over the
    runs. The estimate is ``sum(a_s t0_s / T_s) / sum(b_s t1_s / T_s)``; strata with exposure in only
    one state carry no weight. The interval is ``exp(log RR ± z sd)`` with the variance of Greenland &
    Robins (1985), ``sum(t1_s t0_s (a_s + b_s) / T_s^2) / (sum(a_s t0_s / T_s) sum(b_s t1_s / T_s))``.

    Attributes:
        prefix: The columns' common start.
        strata: The strata's names.
        arm: The arm.
        low: Lowest ratio of the target.
        high: Highest ratio of the target.

    References:
        Greenland, S. & Robins, J. M. (1985). Estimation of a common effect parameter from sparse
        follow-up data. *Biometrics* 41(1), 55-68.
    """

    prefix: str
    strata: tuple[str, ...]
    arm: str
    low: float = -math.inf
    high: float = math.inf

    def evaluate(self, table: pd.DataFrame) -> Estimate:
        """Sum each stratum's counts over the runs, then estimate the common ratio and its interval.

        Args:
            table: Per-run measurements.

        Returns:
            The estimate (``n`` is the number of runs; NaN when no stratum holds both states).
        """
        numerator = denominator = variance = 0.0
        n = 0
        for stratum in self.strata:
            sums = [_finite(_arm_values(table, self.arm, f"{self.prefix}{stratum}_{c}")) for c in HAZARD_COUNTS]
            n = max(n, min(len(x) for x in sums))
            a, t1, b, t0 = (float(x.sum()) for x in sums)
            total = t1 + t0
            if t1 <= 0 or t0 <= 0:
                continue
            numerator += a * t0 / total
            denominator += b * t1 / total
            variance += t1 * t0 * (a + b) / total ** 2
        if denominator <= 0:
            return Estimate(n, math.nan, math.nan, math.nan, math.nan, None)
        ratio = numerator / denominator
        passed = bool(self.low <= ratio <= self.high)
        if numerator <= 0:
            return Estimate(n, ratio, math.nan, math.nan, math.nan, passed)
        half = stats.norm.ppf(0.5 + CONFIDENCE / 2) * math.sqrt(variance / (numerator * denominator))
        return Estimate(n, ratio, ratio * math.exp(-half), ratio * math.exp(half), math.nan, passed)

    def target(self, unit: str) -> str:
        """The target as text."""
        return _band_text(self.low, self.high, "ratio")

    def arms(self) -> str:
        """The arm(s) compared."""
        return self.arm


def _paired(table: pd.DataFrame, column: str, arm: str, reference: str) -> tuple[np.ndarray, np.ndarray]:
    """The two arms' values of the replications where both have the measurement."""
    both = pd.concat([_arm_values(table, arm, column).rename("a"),
                      _arm_values(table, reference, column).rename("b")], axis=1, join="inner").dropna()
    return both["a"].to_numpy(dtype=float), both["b"].to_numpy(dtype=float)


@dataclass(frozen=True)
class PairedRatio:
    """Geometric mean over replications of ``arm / reference`` lies in ``[low, high]``.

    Attributes:
        column: The measurement (positive).
        arm: The arm in the numerator.
        reference: The arm in the denominator, paired by replication.
        low: Lowest ratio of the target.
        high: Highest ratio of the target.
    """

    column: str
    arm: str
    reference: str
    low: float = -math.inf
    high: float = math.inf

    def evaluate(self, table: pd.DataFrame) -> Estimate:
        """Estimate the geometric mean ratio with a t-interval on the log scale.

        Args:
            table: Per-run measurements.

        Returns:
            The estimate (pairs where either value is not positive are left out).
        """
        a, b = _paired(table, self.column, self.arm, self.reference)
        keep = (a > 0) & (b > 0)
        n, mean, low, high = _mean_interval(np.log(a[keep] / b[keep]))
        if not np.isfinite(mean):
            return Estimate(n, math.nan, math.nan, math.nan, math.nan, None)
        ratio = math.exp(mean)
        return Estimate(n, ratio, math.exp(low) if np.isfinite(low) else math.nan,
                        math.exp(high) if np.isfinite(high) else math.nan, math.nan,
                        bool(self.low <= ratio <= self.high))

    def target(self, unit: str) -> str:
        """The target as text."""
        return _band_text(self.low, self.high, "ratio") + f" of {self.reference}"

    def arms(self) -> str:
        """The arm(s) compared."""
        return f"{self.arm} / {self.reference}"


def t_test(values: np.ndarray) -> tuple[int, float, float, float, float]:
    """Mean, t-interval and two-sided one-sample t-test against zero.

    When every value is the same the test is degenerate: p is 1 if they are all zero, else 0.

    Args:
        values: The sample (NaN left out).

    Returns:
        ``(n, mean, ci_low, ci_high, p_value)``.
    """
    x = _finite(values)
    n, mean, low, high = _mean_interval(x)
    if n < 2:
        return n, mean, low, high, math.nan
    scale = float(np.abs(x).max())
    if float(x.std(ddof=1)) <= 1e-12 * max(scale, 1e-300):
        return n, mean, low, high, 1.0 if abs(mean) <= 1e-12 * max(scale, 1e-300) else 0.0
    return n, mean, low, high, float(stats.ttest_1samp(x, 0.0).pvalue)


@dataclass(frozen=True)
class Direction:
    """A measurement (or the paired difference ``arm - reference``) is positive, or negative.

    Passes when the mean has the expected sign and the two-sided t-test over replications rejects
    zero at :data:`ALPHA`.

    Attributes:
        column: The measurement.
        arm: The arm.
        sign: +1 (expected above zero / above the reference) or -1 (below).
        reference: The arm to compare with, paired by replication (None: test the values themselves).
    """

    column: str
    arm: str
    sign: int
    reference: str | None = None

    def evaluate(self, table: pd.DataFrame) -> Estimate:
        """Estimate the mean (difference), its interval and the t-test.

        Args:
            table: Per-run measurements.

        Returns:
            The estimate.
        """
        if self.reference is None:
            values = _finite(_arm_values(table, self.arm, self.column))
        else:
            a, b = _paired(table, self.column, self.arm, self.reference)
            values = a - b
        n, mean, low, high, p = t_test(values)
        if not np.isfinite(mean) or not np.isfinite(p):
            return Estimate(n, mean, low, high, p, None)
        return Estimate(n, mean, low, high, p, bool(self.sign * mean > 0 and p < ALPHA))

    def target(self, unit: str) -> str:
        """The target as text."""
        word = "higher" if self.sign > 0 else "lower"
        if self.reference is None:
            return f"{'> 0' if self.sign > 0 else '< 0'} (t-test, p < {ALPHA:g})"
        return f"{word} than {self.reference} (paired t, p < {ALPHA:g})"

    def arms(self) -> str:
        """The arm(s) compared."""
        return self.arm if self.reference is None else f"{self.arm} - {self.reference}"


Rule = Band | Exceeds | StratifiedRateRatio | PairedRatio | Direction
"""Any of the check rules."""


@dataclass(frozen=True)
class Check:
    """One pattern to reproduce: what, how much, from where, measured how, and the rule deciding it.

    Attributes:
        pattern: What the model should show, in a few words.
        source: Where the target comes from (DOMAIN.md section and the source it cites).
        measured_as: How the simulated value is measured, in a few words.
        rule: The statistical rule (its arm(s), measurement and target).
        unit: How values are shown (one of :data:`UNITS`).
        grade: Where the target comes from (one of :data:`GRADES`).
        basis: For data, the citation; for an assumption, who set it and why; for the study, where it says so.
        built_in: The direction checked is written into a rule of the model (its role is then
            ``built in`` unless it is fitted).
    """

    pattern: str
    source: str
    measured_as: str
    rule: Rule
    unit: str = "number"
    grade: str = ASSUMPTION
    basis: str = ""
    built_in: bool = False

    def __post_init__(self) -> None:
        """Reject an unknown unit or grade."""
        if self.unit not in UNITS:
            raise ValueError(f"unit must be one of {', '.join(UNITS)}, got {self.unit!r}")
        if self.grade not in GRADES:
            raise ValueError(f"grade must be one of {', '.join(GRADES)}, got {self.grade!r}")

    def role(self, fitted: Collection[str] = ()) -> str:
        """The check's role, given the patterns a calibration fits.

        Args:
            fitted: The patterns (by name) the calibration fits.

        Returns:
            One of :data:`ROLES`.
        """
        if self.pattern in fitted:
            return FITTED
        return BUILT_IN if self.built_in else INDEPENDENT



def is_difference(check: Check) -> bool:
    """Whether a check's estimate is a difference (directional checks)."""
    return isinstance(check.rule, Direction)


def evaluate(checks: Sequence[Check], table: pd.DataFrame, fitted: Collection[str] = ()) -> pd.DataFrame:
    """Evaluate every check on a table of per-run measurements.

    Args:
        checks: The checks, in the order the table should show them.
        table: Per-run measurements: ``arm``, ``replication`` and the measurement columns.
        fitted: The patterns a calibration fits (their role is ``fitted``).

    Returns:
        One row per check, columns :data:`RESULT_COLUMNS` (``result`` is pass, fail or n/a;
        ``difference`` marks estimates that are differences; ``role``, ``grade``, ``basis`` and
        ``reading`` say what the verdict is worth).

    Raises:
        KeyError: If a check reads a measurement the table lacks.
    """
    rows = []
    for check in checks:
        found = check.rule.evaluate(table)
        result = NOT_ESTIMABLE if found.passed is None else PASS if found.passed else FAIL
        role = check.role(fitted)
        rows.append((check.pattern, check.rule.target(check.unit), check.source, check.measured_as,
                     check.rule.arms(), found.n, found.estimate, found.ci_low, found.ci_high, found.p_value,
                     result, check.unit, is_difference(check), role, check.grade, check.basis,
                     reading(result, role, check.grade)))
    return pd.DataFrame(rows, columns=list(RESULT_COLUMNS))
