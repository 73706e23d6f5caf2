"""Validation runs: the study's findings and the calibration targets, as checks over paired replications.

:data:`ARMS` names the parameter changes the checks need (the baseline and one change per directional
pattern); :data:`CHECKS` declares every pattern once (what, target, source, how measured, rule). Every
arm runs the same replication seeds (common random numbers), so arms are paired. Each run is reduced
to one row of measurements (:func:`measure`); each finished row is appended to ``runs.jsonl`` in the
output folder at once, so a validation stopped at any moment resumes where it stopped. The checks
themselves are statistics on the measurements table (:mod:`kube_sim.analysis.patterns`).

Adding a check: append a :class:`~kube_sim.analysis.patterns.Check` to :data:`CHECKS`; if it needs a
new measurement, add it to :func:`measure`; if it needs a new parameter change, add an arm.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from tqdm import tqdm

from kube_sim.analysis.patterns import (
    HAZARD_COUNTS,
    Band,
    Check,
    Direction,
    Exceeds,
    PairedRatio,
    StratifiedRateRatio,
    evaluate,
)
from kube_sim.common import keys
from kube_sim.common.errors import InputError
from kube_sim.common.provenance import git_commit
from kube_sim.common.survival import SURVIVAL_HORIZONS, durations, survival_estimate
from kube_sim.experiments import batching
from kube_sim.experiments.executors import make_executor
from kube_sim.experiments.experiment import replication_seeds
from kube_sim.experiments.files import display_path
from kube_sim.model.codes import EventKind
from kube_sim.model.defaults import DEFAULT_MONTHS, DEFAULT_VALIDATION_REPLICATIONS
from kube_sim.model.geography import DistrictMap
from kube_sim.model.parameters import BUSINESS_TYPES, Parameters, batch_structure, make_parameters
from kube_sim.model.run import RunResult, run_batch, run_model
from kube_sim.store.files import jsonable

"""Replications per arm: 480 runs of 96 months, well under five minutes on two cores."""

BATCH_RUN_BYTES = 256 * 1024
"""About a quarter of the memory one district run of a batch takes (bytes): sizes validation batches."""

RUNS_FILE = "runs.jsonl"
"""The finished runs' measurements, one JSON object a line, appended as each run finishes."""

BASELINE = "baseline"

ARMS: dict[str, dict[str, Any]] = {
    BASELINE: {},
    "no_facilitators": {keys.CASELOAD: 0},
    "ratio_1_20": {keys.CASELOAD: 20},
    "needs_based": {keys.PATTERN: "needs_based"},
    "equipment_grant": {keys.EQUIPMENT: 7_000_000},
    "weak_targeting": {"members.eligible_share": 0.6, "agency.verification_catch_rate": 0.2},
    "no_training": {"training.enabled": False},
    "no_matching": {"agency.business_match_share": 0.0},
}
"""The arms: parameter changes from the base, by name. Every arm runs every replication seed."""

D3, D4, D4B, D5 = "DOMAIN.md s.3", "DOMAIN.md s.4", "DOMAIN.md s.4b", "DOMAIN.md s.5"

BRIEF_BAND = "set by the domain brief (DOMAIN.md s.4, marked A)"
"""Who set most assumed bands."""

AGE_STRATA: tuple[str, ...] = ("age_3_5", "age_6_8", "age_9_11", "age_12_14", "age_15_17", "age_18_23",
                               "age_24_35", "age_36_up")
"""Ages (months since funding) within which visited and unvisited group-months are compared: by
quarter over the first two years (the supported year and the quarters after it, when a group's last
visits still count), then by year. Before age 3 no group can have gone a quarter without contact (its
funding counts as one)."""

STRATUM_AGES: tuple[tuple[int, int], ...] = ((3, 5), (6, 8), (9, 11), (12, 14), (15, 17), (18, 23), (24, 35),
                                             (36, 10**6))
"""The ages of :data:`AGE_STRATA`, inclusive."""

SUPPORT_STATES: tuple[str, ...] = ("supported", "after")
"""Support status of a group-month: on a facilitator's caseload, or not (after support, or none)."""

HAZARD_STRATA: tuple[str, ...] = tuple(f"{age}_{state}" for age in AGE_STRATA for state in SUPPORT_STATES)
"""The strata of the visit-hazard comparison: age band x support status."""

