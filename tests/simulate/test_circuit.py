"""Two-site circuits (claim P3): layers of different cross-sections in series.

An active site, the body and an indifferent site form one chain whose layers carry their
own areas; the current I is the same through every cross-section, so the current density
I/A differs by site. Amounts and current densities are per m^2 of the first layer."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from ionto.simulate.problem import (
    FARADAY,
    GAS_CONSTANT,
    ElectrodeBoundary,
    ElectrodeReaction,
    Equilibrium,
    FixedBoundary,
    Layer,
    MeshSpec,
    Problem,
    Reaction,
    ReportSpec,
    ReservoirBoundary,
    Segment,
    SolverSpec,
    Species,
)
from ionto.simulate.simulation import simulate

AGCL = ElectrodeReaction("Ag/AgCl", {"Cl-": -1.0}, {"Cl-": 1.0})
INERT = ElectrodeReaction("inert", {"H+": 1.0}, {"OH-": 1.0})
NACL = (Species("Na+", 1, 1.33e-9), Species("Cl-", -1, 2.03e-9))
T = 310.15
F_T = FARADAY / (GAS_CONSTANT * T)
CM2 = 1e-4


def _areas(layers: tuple[Layer, ...], areas: tuple[float, ...]) -> tuple[Layer, ...]:
    return tuple(dataclasses.replace(la, area=a) for la, a in zip(layers, areas, strict=True))


def test_P3_series_cross_sections_add_as_resistors() -> None:
    """A uniform electrolyte through three cross-sections (10, 1 and 40 cm^2) between
    baths at a fixed voltage: I = V / sum L_k / (sigma A_k), to round-off (the fitted
    fluxes are exact for a uniform solution, and the area changes at faces)."""
    lengths = (100e-6, 300e-6, 50e-6)
    areas = (10 * CM2, 1 * CM2, 40 * CM2)
    layers = _areas(
        tuple(Layer(f"l{k}", L, initial={"Na+": 10.0}) for k, L in enumerate(lengths)), areas
    )
    volts = 0.02
    problem = Problem(
        species=NACL,
        electroneutral_species="Cl-",
        layers=layers,
        left=FixedBoundary({"Na+": 10.0}),
        right=FixedBoundary({"Na+": 10.0}),
        control=(Segment(5.0, volts, volts, mode="voltage"),),
        mesh=MeshSpec(min_cell=1e-6, max_cell=20e-6, growth=1.2),
        reports=(ReportSpec("i", "current", 5.0, side="before"),),
        solver=SolverSpec(rtol=1e-7, atol=1e-9),
        temperature=T,
    )
    result = simulate(problem)
    sigma = F_T * FARADAY * (1.33e-9 + 2.03e-9) * 10.0
    resistance = sum(L / (sigma * a) for L, a in zip(lengths, areas, strict=True))
    current = result.reports["i"] * areas[0]  # per reference area -> A
    assert current == pytest.approx(volts / resistance, rel=1e-9)
    # the narrow middle dominates: the same layers at one area conduct 2.6x more
    uniform = volts / (sum(lengths) / (sigma * areas[0]))
    assert current < uniform / 2.5


SPECIES = (
    Species("D+", 1, 6e-10),
    Species("M+", 1, 6e-10),
    Species("Na+", 1, 1.33e-9),
    Species("Cl-", -1, 2.03e-9),
)
CONTROL = (
    Segment(10.0, 0.0, 5.0),
    Segment(60.0, 5.0, 5.0),
    *[Segment(2.0, 8.0 * (k % 2 == 0), 8.0 * (k % 2 == 0)) for k in range(10)],
    Segment(30.0, -3.0, -3.0),
    Segment(60.0, 0.0, 0.0),
)


def _two_site_chain(
    active: float, body: float, indifferent: float, left: object, right: object
) -> Problem:
    """gel | barrier | tissue (active site) | body | tissue | barrier | gel (indifferent)."""
    site = (
        Layer(
            "barrier",
            20e-6,
            1e-3,
            fixed_charge=-30.0,
            initial={"Na+": 150.0},
            reaction_rates={"met": 2e-3},
        ),
        Layer("tissue", 300e-6, 0.5, exchange_rate=1e-3, initial={"Na+": 150.0}),
    )
    layers = (
        Layer("gel", 300e-6, initial={"D+": 50.0, "Na+": 10.0}, area=active),
        *(dataclasses.replace(la, area=active) for la in site),
        Layer("body", 2e-3, exchange_rate=1e-2, initial={"Na+": 150.0}, area=body),
        *(dataclasses.replace(la, name="i_" + la.name, area=indifferent) for la in reversed(site)),
        Layer("i_gel", 300e-6, initial={"Na+": 150.0}, area=indifferent),
    )
    return Problem(
        species=SPECIES,
        electroneutral_species="Cl-",
        layers=layers,
        left=left,  # type: ignore[arg-type]
        right=right,  # type: ignore[arg-type]
        control=CONTROL,
        mesh=MeshSpec(min_cell=0.5e-6, max_cell=40e-6, growth=1.3),
        electroosmotic_coefficient=3e-9,
        exchange_concentrations={"Na+": 150.0},
        reactions=(Reaction("met", "D+", "M+"),),
        solver=SolverSpec(rtol=1e-5, atol=1e-6),
        output_times=(100.0,),
    )


@pytest.mark.parametrize(
    ("left", "right"),
    [
        (ElectrodeBoundary(AGCL), ElectrodeBoundary(AGCL)),
        (
            ReservoirBoundary(1e-3, {"D+": 50.0, "Na+": 10.0}, AGCL),
            ReservoirBoundary(2e-3, {"Na+": 150.0}, AGCL),
        ),
    ],
    ids=["electrodes", "reservoirs"],
)
def test_P3_two_site_chain_balances_to_round_off(left: object, right: object) -> None:
    """Every species and charge balance closes to round-off through areas 10 | 2 | 25
    cm^2 under a ramp, pulses, reversal and rest; the charge that entered at the active
    electrode and left at the indifferent one is the charge passed."""
    result = simulate(_two_site_chain(10 * CM2, 2 * CM2, 25 * CM2, left, right))
    assert max(result.balance.values()) < 1e-12
    z = np.array([sp.charge for sp in SPECIES], dtype=float)
    passed = sum(0.5 * (s.start + s.end) * s.duration for s in CONTROL)  # C per m^2 active
    assert FARADAY * float(z @ result.totals["in_left"]) == pytest.approx(passed, rel=1e-12)
    assert FARADAY * float(z @ result.totals["out_right"]) == pytest.approx(passed, rel=1e-9)
    assert result.totals["reacted"][1] > 0 and result.totals["cleared"][0] > 0


def _ph_chain(indifferent: float) -> Problem:
    """Inert anode | 0.5 mm saline | body | 0.5 mm saline | inert cathode, with water's
    equilibrium: acid at the anode, alkali at the cathode."""
    layers = (
        Layer("a_gel", 500e-6, initial={"Na+": 150.0}, initial_pH=7.0, area=5 * CM2),
        Layer("body", 1e-3, initial={"Na+": 150.0}, initial_pH=7.0, area=5 * CM2),
        Layer("i_gel", 500e-6, initial={"Na+": 150.0}, initial_pH=7.0, area=indifferent),
    )
    length = 2e-3
    return Problem(
        species=(*NACL, Species("H+", 1, 9.31e-9), Species("OH-", -1, 5.27e-9)),
        electroneutral_species="Cl-",
        layers=layers,
        left=ElectrodeBoundary(INERT),
        right=ElectrodeBoundary(INERT),
        control=(Segment(30.0, 5.0, 5.0),),
        equilibria=(Equilibrium("water", "OH-", {"H+": -1.0}, 1e-8),),
        mesh=MeshSpec(min_cell=0.2e-6, max_cell=20e-6, growth=1.2),
        reports=(
            ReportSpec("pH_anode", "pH", 30.0, "H+", position=0.0, side="before"),
            ReportSpec("pH_cathode", "pH", 30.0, "H+", position=length, side="before"),
        ),
        solver=SolverSpec(rtol=1e-6, atol=1e-9),
        temperature=T,
    )


def test_P3_indifferent_electrode_has_its_own_pH() -> None:
    """The indifferent (cathode) site turns alkaline while the active anode turns acid;
    a four times larger indifferent electrode carries a quarter of the current density
    and stays nearer neutral: at the same time its surface OH- is about a quarter (the
    unbuffered, trace-ion response is nearly linear in the flux), log10(4) = 0.6 pH."""
    small = simulate(_ph_chain(5 * CM2)).reports
    large = simulate(_ph_chain(20 * CM2)).reports
    assert small["pH_anode"] < 4.0 and large["pH_anode"] < 4.0
    assert small["pH_anode"] == pytest.approx(large["pH_anode"], abs=0.01)
    assert small["pH_cathode"] > 10.0
    assert small["pH_cathode"] - large["pH_cathode"] == pytest.approx(np.log10(4.0), abs=0.1)
