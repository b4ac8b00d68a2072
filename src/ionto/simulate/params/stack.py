"""Skin layers for the engine from a parameter set: SC, viable epidermis, dermis.

``skin_layers(skin, species, ...)`` returns :class:`ionto.simulate.problem.Layer` objects:

* ``stratum_corneum`` (absent when ``sc_thickness`` is 0, e.g. mucosa): per-species
  diffusivity factors from :func:`ionto.simulate.params.pores.pore_pathway` (pores and
  lipids in parallel), the pore fixed charge at ``pH`` (mol/m^3), and initial
  concentrations in Donnan equilibrium with the tissue fluid;
* ``viable_epidermis`` (or the mucosal epithelium): ``tissue_hindrance``;
* ``dermis``: ``tissue_hindrance`` and ``dermal_exchange_rate`` (1/s).

Concentrations are those of the water phase of each layer (mol/m^3). The electroosmotic
coefficient of the pore pathway (m^3/C) comes from :func:`skin_electroosmosis`; a
Problem takes it as ``electroosmotic_coefficient``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from ionto.simulate.params.physchem import T37, stokes_einstein_radius
from ionto.simulate.params.pores import REFERENCE_PH, electroosmotic_coefficient, pore_pathway
from ionto.simulate.params.skin import SkinParameters
from ionto.simulate.problem import Layer, Species


def default_radii(species: Sequence[Species]) -> dict[str, float]:
    """Stokes radii (m) from the species' free diffusivities (m^2/s, read as 25 C values);
    immobile species (D = 0) are skipped."""
    return {s.name: stokes_einstein_radius(s.diffusivity) for s in species if s.diffusivity > 0}


def donnan_initial(
    tissue: Mapping[str, float],
    species: Sequence[Species],
    electroneutral: str,
    fixed_charge: float,
) -> dict[str, float]:
    """Concentrations (mol/m^3) of the non-electroneutrality species inside a phase of
    ``fixed_charge`` (mol/m^3) in Donnan equilibrium with ``tissue`` (mol/m^3, the
    electroneutrality species following from electroneutrality): c_in = c_out u^z with
    sum z c_out u^z + X = 0, u = exp(-F dpsi / RT)."""
    charge = {s.name: s.charge for s in species}
    outside = {k: v for k, v in tissue.items() if k != electroneutral}
    z_en = charge[electroneutral]
    outside[electroneutral] = -sum(charge[k] * c for k, c in outside.items()) / z_en

    def residual(log_u: float) -> float:
        return (
            sum(charge[k] * c * math.exp(charge[k] * log_u) for k, c in outside.items())
            + fixed_charge
        )

    lo, hi = -30.0, 30.0
    if residual(lo) * residual(hi) > 0:
        return {k: v for k, v in tissue.items() if k != electroneutral}
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if (residual(mid) > 0) == (residual(hi) > 0):
            hi = mid
        else:
            lo = mid
    log_u = 0.5 * (lo + hi)
    return {k: c * math.exp(charge[k] * log_u) for k, c in outside.items() if k != electroneutral}


def skin_layers(
    skin: SkinParameters,
    species: Sequence[Species],
    electroneutral: str,
    tissue: Mapping[str, float],
    *,
    radii: Mapping[str, float] | None = None,
    pH: float = REFERENCE_PH,
    temperature: float = T37,
    max_cell: float | None = None,
) -> tuple[Layer, ...]:
    """The layers of ``skin`` for ``species`` (engine Species, D_w in m^2/s), with
    ``tissue`` the initial tissue-fluid concentrations (mol/m^3, not the electroneutrality
    species). ``radii``: hydrodynamic radii (m) overriding :func:`default_radii`.
    ``max_cell``: largest mesh cell (m) in the dermis."""
    r = default_radii(species)
    r.update(radii or {})
    mobile = {s.name: s.diffusivity for s in species}
    charges = {s.name: s.charge for s in species}
    tissue_init = {k: v for k, v in tissue.items() if k != electroneutral}
    layers = []
    if skin.sc_thickness > 0:
        path = pore_pathway(skin, r, mobile, charges, pH=pH, temperature=temperature)
        layers.append(
            Layer(
                "stratum_corneum",
                skin.sc_thickness,
                diffusivity_factors=path.factors,
                fixed_charge=path.fixed_charge,
                initial=donnan_initial(tissue, species, electroneutral, path.fixed_charge),
            )
        )
    epidermis = skin.epithelium_thickness or skin.viable_epidermis_thickness
    name = _epidermis_name(skin)
    layers.append(Layer(name, epidermis, skin.tissue_hindrance, initial=tissue_init))
    layers.append(
        Layer(
            "dermis",
            skin.dermis_thickness,
            skin.tissue_hindrance,
            exchange_rate=skin.dermal_exchange_rate,
            initial=tissue_init,
            max_cell=max_cell,
        )
    )
    return tuple(layers)


def _epidermis_name(skin: SkinParameters) -> str:
    return "epithelium" if skin.epithelium_thickness else "viable_epidermis"


def outer_layer(skin: SkinParameters) -> str:
    """Name of the outermost layer :func:`skin_layers` builds for ``skin``: the stratum
    corneum, or without one (mucosa) the epithelium or viable epidermis."""
    return "stratum_corneum" if skin.sc_thickness > 0 else _epidermis_name(skin)


def skin_electroosmosis(
    skin: SkinParameters, salt: float = 150.0, pH: float = REFERENCE_PH, temperature: float = T37
) -> float:
    """Electroosmotic coefficient (m^3/C) of the skin's pore pathway; 0 without an SC
    (no charged pores modelled in mucosa)."""
    if skin.sc_thickness == 0:
        return 0.0
    return electroosmotic_coefficient(skin, salt, pH, temperature)
