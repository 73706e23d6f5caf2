"""Every model parameter, once: default, unit, source (or *assumption*) and valid range.

Parameters are grouped in sections (frozen dataclasses). A parameter is addressed from outside by
its dotted key, ``section.name`` (for example ``facilitators.groups_per_facilitator``); scenario
files and ``--set`` use these keys. Run settings (seed, months) are not parameters; they live with
the run.

Sources are abbreviated; ``docs/ODD.md`` and ``docs/PARAMETERS.md`` list them with the rest of each parameter.
"A" marks an assumption: a number that sensitivity analysis and calibration should vary.

This module does no I/O.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from dataclasses import dataclass, field
from typing import Any

from kube_sim.common.errors import ParameterError
from kube_sim.common.i18n import N_, _
from kube_sim.model.geography import POLEWALI_MANDAR, DistrictMap
from kube_sim.model.policy import VISIT_PATTERNS as _PATTERN_CLASSES

BUSINESS_TYPES: tuple[str, ...] = ("cattle", "nursery", "kiosk")
"""Business types a group can run: cattle fattening, vegetable/seedling nursery, village kiosk."""

VISIT_PATTERNS: tuple[str, ...] = tuple(_PATTERN_CLASSES)
"""Mentoring patterns a facilitator can follow (see :mod:`kube_sim.model.policy`)."""


def param(
    default: Any,
    unit: str,
    source: str,
    *,
    low: float | None = None,
    high: float | None = None,
    choices: tuple[str, ...] | None = None,
    bound: str = "",
    doc: str = "",
) -> Any:
    """Declare one parameter as a dataclass field carrying its metadata.

    Args:
        default: Default value; its type is the parameter's type.
        unit: Unit of measurement ("Rp", "months", "share", "-", ...).
        source: Where the default comes from, or "assumption".
        low: Smallest valid value (inclusive), if bounded.
        high: Largest valid value (inclusive), if bounded.
        choices: The valid values of a string parameter.
        bound: Where the upper bound comes from, or "assumption" (for bounds on money and quantities
            that have no natural limit).
        doc: One-line meaning.

    Returns:
        A ``dataclasses.field`` with the metadata attached.
    """
    meta = {
        "unit": unit,
        "source": source,
        "low": low,
        "high": high,
        "choices": choices,
        "bound": bound,
        "doc": doc,
    }
    if isinstance(default, tuple):
        return field(default_factory=lambda: default, metadata=meta)
    return field(default=default, metadata=meta)


A = "assumption"

NATIONAL_BOUND = "twenty times the whole programme's yearly spend (Rp 47 miliar in 2020, kemensos.go.id)"
"""Where the upper bound of a yearly budget comes from."""
GROUP_GRANT_BOUND = A + ": over three times the largest group grant seen (Rp 30 juta, Sukabumi 2023)"
"""Where the upper bound of a sum per group, proposal or unit comes from."""
MEMBER_BOUND = A + ": ten times the UEP grant a member (Rp 2 juta, kemensos.go.id 2020)"
"""Where the upper bound of a sum per member comes from."""
EQUIPMENT_BOUND = (A + ": fifty times a large grass chopper (Rp 19 juta, agrina 2011), room for "
                   "kube-sim frontier's largest equipment shares")
"""Where the upper bound of an equipment sum comes from."""


@dataclass(frozen=True)
class DistrictParams:
    """The district the programme runs in (Polewali Mandar by default).

    The district itself (kecamatan, population, terrain, travel, villages) is data, not parameters:
    :class:`~kube_sim.model.geography.DistrictMap` in :attr:`Parameters.geography`.
    """

    name: str = param("Polewali Mandar", "-", "seed; DOMAIN.md s.5; the district file's name when one is given",
                      doc="district name, for reports")
    villages: int = param(0, "villages", "0: the district's own (Polewali Mandar: 167, RPIJM profile 2016, "
                          "144 desa + 23 kelurahan)", low=0, high=10_000,
                          doc="villages per district copy: 0 keeps each kecamatan's villages as the district "
                              "gives them; more spreads that many over the kecamatan in proportion to population")
    replicas: int = param(1, "districts", A, low=1, high=2_000,
                          doc="copies of the district run together (province or national scale)")
    travel_scale: float = param(1.0, "x", A + " (range 0.5-2; the district gives each kecamatan's travel: "
                                "Polewali Mandar 4 h in the remote mountain kecamatan, Tubbi Taramanu 72 km from "
                                "Polewali, 1 h elsewhere)", low=0, high=10,
                                doc="multiplies every kecamatan's facilitator travel hours per visit")
    coast_fit: tuple[float, ...] = param((0.45, 0.55, 0.85), "0-1", A + " (seed: town trade on the coast)",
                                         low=0, high=1, doc="mean resource fit of a coastal or town village")
    lowland_fit: tuple[float, ...] = param((0.70, 0.85, 0.60), "0-1", A + " (paddy and vegetables on the plain)",
                                           low=0, high=1, doc="mean resource fit of a lowland-plain village")
    mountain_fit: tuple[float, ...] = param((0.85, 0.65, 0.40), "0-1", A + " (seed: fodder for cattle in the hills)",
                                            low=0, high=1, doc="mean resource fit of a mountain village")
    fit_noise: float = param(0.15, "sd", A, low=0, high=1,
                             doc="spread (normal sd) of a village's fit around its terrain's mean")
    min_fit: float = param(0.05, "0-1", A, low=0, high=1, doc="a village's fit is clipped to min_fit-1")


@dataclass(frozen=True)
class FundingParams:
    """The agency's yearly funding round (proposal, approval, verification, selection)."""

    rounds: int = param(3, "rounds", A, low=0, high=50, doc="yearly funding rounds held, the first in month 1")
    villages_per_kecamatan: int = param(2, "villages/kecamatan/year", "seed (head of empowerment, May 2021)",
                                        low=0, high=100, doc="quota of villages funded per kecamatan each year")
    groups_per_village: int = param(1, "groups/village", A, low=1, high=20,
                                    doc="groups funded in each selected village")
    proposal_probability: float = param(0.8, "share", A, low=0, high=1,
                                        doc="chance that a village sends a proposal in a round")
    village_head_approval: float = param(0.9, "share", A, low=0, high=1,
                                         doc="chance the village head approves (knows) a proposal")
    annual_budget_rp: float = param(1.0e9, "Rp/year", A + " (quota x Rp 20 juta = Rp 640 juta)", low=0,
                                    high=1e12, bound=NATIONAL_BOUND,
                                    doc="budget for UEP and equipment grants and training in one round")


