"""Loading scenario files: benchmarks/R1.toml against its specification, and features."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ionto.simulate.problem import (
    ElectrodeBoundary,
    FixedBoundary,
    NoFluxBoundary,
    Problem,
    ReservoirBoundary,
    Segment,
)
from ionto.simulate.scenario import load_problem, problem_from_dict

ROOT = Path(__file__).resolve().parents[2]
R1_PATH = ROOT / "benchmarks" / "R1.toml"
EXAMPLE_PATH = ROOT / "examples" / "lidocaine_anode.toml"
X1 = 1.0e-3
X2 = X1 + 20e-6
L = X2 + 2.0e-3

Writer = Callable[[dict[str, Any]], Path]


@pytest.fixture(scope="module")
def problem() -> Problem:
    return load_problem(R1_PATH)


def test_r1_species_and_constants(problem: Problem) -> None:
    assert [(s.name, s.charge, s.diffusivity) for s in problem.species] == [
        ("Lid+", 1, 6.0e-10),
        ("Na+", 1, 1.33e-9),
        ("Cl-", -1, 2.03e-9),
    ]
    assert problem.electroneutral_species == "Cl-"
    assert problem.temperature == 305.15
    assert problem.smoothing == 0.5e-6
    assert problem.electroosmotic_coefficient == 4.0e-9
    assert problem.title.startswith("R1")


def test_r1_layers(problem: Problem) -> None:
    assert [layer.name for layer in problem.layers] == ["donor", "barrier", "tissue"]
    assert [layer.diffusivity_factor for layer in problem.layers] == [1.0, 1e-4, 0.5]
    assert [layer.fixed_charge for layer in problem.layers] == [0.0, -20.0, 0.0]
    assert [layer.exchange_rate for layer in problem.layers] == [0.0, 0.0, 1e-3]
    assert problem.layers[0].initial == {"Lid+": 100.0}
    assert problem.layers[1].initial == {"Na+": 150.0}
    bounds = problem.layer_bounds()
    assert bounds[0] == pytest.approx((0.0, X1), abs=1e-18)
    assert bounds[1] == pytest.approx((X1, X2), abs=1e-18)
    assert problem.length == pytest.approx(L, rel=1e-15)


def test_r1_boundaries(problem: Problem) -> None:
    assert isinstance(problem.left, ElectrodeBoundary)
    assert problem.left.reaction.anodic == {"Cl-": -1.0}
    assert problem.left.reaction.cathodic == {"Cl-": 1.0}
    assert isinstance(problem.right, FixedBoundary)
    assert problem.right.concentrations == {"Lid+": 0.0, "Na+": 150.0}
    assert problem.exchange_concentrations == {"Lid+": 0.0, "Na+": 150.0, "Cl-": 150.0}


def test_r1_control_mesh_solver_output(problem: Problem) -> None:
    assert problem.control == (Segment(1200.0, 5.0, 5.0), Segment(2400.0, 0.0, 0.0))
    assert problem.duration == 3600.0
    # mesh and tolerances are numerical choices, tuned in the file: check they are sane
    assert 0 < problem.mesh.min_cell <= problem.mesh.max_cell
    assert problem.mesh.growth > 1
    assert 0 < problem.solver.rtol < 0.1
    assert problem.solver.atol > 0
    assert problem.output_times == (600.0, 1200.0, 3600.0)


def test_r1_reports(problem: Problem) -> None:
    reports = {r.name: r for r in problem.reports}
    assert list(reports) == [
        "Q_out_1200", "Q_out_3600", "Q_skin_1200", "Q_skin_3600", "Q_blood_3600",
        "t_Lid_1200", "V_600", "V_1200", "c_100um_1200", "c_500um_1200", "c_100um_3600",
        "c_500um_3600",
    ]  # fmt: skip
    assert reports["Q_out_1200"].quantity == "released"
    assert reports["Q_out_1200"].region == pytest.approx((0.0, X1))
    assert reports["Q_skin_3600"].region == pytest.approx((X1, L))
    assert reports["Q_blood_3600"].quantity == "cleared"
    assert reports["Q_blood_3600"].region == pytest.approx((0.0, L))
    t_lid = reports["t_Lid_1200"]
    assert (t_lid.quantity, t_lid.species, t_lid.side) == ("transport_number", "Lid+", "before")
    assert t_lid.position == pytest.approx(X2, rel=1e-15)
    assert reports["V_1200"].side == "before"
    assert reports["V_600"].side == "after"
    assert reports["V_600"].species is None
    assert reports["c_100um_1200"].position == pytest.approx(X2 + 100e-6, rel=1e-15)
    assert reports["c_500um_3600"].position == pytest.approx(X2 + 500e-6, rel=1e-15)
    assert reports["c_500um_3600"].time == 3600.0


def test_example_loads() -> None:
    problem = load_problem(EXAMPLE_PATH)
    # 4 mA on 10 cm^2 = 0.4 mA/cm^2 = 4 A/m^2; 30 s + 9.5 min + 30 s = 40 mA*min
    assert problem.control[0].duration == 30.0
    assert (problem.control[0].start, problem.control[0].end) == (0.0, pytest.approx(4.0))
    assert problem.control[1].start == pytest.approx(4.0)
    assert problem.control[2].end == pytest.approx(0.0)
    charge = sum(0.5 * (s.start + s.end) * s.duration for s in problem.control)  # C/m^2
    assert charge * 10e-4 / 1e-3 / 60 == pytest.approx(40.0)  # mA*min on 10 cm^2
    assert problem.duration == pytest.approx(40.5 * 60)
    assert problem.layers[0].initial == {"Lid+": 74.0}
    assert problem.output_times[-1] == pytest.approx(40.5 * 60)


# ------------------------------------------------------------------ features


def test_current_ramp_and_voltage(r1: dict[str, Any]) -> None:
    r1["electrode_area"] = "10 cm^2"
    r1["control"] = [
        {"duration": "30 s", "current": ["0 mA", "4 mA"]},
        {"duration": "10 min", "voltage": "2 V"},
        {"duration": "1 h", "current_density": ["0.5 mA/cm^2", "0 A/m^2"]},
    ]
    r1["output"]["times"] = []
    r1["report"] = []
    p = problem_from_dict(r1)
    assert p.control[0] == Segment(30.0, 0.0, 4.0, "current")
    assert p.control[1] == Segment(600.0, 2.0, 2.0, "voltage")
    assert p.control[2] == Segment(3600.0, 5.0, 0.0, "current")


def test_pulse_train_expands(r1: dict[str, Any]) -> None:
    r1["control"] = [
        {"pulses": 3, "period": "1 s", "duty": 0.25, "current_density": "5 A/m^2"},
        {"duration": "10 s", "current_density": "0 A/m^2"},
    ]
    r1["output"]["times"] = ["13 s"]
    r1["report"] = []
    p = problem_from_dict(r1)
    on, off = Segment(0.25, 5.0, 5.0), Segment(0.75, 0.0, 0.0)
    assert p.control == (on, off, on, off, on, off, Segment(10.0, 0.0, 0.0))
    assert p.duration == pytest.approx(13.0)


def test_inert_and_custom_electrodes(r1: dict[str, Any]) -> None:
    r1["species"] += [
        {"name": "H+", "charge": 1, "diffusivity": "9.31e-9 m^2/s"},
        {"name": "OH-", "charge": -1, "diffusivity": "5.27e-9 m^2/s"},
    ]
    r1["boundary"]["left"] = {"type": "electrode", "electrode": "inert"}
    r1["boundary"]["right"] = {
        "type": "electrode",
        "reaction": {"anodic": {"Cl-": -1, "Na+": 0}, "cathodic": {"OH-": 1}},
    }
    p = problem_from_dict(r1)
    assert isinstance(p.left, ElectrodeBoundary)
    assert p.left.reaction.anodic == {"H+": 1.0}
    assert p.left.reaction.cathodic == {"OH-": 1.0}
    assert isinstance(p.right, ElectrodeBoundary)
    assert p.right.reaction.name == "custom"
    assert p.right.reaction.cathodic == {"OH-": 1.0}


def test_reservoir_volume_and_no_flux(r1: dict[str, Any]) -> None:
    r1["electrode_area"] = "10 cm^2"
    r1["boundary"]["left"] = {
        "type": "reservoir",
        "volume": "2 mL",
        "initial": {"Lid+": "100 mM"},
        "electrode": "Ag/AgCl",
    }
    p = problem_from_dict(r1)
    assert isinstance(p.left, ReservoirBoundary)
    assert p.left.volume_per_area == pytest.approx(2e-3)  # 2 mL / 10 cm^2 = 2 mm
    assert p.left.initial == {"Lid+": 100.0}
    assert p.left.reaction is not None
    r1["boundary"]["right"] = {"type": "no_flux"}
    r1["control"] = [{"duration": "1 h", "current_density": "0 A/m^2"}]
    assert isinstance(problem_from_dict(r1).right, NoFluxBoundary)


def test_reactions_and_rates(r1: dict[str, Any]) -> None:
    r1["species"].append({"name": "LidB+", "charge": 1, "diffusivity": "6e-10 m^2/s"})
    r1["reactions"] = [{"name": "binding", "reactant": "Lid+", "product": "LidB+"}]
    r1["layers"][2]["reaction_rates"] = {"binding": "1e-4 1/s"}
    p = problem_from_dict(r1)
    assert p.reactions[0].reactant == "Lid+"
    assert p.layers[2].reaction_rates == {"binding": 1e-4}


def test_solver_max_step(r1: dict[str, Any]) -> None:
    r1["solver"]["max_step"] = "10 s"
    r1["solver"]["first_step"] = "1 ms"
    r1["solver"]["max_steps"] = 1000
    p = problem_from_dict(r1)
    assert (p.solver.max_step, p.solver.first_step, p.solver.max_steps) == (10.0, 1e-3, 1000)


def test_units_spelled_differently(r1: dict[str, Any]) -> None:
    r1["temperature"] = "32 degC"
    r1["layers"][0]["initial"] = {"Lid+": "0.1 M"}
    r1["layers"][0]["thickness"] = "1000 um"
    p = problem_from_dict(r1)
    assert p.temperature == pytest.approx(305.15)
    assert p.layers[0].initial == {"Lid+": 100.0}
    assert p.layers[0].thickness == 1e-3


def test_defaults(r1: dict[str, Any]) -> None:
    for key in ("temperature", "smoothing", "electroosmotic_coefficient", "mesh", "solver"):
        del r1[key]
    del r1["output"]
    p = problem_from_dict(r1)
    assert p.temperature == 310.15
    assert p.smoothing == 0.0
    assert p.solver.rtol == 1e-6
    assert p.mesh.growth == 1.2
    assert p.output_times == ()


def test_output_times_sorted(r1: dict[str, Any], write_toml: Writer) -> None:
    r1["output"]["times"] = ["3600 s", "0 s", "10 min"]
    assert load_problem(write_toml(r1)).output_times == (0.0, 600.0, 3600.0)