CHECKS: tuple[Check, ...] = (
    Check("survival at 12 months", f"{D4}: derived from Kota Batu and Sleman (A)",
          "Kaplan-Meier share of groups active 12 months after funding", Band("survival_12", BASELINE, 0.70, 0.80),
          "share", "assumption", f"{BRIEF_BAND}, read off two districts' counts that give no curve"),
    Check("survival at 24 months", f"{D4}: derived from Kota Batu and Sleman (A)",
          "Kaplan-Meier share active 24 months after funding", Band("survival_24", BASELINE, 0.50, 0.60), "share",
          "assumption", f"{BRIEF_BAND}, read off two districts' counts that give no curve"),
    Check("survival at 36 months", f"{D4}: derived from Kota Batu and Sleman (A)",
          "Kaplan-Meier share active 36 months after funding", Band("survival_36", BASELINE, 0.30, 0.50), "share",
          "assumption", f"{BRIEF_BAND}, read off two districts' counts that give no curve"),
    Check("about half active of groups up to five years old", f"{D4}: Kota Batu, 21 of 42 active after <= 5 years "
          "(A: +/- 10 pp)", "share still active of groups formed one cohort a year over five years: mean of the "
          "Kaplan-Meier survival at ages 6, 18, 30, 42 and 54 months", Band("active_share_5y", BASELINE, 0.40, 0.60),
          "share", "data", "Kota Batu: 21 of 42 groups active after up to 5 years (ojs3.unismuh.ac.id/kolaborasi/"
          "4210); the +/- 10 pp band is this project's (sampling error of 42 groups is about 8 pp)"),
    Check("unaccompanied groups fail 2-3x as often", f"{D3} (A, consistent with Batu/Sleman); seed",
          "failures per group-month in the first 36 months, no facilitators / 1:10, paired",
          PairedRatio("failure_rate_36", "no_facilitators", BASELINE, 2.0, 3.0), "ratio", "assumption",
          "the study says unaccompanied groups fail, not how much more; 2-3x set by the domain brief "
          "(DOMAIN.md s.3) as consistent with Batu and Sleman"),
    Check("failure follows a quarter without a visit (2-3x)", f"{D3}; seed (facilitator, May 2021)",
          "failure hazard after 3 months unvisited / after a visit, compared within age (quarters of the "
          "supported year, then years) and support status, Mantel-Haenszel over pooled group-months",
          StratifiedRateRatio("visit_hazard_", HAZARD_STRATA, BASELINE, 2.0, 3.0), "ratio", "assumption",
          "direction from the study (facilitator, May 2021); the 2-3x size is the domain brief's (DOMAIN.md s.3)"),
    Check("many groups unaccompanied at 1:10, part-time", "seed: 'many KUBE are not accompanied' (A: >= 1 in 4)",
          "share of group-months on a caseload (ages 3 to the end of support) with no visit in the 3 months before",
          Band("share_unaccompanied", BASELINE, low=0.25), "share", "study",
          "seed (facilitator, May 2021): 'many KUBE are not accompanied', said of groups that have a "
          "facilitator; 'many' read as at least one in four by this project"),
    Check("1-3 of 10 members inactive in surviving groups", "seed (group chair, May 2021)",
          "inactive member-months / member-months, members of groups running at the end",
          Band("inactive_share", BASELINE, 0.10, 0.30), "share", "study", "seed (group chair, May 2021): 'in a "
          "group of 10, 1 to 3 members are not fully active'"),
    Check("inactivity persistent: the same members", "seed (group chair, May 2021) (A: >= half)",
          "share of those inactive member-months borne by members inactive >= half their months",
          Band("inactive_persistence", BASELINE, low=0.50), "share", "assumption",
          "this project's reading of the chair's statement (the same members, not everyone now and then); "
          "'at least half' is ours"),
    Check("proposals passing verification ~47%", f"{D4}: Pandeglang 2020, 123 of 260 (A: +/- 10 pp)",
          "proposals keeping >= the minimum members after NIK/KK checks / proposals received",
          Band("verification_pass_rate", BASELINE, 0.37, 0.57), "share", "data",
          "Pandeglang 2020: 123 of 260 proposals passed (bantenhits 2021); band +/- 10 pp by the domain brief"),
    Check("funded per round = quota x kecamatan", f"{D3}; seed (2 villages per kecamatan a year)",
          "groups funded per round / (villages per kecamatan x kecamatan)",
          Band("funded_per_quota", BASELINE, 0.90, 1.00), "share", "study",
          "seed (agency's head of empowerment, May 2021): 2 villages per kecamatan a year"),
    Check("cattle returns per group-month", f"{D4}: radarjatim (Rp 4 juta a year per bull) to Polbangtan Gowa "
          "(Rp 7.52 juta per head a cycle)", "net return (sales + stock - stock bought - inputs) / months running",
          Band("return_cattle_rp", BASELINE, 0.33e6, 2.5e6), "rp", "data",
          "radarjatim (one bull, Rp 16 juta to Rp 20 juta in a year); Polbangtan Gowa journal 2021 (Maros, Barru)"),
    Check("nursery returns per group-month", f"{D4}: A, group nets Rp 0.5-2 juta a month",
          "net return / months running, nursery groups", Band("return_nursery_rp", BASELINE, 0.5e6, 2.0e6), "rp",
          "assumption", f"{BRIEF_BAND}: no source found"),
    Check("kiosk returns per group-month", f"{D4}: A, group nets Rp 0.5-2 juta a month",
          "net return / months running, kiosk groups", Band("return_kiosk_rp", BASELINE, 0.5e6, 2.0e6), "rp",
          "assumption", f"{BRIEF_BAND}: no source found"),
    Check("income per member near Lombok's Rp 150k a month", f"{D4}: medcom 2018 (A: half to twice)",
          "group income per member-month, all members and months (mean_member_income_rp)",
          Band("mean_member_income_rp", BASELINE, 75_000, 300_000), "rp", "data",
          "laying hens, Lombok: net Rp 1.5 juta a month per group, about Rp 150k a member, after 10 months "
          "(medcom 2018); one group, so the band of half to twice is this project's"),
    Check("low-return businesses fail more", f"{D4}: netralnews (cattle KUBE lasted 2 years); seed",
          "24-month failure share after the first sale, lower half of first-cycle payout minus upper half "
          "(within business type)", Direction("low_return_failure_gap", BASELINE, +1), "share", "data",
          "one case: a cattle KUBE that lasted 2 years because not all members would collect fodder "
          "(netralnews, Sumedang)"),
    Check("poverty effect small, as matched studies find", f"{D4}: jurnal.umsu.ac.id/ekawan/9853; {D4B}: Suradi "
          "(A: < 5 pp)", "share of eligible member households above the poverty line at the end, with minus without "
          "group income", Band("poverty_effect", BASELINE, high=0.05), "pp", "data",
          "matched recipients no better off (jurnal.umsu.ac.id/ekawan/9853); Denpasar, KUBE 'not the main "
          "factor' (Suradi, Kemensos); the 5 pp bound is this project's"),
    Check("survival not rising steadily with group size", f"{D4}: Permensos 5-20, Polman max 10; seed (A: "
          "correlation <= 0.1)", "Spearman correlation of members at start with surviving 36 months, per run",
          Band("size_survival_correlation", BASELINE, high=0.10), "number", "assumption",
          "this project's: no source reports larger groups lasting longer (Permensos allows 5-20)"),
    Check("remote kecamatan go unvisited more", f"{D5}; seed inhibiting factor 3",
          "share of caseload group-months unvisited for a quarter, remote kecamatan (>= 2 h travel) minus the others",
          Direction("remote_unvisited_gap", BASELINE, +1), "share", "assumption",
          "this project's reading of DOMAIN.md s.5 (remote mountain kecamatan, longer travel) with the study's "
          "part-time facilitators: no count"),
    Check("remote kecamatan fail more", f"{D5}; seed inhibiting factor 3",
          "failure share within 36 months of funding, remote kecamatan minus the others (groups followed 36 months)",
          Direction("remote_failure_gap", BASELINE, +1), "share", "assumption",
          "this project's reading of DOMAIN.md s.5 with the seed's 'many KUBE are not accompanied, so they fail'"),
    Check("groups survive without facilitators", f"{D4}: Sleman (~350 running), Kota Batu",
          "Kaplan-Meier share active 36 months after funding, no facilitators",
          Exceeds("survival_36", "no_facilitators", 0.0), "share", "data",
          "Sleman: ~350 groups still running in 2017 with too few facilitators (solopos 2017); asks only > 0"),
    Check("more groups per facilitator -> fewer visits", D3, "visits per group-month, 1:20 - 1:10, paired",
          Direction("visits_per_group_month", "ratio_1_20", -1, BASELINE), "number", "study",
          "seed inhibiting factor 3 (1:10 is hard); the caseload divides the facilitator's hours", built_in=True),
    Check("more groups per facilitator -> lower survival", f"{D3}; seed", "survival at 36 months, 1:20 - 1:10",
          Direction("survival_36", "ratio_1_20", -1, BASELINE), "share", "study",
          "seed inhibiting factor 3 (facilitator, May 2021)"),
    Check("needs-based pattern lifts survival, equal staff", f"{D3}; seed supporting factor 4",
          "survival at 36 months, needs-based - round-robin", Direction("survival_36", "needs_based", +1, BASELINE),
          "share", "study", "seed supporting factor 4 (a mentoring pattern with set targets)", built_in=True),
    Check("equipment grant -> higher income", f"{D3}; seed inhibiting factor 2",
          "group income per member-month, Rp 7 juta grant - none",
          Direction("mean_member_income_rp", "equipment_grant", +1, BASELINE), "rp", "study",
          "seed inhibiting factor 2 (facilitator and chair): no tools to cut grass or clean the barn", built_in=True),
    Check("weaker targeting -> lower benefit to the poor", f"{D3}; seed supporting factor 3",
          "share of group income reaching eligible households, weak - baseline targeting",
          Direction("share_income_to_eligible", "weak_targeting", -1, BASELINE), "share", "study",
          "seed supporting factor 3 (accurate targeting)", built_in=True),
    Check("trained groups produce more", f"{D3}; seed (penguatan)", "net return per group-month, untrained - trained",
          Direction("return_all_rp", "no_training", -1, BASELINE), "rp", "study",
          "seed: penguatan, training before the business starts", built_in=True),
    Check("groups fit to local resources produce more", f"{D3}; seed supporting factor 2",
          "net return per group-month, no matching - 60% matched",
          Direction("return_all_rp", "no_matching", -1, BASELINE), "rp", "study",
          "seed supporting factor 2 (businesses matched to local resources)", built_in=True),
)
"""Every pattern checked, in the order of the table."""

