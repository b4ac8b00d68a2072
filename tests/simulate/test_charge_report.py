"""The "charge" report: the integral of |i| dt through the active (left) electrode up to
its time, exact from the charge quadratures (C/m^2 of the active electrode)."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

from ionto.core.errors import ConfigError
from ionto.simulate import problem_io
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
from ionto.simulate.scenario import problem_from_dict
from ionto.simulate.simulation import simulate

NACL = (Species("Na+", 1, 1.33e-9), Species("Cl-", -1, 2.03e-9))
T = 310.15
LENGTH = 100e-6
R_AREA = LENGTH / (FARADAY**2 / (GAS_CONSTANT * T) * (1.33e-9 + 2.03e-9) * 10.0)  # ohm m^2
AGCL = ElectrodeReaction("Ag/AgCl", {"Cl-": -1.0}, {"Cl-": 1.0})


def _set_charge(control: tuple[Segment, ...], t: float) -> float:
    """Integral of |i| dt (C/m^2) of a piecewise-linear current program up to t (s),
    by hand: every piece split at its zero crossing."""
    total, start = 0.0, 0.0
    for seg in control:
        d = min(max(t - start, 0.0), seg.duration)
        a, b = seg.start, seg.start + (seg.end - seg.start) * d / seg.duration
        if a * b >= 0.0:
            total += abs(a + b) * d / 2.0
        else:
            tz = d * a / (a - b)
            total += abs(a) * tz / 2.0 + abs(b) * (d - tz) / 2.0
        start += seg.duration
    return total


def _problem(
    control: tuple[Segment, ...], times: list[float], limit: float | None, electrodes: bool
) -> Problem:
    reports = tuple(ReportSpec(f"q{k}", "charge", t) for k, t in enumerate(times))
    reports += tuple(ReportSpec(f"b{k}", "charge", t, side="before") for k, t in enumerate(times))
    ends = (ElectrodeBoundary(AGCL),) * 2 if electrodes else (FixedBoundary({"Na+": 10.0}),) * 2
    return Problem(
        species=NACL,
        electroneutral_species="Cl-",
        layers=(Layer("solution", LENGTH, initial={"Na+": 10.0}),),
        left=ends[0],
        right=ends[1],
        control=control,
        mesh=MeshSpec(min_cell=2e-6, max_cell=10e-6, growth=1.2),
        reports=reports,
        output_times=tuple(np.linspace(0.0, sum(s.duration for s in control), 401)),
        solver=SolverSpec(rtol=1e-7, atol=1e-9),
        temperature=T,
        compliance_voltage=limit,
    )


RAMPS = (
    Segment(2.0, 0.0, 5.0),
    Segment(3.0, 5.0, 5.0),
    Segment(4.0, 5.0, -3.0),  # through zero at t = 7.5 s: the polarity reverses
    Segment(2.0, -3.0, -3.0),
    Segment(1.5, -3.0, 0.0),
    Segment(1.0, 0.0, 0.0),
)


@pytest.mark.parametrize("electrodes", [False, True], ids=["baths", "Ag/AgCl"])
def test_charge_is_the_exact_integral_of_a_current_program(electrodes: bool) -> None:
    """Ramps, a hold and a polarity reversal, no compliance: the report equals the
    analytic integral of |i| at every time (inside ramps, at the zero crossing, on both
    sides of piece boundaries) to round-off, and the active electrode's exposure charge
    density at the end."""
    times = [1.0, 2.0, 4.0, 6.5, 7.5, 8.3, 9.0, 11.0, 12.0, 13.0, 13.5]
    result = simulate(_problem(RAMPS, times, None, electrodes))
    for k, t in enumerate(times):
        exact = _set_charge(RAMPS, t)
        assert result.reports[f"q{k}"] == pytest.approx(exact, rel=1e-12), t
        assert result.reports[f"b{k}"] == pytest.approx(exact, rel=1e-12), t
    if electrodes:
        active = result.exposure["charge density at the left (active) electrode [C/m^2]"]
        assert result.reports[f"q{len(times) - 1}"] == pytest.approx(active, rel=1e-12)


def test_charge_at_the_compliance_voltage_is_what_flowed() -> None:
    """An ohmic load held at a low compliance voltage (V = i R): the report follows the
    current that flowed, not the set one: the analytic integral of the held program to
    the accuracy of the switch times, the trapezoid integral of the recorded current to
    its error on the dense output, and strictly below the set current's integral."""
    control = (Segment(10.0, 0.0, 20.0), Segment(5.0, 20.0, 20.0), Segment(10.0, 20.0, 0.0))
    limit = 0.01
    i_max = limit / R_AREA
    times = [3.0, 12.0, 24.0, 25.0]
    result = simulate(_problem(control, times, limit, electrodes=False))
    assert len(result.compliance_intervals) == 1
    t_on, t_off = i_max / 2.0, 15.0 + (20.0 - i_max) / 2.0
    # the current that flowed: the ramp up to t_on, i_max held, then the ramp down
    held = (
        Segment(t_on, 0.0, i_max),
        Segment(t_off - t_on, i_max, i_max),
        Segment(25.0 - t_off, i_max, 0.0),
    )
    t_all = np.asarray(result.times)
    cur = np.abs(np.asarray(result.current))
    for k, t in enumerate(times):
        charge = result.reports[f"q{k}"]
        assert charge == pytest.approx(_set_charge(held, t), rel=1e-7), t
        upto = t_all <= t + 1e-12
        trapezoid = float(np.trapezoid(cur[upto], t_all[upto]))
        # the dense output (0.0625 s) cuts the corners of the held plateau: a few 1e-3
        assert charge == pytest.approx(trapezoid, rel=3e-3), t
        if t > t_on:
            assert charge < _set_charge(control, t) * (1.0 - 1e-3), t
    # the last second runs under current control again (2 -> 0 A/m^2): exactly 1 C/m^2
    assert result.reports["q3"] - result.reports["q2"] == pytest.approx(1.0, rel=1e-9)


