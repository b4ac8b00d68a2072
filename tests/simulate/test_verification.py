"""Verification of the engine against analytical solutions.

Each test states the exact solution it checks and a tolerance that a wrong sign, a
missing term or a first-order flux would break.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pytest
from scipy.special import erfc

from ionto.simulate.problem import (
    FARADAY,
    GAS_CONSTANT,
    Boundary,
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


def make_problem(
    layers: Sequence[Layer],
    left: Boundary,
    right: Boundary,
    control: Sequence[Segment],
    species: Sequence[Species] = NACL,
    en: str = "Cl-",
    mesh: MeshSpec | None = None,
    reports: Sequence[ReportSpec] = (),
    output_times: Sequence[float] = (),
    rtol: float = 1e-6,
    atol: float = 1e-8,
    **extra: object,
) -> Problem:
    """A Problem with sensible defaults for tests."""
    return Problem(
        species=tuple(species),
        electroneutral_species=en,
        layers=tuple(layers),
        left=left,
        right=right,
        control=tuple(control),
        mesh=mesh or MeshSpec(min_cell=1e-6, max_cell=10e-6, growth=1.2),
        reports=tuple(reports),
        output_times=tuple(output_times),
        solver=SolverSpec(rtol=rtol, atol=atol),
        **extra,  # type: ignore[arg-type]
    )


AGCL = ElectrodeReaction("Ag/AgCl", {"Cl-": -1.0}, {"Cl-": 1.0})
T = 310.15
F_T = FARADAY / (GAS_CONSTANT * T)

pytestmark = pytest.mark.verification


def test_pure_diffusion_matches_erfc() -> None:
    """A neutral solute diffusing from a fixed-concentration face into a long layer:
    c = c0 erfc(x / (2 sqrt(D t))) at zero current."""
    species = (Species("U", 0, 1.0e-9), *NACL)
    length = 2e-3
    t_end = 100.0
    depths = (20e-6, 100e-6, 300e-6)
    reports = [
        ReportSpec(f"c{k}", "concentration", t_end, "U", position=x) for k, x in enumerate(depths)
    ]
    problem = make_problem(
        [Layer("gel", length, initial={"Na+": 100.0})],
        FixedBoundary({"U": 10.0, "Na+": 100.0}),
        FixedBoundary({"Na+": 100.0}),
        [Segment(t_end, 0.0, 0.0)],
        species=species,
        mesh=MeshSpec(min_cell=0.5e-6, max_cell=4e-6, growth=1.05),
        reports=reports,
        temperature=T,
    )
    result = simulate(problem)
    for k, x in enumerate(depths):
        exact = 10.0 * erfc(x / (2.0 * math.sqrt(1.0e-9 * t_end)))
        assert result.reports[f"c{k}"] == pytest.approx(exact, rel=2e-4)


def _ghk_problem(cells: int, current: float) -> tuple[float, float, float]:
    """Trace cation T+ crossing a membrane in a uniform NaCl background under current.
    Returns (simulated T flux, GHK flux for the simulated voltage, voltage)."""
    species = (Species("T+", 1, 5.0e-10), *NACL)
    length = 1e-3
    t_end = 3000.0
    reports = [
        ReportSpec("flux", "flux", t_end, "T+", position=0.5 * length, side="before"),
        ReportSpec("V", "voltage", t_end, side="before"),
    ]
    problem = make_problem(
        [Layer("membrane", length, initial={"Na+": 1.0})],
        FixedBoundary({"T+": 1e-6, "Na+": 1.0}),
        FixedBoundary({"Na+": 1.0}),
        [Segment(t_end, current, current)],
        species=species,
        mesh=MeshSpec(min_cell=length / cells, max_cell=length / cells, growth=1.01),
        reports=reports,
        temperature=T,
        rtol=1e-8,
        atol=1e-12,
    )
    result = simulate(problem)
    volts = result.reports["V"]
    peclet = -1.0 * F_T * (-volts)  # P = -z u, u = F (phi_L - phi_0) / RT = -F V / RT
    b = peclet / math.expm1(peclet)
    ghk = 5.0e-10 / length * ((b + peclet) * 1e-6 - b * 0.0)
    return result.reports["flux"], ghk, volts


def test_constant_field_flux_is_goldman_even_on_a_coarse_mesh() -> None:
    """With a uniform background the field is constant, and the steady trace flux must be
    the Goldman-Hodgkin-Katz flux for the voltage across the membrane; exponential fitting
    makes this hold on 8 cells with a cell Peclet number far above 1."""
    flux, ghk, volts = _ghk_problem(cells=8, current=5.0)
    sigma = F_T * FARADAY * (1.33e-9 + 2.03e-9) * 1.0  # S/m
    assert volts == pytest.approx(5.0 * 1e-3 / sigma, rel=1e-3)  # ohmic drop
    assert abs(F_T * volts / 8) > 0.1  # the test is in the migration regime
    assert flux == pytest.approx(ghk, rel=1e-4)


def test_concentration_polarization_reaches_the_linear_steady_profile() -> None:
    """Binary electrolyte, Ag/AgCl anode at x = 0 consuming Cl-, bulk at x = L. The steady
    state has N_Na = 0 and c(x) = c0 - i (L - x) / (2 F D_Cl) (linear)."""
    length = 200e-6
    i = 2.0  # A/m^2, below the limiting current 2 F D_Cl c0 / L
    t_end = 300.0
    xs = (0.0, 50e-6, 150e-6)
    reports = [
        ReportSpec(f"c{k}", "concentration", t_end, "Na+", position=x, side="before")
        for k, x in enumerate(xs)
    ]
    problem = make_problem(
        [Layer("cell", length, initial={"Na+": 10.0})],
        ElectrodeBoundary(AGCL),
        FixedBoundary({"Na+": 10.0}),
        [Segment(t_end, i, i)],
        mesh=MeshSpec(min_cell=0.5e-6, max_cell=4e-6, growth=1.1),
        reports=reports,
        temperature=T,
    )
    result = simulate(problem)
    for k, x in enumerate(xs):
        exact = 10.0 - i * (length - x) / (2.0 * FARADAY * 2.03e-9)
        assert result.reports[f"c{k}"] == pytest.approx(exact, rel=2e-4)


def test_polarization_transient_follows_sand() -> None:
    """Early on the same cell is semi-infinite: the surface concentration falls as
    c0 - 2 g sqrt(D_amb t / pi) with g = i / (2 F D_Cl), D_amb = 2 D+ D- / (D+ + D-)."""
    length = 2e-3
    i = 5.0
    t_end = 20.0
    problem = make_problem(
        [Layer("cell", length, initial={"Na+": 10.0})],
        ElectrodeBoundary(AGCL),
        FixedBoundary({"Na+": 10.0}),
        [Segment(t_end, i, i)],
        mesh=MeshSpec(min_cell=0.1e-6, max_cell=20e-6, growth=1.05),
        reports=[ReportSpec("c0", "concentration", t_end, "Na+", position=0.0, side="before")],
        temperature=T,
    )
    result = simulate(problem)
    d_amb = 2 * 1.33e-9 * 2.03e-9 / (1.33e-9 + 2.03e-9)
    g = i / (2.0 * FARADAY * 2.03e-9)
    exact = 10.0 - 2.0 * g * math.sqrt(d_amb * t_end / math.pi)
    assert result.reports["c0"] == pytest.approx(exact, rel=1e-3)


def test_donnan_equilibrium_in_a_charged_layer() -> None:
    """A layer with fixed charge -X between two 100 mM NaCl baths at zero current reaches
    Donnan equilibrium: c_Na c_Cl = c0^2, c_Na - c_Cl = X, and a potential step
    -(RT/F) ln(c_Na / c0) between bath and layer."""
    x_fixed = 50.0
    c0 = 100.0
    layers = [
        Layer("bath1", 50e-6, initial={"Na+": c0}),
        Layer(
            "membrane", 40e-6, diffusivity_factor=0.2, fixed_charge=-x_fixed, initial={"Na+": c0}
        ),
        Layer("bath2", 50e-6, initial={"Na+": c0}),
    ]
    t_end = 3000.0
    mid = 70e-6
    reports = [
        ReportSpec("na", "concentration", t_end, "Na+", position=mid),
        ReportSpec("cl", "concentration", t_end, "Cl-", position=mid),
        ReportSpec("phi_mid", "potential", t_end, position=mid),
        ReportSpec("phi_bath", "potential", t_end, position=10e-6),
    ]
    problem = make_problem(
        layers,
        FixedBoundary({"Na+": c0}),
        FixedBoundary({"Na+": c0}),
        [Segment(t_end, 0.0, 0.0)],
        mesh=MeshSpec(min_cell=0.5e-6, max_cell=4e-6, growth=1.2),
        reports=reports,
        temperature=T,
    )
    r = simulate(problem).reports
    na_exact = 0.5 * (x_fixed + math.sqrt(x_fixed**2 + 4 * c0**2))
    assert r["na"] == pytest.approx(na_exact, rel=1e-6)
    assert r["cl"] == pytest.approx(na_exact - x_fixed, rel=1e-6)
    assert r["phi_mid"] - r["phi_bath"] == pytest.approx(-math.log(na_exact / c0) / F_T, rel=1e-5)


def test_bernoulli_identities() -> None:
    """B(-x) = B(x) + x and B'(x) agree with a central difference."""
    from ionto.simulate.fluxes import bernoulli, bernoulli_and_derivative

    x = np.array([-800.0, -30.0, -1.0, -1e-7, 0.0, 1e-9, 1e-3, 2.0, 50.0, 800.0])
    assert np.allclose(bernoulli(-x), bernoulli(x) + x, rtol=1e-13, atol=1e-12)
    _, db = bernoulli_and_derivative(x)
    h = 1e-6
    xi = x[(np.abs(x) < 100)]
    fd = (bernoulli(xi + h) - bernoulli(xi - h)) / (2 * h)
    assert np.allclose(bernoulli_and_derivative(xi)[1], fd, rtol=1e-6, atol=1e-9)
    assert np.all(np.isfinite(db))
