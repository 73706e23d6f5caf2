"""The district as data: its kecamatan (population, terrain, travel, villages), name and poverty line.

A :class:`DistrictMap` is what the model takes as the district; it rides on the parameters
(``Parameters.geography``), so it is pickled with them to sweep workers and is part of what a
sweep fingerprints. The model never reads a file: :mod:`kube_sim.experiments.district_file`
reads a planner's CSV into a :class:`DistrictMap`. The default, :data:`POLEWALI_MANDAR`, is
Polewali Mandar as the shipped file ``kube_sim/shipped/districts/polewali_mandar.csv`` gives it
(a test checks that the two are the same).

References:
    BPS 2010 census via Wikipedia (kecamatan populations); RPIJM profile 2016 (167 villages,
    spread over the kecamatan in proportion to population); travel hours are assumptions
    (4 hours per visit in the remote mountain kecamatan, 1 hour elsewhere).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any

TERRAINS: tuple[str, ...] = ("coast", "lowland", "mountain")
"""Terrain of a kecamatan: coast (or town), lowland plain, mountain; it sets its villages' resource fit."""

REMOTE_TRAVEL_HOURS = 2.0
"""A kecamatan whose facilitator travel is at least this many hours per visit is shown as remote."""


@dataclass(frozen=True)
class Kecamatan:
    """One kecamatan (sub-district) of a district.

    Attributes:
        name: Its name.
        population: People living there (census), which spreads villages when ``district.villages`` is set.
        terrain: One of :data:`TERRAINS`.
        travel_hours: A facilitator's travel per visit to a group there, in hours.
        villages: Villages (desa and kelurahan) in it.
        village_names: The villages' names, one per village in order, or none (the app then numbers them).
    """

    name: str
    population: int
    terrain: str
    travel_hours: float
    villages: int
    village_names: tuple[str, ...] = ()

    @property
    def remote(self) -> bool:
        """Whether a visit takes :data:`REMOTE_TRAVEL_HOURS` of travel or more."""
        return self.travel_hours >= REMOTE_TRAVEL_HOURS


@dataclass(frozen=True)
class DistrictMap:
    """A district: its name, kecamatan and (optionally) its own poverty line.

    Attributes:
        name: The district's name (``"Polewali Mandar"``).
        kecamatan: Its kecamatan, in the order tables and the app show them.
        poverty_line_rp: The district's poverty line (Rp per person per month), or None to keep
            ``poverty.line_rp_per_person``; the experiments layer applies it as that parameter.
        source: Where it was read from (a file, or the shipped name); not part of equality or the digest.

    Raises:
        ValueError: If there is no kecamatan, a name repeats, or a value is out of range (the file
            reader checks all of this first, naming the row and column).
    """

    name: str
    kecamatan: tuple[Kecamatan, ...]
    poverty_line_rp: float | None = None
    source: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.kecamatan:
            raise ValueError("a district needs at least one kecamatan")
        names = [k.name for k in self.kecamatan]
        if len(set(names)) != len(names):
            raise ValueError(f"kecamatan names repeat in {names}")
        for k in self.kecamatan:
            if k.terrain not in TERRAINS:
                raise ValueError(f"{k.name}: terrain {k.terrain!r} is not one of {', '.join(TERRAINS)}")
            if k.population < 1 or k.villages < 1:
                raise ValueError(f"{k.name}: population and villages must be at least 1")
            if not (math.isfinite(k.travel_hours) and k.travel_hours >= 0):
                raise ValueError(f"{k.name}: travel_hours must be a number >= 0")
            if k.village_names and len(k.village_names) != k.villages:
                raise ValueError(f"{k.name}: {len(k.village_names)} village names for {k.villages} villages")
        if self.poverty_line_rp is not None and not (math.isfinite(self.poverty_line_rp) and self.poverty_line_rp > 0):
            raise ValueError("the poverty line must be a positive number")

    @property
    def villages(self) -> int:
        """Villages in the district (one copy)."""
        return sum(k.villages for k in self.kecamatan)

    def content(self) -> dict[str, Any]:
        """The district's content as plain values (what the digest hashes; village names only when it has some)."""
        content: dict[str, Any] = {
            "name": self.name, "poverty_line_rp": self.poverty_line_rp,
            "kecamatan": [[k.name, k.population, k.terrain, k.travel_hours, k.villages] for k in self.kecamatan]}
        if any(k.village_names for k in self.kecamatan):
            content["village_names"] = [list(k.village_names) for k in self.kecamatan]
        return content

    def digest(self) -> str:
        """SHA-256 of :meth:`content`: the same for the same district, whatever file it came from."""
        return hashlib.sha256(json.dumps(self.content(), sort_keys=True).encode()).hexdigest()

    def record(self) -> dict[str, Any]:
        """What a manifest records: name, file, content hash and size."""
        return {"name": self.name, "file": self.source or None, "sha256": self.digest(),
                "kecamatan": len(self.kecamatan), "villages": self.villages,
                "poverty_line_rp": self.poverty_line_rp}


def _polewali(name: str, population: int, terrain: str, remote: bool, villages: int) -> Kecamatan:
    return Kecamatan(name, population, terrain, 4.0 if remote else 1.0, villages)


POLEWALI_MANDAR = DistrictMap(
    name="Polewali Mandar",
    kecamatan=(
        _polewali("Polewali", 54_843, "coast", False, 22),
        _polewali("Campalagian", 52_307, "lowland", False, 21),
        _polewali("Wonomulyo", 45_269, "lowland", False, 18),
        _polewali("Binuang", 30_504, "coast", False, 13),
        _polewali("Mapilli", 27_220, "lowland", False, 11),
        _polewali("Luyo", 26_692, "lowland", False, 11),
        _polewali("Balanipa", 24_021, "coast", False, 10),
        _polewali("Tinambung", 22_317, "coast", False, 10),
        _polewali("Tapango", 21_492, "mountain", False, 9),
        _polewali("Matakali", 21_310, "lowland", False, 9),
        _polewali("Tubbi Taramanu", 18_273, "mountain", True, 8),
        _polewali("Limboro", 16_981, "mountain", False, 7),
        _polewali("Alu", 11_980, "mountain", True, 6),
        _polewali("Anreapi", 9_273, "mountain", False, 5),
        _polewali("Bulo", 8_633, "mountain", True, 4),
        _polewali("Matangnga", 5_005, "mountain", True, 3),
    ),
    poverty_line_rp=364_251.0,
    source="polewali_mandar",
)
"""The default district: Polewali Mandar's 16 kecamatan (2010 census), 167 villages, remote mountain
kecamatan at 4 hours of travel per visit, the others at 1 hour; the poverty line is West Sulawesi's
(BPS, March 2021), the default of ``poverty.line_rp_per_person``."""