@dataclass(frozen=True)
class MemberParams:
    """Member households: eligibility, skill, engagement, income."""

    min_group_size: int = param(5, "members", "Permensos 2/2019", low=1, high=20, doc="smallest group")
    max_group_size: int = param(10, "members", "seed (Polewali Mandar rule); Permensos allows 20", low=1, high=20,
                                doc="group size cap")
    full_group_share: float = param(0.6, "share", A + " (groups of 10 are the norm in Polewali Mandar)", low=0,
                                    high=1,
                                    doc="share of proposals at the size cap; the rest are uniform from min to cap")
    eligible_share: float = param(0.8, "share", A + " (Pandeglang: 47% of proposals pass)", low=0, high=1,
                                  doc="share of proposed households that are really poor and eligible")
    initial_inactive_share: float = param(0.25, "share", "seed: 1-3 of 10 members not fully active", low=0, high=1,
                                          doc="share of members inclined to leave the work to others "
                                              "(free-riders, a lasting trait); they start inactive")
    free_rider_factor: float = param(12.0, "x", A + " (range 1-20; seed: the same 1-3 of 10 hold the group back)",
                                     low=1, high=100,
                                     doc="a free-rider drops out this many times as often, and returns as "
                                         "many times less often")
    drudgery_dropout_factor: float = param(0.5, "x", A + " (range 0-2; netralnews Sumedang: not all members "
                                           "would collect fodder)", low=0, high=20,
                                           doc="dropout x (1 + f x work needed per active member's hours)")
    farm_wage_rp_per_day: float = param(75_000.0, "Rp/day", "batukita 2022", low=0, high=1e6,
                                        bound="ten times the provincial minimum wage a day (Rp 2.87 juta a "
                                              "month, radarsulbar 2022)",
                                        doc="what a day's farm work pays elsewhere")
    work_hours_per_day: float = param(8.0, "hours/day", A + " (range 6-10)", low=1, high=24,
                                      doc="hours in a paid working day")
    opportunity_dropout_factor: float = param(0.5, "x", A + " (range 0-2)", low=0, high=20,
                                              doc="dropout x (1 + f x shortfall of group income below what "
                                                  "the member's hours would earn at the farm wage)")
    exit_income_ratio: float = param(0.15, "share", A + " (range 0.05-0.5)", low=0, high=1,
                                     doc="a member whose group income stays below this share of the farm-wage "
                                         "value of their hours may leave for good")
    exit_shortfall_months: int = param(24, "months", A + " (range 12-48)", low=1, high=600,
                                       doc="months in a row below members.exit_income_ratio before a member "
                                           "may leave")
    skill_mean: float = param(0.4, "0-1", A, low=0, high=1, doc="mean business skill before training")
    skill_concentration: float = param(6.0, "-", A, low=0.01, high=10_000,
                                       doc="concentration of the beta distribution of skill (higher: less spread)")
    hours_per_month: float = param(40.0, "hours/month", A, low=0, high=300,
                                   doc="labour an active member gives the group business")
    household_size: float = param(5.4, "persons", "BPS Sulsel: 5.41 persons per poor household (March 2022), "
                                  "5.37 (March 2023), 4.62 (Sept 2022); range 4.6-5.7", low=1, high=15,
                                  doc="persons per member household (a poor household, not the all-household ~3.9)")
    poor_income_ratio: float = param(0.8, "x poverty line", A, low=0, high=5,
                                     doc="mean per-capita income of eligible households, relative to the line")
    nonpoor_income_ratio: float = param(1.4, "x poverty line", A, low=0, high=10,
                                        doc="mean per-capita income of ineligible households")
    income_spread: float = param(0.25, "log-sd", A, low=0, high=2, doc="spread of baseline household income")
    dropout_probability: float = param(0.01, "1/month", A + " (range 0.002-0.02)", low=0, high=1,
                                       doc="base monthly chance an active member who is not a free-rider "
                                           "becomes inactive")
    return_probability: float = param(0.04, "1/month", A, low=0, high=1,
                                      doc="base monthly chance an inactive member becomes active again")
    no_payout_dropout_factor: float = param(2.0, "x", A + " (free-riding, netralnews Sumedang)", low=0, high=20,
                                            doc="multiplier on dropout when no profit was shared for a cycle")
    payout_grace_months: int = param(1, "months", A, low=0, high=24,
                                     doc="a payout is missing after one business cycle plus this many months")
    low_cohesion_dropout_factor: float = param(2.0, "x", A, low=0, high=20,
                                               doc="extra dropout multiplier at zero cohesion (1 + f(1-c))")
    unvisited_dropout_factor: float = param(1.2, "x", A + " ('KUBE not accompanied fail', seed)", low=0, high=20,
                                            doc="multiplier on dropout while the group is unaccompanied")
    peer_return_weight: float = param(1.0, "x", A, low=0, high=20,
                                      doc="return chance scales with 1 + w x active share of the group")
    management_return_factor: float = param(2.0, "x", A + " (range 0-4; the chair calls members back)", low=0,
                                            high=20, doc="return chance scales with 1 + f x the group's management")
    exit_probability_inactive: float = param(0.03, "1/month", A, low=0, high=1,
                                             doc="monthly chance an inactive member leaves the group for good")
    income_window_months: float = param(12.0, "months", A + " (a year of income)", low=1, high=120,
                                        doc="recent group income is a moving average over about this many months")


