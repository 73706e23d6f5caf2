"""The dotted keys of the parameters that code names, in one place.

A parameter is declared once, in :data:`kube_sim.model.parameters.PARAMETER_SPECS` (its unit, range,
default and source). Code that sets or reads one parameter by its key (a study's grid, the app's
controls, a phrase naming a lever, a validation arm) refers to it through a constant here, so a key
renamed in the registry is renamed here once, and a test checks that every constant names a declared
parameter and that no other module spells these keys out.
"""

from __future__ import annotations

CASELOAD = "facilitators.groups_per_facilitator"
"""Groups per facilitator (the caseload rule); 0 is no facilitators."""
HEADCOUNT = "facilitators.count"
"""Facilitators recruited (0: as many as the caseload rule asks)."""
HOURS = "facilitators.hours_per_month"
"""A facilitator's hours a month."""
PATTERN = "facilitators.pattern"
"""How facilitators choose whom to visit."""
TARGETS = "facilitators.targets"
"""Facilitators work to visit targets."""
EQUIPMENT = "grants.equipment_rp"
"""The equipment grant per group, rupiah."""
EQUIPMENT_MONTH = "grants.equipment_month"
"""Months after the UEP grant that the equipment grant comes."""
UEP_PER_MEMBER = "grants.uep_per_member_rp"
"""The UEP grant per member, rupiah."""
INACTIVE_SHARE = "members.initial_inactive_share"
"""Share of members inactive from the start."""
FARM_WAGE = "members.farm_wage_rp_per_day"
"""A day's farm wage, rupiah."""
POVERTY_LINE = "poverty.line_rp_per_person"
"""The poverty line, rupiah a person a month."""
BUSINESS_PRICES = "business.price_per_size_rp"
"""Prices of the businesses by size, rupiah."""
ROUNDS = "funding.rounds"
"""Yearly funding rounds."""
ROUND_BUDGET = "funding.annual_budget_rp"
"""A funding round's money, rupiah."""
VILLAGE_QUOTA = "funding.villages_per_kecamatan"
"""Villages funded per kecamatan in a round."""
REPLICAS = "district.replicas"
"""Copies of the district in one run."""
DISTRICT_NAME = "district.name"
"""The district's name."""
