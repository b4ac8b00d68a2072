"""An electrode capacity behind a current source with a compliance voltage: the electrode
runs out when the charge actually passed reaches its capacity, later than the set
current predicts while the source is held at its compliance (P7 with a real device)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from nacl_barrier_helpers import NACL_WATER, WATER

from ionto.simulate.electrodes import ChargeTracker, schedule
from ionto.simulate.problem import (
    ElectrodeBoundary,
    ElectrodeReaction,
    FixedBoundary,
    Layer,
    MeshSpec,
    Problem,
    ReportSpec,
    Segment,
    SolverSpec,
)
from ionto.simulate.result import Result
from ionto.simulate.simulation import simulate

SPECIES = NACL_WATER
CAPACITY = 1000.0  # C/m^2 of silver: 200 s at 5 A/m^2
# 1 mm of 100 mM NaCl between an Ag/AgCl anode and a bath needs 4.1 mV at 5 A/m^2 at
# first, 3.8 mV once the gel has polarised: a compliance of 3.7 mV holds the source below
# the set current until the anode runs out (then H+, more mobile, lowers the voltage)
HOLDING = 0.0037  # V
NEVER = 1.0  # V: a compliance that never binds


def _problem(
    control: tuple[Segment, ...],
    compliance: float | None,
    anodic: float | None = CAPACITY,
    cathodic: float | None = None,
    **kw: object,
) -> Problem:
    reaction = ElectrodeReaction("Ag/AgCl", {"Cl-": -1.0}, {"Cl-": 1.0}, anodic, cathodic)
    base = Problem(
        species=SPECIES,
        electroneutral_species="Cl-",
        layers=(Layer("gel", 1e-3, initial={"Na+": 100.0}, initial_pH=7.0),),
        left=ElectrodeBoundary(reaction),
        right=FixedBoundary({"Na+": 100.0}, pH=7.0),
        control=control,
        mesh=MeshSpec(0.5e-6, 40e-6, 1.2),
        equilibria=WATER,
        solver=SolverSpec(rtol=1e-5, atol=1e-7),
        compliance_voltage=compliance,
    )
    return dataclasses.replace(base, **kw)  # type: ignore[arg-type]


def _passed(result: Result) -> float:
    """Charge density passed over the whole run (C/m^2), from the inflow quadrature."""
    return result.summary()["charge passed [C/m^2]"]


def _balanced(result: Result) -> None:
    assert result.summary()["max relative balance error [-]"] < 1e-12


def test_schedule_splits_only_where_the_set_current_reverses() -> None:
    control = (Segment(300.0, 5.0, 5.0), Segment(200.0, 5.0, -5.0), Segment(50.0, -5.0, -5.0))
    pieces = schedule(_problem(control, HOLDING))
    assert [p.t_start for p in pieces] == pytest.approx([0.0, 300.0, 400.0, 500.0])
    assert [(p.segment.start, p.segment.end) for p in pieces[1:3]] == [(5.0, 0.0), (0.0, -5.0)]
    # without the compliance the same control is cut where the anode runs out (200 s)
    assert 200.0 in [p.t_start for p in schedule(_problem(control, None))]


def test_tracker_follows_the_clipped_charge_both_ways() -> None:
    tracker = ChargeTracker(_problem((Segment(1.0, 1.0, 1.0),), HOLDING, 100.0, 50.0))
    assert tracker.exhaustion(Segment(30.0, 5.0, 5.0)) == pytest.approx(20.0)
    assert tracker.gap(40.0) == pytest.approx(60.0)
    tracker.add(120.0)  # clipped at the anodic capacity
    assert tracker.spent(1.0) == ((True, False), (False, False))
    assert tracker.spent(-1.0) == ((False, False), (False, False))
    # the cathodic current now has 150 C/m^2 to pass before the AgCl is spent
    assert tracker.exhaustion(Segment(100.0, -5.0, -5.0)) == pytest.approx(30.0)
    assert tracker.gap(-100.0) == pytest.approx(50.0)


def test_a_compliance_that_never_binds_runs_out_as_scheduled() -> None:
    """(a) A ramp, a reversal (the anode is fed AgCl back) and a second anodic stretch,
    with a compliance far above the voltage: the anode runs out and recovers at the
    times of the set-current schedule, and the run reports what the analytic schedule's
    run does: to round-off up to the reversal, which the combined run cuts (the
    integrator restarts there), within the solver's tolerance after it."""
    control = (
        Segment(450.0, 0.0, 10.0),  # a = 10 t^2 / 900 reaches 1000 at t = 300 s
        Segment(100.0, -5.0, -5.0),  # 500 C/m^2 of AgCl back to silver
        Segment(200.0, 5.0, 5.0),  # spent again after 100 s
        Segment(100.0, 5.0, -5.0),  # reversal inside a ramp
    )
    reports = tuple(
        ReportSpec(f"pH_{t}", "pH", float(t), "H+", region=(0.0, 20e-6), side="before")
        for t in (290, 400, 600, 700, 850)
    )
    analytic = simulate(_problem(control, None, reports=reports))
    combined = simulate(_problem(control, NEVER, reports=reports))
    assert combined.compliance_intervals == []
    expected = [(300.0, "left anodic"), (650.0, "left anodic")]
    for run in (analytic, combined):
        assert [e[1] for e in run.exhaustions] == [e[1] for e in expected]
        assert [e[0] for e in run.exhaustions] == pytest.approx([e[0] for e in expected], rel=1e-9)
        _balanced(run)
    for name, value in analytic.reports.items():
        tol = 1e-12 if name != "pH_850" else 1e-5
        assert combined.reports[name] == pytest.approx(value, abs=tol), name
    assert analytic.reports["pH_290"] > 6.8 and analytic.reports["pH_400"] < 4.0
    assert _passed(combined) == pytest.approx(_passed(analytic), rel=1e-12)


