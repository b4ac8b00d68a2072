"""Pore-pathway physics (ionto.simulate.params.pores) against limits and published data."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ionto.simulate.params import load_skin, pore_pathway, pores
from ionto.simulate.params.physchem import (
    diffusivity_at,
    species_radius,
    stokes_einstein_diffusivity,
    stokes_einstein_radius,
    water_viscosity,
)

ANGSTROM = 1e-10
TYPES = ("human", "porcine", "hairless_mouse")


def test_renkin_limits() -> None:
    assert pores.renkin(0.0) == 1.0
    assert pores.renkin(1.0) == 0.0 and pores.renkin(3.0) == 0.0
    assert pores.renkin(0.5) == pytest.approx(0.25 * (1 - 1.052 + 2.09 / 8 - 0.95 / 32))
    with pytest.raises(ValueError):
        pores.renkin(-0.1)


@given(st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_renkin_is_monotone_and_bounded(a: float, b: float) -> None:
    lo, hi = sorted((a, b))
    assert 0.0 <= pores.renkin(hi) <= pores.renkin(lo) <= 1.0


def test_physchem_reference_values() -> None:
    assert water_viscosity(298.15) == pytest.approx(0.890e-3, rel=0.01)
    assert water_viscosity(310.15) == pytest.approx(0.692e-3, rel=0.01)
    assert stokes_einstein_radius(1.334e-9) == pytest.approx(1.84e-10, rel=0.01)  # Na+
    r = 5e-10
    assert stokes_einstein_radius(stokes_einstein_diffusivity(r, 298.15)) == pytest.approx(r)
    assert species_radius(0.23535) == pytest.approx(4.08e-10, rel=0.01)  # lidocaine
    # Erickson: R_min = 0.066 nm M^(1/3)
    assert species_radius(100.0) == pytest.approx(0.066e-9 * 100_000 ** (1 / 3), rel=0.01)
    assert diffusivity_at(1e-9, 310.15) == pytest.approx(1e-9 * 1.35, rel=0.02)


def test_mudry_size_cutoff_emerges_for_human_pores() -> None:
    """mudry2007: electromigration negligible above ~8 A. With the human pore radius
    (12 A, centre of Lai & Roberts' 6.8-17 A, not fitted), the radius where a monovalent
    ion's pore mobility D_w(r) H(r/r_p) falls below 1 % of Na+'s is 8 A within 25 %."""
    human = load_skin("human")
    cutoff = pores.size_cutoff(human, 0.01)
    assert 6.0 * ANGSTROM < cutoff < 10.0 * ANGSTROM
    lidocaine = species_radius(0.23535)  # 4.1 A: measurably iontophoresed
    na = pores.renkin(pores.NA_RADIUS / human.pore_radius) / pores.NA_RADIUS
    assert pores.renkin(lidocaine / human.pore_radius) / lidocaine > 0.05 * na
    r8 = 8 * ANGSTROM
    assert pores.renkin(r8 / human.pore_radius) / r8 < 0.02 * na


@pytest.mark.parametrize("skin_type", TYPES)
def test_charge_and_electroosmosis_reverse_at_the_isoelectric_point(skin_type: str) -> None:
    skin = load_skin(skin_type)
    pi = skin.isoelectric_point
    assert pores.pore_charge(skin, pi) == pytest.approx(0.0, abs=1e-9)
    assert pores.pore_charge(skin, 7.4) == pytest.approx(skin.pore_charge_density)
    assert pores.electroosmotic_coefficient(skin, pH=7.4) > 0  # anode -> cathode
    assert pores.electroosmotic_coefficient(skin, pH=pi - 0.7) < 0  # reversed (marro2001)
    assert pores.electroosmotic_coefficient(skin, pH=pi + 0.7) > 0


def test_marro_order_human_reverses_at_higher_pH_than_pig() -> None:
    human, pig = load_skin("human"), load_skin("porcine")
    assert pores.pore_charge(human, 4.6) > 0 > pores.pore_charge(pig, 4.6)


def test_hms_electroosmotic_flow_matches_kim1993() -> None:
    """kim1993: anodal volume flow 2.7 +- 1.3 uL/(h cm2) at 0.36 mA/cm2, pH 7. Not fitted:
    r_p from liddell2011, X from the Na+ transport number of the same study."""
    hms = load_skin("hairless_mouse")
    kappa = pores.electroosmotic_coefficient(hms, salt=150.0, pH=7.0)  # m^3/C
    flow = kappa * 3.6 * 1e9 * 3600 / 1e4  # uL/(h cm2) at 3.6 A/m^2
    assert 2.7 - 1.3 <= flow <= 2.7 + 1.3


def test_derived_charges_reproduce_their_measurements() -> None:
    t_water = 1.334 / (1.334 + 2.032)
    human = load_skin("human")
    assert pores.pore_transport_number(human) / t_water == pytest.approx(1.4, abs=0.02)
    hms = load_skin("hairless_mouse")
    assert pores.pore_transport_number(hms, pH=7.0) == pytest.approx(0.46, abs=0.01)


def test_human_sc_resistance_is_inside_rosell_range() -> None:
    human = load_skin("human")
    r = pores.sc_resistance(human)  # ohm m^2; 1 ohm m^2 = 10 kohm cm^2
    assert 1.0 <= r <= 100.0
    assert r == pytest.approx(human.sc_resistance, rel=0.05)


def test_pores_carry_the_ions_and_size_excludes() -> None:
    """Claim P5: the pore pathway carries most of the ionic flux."""
    human = load_skin("human")
    radii = {"Na+": 1.84e-10, "big": 20e-10, "mannitol": 4e-10, "site": 3e-10}
    d_w = {"Na+": 1.33e-9, "big": 2e-10, "mannitol": 7e-10, "site": 0.0}
    path = pore_pathway(human, radii, d_w, {"Na+": 1, "big": 1, "mannitol": 0, "site": -1})
    assert "site" not in path.factors  # immobile
    assert path.pore_share["Na+"] > 0.99
    assert path.pore_share["big"] == 0.0
    assert path.factors["big"] == pytest.approx((1 - human.pore_porosity) * 1e-8)
    assert path.factors["Na+"] > path.factors["mannitol"] > path.factors["big"]
    assert path.electroosmotic_coefficient > 0 and path.fixed_charge < 0
