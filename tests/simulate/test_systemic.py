"""A plasma compartment (one-compartment pharmacokinetics) fed by the treated skin."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

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
    Species,
    Systemic,
)
from ionto.simulate.simulation import simulate

AGCL = ElectrodeReaction("Ag/AgCl", {"Cl-": -1.0}, {"Cl-": 1.0})
AREA = 10e-4  # 10 cm^2


def _problem(clearance: float, perfusion: float = 2e-3, t_end: float = 3600.0) -> Problem:
    times = (600.0, 1800.0, t_end)
    return Problem(
        species=(Species("D+", 1, 6e-10), Species("Na+", 1, 1.33e-9), Species("Cl-", -1, 2.03e-9)),
        electroneutral_species="Cl-",
        layers=(
            Layer("gel", 500e-6, 0.8, initial={"D+": 50.0}),
            Layer("barrier", 15e-6, 1e-4, fixed_charge=-30.0, initial={"Na+": 140.0}),
            Layer("tissue", 1.5e-3, 0.4, exchange_rate=perfusion, initial={"Na+": 140.0}),
        ),
        left=ElectrodeBoundary(AGCL),
        right=FixedBoundary({"Na+": 140.0}),
        control=(Segment(600.0, 4.0, 4.0), Segment(t_end - 600.0, 0.0, 0.0)),
        mesh=MeshSpec(0.2e-6, 25e-6, 1.15),
        exchange_concentrations={"Na+": 140.0},
        systemic=(Systemic("D+", volume=0.05, clearance=clearance),),
        treated_area=AREA,
        reports=tuple(ReportSpec(f"C_{t:g}", "plasma", t, "D+") for t in times)
        + (ReportSpec("cleared", "cleared", t_end, "D+"),),
        solver=SolverSpec(rtol=1e-5, atol=1e-8),
        temperature=305.15,
    )


def test_plasma_collects_what_the_skin_loses_to_the_blood() -> None:
    """Without clearance the plasma holds exactly what left the skin to the blood:
    C V = A x cleared; every balance, the plasma's included, closes to round-off."""
    result = simulate(_problem(clearance=0.0))
    r = result.reports
    assert r["C_3600"] * 0.05 == pytest.approx(AREA * r["cleared"], rel=1e-9)
    assert r["C_600"] < r["C_1800"] < r["C_3600"]
    assert max(result.balance.values()) < 1e-10


def test_clearance_makes_plasma_peak_and_fall() -> None:
    """With clearance the plasma level rises during delivery and falls once the skin
    depot empties; its elimination follows C(t) (balance closes)."""
    result = simulate(_problem(clearance=2e-4, t_end=4 * 3600.0))
    r = result.reports
    assert r["C_1800"] > r["C_14400"] > 0.0
    assert max(result.balance.values()) < 1e-10


def test_P13_more_perfusion_more_systemic_uptake() -> None:
    low = simulate(_problem(clearance=1e-5, perfusion=2e-4)).reports
    high = simulate(_problem(clearance=1e-5, perfusion=5e-3)).reports
    assert high["C_1800"] > 2.0 * low["C_1800"]


def test_plasma_feeds_back_on_the_exchange() -> None:
    """A plasma level above the tissue's drives the drug into the skin (reverse
    direction), the basis of reverse iontophoresis sampling."""
    problem = dataclasses.replace(
        _problem(clearance=0.0),
        layers=(
            Layer("gel", 500e-6, 0.8, initial={"Na+": 140.0}),
            Layer("barrier", 15e-6, 1e-4, fixed_charge=-30.0, initial={"Na+": 140.0}),
            Layer("tissue", 1.5e-3, 0.4, exchange_rate=2e-3, initial={"Na+": 140.0}),
        ),
        systemic=(Systemic("D+", volume=0.05, clearance=0.0, initial=1.0),),
        control=(Segment(3600.0, 0.0, 0.0),),
        reports=(ReportSpec("skin", "amount", 3600.0, "D+", region=(515e-6, 2.015e-3)),),
    )
    result = simulate(problem)
    assert result.reports["skin"] > 0.0
    assert np.isfinite(result.reports["skin"])
    assert max(result.balance.values()) < 1e-10