FITTED_PATTERNS: tuple[str, ...] = (
    "survival at 12 months",
    "survival at 24 months",
    "survival at 36 months",
    "about half active of groups up to five years old",
    "unaccompanied groups fail 2-3x as often",
    "1-3 of 10 members inactive in surviving groups",
    "inactivity persistent: the same members",
    "funded per round = quota x kecamatan",
)
"""The checks the calibration fits (by pattern name): their role is ``fitted``, and passing them is no
evidence. Every other check is a prediction the calibration never saw."""


# --- measurements of one run -----------------------------------------------------------------------

def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else math.nan


def _or_nan(value: Any) -> float:
    return math.nan if value is None else float(value)


def survival(groups: pd.DataFrame, months: int, horizons: tuple[int, ...] = SURVIVAL_HORIZONS) -> dict[str, float]:
    """Kaplan-Meier share of groups active ``h`` months after their funding, for each horizon.

    Past the longest follow-up the share is 0 if the curve has reached 0 (every group failed),
    else unknown (NaN).

    Args:
        groups: The run's group table.
        months: Run length.
        horizons: Months after funding.

    Returns:
        ``{"survival_12": share, ...}``.
    """
    duration, failed = durations(groups["funded_month"].to_numpy(), groups["failed_month"].to_numpy(), months)
    estimate = survival_estimate(duration, failed, np.asarray(horizons, dtype=float))
    return {f"survival_{h}": float(v) for h, v in zip(horizons, estimate, strict=True)}