def test_held_at_the_compliance_the_anode_runs_out_when_its_charge_has_passed() -> None:
    """(b) 5 A/m^2 asked, 3.7 mV allowed: the source is held at its compliance from the
    start, so the anode runs out later than the set current's 200 s, when the charge
    actually passed equals its capacity. The charge up to the reported exhaustion time
    is measured by a second run that stops there (its inflow quadrature; the same steps
    but the last, which lands there instead of being re-stepped): equal to the capacity
    to 1e-9 (the event is located to 1e-10 of it)."""
    times = tuple(np.arange(0.0, 401.0, 5.0))
    control = (Segment(400.0, 5.0, 5.0),)
    result = simulate(_problem(control, HOLDING, output_times=times))
    ((t_out, side),) = result.exhaustions
    assert side == "left anodic"
    start, end = result.compliance_intervals[0]
    assert start == 0.0 and end >= t_out  # held until the anode ran out
    # the current record: below the set current while held
    assert np.all(result.current[result.times < t_out] < 5.0 - 1e-3)
    deficit = 5.0 * t_out - CAPACITY  # what the set current would have passed more
    assert deficit > 20.0  # so the anode runs out more than 4 s late
    upto = simulate(
        _problem(
            (Segment(t_out, 5.0, 5.0),), HOLDING, output_times=(*(t for t in times if t < t_out),)
        )
    )
    assert _passed(upto) == pytest.approx(CAPACITY, rel=1e-9)
    # and the set-current schedule would have been wrong by that deficit
    assert t_out == pytest.approx(200.0 + deficit / 5.0, rel=1e-12)
    _balanced(result)
    _balanced(upto)


def test_released_from_the_compliance_the_anode_runs_out_on_the_remaining_charge() -> None:
    """(b) 8 A/m^2 for 60 s against 3.7 mV (held: less charge passes), then 3 A/m^2 the
    source can drive: the anode runs out at 60 s + (capacity - Q_60) / (3 A/m^2), with
    Q_60 the charge passed in the first 60 s (from a run of that segment alone, the same
    integration), to 1e-9."""
    first = Segment(60.0, 8.0, 8.0)
    control = (first, Segment(400.0, 3.0, 3.0))
    result = simulate(_problem(control, HOLDING))
    alone = simulate(_problem((first,), HOLDING))
    q60 = _passed(alone)
    assert result.compliance_intervals[0] == pytest.approx((0.0, 60.0))
    assert q60 < 8.0 * 60.0 - 100.0  # held well below the set current
    ((t_out, _),) = result.exhaustions
    assert t_out == pytest.approx(60.0 + (CAPACITY - q60) / 3.0, rel=1e-9)
    # the set-current schedule: 480 C/m^2 in the first minute, spent at 60 + 520 / 3 s
    assert t_out - (60.0 + (CAPACITY - 480.0) / 3.0) > 30.0
    _balanced(result)


def test_ph_under_the_anode_falls_only_once_it_is_spent() -> None:
    """(c) The pH at the anode holds while its silver lasts: still neutral at 205 s,
    after the set-current schedule's 200 s but before the anode (held at its
    compliance) runs out; acid afterwards."""
    times = (100.0, 205.0, 300.0, 400.0)
    reports = tuple(
        ReportSpec(f"pH_{t:g}", "pH", t, "H+", region=(0.0, 20e-6), side="before") for t in times
    )
    control = (Segment(400.0, 5.0, 5.0),)
    held = simulate(_problem(control, HOLDING, reports=reports))
    ((t_out, _),) = held.exhaustions
    assert 205.0 < t_out < 300.0
    assert held.reports["pH_100"] == pytest.approx(7.0, abs=0.2)
    assert held.reports["pH_205"] == pytest.approx(7.0, abs=0.2)
    assert held.reports["pH_300"] < 5.0 and held.reports["pH_400"] < held.reports["pH_300"]
    # run by the set current alone, the anode makes acid by 205 s
    scheduled = simulate(_problem(control, None, reports=reports))
    assert scheduled.reports["pH_205"] < held.reports["pH_205"] - 0.5
    _balanced(held)


def test_a_spent_cathode_behind_the_compliance_on_the_right() -> None:
    """The indifferent electrode (right, cathodic for a positive current) with an AgCl
    capacity, behind a bath: 6.2 mV at 5 A/m^2, held at 5.5 mV until it runs out on the
    charge passed (to 1e-9, measured as above), and the balances close."""
    reaction = ElectrodeReaction("Ag/AgCl", {"Cl-": -1.0}, {"Cl-": 1.0}, None, CAPACITY)
    problem = _problem(
        (Segment(300.0, 5.0, 5.0),),
        0.0055,
        anodic=None,
        layers=(
            Layer("bath", 0.5e-3, initial={"Na+": 100.0}, initial_pH=7.0),
            Layer("gel", 1e-3, initial={"Na+": 100.0}, initial_pH=7.0),
        ),
        left=FixedBoundary({"Na+": 100.0}, pH=7.0),
        right=ElectrodeBoundary(reaction),
    )
    result = simulate(problem)
    ((t_out, side),) = result.exhaustions
    assert side == "right cathodic" and t_out > 205.0
    assert result.compliance_intervals[0][0] == 0.0
    assert result.compliance_intervals[0][1] >= t_out
    upto = simulate(dataclasses.replace(problem, control=(Segment(t_out, 5.0, 5.0),)))
    assert _passed(upto) == pytest.approx(CAPACITY, rel=1e-9)
    _balanced(result)
