"""Tap water in a plan's scenario: its salts and its carbonate buffer.

Tap water is simulated as NaCl (``tap_water_salt``: the chloride, sulfate and nitrate of
the water as NaCl) plus its carbonate alkalinity as NaHCO3 (``tap_water_alkalinity``:
[HCO3-] + 2 [CO3--], typically 0.5-5 mM), at ``tap_water_pH`` (defaults in
``plan/data/prediction.toml``). Na+ stands for all the cations: the hardness ions
(Ca++, Mg++) that carry most of tap water's bicarbonate would precipitate as CaCO3 on a
cathode, which the engine does not model, so a monovalent counter-ion keeps the buffer
in solution and conducts about as much. Alkalinity is by definition the excess of
strong-base cations over strong-acid anions, so Na+ = salt + alkalinity and Cl- (the
scenario's electroneutrality species) = salt, up to the water's own H+ - OH-.

The carbonate system is two fast acid-base equilibria, CO2(aq) <-> HCO3- + H+ (pK1) and
HCO3- <-> CO3-- + H+ (pK2), "CO2" standing for CO2(aq) with the little H2CO3 it forms.
The engine fixes every secondary species by mass action of primaries only (a product may
not be the reactant of another equilibrium), so both are written on the primary CO3--:
HCO3- = CO3-- H+ / Ka2 (kind ``acid``) and CO2 = CO3-- H+^2 / (Ka1 Ka2) (kind
``mass_action``). The scenario's totals are then named by their primaries: ``CO3--``
holds all dissolved inorganic carbon (DIC) and ``H+`` the proton total
H+ - OH- + HCO3- + 2 CO2. Both follow here from the alkalinity and the pH; the scenario
also fixes the initial pH (``initial_pH``), so the engine recomputes the same proton
total. CO2 escaping from an open tray is not modelled (it would raise the anode tray's
pH a little and lower no pH). Units: mol/m^3 (= mM) inside; pK dimensionless.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: The carbonate species of the scenario, in the order they are added.
CARBONATE_SPECIES = ("HCO3-", "CO3--", "CO2")
_CHARGES = {"HCO3-": -1, "CO3--": -2, "CO2": 0}
PKW = 14.0  # the plan scenarios' water equilibrium (kind "water", pK 14, 25 C)


def _q(value: float, unit: str) -> str:
    return f"{value:.12g} {unit}"


@dataclass(frozen=True)
class Carbonate:
    """The carbonate system: pK1, pK2 (25 C, dimensionless) and the free diffusivities
    (m^2/s, 25 C) of HCO3-, CO3-- and CO2(aq)."""

    pk1: float
    pk2: float
    diffusivity: dict[str, float]

    def speciation(self, alkalinity: float, ph: float) -> tuple[float, float, float]:
        """(CO2, HCO3-, CO3--) in mol/m^3 of water whose carbonate alkalinity
        [HCO3-] + 2 [CO3--] is ``alkalinity`` (mol/m^3) at ``ph``."""
        h = 10.0 ** (-ph)  # mol/L
        k1, k2 = 10.0 ** (-self.pk1), 10.0 ** (-self.pk2)
        d = h * h + k1 * h + k1 * k2
        a0, a1, a2 = h * h / d, k1 * h / d, k1 * k2 / d
        dic = alkalinity / (a1 + 2.0 * a2)
        return dic * a0, dic * a1, dic * a2


@dataclass(frozen=True)
class TapWater:
    """Tap water: NaCl ``salt`` and carbonate ``alkalinity`` (mol/m^3) at ``ph``, with
    its ``carbonate`` system."""

    salt: float
    alkalinity: float
    ph: float
    carbonate: Carbonate

    @property
    def buffered(self) -> bool:
        """True when the water carries carbonate (alkalinity > 0): the carbonate species
        and equilibria are then part of the scenario."""
        return self.alkalinity > 0.0

    def species(self) -> list[dict[str, Any]]:
        """Scenario ``[[species]]`` of the carbonate system (none without alkalinity)."""
        if not self.buffered:
            return []
        return [
            {
                "name": name,
                "charge": _CHARGES[name],
                "diffusivity": _q(self.carbonate.diffusivity[name], "m^2/s"),
            }
            for name in CARBONATE_SPECIES
        ]

    def equilibria(self) -> list[dict[str, Any]]:
        """Scenario ``[[equilibria]]``: HCO3- and CO2(aq) on the primary CO3--."""
        if not self.buffered:
            return []
        c = self.carbonate
        return [
            {
                "name": "bicarbonate",
                "kind": "acid",
                "acid": "HCO3-",
                "base": "CO3--",
                "pK": c.pk2,
            },
            {
                "name": "carbonic acid",
                "kind": "mass_action",
                "product": "CO2",
                "reactants": {"CO3--": 1, "H+": 2},
                # CO2 = CO3-- H+^2 / (Ka1 Ka2), Ka in mol/L: the constant in M^-2
                "constant": _q(10.0 ** (c.pk1 + c.pk2), "M^-2"),
            },
        ]

    def initial(self) -> dict[str, str]:
        """Totals of a compartment of this water (scenario ``initial``, mol/m^3): Na+,
        and with carbonate all of it as ``CO3--`` and the proton total as ``H+``."""
        out = {"Na+": _q(self.salt + self.alkalinity, "mol/m^3")}
        if not self.buffered:
            return out
        co2, hco3, co3 = self.carbonate.speciation(self.alkalinity, self.ph)
        h = 1000.0 * 10.0 ** (-self.ph)
        oh = 1000.0 * 10.0 ** (self.ph - PKW)
        out["CO3--"] = _q(co2 + hco3 + co3, "mol/m^3")
        proton = h - oh + hco3 + 2.0 * co2
        if proton > 0.0:  # otherwise (a trace of carbonate at a high pH) the pH fixes it
            out["H+"] = _q(proton, "mol/m^3")
        return out