@dataclass(frozen=True)
class AgencyParams:
    """The district social office (Dinas Sosial)."""

    verification_catch_rate: float = param(0.7, "share", A, low=0, high=1,
                                           doc="share of ineligible households caught by NIK/KK field checks")
    max_ineligible_share: float = param(0.1, "share", A + " (range 0-0.3), set so that about half the proposals "
                                        "pass: Pandeglang 2020, 123 of 260 (bantenhits 2021)", low=0, high=1,
                                        doc="a proposal is returned when its checks find more of its households "
                                            "ineligible than this share")
    business_match_share: float = param(0.6, "share", A + " (seed supporting factor 2)", low=0, high=1,
                                        doc="share of proposals whose business is matched to the village's resources")
    conflict_capacity_per_month: int = param(2, "conflicts/month/district", A, low=0, high=10_000,
                                             doc="escalated conflicts the agency can settle each month")
    conflict_resolution_probability: float = param(0.6, "share", A, low=0, high=1,
                                                   doc="chance an escalated conflict the agency takes up is settled")
    follow_up_support_rp: float = param(0.0, "Rp/group", A, low=0, high=1e8, bound=GROUP_GRANT_BOUND,
                                        doc="top-up grant to a group reported short of capital (0 = none)")
    follow_up_budget_rp: float = param(0.0, "Rp/year", A, low=0, high=1e12, bound=NATIONAL_BOUND,
                                       doc="yearly budget for follow-up support")
    admin_cost_per_proposal_rp: float = param(250_000.0, "Rp/proposal", A, low=0, high=1e8, bound=GROUP_GRANT_BOUND,
                                              doc="field verification and decree cost per proposal")


@dataclass(frozen=True)
class TrainingParams:
    """Strengthening (penguatan): training before the business starts."""

    enabled: bool = param(True, "-", "seed (penguatan)", doc="groups are trained before the business starts")
    months: int = param(1, "months", A, low=0, high=12, doc="months between decree and business start")
    skill_gain: tuple[float, ...] = param((0.3, 0.25, 0.2), "0-1", A + " (seed: cattle, seedlings, vegetables)",
                                          low=0, high=1, doc="skill added to each member by training, by business type")
    cost_per_member_rp: float = param(500_000.0, "Rp/member", A, low=0, high=2e7, bound=MEMBER_BOUND,
                                      doc="training cost")