FIVE_YEAR_AGES: tuple[int, ...] = (6, 18, 30, 42, 54)
"""Mid-year ages of five yearly cohorts: Kota Batu's count is of groups formed over up to five years."""


def active_share_of_cohorts(groups: pd.DataFrame, months: int, ages: tuple[int, ...] = FIVE_YEAR_AGES) -> float:
    """Share still active of groups formed one cohort a year, at the given ages (groups of mixed ages).

    A count like Kota Batu's (21 of 42 groups formed over five years still active) is the mean of the
    survival curve at the cohorts' ages; the curve is the run's Kaplan-Meier estimate over all its
    cohorts, so the count does not depend on how many rounds the run itself funded.

    Args:
        groups: The run's group table.
        months: Run length.
        ages: The cohorts' ages in months.

    Returns:
        The mean survival at those ages (NaN when any age is past the longest follow-up).
    """
    duration, failed = durations(groups["funded_month"].to_numpy(), groups["failed_month"].to_numpy(), months)
    estimate = survival_estimate(duration, failed, np.asarray(ages, dtype=float))
    return float(np.mean(estimate)) if np.all(np.isfinite(estimate)) else math.nan


def failure_rate(groups: pd.DataFrame, months: int, horizon: int) -> float:
    """Failures per group-month at risk in the first ``horizon`` months after funding.

    Args:
        groups: The run's group table.
        months: Run length.
        horizon: Months after funding.

    Returns:
        The rate (NaN without exposure).
    """
    funded = groups["funded_month"].to_numpy()
    failed = groups["failed_month"].to_numpy()
    end = np.minimum(np.where(failed >= 0, failed, months), funded + horizon)
    exposure = np.maximum(end - funded, 0).sum()
    events = ((failed >= 0) & (failed - funded <= horizon)).sum()
    return _ratio(float(events), float(exposure))


def visit_measures(groups: pd.DataFrame, events: pd.DataFrame, months: int, support_months: int,
                   remote: frozenset[str] = frozenset()) -> dict[str, float]:
    """Visits against failure, the caseload's unvisited share, and remote kecamatan against the others.

    A running group is *unvisited* in month ``m`` when its last visit (or its funding, if it had
    none) was before month ``m - 3``: no visit in the three months before. A month counts from
    the business start; a failure counts in the state of its month. A group-month is *on a caseload*
    when the group has a facilitator and is younger than ``support_months`` (the model's rule).

    Args:
        groups: The run's group table.
        events: The run's event log.
        months: Run length.
        support_months: Months after funding a group stays on its facilitator's caseload.
        remote: Names of the remote kecamatan.

    Returns:
        ``fail_unvisited, months_unvisited, fail_visited, months_visited`` pooled over all ages;
        the same four per stratum of :data:`HAZARD_STRATA` (``visit_hazard_<stratum>_<count>``);
        ``share_unaccompanied``: unvisited share of caseload group-months from age 3 (NaN without
        any); ``remote_unvisited_gap``: that share in remote kecamatan minus the others;
        ``remote_failure_gap``: failure share within 36 months of funding, remote minus others.
    """
    visits = events[events["kind"] == EventKind.VISIT]
    by_group = visits.groupby("group")["month"].apply(np.sort).to_dict()
    counts = dict.fromkeys(HAZARD_COUNTS, 0.0)
    for stratum in HAZARD_STRATA:
        counts.update({f"visit_hazard_{stratum}_{c}": 0.0 for c in HAZARD_COUNTS})
    caseload = {True: [0.0, 0.0], False: [0.0, 0.0]}  # remote?: [unvisited months, months]
    followed = {True: [0.0, 0.0], False: [0.0, 0.0]}  # remote?: [failed within 36, groups]
    bands = np.array([low for low, _ in STRATUM_AGES])
    for group, row in zip(groups.index, groups.itertuples(index=False), strict=True):
        far = row.kecamatan in remote
        if row.funded_month + 36 <= months:
            followed[far][0] += float(0 <= row.failed_month - row.funded_month <= 36 and row.failed_month >= 0)
            followed[far][1] += 1.0
        last = row.failed_month if row.failed_month >= 0 else months
        if row.start_month > last:
            continue
        month = np.arange(row.start_month, last + 1)
        seen = np.concatenate([[row.funded_month], by_group.get(group, np.empty(0, dtype=int))])
        before = np.searchsorted(seen, month, side="left")  # visits in months < m
        last_visit = seen[np.maximum(before - 1, 0)]
        unvisited = month - last_visit > 3
        fails = month == row.failed_month
        counts["months_unvisited"] += float(unvisited.sum())
        counts["months_visited"] += float((~unvisited).sum())
        counts["fail_unvisited"] += float((fails & unvisited).sum())
        counts["fail_visited"] += float((fails & ~unvisited).sum())
        age = month - row.funded_month
        supported = (age < support_months) if row.facilitator >= 0 else np.zeros(len(month), dtype=bool)
        on = supported & (age >= 3)
        caseload[far][0] += float((unvisited & on).sum())
        caseload[far][1] += float(on.sum())
        band = np.searchsorted(bands, age, side="right") - 1
        for b, age_name in enumerate(AGE_STRATA):
            in_band = band == b
            if not in_band.any():
                continue
            for state, mask in (("supported", in_band & supported), ("after", in_band & ~supported)):
                key = f"visit_hazard_{age_name}_{state}_"
                counts[key + "months_unvisited"] += float((mask & unvisited).sum())
                counts[key + "months_visited"] += float((mask & ~unvisited).sum())
                counts[key + "fail_unvisited"] += float((mask & unvisited & fails).sum())
                counts[key + "fail_visited"] += float((mask & ~unvisited & fails).sum())
    unvisited_months = caseload[True][0] + caseload[False][0]
    counts["share_unaccompanied"] = _ratio(unvisited_months, caseload[True][1] + caseload[False][1])
    counts["remote_unvisited_gap"] = (_ratio(*caseload[True]) - _ratio(*caseload[False])
                                      if caseload[True][1] and caseload[False][1] else math.nan)
    counts["remote_failure_gap"] = (_ratio(*followed[True]) - _ratio(*followed[False])
                                    if followed[True][1] and followed[False][1] else math.nan)
    return counts


