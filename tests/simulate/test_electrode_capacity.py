"""Electrode capacity: Ag/AgCl holds the pH until its silver (anode) or AgCl (cathode) is
spent, then water electrolysis takes over (P7)."""

from __future__ import annotations

import dataclasses

import pytest
from nacl_barrier_helpers import NACL_WATER, WATER

from ionto.simulate.electrodes import schedule
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
from ionto.simulate.simulation import simulate

SPECIES = NACL_WATER


def _agcl(anodic: float | None = None, cathodic: float | None = None) -> ElectrodeReaction:
    return ElectrodeReaction("Ag/AgCl", {"Cl-": -1.0}, {"Cl-": 1.0}, anodic, cathodic)


def _problem(reaction: ElectrodeReaction, control: tuple[Segment, ...], **kw: object) -> Problem:
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
    )
    return dataclasses.replace(base, **kw)  # type: ignore[arg-type]


def test_schedule_splits_where_the_electrode_runs_out_and_recovers() -> None:
    """5 A/m^2 with 1500 C/m^2 of silver: spent after 300 s; reversing the current turns
    AgCl back into silver, so the anode works again when the current next turns anodic."""
    control = (Segment(600.0, 5.0, 5.0), Segment(100.0, -5.0, -5.0), Segment(300.0, 5.0, 5.0))
    pieces = schedule(_problem(_agcl(1500.0), control))
    starts = [p.t_start for p in pieces]
    assert starts == pytest.approx([0.0, 300.0, 600.0, 700.0, 800.0])
    assert [p.left[0] for p in pieces] == [False, True, False, False, True]
    ramp = schedule(_problem(_agcl(1500.0), (Segment(600.0, 0.0, 10.0),)))
    # a = 10 t^2 / (2 * 600) = 1500 at t = sqrt(180000) = 424.26 s
    assert ramp[1].t_start == pytest.approx(424.264068712, rel=1e-9)
    assert ramp[1].segment.start == pytest.approx(10.0 * 424.264068712 / 600.0, rel=1e-9)


def test_P7_agcl_holds_ph_until_its_capacity_is_spent() -> None:
    capacity = 5.0 * 200.0  # C/m^2: spent after 200 s at 5 A/m^2
    reports = tuple(
        ReportSpec(f"pH_{t}", "pH", float(t), "H+", region=(0.0, 20e-6), side="before")
        for t in (150, 400)
    )
    result = simulate(_problem(_agcl(capacity), (Segment(400.0, 5.0, 5.0),), reports=reports))
    # unbuffered: OH- drifting to the anode nudges it up by 0.06, far from acid
    assert result.reports["pH_150"] == pytest.approx(7.0, abs=0.2)
    assert result.reports["pH_400"] < 4.0
    assert max(result.balance.values()) < 1e-12


def test_spent_electrode_needs_water_species() -> None:
    problem = _problem(
        _agcl(100.0),
        (Segment(10.0, 1.0, 1.0),),
        species=SPECIES[:2],
        equilibria=(),
        layers=(Layer("gel", 1e-3, initial={"Na+": 100.0}),),
        right=FixedBoundary({"Na+": 100.0}),
    )
    with pytest.raises(ValueError, match="H\\+"):
        simulate(problem)