SCENARIO: dict[str, Any] = {
    "schema_version": 1,
    "electroneutral_species": "Cl-",
    "species": [
        {"name": "Na+", "charge": 1, "diffusivity": "1.33e-9 m^2/s"},
        {"name": "Cl-", "charge": -1, "diffusivity": "2.03e-9 m^2/s"},
    ],
    "layers": [{"name": "gel", "thickness": "100 um", "initial": {"Na+": "10 mM"}}],
    "boundary": {
        "left": {"type": "electrode", "electrode": "Ag/AgCl"},
        "right": {"type": "electrode", "electrode": "Ag/AgCl"},
    },
    "control": [
        {"duration": "10 s", "current_density": ["0 A/m^2", "2 A/m^2"]},
        {"duration": "20 s", "current_density": ["2 A/m^2", "-2 A/m^2"]},
    ],
    "mesh": {"min_cell": "2 um", "max_cell": "10 um"},
    "report": [{"name": "dose", "quantity": "charge", "time": "25 s"}],
}


def test_a_scenario_reports_the_charge_in_C_per_m2() -> None:
    """From a scenario file's [[report]]: 10 C/m^2 of the ramp up, 10 down to the zero
    crossing at 20 s, 2.5 C/m^2 after it; the problem survives the cache's round trip."""
    problem = problem_from_dict(copy.deepcopy(SCENARIO))
    assert problem.reports == (ReportSpec("dose", "charge", 25.0),)
    assert problem_io.problem_from_dict(problem_io.problem_to_dict(problem)) == problem
    result = simulate(problem)
    assert result.reports["dose"] == pytest.approx(10.0 + 10.0 + 2.5, rel=1e-12)
    assert result.report_units["dose"] == "C/m^2"


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"species": "Na+"}, "report[0].species"),
        ({"region": "gel"}, "report[0].region"),
        ({"at": {"layer": "gel", "depth": "0 um"}}, "report[0].at"),
        ({"total": True}, "report[0].total"),
        ({"reservoir": "left"}, "report[0].reservoir"),
    ],
)
def test_a_charge_report_takes_nothing_but_its_time(extra: dict[str, Any], field: str) -> None:
    data = copy.deepcopy(SCENARIO)
    data["report"][0] |= extra
    with pytest.raises(ConfigError) as err:
        problem_from_dict(data)
    assert field in str(err.value)