def visit_hazard_counts(groups: pd.DataFrame, events: pd.DataFrame, months: int) -> dict[str, float]:
    """Failures and group-months after a quarter without a visit, and after a visit within the quarter.

    Pooled over every age and support status (see :func:`visit_measures` for the comparison within them).

    Args:
        groups: The run's group table.
        events: The run's event log.
        months: Run length.

    Returns:
        ``fail_unvisited, months_unvisited, fail_visited, months_visited``.
    """
    found = visit_measures(groups, events, months, support_months=0)
    return {key: found[key] for key in HAZARD_COUNTS}


def inactivity(groups: pd.DataFrame, members: pd.DataFrame) -> tuple[float, float]:
    """Inactivity in the groups running at the end: its share, and how persistent it is.

    Args:
        groups: The run's group table.
        members: The run's member table (with ``months_inactive``).

    Returns:
        ``(inactive member-months / member-months, share of those inactive member-months borne by
        members inactive for at least half of their months)``, over every member of a group still
        running at the end.
    """
    running = groups.index[groups["status"] != "failed"]
    rows = members[members["group"].isin(running)]
    months_in = rows["member_months"].to_numpy(dtype=float)
    inactive = rows["months_inactive"].to_numpy(dtype=float)
    chronic = inactive >= 0.5 * months_in
    return _ratio(inactive.sum(), months_in.sum()), _ratio(inactive[chronic].sum(), inactive.sum())


def months_running(groups: pd.DataFrame, months: int) -> np.ndarray:
    """Months each group's business ran (0 if it never started within the run).

    Args:
        groups: The run's group table.
        months: Run length.

    Returns:
        Months from business start to failure or the run's end, inclusive.
    """
    end = np.where(groups["failed_month"] >= 0, groups["failed_month"], months)
    return np.maximum(end - groups["start_month"].to_numpy() + 1, 0).astype(float)


def net_returns(groups: pd.DataFrame) -> np.ndarray:
    """Each group's net business return over its life: sales plus stock held minus stock and inputs bought.

    Args:
        groups: The run's group table.

    Returns:
        Rp per group.
    """
    return (groups["sales_in_rp"] + groups["stock_value_rp"] - groups["stock_out_rp"]
            - groups["inputs_out_rp"]).to_numpy(dtype=float)


def low_return_failure_gap(groups: pd.DataFrame, events: pd.DataFrame, months: int, follow: int = 24) -> float:
    """Failure share in the ``follow`` months after the first sale: lower half minus upper half.

    Groups are ranked within their business type by the profit shared per starting member at their
    first sale (0 if none was shared); only groups followed ``follow`` months after it count.

    Args:
        groups: The run's group table.
        events: The run's event log.
        months: Run length.
        follow: Months after the first sale.

    Returns:
        The difference in failure share (NaN when either half is empty).
    """
    sales = events[events["kind"] == EventKind.SALE].groupby("group")["month"].min()
    sales = sales[sales + follow <= months]
    if sales.empty:
        return math.nan
    payouts = events[events["kind"] == EventKind.PAYOUT].set_index(["group", "month"])["value"]
    keys = list(zip(sales.index, sales.to_numpy(), strict=True))
    paid = payouts.reindex(pd.MultiIndex.from_tuples(keys)).fillna(0.0).to_numpy()
    frame = groups.loc[sales.index, ["business", "members_at_start", "failed_month"]].copy()
    frame["early"] = paid / frame["members_at_start"].clip(lower=1)
    frame["failed"] = (frame["failed_month"] >= 0) & (frame["failed_month"] <= sales.to_numpy() + follow)
    rank = frame.groupby("business")["early"].rank(method="first", pct=True)
    low, high = frame.loc[rank <= 0.5, "failed"], frame.loc[rank > 0.5, "failed"]
    if low.empty or high.empty:
        return math.nan
    return float(low.mean() - high.mean())


