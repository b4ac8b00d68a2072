"""Irritation and burn-risk indicators of both electrode sites (claim P10): peak local
current density, local charge density and the largest pH excursion at each electrode."""

from __future__ import annotations

import dataclasses

import pytest

from ionto.simulate.problem import (
    ElectrodeBoundary,
    ElectrodeReaction,
    Equilibrium,
    Layer,
    MeshSpec,
    Problem,
    Segment,
    SolverSpec,
    Species,
)
from ionto.simulate.simulation import simulate

INERT = ElectrodeReaction("inert", {"H+": 1.0}, {"OH-": 1.0})
AGCL = ElectrodeReaction("Ag/AgCl", {"Cl-": -1.0}, {"Cl-": 1.0})
CM2 = 1e-4
ACTIVE = "left (active)"
INDIFFERENT = "right (indifferent)"


def _chain(i: float, duration: float, indifferent: float, anode: ElectrodeReaction) -> Problem:
    layers = (
        Layer("a_gel", 500e-6, initial={"Na+": 150.0}, initial_pH=7.0, area=5 * CM2),
        Layer("body", 1e-3, initial={"Na+": 150.0}, initial_pH=7.0, area=5 * CM2),
        Layer("i_gel", 500e-6, initial={"Na+": 150.0}, initial_pH=7.0, area=indifferent),
    )
    return Problem(
        species=(
            Species("Na+", 1, 1.33e-9),
            Species("Cl-", -1, 2.03e-9),
            Species("H+", 1, 9.31e-9),
            Species("OH-", -1, 5.27e-9),
        ),
        electroneutral_species="Cl-",
        layers=layers,
        left=ElectrodeBoundary(anode),
        right=ElectrodeBoundary(INERT),
        control=(Segment(2.0, 0.0, i), Segment(duration, i, i), Segment(10.0, 0.0, 0.0)),
        equilibria=(Equilibrium("water", "OH-", {"H+": -1.0}, 1e-8),),
        mesh=MeshSpec(min_cell=0.2e-6, max_cell=20e-6, growth=1.2),
        solver=SolverSpec(rtol=1e-6, atol=1e-9),
    )


def _exposure(problem: Problem) -> dict[str, float]:
    result = simulate(problem)
    assert max(result.balance.values()) < 1e-12
    return result.exposure


def _key(what: str, side: str) -> str:
    unit = {"peak current density": "A/m^2", "charge density": "C/m^2"}.get(what, "-")
    if what == "pH":
        return f"largest pH excursion at the {side} electrode [-]"
    return f"{what} at the {side} electrode [{unit}]"


def test_P10_indicators_scale_with_current_density_charge_and_pH() -> None:
    """Doubling the current doubles the peak current density and the charge density at
    both sites (to round-off) and widens the pH excursion; a longer treatment passes
    more charge; a four times larger indifferent electrode has a quarter of the
    current and charge density and a smaller pH excursion; an Ag/AgCl anode moves the
    pH far less than an inert one, which makes acid."""
    base = _exposure(_chain(5.0, 30.0, 5 * CM2, INERT))
    double = _exposure(_chain(10.0, 30.0, 5 * CM2, INERT))
    longer = _exposure(_chain(5.0, 60.0, 5 * CM2, INERT))
    large = _exposure(_chain(5.0, 30.0, 20 * CM2, INERT))
    silver = _exposure(_chain(5.0, 30.0, 5 * CM2, AGCL))
    for side in (ACTIVE, INDIFFERENT):
        peak, charge, ph = (_key(w, side) for w in ("peak current density", "charge density", "pH"))
        assert base[peak] == pytest.approx(5.0, rel=1e-12)
        assert base[charge] == pytest.approx(5.0 * (1.0 + 30.0), rel=1e-12)
        assert double[peak] == pytest.approx(2 * base[peak], rel=1e-12)
        assert double[charge] == pytest.approx(2 * base[charge], rel=1e-12)
        assert double[ph] > base[ph] > 2.0
        assert longer[charge] > 1.9 * base[charge] and longer[ph] >= base[ph]
    peak_i, charge_i = (
        _key("peak current density", INDIFFERENT),
        _key("charge density", INDIFFERENT),
    )
    assert large[peak_i] == pytest.approx(base[peak_i] / 4, rel=1e-12)
    assert large[charge_i] == pytest.approx(base[charge_i] / 4, rel=1e-12)
    assert large[_key("pH", INDIFFERENT)] < base[_key("pH", INDIFFERENT)]
    # unbuffered: Ag/AgCl makes no acid, only trace OH- drifts to it (4.5 vs 2.0 pH)
    assert silver[_key("pH", ACTIVE)] < 0.5 * base[_key("pH", ACTIVE)]


def test_exposure_appears_in_the_summary() -> None:
    result = simulate(dataclasses.replace(_chain(5.0, 5.0, 5 * CM2, AGCL)))
    assert _key("charge density", ACTIVE) in result.summary()


def test_no_current_no_pH_excursion_with_a_weak_base_in_the_gel() -> None:
    """The reference pH is the first consistent state: an electrode face's initial guess
    of free H+ (before the weak base's equilibrium is solved) is not a pH the skin saw."""
    base = _chain(0.0, 60.0, 5 * CM2, AGCL)
    gel = dataclasses.replace(base.layers[0], initial={"Na+": 70.0, "Lid": 80.0})
    problem = dataclasses.replace(
        base,
        species=(*base.species, Species("Lid+", 1, 6.0e-10), Species("Lid", 0, 6.0e-10)),
        layers=(gel, *base.layers[1:]),
        left=ElectrodeBoundary(AGCL),
        right=ElectrodeBoundary(AGCL),
        equilibria=(
            *base.equilibria,
            Equilibrium("lidocaine", "Lid+", {"Lid": 1.0, "H+": 1.0}, 1.0 / (10**-7.9 * 1e3)),
        ),
    )
    result = simulate(problem)
    assert max(result.balance.values()) < 1e-9  # the weak base: ~3e-11 (small totals)
    exposure = result.exposure
    for side in (ACTIVE, INDIFFERENT):
        assert exposure[_key("peak current density", side)] == 0.0
        assert exposure[_key("pH", side)] < 0.05