@dataclass(frozen=True)
class FacilitatorParams:
    """Facilitators (pendamping): caseload, time, skill and mentoring pattern."""

    groups_per_facilitator: int = param(10, "groups/facilitator", "seed; Ternate 50:5", low=0, high=1000,
                                        doc="caseload; 0 means no facilitators (unused when facilitators.count is set)")
    count: int = param(0, "facilitators/district", "policy lever (a planner's headcount, e.g. 7 today, 10 after "
                       "hiring 3); 0: recruit by the caseload", low=0, high=10_000,
                       doc="facilitators the agency employs, recruited at the first funding round; the groups are "
                           "shared evenly among them, so the caseload follows from the groups to serve (0: "
                           "follow the caseload)")
    hours_per_month: float = param(20.0, "hours/month", A + " (part-time, own jobs: seed)", low=0, high=300,
                                   doc="mean hours a facilitator gives KUBE work each month")
    hours_spread: float = param(0.5, "log-sd", A + " (range 0-1; seed: 'many facilitators have their own jobs')",
                                low=0, high=2, doc="spread of hours between facilitators (lognormal, mean kept)")
    busy_month_probability: float = param(0.15, "1/month", A + " (range 0-0.4; seed, DOMAIN s.4b: own business, "
                                          "civil servants)", low=0, high=1,
                                          doc="monthly chance a facilitator's other work takes the whole month")
    turnover_per_month: float = param(0.02, "1/month", A + " (range 0-0.05, about a fifth a year)", low=0, high=1,
                                      doc="monthly chance a facilitator leaves the post")
    vacancy_months: int = param(3, "months", A + " (range 1-12)", low=0, high=60,
                                doc="months a post stays empty before the agency fills it")
    hours_per_visit: float = param(4.0, "hours", A, low=0.1, high=100, doc="time with a group per visit")
    skill_mean: float = param(0.6, "0-1", A, low=0, high=1, doc="mean facilitator skill (mediation, teaching)")
    skill_concentration: float = param(8.0, "-", A, low=0.01, high=10_000,
                                       doc="concentration of the beta distribution of skill (higher: less spread)")
    pattern: str = param("round_robin", "-", "seed supporting factor 4", choices=VISIT_PATTERNS,
                         doc="mentoring pattern deciding which groups get visits")
    needs_weight_conflict: float = param(3.0, "priority", A, low=0, high=1000,
                                         doc="needs-based priority of an open conflict not yet escalated")
    needs_weight_inactive: float = param(2.0, "priority", A, low=0, high=1000,
                                         doc="needs-based priority per share of inactive members")
    needs_weight_low_cohesion: float = param(2.0, "priority", A, low=0, high=1000,
                                             doc="needs-based priority per unit of missing cohesion (1 - cohesion)")
    needs_weight_no_stock: float = param(1.0, "priority", A, low=0, high=1000,
                                         doc="needs-based priority of a group holding no stock")
    needs_weight_waiting: float = param(1.0, "priority/month", A, low=0, high=1000,
                                        doc="needs-based priority per month since the last visit")
    targets: bool = param(False, "-", "seed supporting factor 4",
                          doc="mentoring with set targets: groups behind their targets are visited first")
    target_priority: float = param(3.0, "priority", A + " (range 0-10)", low=0, high=1000,
                                   doc="priority added to a group behind its targets when mentoring with targets")
    coordination: float = param(0.7, "share", A + " (range 0.3-1; seed supporting factor 1)", low=0, high=1,
                                doc="chance a facilitator's report of a problem reaches the agency and is acted on")
    unvisited_after_months: int = param(3, "months", A + " (a quarter)", low=1, high=60,
                                        doc="a group with no visit for this long counts as unaccompanied")
    remotivation_probability: float = param(0.5, "share", A, low=0, high=1,
                                            doc="chance a visit brings one inactive member back (x skill)")
    mediation_probability: float = param(0.8, "share", A, low=0, high=1,
                                         doc="chance a visit settles an open conflict (x skill x coordination)")
    visit_skill_gain: float = param(0.02, "0-1/visit", A, low=0, high=1, doc="members' skill gain per visit")
    visit_cohesion_gain: float = param(0.08, "0-1/visit", A, low=0, high=1, doc="cohesion gain per visit")
    pay_per_hour_rp: float = param(50_000.0, "Rp/hour", A + " (Rp 0.5-2 juta a month part-time: Rp 1 juta for "
                                   "20 hours; range 25,000-100,000)", low=0, high=1e6,
                                   bound=A + ": ten times the top of the range",
                                   doc="facilitator pay per hour of KUBE work; a post's pay follows its hours")
    support_months: int = param(12, "months", A + " (DOMAIN s.4: intensive support 12 months; range 6-36)", low=0,
                                high=600, doc="months after funding that a group stays on a caseload")
    visit_management_gain: float = param(0.05, "0-1/visit", A + " (range 0-0.15; Permensos 2/2019 art. 9: "
                                         "facilitators help with reports)", low=0, high=1,
                                         doc="gain in the group's management (chair, treasurer, books) per visit, "
                                             "x skill")