def size_survival_correlation(groups: pd.DataFrame, months: int, horizon: int = 36) -> float:
    """Spearman correlation of a group's starting size with its surviving ``horizon`` months.

    Args:
        groups: The run's group table.
        months: Run length.
        horizon: Months after funding.

    Returns:
        The correlation over groups followed that long (NaN when either is constant).
    """
    followed = groups[groups["funded_month"] + horizon <= months]
    survived = ~((followed["failed_month"] >= 0) & (followed["failed_month"] - followed["funded_month"] <= horizon))
    size = followed["members_at_start"].to_numpy(dtype=float)
    if len(followed) < 3 or np.ptp(size) == 0 or survived.nunique() < 2:
        return math.nan
    return float(stats.spearmanr(size, survived.to_numpy(dtype=float)).statistic)


def measure(result: RunResult, params: Parameters, months: int) -> dict[str, float]:
    """Reduce one run to the measurements the checks read.

    Args:
        result: The run.
        params: Its parameters.
        months: Its length.

    Returns:
        ``{measurement: value}`` (NaN where a value cannot be measured).
    """
    s, g, m = result.summary, result.groups, result.members
    out = survival(g, months)
    out["active_share_5y"] = active_share_of_cohorts(g, months)
    out["failure_rate_36"] = failure_rate(g, months, 36)
    remote = frozenset(k.name for k in params.geography.kecamatan if k.remote)
    out.update(visit_measures(g, result.events, months, params.facilitators.support_months, remote))
    out["share_unvisited_all"] = _or_nan(s["mean_share_unvisited_quarter"])
    out["visits_per_group_month"] = float(s["visits_per_group_month"])
    out["inactive_share"], out["inactive_persistence"] = inactivity(g, m)

    agencies = result.agencies
    out["verification_pass_rate"] = _ratio(agencies["proposals_verified"].sum(), agencies["proposals_received"].sum())
    quota = params.funding.villages_per_kecamatan * len(params.geography.kecamatan) * params.district.replicas
    rounds = float(agencies["rounds"].max()) if len(agencies) else 0.0
    out["funded_per_quota"] = _ratio(float(agencies["groups_funded"].sum()), rounds * quota)

    net, running = net_returns(g), months_running(g, months)
    for name in BUSINESS_TYPES:
        of_type = (g["business"] == name).to_numpy()
        out[f"return_{name}_rp"] = _ratio(net[of_type].sum(), running[of_type].sum())
    out["return_all_rp"] = _ratio(net.sum(), running.sum())
    out["low_return_failure_gap"] = low_return_failure_gap(g, result.events, months)

    poverty = s["poverty"]
    out["poverty_effect"] = _or_nan(poverty["headcount_without"] - poverty["headcount_with"]
                                    if poverty["eligible_households"] else None)
    out["size_survival_correlation"] = size_survival_correlation(g, months)
    out["mean_member_income_rp"] = float(s["mean_member_income_rp"])
    out["share_income_to_eligible"] = _or_nan(s["share_income_to_eligible"])
    return out


# --- running the design ----------------------------------------------------------------------------

@dataclass(frozen=True)
class ValidationTask:
    """One run of the validation design.

    Attributes:
        arm: The arm's name.
        replication: The replication index.
        seed: Its seed (the same in every arm).
        months: Run length.
        params: The arm's parameters.
        design: The design's fingerprint (rows of another design are not resumed).
    """

    arm: str
    replication: int
    seed: int
    months: int
    params: Parameters
    design: str
    labels: tuple[tuple[str, Any], ...] = ()

    def key(self) -> tuple[Any, ...]:
        """What identifies the run within its design (its labels, arm and replication)."""
        return (*(value for _, value in self.labels), self.arm, self.replication)


def measure_task(task: ValidationTask) -> dict[str, Any]:
    """Run one task and return its row of measurements (run in the workers).

    Args:
        task: The run.

    Returns:
        ``design``, the task's labels, ``arm, replication, seed`` and the measurements.
    """
    result = run_model(task.params, seed=task.seed, months=task.months, scenario=task.arm)
    return _row(task, result)


def _row(task: ValidationTask, result: RunResult) -> dict[str, Any]:
    return {"design": task.design, **dict(task.labels), "arm": task.arm, "replication": task.replication,
            "seed": task.seed, **measure(result, task.params, task.months)}


def _batch_key(task: ValidationTask) -> tuple[Any, ...]:
    return (batch_structure(task.params), task.months)


def measure_batch(tasks: list[ValidationTask]) -> list[dict[str, Any]]:
    """Run tasks of one structure and months (any arms and labels) as one batch and return their rows.

    Args:
        tasks: Runs whose parameters differ only in numbers (see :func:`kube_sim.model.run.run_batch`).

    Returns:
        Their rows, in order; each the same as :func:`measure_task` gives.
    """
    if len(tasks) == 1:
        return [measure_task(tasks[0])]
    first = tasks[0]
    results = run_batch([task.params for task in tasks], [task.seed for task in tasks], months=first.months,
                        scenario=[task.arm for task in tasks])
    return [_row(task, result) for task, result in zip(tasks, results, strict=True)]


