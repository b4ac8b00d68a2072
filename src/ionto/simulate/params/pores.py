"""The stratum corneum as a lipid pathway and a charged aqueous pore pathway in parallel.

Equations (docs/parameters.md has the derivations and sources); SI units:

* Renkin hindrance of a solute of radius r_s in a cylindrical pore of radius r_p
  (Renkin 1954, source key ``renkin1954``), lambda = r_s / r_p:
  H(lambda) = (1 - lambda)^2 (1 - 2.104 lambda + 2.09 lambda^3 - 0.95 lambda^5),
  0 for lambda >= 1. (1 - lambda)^2 is steric partitioning, the rest hindered diffusion.
* Effective diffusivity factor of the SC layer for species k (the engine's
  ``Layer.diffusivity_factors``, D_eff = f_k D_w,k), pathways area-weighted in parallel:
  f_k = (eps / tau) H(r_k / r_p) + (1 - eps) h_lipid,k, with eps the effective pore
  porosity, tau >= 1 the pore tortuosity (appendageal ducts are nearly straight: tau ~ 1),
  h_lipid the lipid-route factor for ions or for neutral solutes (partition x lipid
  diffusivity / D_w, tortuosity included). Concentrations are those of the pore water.
* Pore fixed charge X(pH) (mol/m^3 of elementary charge, pore-water volume) from equal
  densities N of acidic (pKa_a) and basic (pKa_b = 2 pI - pKa_a) sites, so that X = 0 at
  the isoelectric point pI: X = N [1 / (1 + 10^(pH - pKa_b)) - 1 / (1 + 10^(pKa_a - pH))];
  N is fixed by the tabulated X at pH 7.4.
* Donnan partitioning of a 1:1 salt c0 into the pore: c+ = (-X + sqrt(X^2 + 4 c0^2)) / 2,
  c- = c+ + X.
* Electroosmosis in a uniformly charged fine pore: the mobile space charge -F X feels the
  field E, the Poiseuille mean velocity is v = -F X E r_p^2 / (8 eta), and the pore's
  current density is kappa_p E with kappa_p = (F^2/RT) sum z^2 D H c. The volume flux per
  current density (the engine's ``electroosmotic_coefficient``, m^3/C) is
  kappa_EO = -F X r_p^2 / (8 eta kappa_p): positive (anode -> cathode) for negative X,
  reversing sign below the isoelectric point (Pikal 1992, key ``pikal1992``, U).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ionto.simulate.params.physchem import T25, T37, diffusivity_at, water_viscosity
from ionto.simulate.problem import FARADAY, GAS_CONSTANT

if TYPE_CHECKING:
    from ionto.simulate.params.skin import SkinParameters

REFERENCE_PH = 7.4  # pH at which ``pore_charge_density`` is tabulated
# Reference electrolyte for pore conductivity: Na+ and Cl- limiting diffusivities at 25 C
# (m^2/s, textbook:limiting-ionic-diffusivity) and Stokes radii from them (m).
NA_D25, CL_D25 = 1.334e-9, 2.032e-9
NA_RADIUS, CL_RADIUS = 1.838e-10, 1.207e-10


def renkin(lam: float) -> float:
    """Renkin hindrance H(lambda) (-) for lambda = solute radius / pore radius >= 0."""
    if lam < 0 or math.isnan(lam):
        raise ValueError(f"lambda must be >= 0, got {lam}")
    if lam >= 1.0:
        return 0.0
    return (1 - lam) ** 2 * (1 - 2.104 * lam + 2.09 * lam**3 - 0.95 * lam**5)


def site_density(skin: SkinParameters) -> float:
    """Density N (mol/m^3) of each of the acidic and basic pore sites."""
    shape = _site_shape(skin, REFERENCE_PH)
    return skin.pore_charge_density / shape if shape != 0 else 0.0


def base_pKa(skin: SkinParameters) -> float:
    """pKa of the basic pore sites, 2 pI - pKa_acid (-)."""
    return 2.0 * skin.isoelectric_point - skin.pore_acid_pKa


def _site_shape(skin: SkinParameters, pH: float) -> float:
    protonated_base = 1.0 / (1.0 + 10.0 ** (pH - base_pKa(skin)))
    ionized_acid = 1.0 / (1.0 + 10.0 ** (skin.pore_acid_pKa - pH))
    return protonated_base - ionized_acid


def pore_charge(skin: SkinParameters, pH: float = REFERENCE_PH) -> float:
    """Signed fixed charge of the pore water (mol/m^3) at ``pH``; 0 at the pI."""
    return site_density(skin) * _site_shape(skin, pH)


def donnan(salt: float, fixed_charge: float) -> tuple[float, float]:
    """(cation, anion) concentrations (mol/m^3) of a 1:1 salt ``salt`` (mol/m^3, outside)
    in a phase of fixed charge ``fixed_charge`` (mol/m^3, signed), ideal Donnan."""
    cation = 0.5 * (-fixed_charge + math.sqrt(fixed_charge**2 + 4.0 * salt**2))
    return cation, cation + fixed_charge


def sc_factor(skin: SkinParameters, radius: float, charged: bool) -> float:
    """Effective SC diffusivity factor (-) of a solute of hydrodynamic ``radius`` (m)."""
    eps = skin.pore_porosity
    lipid = skin.lipid_hindrance_ion if charged else skin.lipid_hindrance_neutral
    return eps / skin.pore_tortuosity * renkin(radius / skin.pore_radius) + (1 - eps) * lipid


def pore_conductivity(
    skin: SkinParameters, salt: float = 150.0, pH: float = REFERENCE_PH, temperature: float = T37
) -> float:
    """Conductivity (S/m) of the pore water in NaCl ``salt`` (mol/m^3) at ``pH``."""
    cat, an = donnan(salt, pore_charge(skin, pH))
    d_na = diffusivity_at(NA_D25, temperature, T25) * renkin(NA_RADIUS / skin.pore_radius)
    d_cl = diffusivity_at(CL_D25, temperature, T25) * renkin(CL_RADIUS / skin.pore_radius)
    return FARADAY**2 / (GAS_CONSTANT * temperature) * (d_na * cat + d_cl * an)


def electroosmotic_coefficient(
    skin: SkinParameters, salt: float = 150.0, pH: float = REFERENCE_PH, temperature: float = T37
) -> float:
    """Volume flux per current density (m^3/C) of the pore pathway, positive in the
    direction of the current (anode -> cathode) when the pores are negative."""
    x = pore_charge(skin, pH)
    kappa = pore_conductivity(skin, salt, pH, temperature)
    return -FARADAY * x * skin.pore_radius**2 / (8.0 * water_viscosity(temperature) * kappa)


def pore_transport_number(
    skin: SkinParameters, salt: float = 150.0, pH: float = REFERENCE_PH, temperature: float = T37
) -> float:
    """Na+ transport number (-) in the pores in NaCl ``salt`` (mol/m^3): Donnan
    concentrations times hindered diffusivities (Teorell-Meyer-Sievers)."""
    cat, an = donnan(salt, pore_charge(skin, pH))
    g_na = diffusivity_at(NA_D25, temperature) * renkin(NA_RADIUS / skin.pore_radius) * cat
    g_cl = diffusivity_at(CL_D25, temperature) * renkin(CL_RADIUS / skin.pore_radius) * an
    return g_na / (g_na + g_cl)


def sc_resistance(
    skin: SkinParameters, salt: float = 150.0, pH: float = REFERENCE_PH, temperature: float = T37
) -> float:
    """Specific resistance (ohm m^2) of the SC in NaCl ``salt`` (mol/m^3), both pathways,
    concentrations of the pore water (Donnan); 0 without an SC (mucosa)."""
    if skin.sc_thickness == 0:
        return 0.0
    cat, an = donnan(salt, pore_charge(skin, pH))
    g = diffusivity_at(NA_D25, temperature) * sc_factor(skin, NA_RADIUS, True) * cat
    g += diffusivity_at(CL_D25, temperature) * sc_factor(skin, CL_RADIUS, True) * an
    kappa = FARADAY**2 / (GAS_CONSTANT * temperature) * g
    return skin.sc_thickness / kappa


@dataclass(frozen=True)
class PorePathway:
    """Result of :func:`pore_pathway`: per-species SC diffusivity factors (-), the share
    of each species' SC conductance that goes through the pores (-), the pore fixed
    charge (mol/m^3) and the electroosmotic coefficient (m^3/C) at that pH."""

    factors: dict[str, float]
    pore_share: dict[str, float]
    fixed_charge: float
    electroosmotic_coefficient: float


def pore_pathway(
    skin: SkinParameters,
    species_radii: Mapping[str, float],
    D_w: Mapping[str, float],  # noqa: N803 (the engine's name)
    charges: Mapping[str, int] | None = None,
    *,
    pH: float = REFERENCE_PH,
    salt: float = 150.0,
    temperature: float = T37,
) -> PorePathway:
    """Effective SC factors for the species named in ``species_radii`` (radius in m).

    ``D_w`` (m^2/s) names the mobile species (D_w = 0: immobile, skipped); ``charges``
    (valence) selects the lipid factor for ions or neutral solutes (default: ions)."""
    factors: dict[str, float] = {}
    share: dict[str, float] = {}
    for name, radius in species_radii.items():
        if D_w.get(name, 1.0) == 0.0:
            continue
        charged = True if charges is None else charges.get(name, 1) != 0
        f = sc_factor(skin, radius, charged)
        pore = skin.pore_porosity / skin.pore_tortuosity * renkin(radius / skin.pore_radius)
        factors[name] = f
        share[name] = pore / f
    return PorePathway(
        factors,
        share,
        pore_charge(skin, pH),
        electroosmotic_coefficient(skin, salt, pH, temperature),
    )


def size_cutoff(skin: SkinParameters, fraction: float = 0.01, temperature: float = T37) -> float:
    """Hydrodynamic radius (m) above which a monovalent ion's pore electromigration
    mobility D_w(r) H(r / r_p) (Stokes-Einstein D_w) is below ``fraction`` of Na+'s."""
    na = diffusivity_at(NA_D25, temperature) * renkin(NA_RADIUS / skin.pore_radius)

    def mobility(r: float) -> float:
        return (NA_RADIUS / r) * diffusivity_at(NA_D25, temperature) * renkin(r / skin.pore_radius)

    lo, hi = NA_RADIUS, skin.pore_radius
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if mobility(mid) > fraction * na else (lo, mid)
    return 0.5 * (lo + hi)