@dataclass(frozen=True)
class GroupParams:
    """Group rules: profit sharing, savings, cohesion, conflict and failure."""

    profit_share: float = param(0.7, "share", A, low=0, high=1, doc="share of a cycle's profit paid to members")
    equipment_saving_share: float = param(0.5, "share", "seed: group saves from the business for tools", low=0,
                                          high=1, doc="share of retained profit earmarked for equipment")
    initial_cohesion: float = param(0.7, "0-1", A, low=0, high=1, doc="cohesion at formation")
    cohesion_decay_unvisited: float = param(0.015, "1/month", A + " (unvisited groups lose cohesion)", low=0, high=1,
                                            doc="monthly cohesion loss while the group is unaccompanied")
    cohesion_loss_conflict: float = param(0.05, "1/month", A, low=0, high=1,
                                          doc="monthly cohesion loss while a conflict is open")
    cohesion_gain_payout: float = param(0.03, "per payout", A, low=0, high=1,
                                        doc="cohesion gain when profit is shared")
    conflict_probability: float = param(0.5, "1/month", A + " (free-riding: netralnews Sumedang)", low=0, high=1,
                                        doc="monthly conflict chance at full inactivity, "
                                            "x (1 - w x cohesion) x (k - adequacy)")
    conflict_cohesion_weight: float = param(0.5, "0-1", A, low=0, high=1,
                                            doc="w: conflict chance falls by this share at full cohesion")
    conflict_work_offset: float = param(2.0, "-", A, low=1, high=20,
                                        doc="k: conflict chance x (k - adequacy), so x(k-1) when all work is done")
    self_resolution_probability: float = param(0.2, "1/month", A, low=0, high=1,
                                               doc="monthly chance a group settles a conflict on its own, "
                                                   "x cohesion x (1 + f x management)")
    management_gain_payout: float = param(0.01, "per payout", A + " (range 0-0.1; a group that shares profit keeps "
                                          "books: old Kemensos guideline)", low=0, high=1,
                                          doc="management gain each time a group shares profit")
    management_settle_factor: float = param(2.0, "x", A + " (range 0-4)", low=0, high=20,
                                            doc="f: how much a well-run group settles conflicts more often")
    management_mean: float = param(0.35, "0-1", A + " (range 0.2-0.6; old Kemensos guideline: chair, secretary, "
                                   "treasurer and books)", low=0, high=1,
                                   doc="mean management (kepengurusan) of a group at formation")
    management_concentration: float = param(6.0, "-", A, low=0.01, high=10_000,
                                            doc="concentration of the beta distribution of management")
    village_head_mediation: float = param(0.05, "1/month", A + " (range 0-0.3; the village head knows the "
                                          "proposal: seed)", low=0, high=1,
                                          doc="monthly chance the village head settles an open conflict "
                                              "not yet escalated")
    complaint_after_months: int = param(2, "months", A + " (range 1-6)", low=1, high=60,
                                        doc="a conflict this old may be taken to the agency by the members")
    complaint_probability: float = param(0.2, "1/month", A + " (range 0-0.5)", low=0, high=1,
                                         doc="monthly chance members complain to the agency about an old "
                                             "conflict, x management")
    conflict_failure_months: int = param(4, "months", A, low=1, high=120,
                                         doc="an unresolved conflict this old breaks the group")
    min_active_share: float = param(0.4, "share of founding members", A + " (range 0.2-0.6)", low=0, high=1,
                                    doc="fewer active members than this share of the group's founding size "
                                        "(rounded up) for the grace period breaks the group")
    failure_grace_months: int = param(3, "months", A, low=1, high=60, doc="months below the active-member minimum")
    collapse_cohesion: float = param(0.1, "0-1", A, low=0, high=1, doc="cohesion below this breaks the group")
    reserve_months: float = param(2.0, "months", A, low=0, high=24,
                                  doc="months of input costs kept in cash when restocking")


@dataclass(frozen=True)
class GrantParams:
    """Money given to groups: the UEP grant and optional equipment grants."""

    uep_per_member_rp: float = param(2_000_000.0, "Rp/member", "kemensos.go.id 2020", low=0, high=2e7,
                                     bound=MEMBER_BOUND,
                                     doc="productive-business (UEP) grant per member, paid to the group account")
    equipment_rp: float = param(0.0, "Rp/group", "seed: grant could not cover tools", low=0, high=1e9,
                                bound=EQUIPMENT_BOUND,
                                doc="equipment grant per group at formation (0 = none)")
    equipment_month: int = param(0, "months after funding", A, low=0, high=120,
                                 doc="when the equipment grant arrives (0 = with the UEP grant)")