def run_measured(tasks: list[ValidationTask], path: Path, *, fingerprint: str, backend: str = "local",
                 workers: int = 1, scheduler: str | None = None, progress: bool = True,
                 desc: str = "runs", what: str = "runs") -> tuple[list[dict[str, Any]], int]:
    """Run the tasks not yet recorded in ``path``, appending each finished row at once.

    Rows of the same design are resumed; a torn last line is skipped. A file holding rows of another
    design is refused (nothing saved is deleted here; see :func:`check_saved_runs`).

    Args:
        tasks: The runs of one design (their keys unique).
        path: The JSON-lines file of finished rows.
        fingerprint: The design's fingerprint.
        backend: ``local`` or ``dask``.
        workers: Parallel workers.
        scheduler: Dask scheduler address (None starts a local cluster).
        progress: Show a progress bar on stderr.
        desc: The progress bar's label.
        what: What the rows are, for the message when they belong to other settings ("a validation's runs").

    Returns:
        Every row of the design (resumed and new), and how many were resumed.

    Raises:
        InputError: If ``path`` holds rows of another design.
    """
    if other_designs(path, fingerprint):
        raise InputError(f"holds {what} of other settings; resume it with the same settings, use --overwrite to start "
                         "again, or choose another --out", source="--out", key=display_path(path.parent))
    finished = read_finished_file(path, fingerprint)
    keys = {task.key() for task in tasks}
    label_names = [name for name, _ in tasks[0].labels] if tasks else []
    finished = [row for row in finished
                if (*(row.get(n) for n in label_names), row["arm"], row["replication"]) in keys]
    done = {(*(row.get(n) for n in label_names), row["arm"], row["replication"]) for row in finished}
    todo = [task for task in tasks if task.key() not in done]
    resumed = len(finished)
    if not todo:
        return finished, resumed
    path.parent.mkdir(parents=True, exist_ok=True)
    executor = make_executor(backend, workers, scheduler)
    bar = tqdm(total=len(tasks), initial=resumed, desc=desc, unit="run", file=sys.stderr, disable=not progress,
               dynamic_ncols=True)
    try:
        with path.open("a", encoding="utf-8") as log:
            size = batching.current().size(BATCH_RUN_BYTES, len(todo), executor.workers)
            for rows in executor.map(measure_batch, batching.batches(todo, _batch_key, size)):
                for row in rows:
                    log.write(json.dumps(jsonable(row), allow_nan=False) + "\n")
                    finished.append(row)
                    bar.update(1)
                log.flush()
    except BaseException:
        executor.close(cancel=True)
        raise
    finally:
        bar.close()
    executor.close()
    return finished, resumed


@dataclass
class Validation:
    """A validation's outcome.

    Attributes:
        table: The checks' table (see :func:`kube_sim.analysis.patterns.evaluate`).
        measurements: One row per run.
        design: What was run: arms and their parameter changes, base changes, seeds, months.
        resumed: Runs read back from an earlier, stopped validation.
    """

    table: pd.DataFrame
    measurements: pd.DataFrame
    design: dict[str, Any] = field(default_factory=dict)
    resumed: int = 0


def make_design(replications: int, seed: int, months: int = DEFAULT_MONTHS,
                base: Mapping[str, Any] | None = None, geography: DistrictMap | None = None) -> dict[str, Any]:
    """Describe the validation design (JSON-ready) and fingerprint it.

    Args:
        replications: Replications per arm.
        seed: Master seed of the replication seeds.
        months: Run length.
        base: Parameter changes applied to every arm (e.g. a smaller district).
        geography: The district every arm runs in (None: the default, Polewali Mandar).

    Returns:
        ``replications, master_seed, months, base, district, arms, seeds, git_commit, validation_code`` (a hash
        of this module, which declares the checks and measurements) and ``fingerprint``, a hash of
        them all: runs are resumed only under the same fingerprint.
    """
    design = {
        "replications": replications,
        "master_seed": seed,
        "months": months,
        "base": dict(base or {}),
        "district": geography.record() if geography is not None else None,
        "arms": ARMS,
        "seeds": replication_seeds(seed, replications),
        "git_commit": git_commit(),
        "validation_code": hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16],
    }
    text = json.dumps(jsonable(design), sort_keys=True)
    return {**design, "fingerprint": hashlib.sha256(text.encode()).hexdigest()[:16]}


def district_parameters(geography: DistrictMap | None) -> Parameters:
    """The defaults, in the district given (the defaults themselves for None).

    Args:
        geography: A district (from a district file), or None.

    Returns:
        The parameters every arm's changes apply to.
    """
    return Parameters() if geography is None else dataclasses.replace(Parameters(), geography=geography)


def _tasks(design: dict[str, Any], geography: DistrictMap | None = None) -> list[ValidationTask]:
    tasks = []
    root = district_parameters(geography)
    for arm, changes in ARMS.items():
        params = make_parameters({**design["base"], **changes}, base=root)
        for replication, seed in enumerate(design["seeds"]):
            tasks.append(ValidationTask(arm, replication, seed, design["months"], params, design["fingerprint"]))
    return tasks


