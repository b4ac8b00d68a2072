"""A current source with a compliance voltage: current control until |V| reaches the
limit, then voltage control at the limit until the set current is within reach again."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from ionto.core.errors import SolverError
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

NACL = (Species("Na+", 1, 1.33e-9), Species("Cl-", -1, 2.03e-9))
T = 310.15
F_T = FARADAY / (GAS_CONSTANT * T)
LENGTH = 100e-6
SIGMA = F_T * FARADAY * (1.33e-9 + 2.03e-9) * 10.0  # S/m of 10 mM NaCl
R_AREA = LENGTH / SIGMA  # ohm m^2


def _ohmic(control: tuple[Segment, ...], limit: float, reports: tuple[ReportSpec, ...]) -> Problem:
    return Problem(
        species=NACL,
        electroneutral_species="Cl-",
        layers=(Layer("solution", LENGTH, initial={"Na+": 10.0}),),
        left=FixedBoundary({"Na+": 10.0}),
        right=FixedBoundary({"Na+": 10.0}),
        control=control,
        mesh=MeshSpec(min_cell=2e-6, max_cell=10e-6, growth=1.2),
        reports=reports,
        solver=SolverSpec(rtol=1e-7, atol=1e-9),
        temperature=T,
        compliance_voltage=limit,
    )


def test_compliance_switches_at_the_analytic_times_of_an_ohmic_load() -> None:
    """A ramp up, a hold and a ramp down into a resistor R (uniform electrolyte between
    baths, V = i R exactly): the source reaches its limit V_c at t = V_c / (R k), holds
    i = V_c / R, and gets back under current control once the falling set current
    drops below V_c / R. Every switch time to 1e-8, the held current to 1e-10."""
    limit = 0.01
    k = 2.0  # A/m^2 per s
    i_max = limit / R_AREA
    up = Segment(10.0, 0.0, 20.0)
    hold = Segment(5.0, 20.0, 20.0)
    down = Segment(10.0, 20.0, 0.0)
    assert 20.0 > i_max > 0.0
    problem = _ohmic(
        (up, hold, down),
        limit,
        (
            ReportSpec("i_hold", "current", 12.0),
            ReportSpec("v_hold", "voltage", 12.0),
            ReportSpec("i_late", "current", 24.0),
            ReportSpec("v_late", "voltage", 24.0),
        ),
    )
    result = simulate(problem)
    t_on = i_max / k
    t_off = 15.0 + (20.0 - i_max) / 2.0  # the down ramp falls at 2 A/m^2 per s
    # one stretch at the limit: from the up ramp, through the hold, into the down ramp
    ((a, b),) = result.compliance_intervals
    assert a == pytest.approx(t_on, rel=1e-8)
    assert b == pytest.approx(t_off, rel=1e-8)
    assert result.reports["i_hold"] == pytest.approx(i_max, rel=1e-10)
    assert result.reports["v_hold"] == pytest.approx(limit, rel=1e-10)
    i_late = 20.0 - 2.0 * (24.0 - 15.0)
    assert result.reports["i_late"] == pytest.approx(i_late, rel=1e-10)
    assert result.reports["v_late"] == pytest.approx(i_late * R_AREA, rel=1e-8)
    assert result.summary()["time at the source's limit [s]"] == pytest.approx(
        t_off - t_on, rel=1e-7
    )
    assert max(result.balance.values()) < 1e-12


def test_compliance_holds_negative_polarity_too() -> None:
    """Reversed polarity: the limit applies to |V|, the held voltage is -V_c."""
    limit = 0.01
    problem = _ohmic(
        (Segment(5.0, -20.0, -20.0),),
        limit,
        (ReportSpec("i", "current", 5.0, side="before"), ReportSpec("v", "voltage", 2.0)),
    )
    result = simulate(problem)
    assert result.compliance_intervals == [(0.0, 5.0)]
    assert result.reports["i"] == pytest.approx(-limit / R_AREA, rel=1e-10)
    assert result.reports["v"] == pytest.approx(-limit, rel=1e-10)


def test_current_falls_at_the_limit_and_recovers_after_a_rest() -> None:
    """Two Ag/AgCl electrodes in 10 mM NaCl asked for more than the limiting current
    i_lim = 4 F D_Cl c0 / L (Na+ blocked): without a compliance the anode runs out of chloride (a
    solver error); with one, the voltage reaches the limit, the current falls below
    i_lim, and after a rest (the salt relaxes) the set current flows again. The
    balances close to round-off throughout."""
    agcl = ElectrodeReaction("Ag/AgCl", {"Cl-": -1.0}, {"Cl-": 1.0})
    i_lim = 4 * FARADAY * 2.03e-9 * 10.0 / LENGTH
    i_set = 1.3 * i_lim
    limit = 0.3
    assert i_set * R_AREA < limit / 2  # the set current is reached at first
    control = (Segment(20.0, i_set, i_set), Segment(60.0, 0.0, 0.0), Segment(1.0, i_set, i_set))
    reports = (
        ReportSpec("i_19", "current", 19.0),
        ReportSpec("v_19", "voltage", 19.0),
        ReportSpec("i_80", "current", 80.0),
        ReportSpec("v_80", "voltage", 80.0),
    )
    problem = dataclasses.replace(
        _ohmic(control, limit, reports),
        left=ElectrodeBoundary(agcl),
        right=ElectrodeBoundary(agcl),
        mesh=MeshSpec(min_cell=0.2e-6, max_cell=4e-6, growth=1.1),
    )
    with pytest.raises(SolverError):
        simulate(dataclasses.replace(problem, compliance_voltage=None))
    result = simulate(problem)
    start, end = result.compliance_intervals[0]
    assert 0.0 < start < 19.0 and end == pytest.approx(20.0)
    assert result.reports["v_19"] == pytest.approx(limit, rel=1e-10)
    # the current fell at the limit, to the diffusion-limited current (i_lim tanh(F V /
    # 2RT) = 0.99997 i_lim; 0.3 % above it here, the grid error at the depleted anode)
    assert result.reports["i_19"] == pytest.approx(i_lim, rel=0.01)
    assert result.reports["i_80"] == pytest.approx(i_set, rel=1e-12)  # and recovered
    assert result.reports["v_80"] < limit / 2
    assert max(result.balance.values()) < 1e-12
    z = np.array([1.0, -1.0])
    charge = FARADAY * float(z @ result.totals["in_left"])
    assert charge < i_set * 21.0  # less than the set charge: current was lost at the limit
    assert FARADAY * float(z @ result.totals["out_right"]) == pytest.approx(charge, rel=1e-9)


def test_current_limit_of_a_voltage_source_switches_at_the_analytic_times() -> None:
    """The dual: a voltage source (a tap-water device) with a current limit drives a
    resistor with a voltage ramp up, hold and ramp down. The current reaches the limit
    at I_lim R / k, is held there (the voltage then is I_lim R, below the set voltage),
    and voltage control resumes once the falling set voltage drops below I_lim R."""
    i_lim = 10.0  # A/m^2
    v_max = 0.02
    k = v_max / 10.0  # V/s
    problem = dataclasses.replace(
        _ohmic(
            (
                Segment(10.0, 0.0, v_max, "voltage"),
                Segment(5.0, v_max, v_max, "voltage"),
                Segment(10.0, v_max, 0.0, "voltage"),
            ),
            1.0,
            (
                ReportSpec("i_hold", "current", 12.0),
                ReportSpec("v_hold", "voltage", 12.0),
                ReportSpec("i_late", "current", 24.0),
            ),
        ),
        compliance_voltage=None,
        current_limit=i_lim,
    )
    result = simulate(problem)
    v_at_limit = i_lim * R_AREA
    assert v_max > v_at_limit
    t_on = v_at_limit / k
    t_off = 15.0 + (v_max - v_at_limit) / k
    ((a, b),) = result.compliance_intervals
    assert a == pytest.approx(t_on, rel=1e-8)
    assert b == pytest.approx(t_off, rel=1e-8)
    assert result.reports["i_hold"] == pytest.approx(i_lim, rel=1e-10)
    assert result.reports["v_hold"] == pytest.approx(v_at_limit, rel=1e-8)
    v_late = v_max - k * (24.0 - 15.0)
    assert result.reports["i_late"] == pytest.approx(v_late / R_AREA, rel=1e-8)
    assert max(result.balance.values()) < 1e-12