@dataclass(frozen=True)
class BusinessParams:
    """Business economics, one tuple entry per business type in the order cattle, nursery, kiosk.

    A business holds *units* of stock (a young bull, a batch of seedlings, a shelf of goods). Each
    unit is bought at a start size, grows each month with labour, skill, equipment and resource fit,
    and is sold at the end of the business cycle at ``price_per_size`` per size unit.
    """

    type_weights: tuple[float, ...] = param((0.5, 0.3, 0.2), "share", A + " (cattle most common in Polman)",
                                            low=0, high=1, doc="share of proposals by business type")
    unit_start_size: tuple[float, ...] = param((175.0, 1.0, 1.0), "kg | lot | lot",
                                               "bakalan 150-200 kg (A); lots for others", low=0.001, high=1000,
                                               bound=A + ": a head of cattle stays below 1 t",
                                               doc="size of one unit when bought")
    price_per_size_rp: tuple[float, ...] = param((50_000.0, 1_500_000.0, 2_000_000.0), "Rp per size unit",
                                                 "Rp 50k/kg live weight (tribunnews 2024); " + A + " for the others",
                                                 low=0, high=1e8, bound=GROUP_GRANT_BOUND,
                                                 doc="purchase and sale price per size unit")
    growth_per_month: tuple[float, ...] = param((19.8, 0.22, 0.07), "size units/month",
                                                "Bali cattle 0.65 kg/day (Polbangtan Gowa 2021); A for others "
                                                "(nursery 0.1-0.3, kiosk 0.04-0.1), set so that a group nets "
                                                "Rp 0.5-2 juta a month (DOMAIN s.4: A)",
                                                low=0, high=1000, bound=A + ": as large as a unit can start",
                                                doc="growth of a unit per month at full labour and fit")
    cycle_months: tuple[int, ...] = param((3, 3, 1), "months", "3-month fattening cycle (Polbangtan Gowa 2021); A",
                                          low=1, high=24, doc="months from purchase to sale")
    labour_hours_per_unit: tuple[float, ...] = param((19.0, 30.0, 20.0), "hours/unit/month",
                                                     "grass for 4 cows takes 2-3 h/day (agrina 2011): ~19 h "
                                                     "a head; A for "
                                                     "nursery and kiosk (15-60)", low=0, high=300,
                                                     bound="members.hours_per_month's bound: a member's month",
                                                     doc="labour a unit needs each month without equipment")
    input_cost_per_unit_rp: tuple[float, ...] = param((300_000.0, 100_000.0, 20_000.0), "Rp/unit/month", A,
                                                      low=0, high=1e8, bound=GROUP_GRANT_BOUND,
                                                      doc="feed, seed, water and transport costs")
    loss_per_month: tuple[float, ...] = param((0.005, 0.02, 0.005), "1/month",
                                              "fattening mortality 1-3%/cycle (A)", low=0, high=1,
                                              doc="chance a unit is lost each month when fully tended")
    fit_sensitivity: tuple[float, ...] = param((0.8, 0.8, 0.2), "0-1", A + " (seed supporting factor 2)",
                                               low=0, high=1, doc="how much poor resource fit cuts growth")
    equipment_cost_rp: tuple[float, ...] = param((7_000_000.0, 3_000_000.0, 2_000_000.0), "Rp",
                                                 "small chopper Rp 5-15 juta + cutter (A)", low=0, high=1e9,
                                                 bound=EQUIPMENT_BOUND,
                                                 doc="cost of the full equipment set")
    equipment_labour_saving: tuple[float, ...] = param((0.5, 0.3, 0.2), "share", A, low=0, high=0.95,
                                                       doc="share of labour hours saved with full equipment")
    neglect_loss_factor: float = param(2.0, "x", A, low=0, high=20,
                                       doc="loss rate rises to (1 + f x share of work not done) under neglect")
    price_volatility: tuple[float, ...] = param((0.15, 0.15, 0.03), "log-sd",
                                                "cattle Rp 15-21 juta by season (polewaliterkini 2017, tribunnews "
                                                "2024); A for seedlings; A: a kiosk's shelf holds many goods, so "
                                                "its value moves little (range 0.01-0.08)", low=0, high=2,
                                                doc="spread of a sale's price around its mean, by business type")
    initial_equipment: float = param(0.2, "0-1", "seed: no tools to cut grass or clean the barn", low=0, high=1,
                                     doc="equipment level a group starts with (1 = full set)")
    skill_output_weight: float = param(0.5, "0-1", A, low=0, high=1,
                                       doc="growth multiplier is (1 - w) + w x mean active skill")


@dataclass(frozen=True)
class PovertyParams:
    """The poverty line used to judge member households.

    BPS's line is a consumption (expenditure) line; the model compares it with income per person,
    since it follows income, not spending.
    """

    line_rp_per_person: float = param(364_251.0, "Rp/person/month",
                                      "BPS Sulawesi Barat, March 2021 (okezone 2023); a consumption line", low=0,
                                      high=1e7, bound="over twenty times the highest line in Sulawesi (Rp 452,836, "
                                                      "Polewali Mandar 2022)",
                                      doc="poverty line, compared with each household's income per person")


SECTIONS: dict[str, type] = {
    "district": DistrictParams,
    "funding": FundingParams,
    "members": MemberParams,
    "agency": AgencyParams,
    "training": TrainingParams,
    "facilitators": FacilitatorParams,
    "groups": GroupParams,
    "grants": GrantParams,
    "business": BusinessParams,
    "poverty": PovertyParams,
}