def read_finished_file(path: Path, fingerprint: str) -> list[dict[str, Any]]:
    """Rows of a JSON-lines file written by the same design (a torn last line is skipped).

    Args:
        path: The file.
        fingerprint: The design's fingerprint.

    Returns:
        The rows, NaN restored where JSON holds null.
    """
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(row, dict) and row.get("design") == fingerprint:
            rows.append({k: math.nan if v is None else v for k, v in row.items()})
    return rows


def other_designs(path: Path, fingerprint: str) -> set[str]:
    """The designs other than ``fingerprint`` whose rows a JSON-lines file holds.

    Args:
        path: The file.
        fingerprint: The design's fingerprint.

    Returns:
        Their fingerprints (empty when there are none, or no file).
    """
    if not path.is_file():
        return set()
    found = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(row, dict) and row.get("design") != fingerprint:
            found.add(str(row.get("design")))
    return found


def check_saved_runs(folder: Path, files: list[Path], *, resume: bool, overwrite: bool, what: str) -> None:
    """The one resume rule for a folder that holds saved runs (the same as a sweep's).

    Args:
        folder: The output folder (as given with ``--out``).
        files: Its JSON-lines files of saved runs.
        resume: ``--resume``: keep the saved runs and run only the missing ones.
        overwrite: ``--overwrite``: delete the saved runs and start again.
        what: What the folder holds, for the message ("a validation").

    Raises:
        InputError: If both options are given, or runs are saved and neither is.
    """
    if resume and overwrite:
        raise InputError("--resume and --overwrite contradict each other: give one", source="--overwrite")
    saved = sum(1 for path in files if path.is_file() for line in path.read_text(encoding="utf-8").splitlines()
                if line.strip())
    if not saved:
        return
    if overwrite:
        for path in files:
            path.unlink(missing_ok=True)
    elif not resume:
        raise InputError(f"already holds {what}'s runs ({saved} saved); add --resume to finish it, --overwrite to "
                         "start again, or choose another --out", source="--out", key=display_path(folder))


def read_finished(folder: Path, fingerprint: str) -> list[dict[str, Any]]:
    """Rows of the validation's ``runs.jsonl`` in ``folder`` written by the same design.

    Args:
        folder: The output folder.
        fingerprint: The design's fingerprint.

    Returns:
        The rows, NaN restored where JSON holds null.
    """
    return read_finished_file(folder / RUNS_FILE, fingerprint)


def run_validation(out_dir: Path, replications: int = DEFAULT_VALIDATION_REPLICATIONS, seed: int = 1, workers: int = 1,
                   months: int = DEFAULT_MONTHS, base: Mapping[str, Any] | None = None, progress: bool = True,
                   say: Callable[[str], None] | None = None, resume: bool = False,
                   overwrite: bool = False, geography: DistrictMap | None = None) -> Validation:
    """Run every arm x replication not yet finished in ``out_dir``, then evaluate the checks.

    Args:
        out_dir: Folder for ``runs.jsonl`` (created if needed). Runs saved there are resumed with
            ``resume`` (if they are of the same design; else InputError), deleted with ``overwrite``,
            and otherwise refused (see :func:`check_saved_runs`).
        replications: Replications per arm (>= 2 for intervals).
        seed: Master seed of the replication seeds.
        workers: Parallel local processes (1: this process).
        months: Run length.
        base: Parameter changes applied to every arm.
        progress: Show a progress bar on stderr.
        say: Called with one-line messages (e.g. ``print``); None for silence.
        resume: Finish the validation saved in ``out_dir``.
        overwrite: Delete the runs saved in ``out_dir`` and start again.
        geography: The district every arm runs in (None: Polewali Mandar, the study's district).

    Returns:
        The validation.

    Raises:
        InputError: If ``out_dir`` holds runs and neither ``resume`` nor ``overwrite`` is given, or
            ``resume`` is given for runs of other settings.
    """
    design = make_design(replications, seed, months, base, geography)
    check_saved_runs(out_dir, [out_dir / RUNS_FILE], resume=resume, overwrite=overwrite, what="a validation")
    if other_designs(out_dir / RUNS_FILE, design["fingerprint"]):
        raise InputError("holds a validation's runs of other settings; resume it with the same settings, use "
                         "--overwrite to start again, or choose another --out", source="--out",
                         key=display_path(out_dir))
    out_dir.mkdir(parents=True, exist_ok=True)
    tasks = _tasks(design, geography)
    if say is not None:
        saved = len(read_finished(out_dir, design["fingerprint"]))
        say(f"validation: {len(ARMS)} arms x {replications} replications of {months} months"
            + (f" ({saved} saved before, {len(tasks) - saved} to run)" if saved else ""))
    finished, resumed = run_measured(tasks, out_dir / RUNS_FILE, fingerprint=design["fingerprint"], workers=workers,
                                     progress=progress, desc="validate", what="a validation's runs")
    measurements = pd.DataFrame(finished).drop(columns="design")
    order = {arm: i for i, arm in enumerate(ARMS)}
    measurements = measurements.sort_values(["arm", "replication"], key=lambda c: c.map(order) if c.name == "arm"
                                            else c).reset_index(drop=True)
    return Validation(table=evaluate(CHECKS, measurements, FITTED_PATTERNS), measurements=measurements, design=design,
                      resumed=resumed)
