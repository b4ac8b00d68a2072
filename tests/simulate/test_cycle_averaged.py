"""Cycle-averaged pulse trains: a train whose period is far below the transport times runs
as one segment at its mean current, with the electrodes reacting to the mean anodic and
cathodic parts separately. Its error against resolving every pulse falls with the
period."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest

from ionto.simulate.problem import (
    ElectrodeBoundary,
    ElectrodeReaction,
    Equilibrium,
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
INERT = ElectrodeReaction("inert", {"H+": 1.0}, {"OH-": 1.0})
T_END = 40.0
AMP = 6.0  # A/m^2


def _skin(control: tuple[Segment, ...], **kw: object) -> Problem:
    base = Problem(
        species=(Species("D+", 1, 6e-10), Species("Na+", 1, 1.33e-9), Species("Cl-", -1, 2.03e-9)),
        electroneutral_species="Cl-",
        layers=(
            Layer("gel", 300e-6, 0.8, initial={"D+": 50.0, "Na+": 50.0}),
            Layer("barrier", 20e-6, 1e-3, fixed_charge=-30.0, initial={"Na+": 140.0}),
            Layer("tissue", 300e-6, 0.4, initial={"Na+": 140.0}),
        ),
        left=ElectrodeBoundary(AGCL),
        right=FixedBoundary({"Na+": 140.0}),
        control=control,
        mesh=MeshSpec(0.2e-6, 25e-6, 1.15),
        electroosmotic_coefficient=2e-9,
        solver=SolverSpec(rtol=1e-6, atol=1e-8),
        reports=(ReportSpec("d", "released", T_END, "D+", region=(0.0, 300e-6), side="before"),),
        temperature=305.15,
    )
    return dataclasses.replace(base, **kw)  # type: ignore[arg-type]


def _resolved(period: float, high: float, low: float) -> tuple[Segment, ...]:
    n = int(round(T_END / period))
    return tuple(Segment(period / 2, v, v) for _ in range(n) for v in (high, low))


def _averaged(high: float, low: float) -> tuple[Segment, ...]:
    anodic = 0.5 * (max(high, 0.0) + max(low, 0.0))
    cathodic = 0.5 * (max(-high, 0.0) + max(-low, 0.0))
    mean = anodic - cathodic
    return (Segment(T_END, mean, mean, cycle=(anodic, cathodic, max(abs(high), abs(low)))),)


def test_monophasic_average_converges_to_the_resolved_pulses_at_first_order() -> None:
    """50 % duty pulses of 6 A/m^2: the averaged run against every pulse resolved at
    periods of 2, 1 and 0.5 s. The difference halves with the period (order 1) and is
    below 1e-3 at 0.5 s; the averaged run takes one segment instead of 80."""
    averaged = simulate(_skin(_averaged(AMP, 0.0))).reports["d"]
    errors = []
    for period in (2.0, 1.0, 0.5):
        resolved = simulate(_skin(_resolved(period, AMP, 0.0))).reports["d"]
        errors.append(abs(averaged - resolved) / resolved)
    orders = [math.log2(errors[k] / errors[k + 1]) for k in range(2)]
    assert all(0.8 < p < 1.3 for p in orders), (errors, orders)
    assert errors[-1] < 1e-3


def test_biphasic_average_neutralises_at_an_inert_electrode() -> None:
    """A charge-balanced biphasic train on an inert electrode has zero mean current but
    makes H+ in its anodic halves and OH- in its cathodic ones. The averaged electrode
    releases both at the mean rates, where water's equilibrium neutralises them: the
    surface pH stays at 7.4. Resolving the pulses gives a ripple (pH at the end of a
    cathodic half) that shrinks towards it as the period falls, as the square root of
    the period (the diffusion length of one half-cycle)."""
    water = Equilibrium("water", "OH-", {"H+": -1.0}, 1e-8)
    phosphate = Equilibrium("phosphate", "H2P-", {"HP--": 1.0, "H+": 1.0}, 10**7.2 * 1e-3)
    species = (
        Species("Na+", 1, 1.33e-9),
        Species("Cl-", -1, 2.03e-9),
        Species("H+", 1, 9.31e-9),
        Species("OH-", -1, 5.27e-9),
        Species("HP--", -2, 0.759e-9),
        Species("H2P-", -1, 0.959e-9),
    )

    def run(control: tuple[Segment, ...]) -> float:
        t_end = sum(seg.duration for seg in control)
        problem = _skin(
            control,
            species=species,
            layers=(Layer("gel", 300e-6, initial={"Na+": 160.0, "HP--": 5.0}, initial_pH=7.4),),
            left=ElectrodeBoundary(INERT),
            right=FixedBoundary({"Na+": 160.0, "HP--": 5.0}, pH=7.4),
            equilibria=(water, phosphate),
            reports=(ReportSpec("ph", "pH", t_end, "H+", position=0.0, side="before"),),
            mesh=MeshSpec(0.1e-6, 20e-6, 1.15),
        )
        result = simulate(problem)
        assert max(result.balance.values()) < 1e-12
        return float(result.reports["ph"])

    averaged = run((Segment(1.0, 0.0, 0.0, cycle=(AMP / 2, AMP / 2, AMP)),))
    assert averaged == pytest.approx(7.4, abs=1e-6)
    ripples = []
    for period, n in ((0.1, 10), (0.025, 40)):
        train = tuple(Segment(period / 2, v, v) for _ in range(n) for v in (AMP, -AMP))
        ripples.append(run(train) - averaged)
    assert ripples[0] > ripples[1] > 0.0  # alkaline after a cathodic half, less and less
    assert ripples[0] / ripples[1] == pytest.approx(2.0, rel=0.25)  # sqrt(4)


def test_scenario_pulse_train_averaged(tmp_path: Path) -> None:
    """``averaged = true`` turns a pulse train into one cycle-averaged segment at the mean
    current; with a compliance voltage it is refused."""
    from ionto.core.errors import ConfigError
    from ionto.simulate.scenario import load_problem

    root = Path(__file__).resolve().parents[2]
    text = (root / "examples" / "lidocaine_forearm.toml").read_text()
    train = (
        '[[control]]\npulses = 1000\nperiod = "1 ms"\nduty = 0.25\ncurrent = "4 mA"\n'
        "averaged = true\n\n"
    )
    text = text.replace("[[control]]  # ramp up", train + "[[control]]  # ramp up", 1)
    path = tmp_path / "pulsed.toml"
    path.write_text(text)
    problem = load_problem(path)
    seg = problem.control[0]
    assert seg.duration == pytest.approx(1.0)
    assert seg.start == pytest.approx(1.0) and seg.cycle == pytest.approx((1.0, 0.0, 4.0))
    path.write_text(
        text.replace(
            'electrode_area = "10 cm^2"', 'electrode_area = "10 cm^2"\ncompliance_voltage = "40 V"'
        )
    )
    with pytest.raises(ConfigError, match="compliance_voltage"):
        load_problem(path)