@dataclass(frozen=True)
class Parameters:
    """All model parameters, by section, and the district they apply to. Build with :func:`make_parameters`.

    ``geography`` is the district as data (Polewali Mandar by default); it is not a parameter (no
    dotted key, not in :meth:`to_dict`), but it travels with the parameters to every run.
    """

    district: DistrictParams = field(default_factory=DistrictParams)
    funding: FundingParams = field(default_factory=FundingParams)
    members: MemberParams = field(default_factory=MemberParams)
    agency: AgencyParams = field(default_factory=AgencyParams)
    training: TrainingParams = field(default_factory=TrainingParams)
    facilitators: FacilitatorParams = field(default_factory=FacilitatorParams)
    groups: GroupParams = field(default_factory=GroupParams)
    grants: GrantParams = field(default_factory=GrantParams)
    business: BusinessParams = field(default_factory=BusinessParams)
    poverty: PovertyParams = field(default_factory=PovertyParams)
    geography: DistrictMap = field(default=POLEWALI_MANDAR)

    def get(self, key: str) -> Any:
        """Return the value of a dotted key such as ``"grants.equipment_rp"``.

        Args:
            key: ``section.name``.

        Returns:
            The parameter's value.
        """
        spec = spec_for(key)
        return getattr(getattr(self, spec.section), spec.name)

    def to_dict(self) -> dict[str, Any]:
        """Return every parameter as a flat ``{dotted key: value}`` dict (tuples become lists)."""
        out: dict[str, Any] = {}
        for key in PARAMETER_SPECS:
            value = self.get(key)
            out[key] = list(value) if isinstance(value, tuple) else value
        return out

    def changes_from_default(self) -> dict[str, Any]:
        """Return only the parameters that differ from the defaults, as flat dotted keys."""
        default = Parameters().to_dict()
        return {key: value for key, value in self.to_dict().items() if default[key] != value}


@dataclass(frozen=True)
class ParameterSpec:
    """Metadata of one parameter, read from its dataclass field."""

    key: str
    section: str
    name: str
    default: Any
    type: type
    unit: str
    source: str
    low: float | None
    high: float | None
    choices: tuple[str, ...] | None
    doc: str
    bound: str = ""


def _collect_specs() -> dict[str, ParameterSpec]:
    specs: dict[str, ParameterSpec] = {}
    for section, cls in SECTIONS.items():
        instance = cls()
        for f in dataclasses.fields(cls):
            default = getattr(instance, f.name)
            key = f"{section}.{f.name}"
            specs[key] = ParameterSpec(
                key=key,
                section=section,
                name=f.name,
                default=default,
                type=type(default),
                unit=f.metadata["unit"],
                source=f.metadata["source"],
                low=f.metadata["low"],
                high=f.metadata["high"],
                choices=f.metadata["choices"],
                doc=f.metadata["doc"],
                bound=f.metadata["bound"],
            )
    return specs


PARAMETER_SPECS: dict[str, ParameterSpec] = _collect_specs()
"""Every parameter's metadata by dotted key, in declaration order."""


BATCH_STRUCTURE: dict[str, str] = {
    "district.name": "text: names the district the runs are in",
    "district.villages": "sets how many villages each district copy has (the length of the village tables)",
    "district.replicas": "sets how many district copies each run has (the agencies, the village tables)",
    "funding.rounds": "sets the schedule of funding rounds",
    "facilitators.pattern": "chooses the rule that ranks a caseload (the code that runs)",
}
"""Parameters that shape a run, with why: runs that share them (and the district, ``geography``) can run
as one batch (:mod:`kube_sim.model.batch`), each reading its own value of every other parameter."""


def batch_structure(params: Parameters) -> tuple[Any, ...]:
    """What runs of one batch must share: the :data:`BATCH_STRUCTURE` values and the district.

    Args:
        params: A run's parameters.

    Returns:
        A hashable key, equal for runs that can share a batch.
    """
    return (*(params.get(key) for key in BATCH_STRUCTURE), params.geography)


RETIRED: dict[str, str] = {
    "groups.min_active_members": "replaced by groups.min_active_share (a share of the founding members)",
    "facilitators.pay_per_month_rp": "replaced by facilitators.pay_per_hour_rp (pay follows hours)",
    "facilitators.target_effect": "removed: with facilitators.targets, groups behind their targets are visited "
                                  "first (facilitators.target_priority)",
    "district.remote_travel_hours": "replaced by each kecamatan's travel_hours in the district file "
                                    "(--district; see docs/districts.md), scaled by district.travel_scale",
    "district.near_travel_hours": "replaced by each kecamatan's travel_hours in the district file "
                                  "(--district; see docs/districts.md), scaled by district.travel_scale",
}
"""Keys that no longer exist, with what replaced them (for a clear error in old scenario files)."""


