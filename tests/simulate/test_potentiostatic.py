"""Voltage control: the current follows from phi(0) - phi(L) = V(t)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ionto.simulate.problem import (
    FARADAY,
    GAS_CONSTANT,
    ElectrodeBoundary,
    ElectrodeReaction,
    FixedBoundary,
    Layer,
    MeshSpec,
    Problem,
    ReportSpec,
    Segment,
    SolverSpec,
    Species,
)
from ionto.simulate.simulation import simulate

AGCL = ElectrodeReaction("Ag/AgCl", {"Cl-": -1.0}, {"Cl-": 1.0})
NACL = (Species("Na+", 1, 1.33e-9), Species("Cl-", -1, 2.03e-9))
T = 310.15
F_T = FARADAY / (GAS_CONSTANT * T)


def _cell(
    left: object,
    right: object,
    control: tuple[Segment, ...],
    reports: tuple[ReportSpec, ...],
    min_cell: float = 0.5e-6,
    max_cell: float = 4e-6,
) -> Problem:
    return Problem(
        species=NACL,
        electroneutral_species="Cl-",
        layers=(Layer("solution", 100e-6, initial={"Na+": 10.0}),),
        left=left,  # type: ignore[arg-type]
        right=right,  # type: ignore[arg-type]
        control=control,
        mesh=MeshSpec(min_cell=min_cell, max_cell=max_cell, growth=1.1),
        reports=reports,
        solver=SolverSpec(rtol=1e-7, atol=1e-9),
        temperature=T,
    )


def test_ohmic_current_between_two_baths() -> None:
    """Uniform electrolyte between fixed baths: i = sigma V / L exactly."""
    volts = 0.02
    problem = _cell(
        FixedBoundary({"Na+": 10.0}),
        FixedBoundary({"Na+": 10.0}),
        (Segment(5.0, volts, volts, mode="voltage"),),
        (
            ReportSpec("i", "current", 5.0, side="before"),
            ReportSpec("v", "voltage", 5.0, side="before"),
        ),
    )
    r = simulate(problem).reports
    sigma = F_T * FARADAY * (1.33e-9 + 2.03e-9) * 10.0
    assert r["v"] == pytest.approx(volts, rel=1e-10)
    assert r["i"] == pytest.approx(sigma * volts / 100e-6, rel=1e-6)


def test_current_decays_to_the_polarised_steady_state() -> None:
    """Two Ag/AgCl electrodes in NaCl at constant V: the current starts ohmic and decays
    as the salt polarises, to i = (4 F D_Cl c0 / L) tanh(F V / 2RT) (from N_Na = 0 and a
    linear salt profile)."""
    volts = 0.05
    problem = _cell(
        ElectrodeBoundary(AGCL),
        ElectrodeBoundary(AGCL),
        (Segment(30.0, volts, volts, mode="voltage"),),
        (ReportSpec("i0", "current", 0.0), ReportSpec("i", "current", 30.0, side="before")),
        min_cell=0.05e-6,
        max_cell=1e-6,
    )
    result = simulate(problem)
    sigma = F_T * FARADAY * (1.33e-9 + 2.03e-9) * 10.0
    # the half cell at each electrode polarises at once, an O(min_cell) offset at t = 0
    assert result.reports["i0"] == pytest.approx(sigma * volts / 100e-6, rel=3e-4)
    steady = 4 * FARADAY * 2.03e-9 * 10.0 / 100e-6 * math.tanh(F_T * volts / 2)
    # grid error 3.5e-5 here; it falls as max_cell^2 (1.9e-4 at 4 um, 1.1e-5 at 0.5 um)
    assert result.reports["i"] == pytest.approx(steady, rel=1e-4)
    assert max(result.balance.values()) < 1e-12
    z = np.array([1.0, -1.0])
    assert float(z @ result.totals["in_left"]) == pytest.approx(
        float(z @ result.totals["out_right"]), rel=1e-10
    )


def test_voltage_and_current_control_agree() -> None:
    """Hold the voltage that a galvanostatic run reached: the current must then be the
    galvanostatic one at that instant (same state, same voltage)."""
    i_set = 3.0
    gal = _cell(
        ElectrodeBoundary(AGCL),
        FixedBoundary({"Na+": 10.0}),
        (Segment(2.0, i_set, i_set),),
        (ReportSpec("v", "voltage", 2.0, side="before"),),
    )
    v_end = simulate(gal).reports["v"]
    mixed = _cell(
        ElectrodeBoundary(AGCL),
        FixedBoundary({"Na+": 10.0}),
        (Segment(2.0, i_set, i_set), Segment(1.0, v_end, v_end, mode="voltage")),
        (ReportSpec("i_after", "current", 2.0, side="after"),),
    )
    assert simulate(mixed).reports["i_after"] == pytest.approx(i_set, rel=1e-8)
