"""Stratum corneum capacitance (claim P1): a layer's capacitance in parallel with its
ionic path; a displacement current charges its faces, so pulsed current reaches the
ions through the barrier smoothed, and a charge-balanced biphasic current hardly does."""

from __future__ import annotations

import dataclasses
import math

import pytest
from nacl_barrier_helpers import NACL, T, gel_barrier_tissue

from ionto.simulate.problem import (
    FARADAY,
    GAS_CONSTANT,
    ElectrodeBoundary,
    ElectrodeReaction,
    FixedBoundary,
    Layer,
    Problem,
    ReportSpec,
    Segment,
    SolverSpec,
    Species,
)
from ionto.simulate.simulation import simulate

F_T = FARADAY / (GAS_CONSTANT * T)
SIGMA = F_T * FARADAY * (1.33e-9 + 2.03e-9) * 150.0
BARRIER = (20e-6, 1e-6)  # thickness, hindrance
R_SC = BARRIER[0] / (SIGMA * BARRIER[1])  # ohm m^2
TAU = 1.0  # s
C_SC = TAU / R_SC  # F/m^2
WHERE = 100e-6 + 10e-6  # inside the barrier


def _rc(control: tuple[Segment, ...], reports: tuple[ReportSpec, ...], **kw: object) -> Problem:
    barrier = Layer("sc", BARRIER[0], BARRIER[1], initial={"Na+": 150.0}, capacitance=C_SC)
    base = gel_barrier_tissue(barrier, control, reports)
    return dataclasses.replace(base, **kw)  # type: ignore[arg-type]


def _ionic(t: float) -> ReportSpec:
    return ReportSpec(f"j_{t:g}", "flux", t, "Na+", position=WHERE, side="before")


def test_P1_barrier_charges_as_an_RC_circuit() -> None:
    """A current step into saline with a barrier of resistance R and capacitance C: the
    ionic current through the barrier is i (1 - exp(-t / RC)), so the Na+ flux inside it
    is t_Na i/F times that (3e-5 here, the composition change of the charged layers
    next to the barrier), and the balances still close to round-off."""
    i = 0.1
    times = (0.25, 1.0, 3.0)
    result = simulate(_rc((Segment(3.0, i, i),), tuple(_ionic(t) for t in times)))
    t_na = 1.33e-9 / (1.33e-9 + 2.03e-9)
    for t in times:
        expected = t_na * i / FARADAY * (1.0 - math.exp(-t / TAU))
        assert result.reports[f"j_{t:g}"] == pytest.approx(expected, rel=1e-4), t
    assert max(result.balance.values()) < 1e-12


DRUG_SPECIES = (Species("D+", 1, 6e-10), *NACL)
PERIOD = 0.2  # s, a fifth of the barrier's RC time
T_END = 20.0
I_MEAN = 0.2  # A/m^2


def _drug(control: tuple[Segment, ...], capacitance: float | None) -> float:
    """Drug (mol/m^2) that crossed into the barrier and beyond, from a gel of 50 mM D+
    through a barrier of RC = 1 s (R = 10.6 ohm m^2), by the end."""
    problem = _rc(
        control,
        (ReportSpec("d", "released", T_END, "D+", region=(0.0, 100e-6), side="before"),),
        species=DRUG_SPECIES,
        layers=(
            Layer("gel", 100e-6, initial={"D+": 50.0, "Na+": 100.0}),
            Layer("sc", BARRIER[0], BARRIER[1], initial={"Na+": 150.0}, capacitance=capacitance),
            Layer("tissue", 200e-6, 0.5, initial={"Na+": 150.0}),
        ),
        left=ElectrodeBoundary(ElectrodeReaction("Ag/AgCl", {"Cl-": -1.0}, {"Cl-": 1.0})),
        right=FixedBoundary({"Na+": 150.0}),
        solver=SolverSpec(rtol=1e-6, atol=1e-9),
    )
    result = simulate(problem)
    assert max(result.balance.values()) < 1e-12
    return float(result.reports["d"])


def _train(high: float, low: float) -> tuple[Segment, ...]:
    n = int(round(T_END / PERIOD))
    return tuple(Segment(PERIOD / 2, level, level) for _ in range(n) for level in (high, low))


def test_P1_pulsed_monophasic_delivers_like_dc_within_capacitive_losses() -> None:
    """Monophasic pulses at five times the barrier's RC frequency (50 % duty, twice the
    amplitude) deliver what DC of the same mean does (beyond passive diffusion): the
    capacitor smooths the ionic current through the barrier and over whole periods
    passes the same charge. A charge-balanced biphasic train at that frequency delivers
    next to nothing by electromigration: the capacitor carries the alternating current,
    while without it the interfaces rectify half of what DC delivers."""
    cap = C_SC
    passive = _drug((Segment(T_END, 0.0, 0.0),), cap)
    dc = _drug((Segment(T_END, I_MEAN, I_MEAN),), cap) - passive
    pulsed = _drug(_train(2 * I_MEAN, 0.0), cap) - passive
    biphasic = _drug(_train(2 * I_MEAN, -2 * I_MEAN), cap) - passive
    biphasic_no_cap = _drug(_train(2 * I_MEAN, -2 * I_MEAN), None) - passive
    assert dc > 0.5 * passive
    assert pulsed == pytest.approx(dc, rel=0.03)
    assert abs(biphasic) < 0.02 * dc
    assert biphasic_no_cap > 0.3 * dc