def spec_for(key: str) -> ParameterSpec:
    """Return the spec of a dotted key, or raise naming the closest known key.

    Args:
        key: ``section.name``.

    Returns:
        The parameter's :class:`ParameterSpec`.

    Raises:
        ParameterError: If the key is unknown.
    """
    if key in RETIRED:
        raise ParameterError(key, _("no longer a parameter: {why}").format(why=RETIRED[key]))
    try:
        return PARAMETER_SPECS[key]
    except KeyError:
        close = difflib.get_close_matches(key, PARAMETER_SPECS, n=1, cutoff=0.5)
        hint = _(" (did you mean '{key}'?)").format(key=close[0]) if close else ""
        raise ParameterError(key, _("unknown parameter{hint}").format(hint=hint)) from None


def _type_name(kind: type) -> str:
    names = {bool: N_("true or false"), int: N_("an integer"), float: N_("a number"), str: N_("a string"),
             tuple: N_("a list of numbers")}
    return _(names[kind]) if kind in names else kind.__name__


def _check_number(spec: ParameterSpec, value: Any, where: str = "") -> None:
    if spec.low is not None and value < spec.low:
        raise ParameterError(spec.key, where + _("{value} is below the minimum {low} ({unit})").format(
            value=repr(value), low=spec.low, unit=_(spec.unit)))
    if spec.high is not None and value > spec.high:
        raise ParameterError(spec.key, where + _("{value} is above the maximum {high} ({unit})").format(
            value=repr(value), high=spec.high, unit=_(spec.unit)))


def coerce_value(key: str, value: Any) -> Any:
    """Check one value against its parameter's type and range and return it in canonical form.

    Integers are accepted for float parameters; lists for tuple parameters. Booleans are never
    accepted as numbers.

    Args:
        key: Dotted parameter key.
        value: Candidate value.

    Returns:
        The value, converted to the parameter's type.

    Raises:
        ParameterError: If the key is unknown, or the type or range is wrong.
    """
    spec = spec_for(key)
    kind = spec.type
    if kind is bool:
        if not isinstance(value, bool):
            raise ParameterError(key, _("expected true or false, got {value}").format(value=repr(value)))
        return value
    if kind is str:
        if not isinstance(value, str):
            raise ParameterError(key, _("expected a string, got {value}").format(value=repr(value)))
        if spec.choices is not None and value not in spec.choices:
            raise ParameterError(key, _("{value} is not one of {choices}").format(value=repr(value),
                                                                                 choices=", ".join(spec.choices)))
        return value
    if kind is tuple:
        if not isinstance(value, (list, tuple)) or len(value) != len(spec.default):
            raise ParameterError(key, _("expected a list of {n} numbers ({types}), got {value}").format(
                n=len(spec.default), types=", ".join(BUSINESS_TYPES), value=repr(value)))
        element_type = type(spec.default[0])
        items = []
        for i, item in enumerate(value):
            if isinstance(item, bool) or not isinstance(item, (int, float)):
                raise ParameterError(key, _("entry {i} expected a number, got {value}").format(i=i, value=repr(item)))
            if element_type is int and not float(item).is_integer():
                raise ParameterError(key, _("entry {i} expected an integer, got {value}").format(i=i, value=repr(item)))
            item = element_type(item)
            _check_number(spec, item, _("entry {i}: ").format(i=i))
            items.append(item)
        return tuple(items)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ParameterError(key, _("expected {kind}, got {value}").format(kind=_type_name(kind), value=repr(value)))
    if kind is int:
        if not float(value).is_integer():
            raise ParameterError(key, _("expected an integer, got {value}").format(value=repr(value)))
        value = int(value)
    else:
        value = float(value)
    if not math.isfinite(value):
        raise ParameterError(key, _("expected a finite number, got {value}").format(value=repr(value)))
    _check_number(spec, value)
    return value


def _check_consistency(params: Parameters) -> None:
    m = params.members
    if m.min_group_size > m.max_group_size:
        raise ParameterError("members.min_group_size",
                             _("{size} is above members.max_group_size ({most})").format(
                                 size=m.min_group_size, most=m.max_group_size))
    if sum(params.business.type_weights) <= 0:
        raise ParameterError("business.type_weights", _("at least one business type needs a positive weight"))


def make_parameters(overrides: dict[str, Any] | None = None, base: Parameters | None = None) -> Parameters:
    """Build validated parameters from a base and flat dotted-key overrides.

    Args:
        overrides: ``{"section.name": value}``; every key must exist.
        base: Parameters to start from (defaults when None).

    Returns:
        A new, validated :class:`Parameters`.

    Raises:
        ParameterError: For an unknown key, a wrong type, a value out of range or an inconsistency.
    """
    base = base if base is not None else Parameters()
    by_section: dict[str, dict[str, Any]] = {}
    for key, value in (overrides or {}).items():
        spec = spec_for(key)
        by_section.setdefault(spec.section, {})[spec.name] = coerce_value(key, value)
    sections = {
        name: dataclasses.replace(getattr(base, name), **changes) for name, changes in by_section.items()
    }
    params = dataclasses.replace(base, **sections)
    _check_consistency(params)
    return params
