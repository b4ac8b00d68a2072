"""Fast acid-base equilibria: speciation, titration by an inert electrode, electrode
chemistry (P7: acid under an inert anode, held off by a buffer and by Ag/AgCl), balances
and the analytic Jacobian with equilibria."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from scipy.optimize import brentq

from ionto.simulate.chemistry import Speciation
from ionto.simulate.mesh import build_mesh
from ionto.simulate.model import Model
from ionto.simulate.problem import (
    FARADAY,
    ElectrodeBoundary,
    ElectrodeReaction,
    Equilibrium,
    FixedBoundary,
    Layer,
    MeshSpec,
    Problem,
    ReportSpec,
    ReservoirBoundary,
    Segment,
    SolverSpec,
    Species,
)
from ionto.simulate.simulation import simulate

KW = 1e-8  # (mol/m^3)^2
KA = 1000.0 * 10.0**-7.2  # mol/m^3
SPECIES = (
    Species("Na+", 1, 1.33e-9),
    Species("Cl-", -1, 2.03e-9),
    Species("H+", 1, 9.31e-9),
    Species("OH-", -1, 5.27e-9),
    Species("H2PO4-", -1, 0.959e-9),
    Species("HPO4--", -2, 0.759e-9),
)
EQUILIBRIA = (
    Equilibrium("water", "OH-", {"H+": -1.0}, KW),
    Equilibrium("phosphate", "H2PO4-", {"HPO4--": 1.0, "H+": 1.0}, 1.0 / KA),
)
INERT = ElectrodeReaction("inert", {"H+": 1.0}, {"OH-": 1.0})
AGCL = ElectrodeReaction("Ag/AgCl", {"Cl-": -1.0}, {"Cl-": 1.0})


def _proton_total(h: float, phosphate: float) -> float:
    """H+ - OH- + H2PO4- at free H+ h (mol/m^3) and total phosphate."""
    return h - KW / h + phosphate * h / (h + KA)


def _problem(**changes: object) -> Problem:
    base = Problem(
        species=SPECIES,
        electroneutral_species="Cl-",
        layers=(Layer("gel", 1e-3, initial={"Na+": 130.0, "HPO4--": 10.0}, initial_pH=7.4),),
        left=ElectrodeBoundary(INERT),
        right=FixedBoundary({"Na+": 130.0, "HPO4--": 10.0}, pH=7.4),
        control=(Segment(60.0, 5.0, 5.0),),
        mesh=MeshSpec(1e-6, 40e-6, 1.2),
        equilibria=EQUILIBRIA,
        solver=SolverSpec(rtol=1e-5, atol=1e-6),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_speciation_matches_henderson_hasselbalch() -> None:
    """A phosphate buffer: free H+ from the proton total by mass action, and
    pH = pKa + log10(base/acid) at every point of a titration."""
    spec = Speciation(_problem())
    phosphate = 10.0
    ph_values = np.array([5.0, 6.5, 7.2, 8.0, 9.5])
    h = 1000.0 * 10.0**-ph_values
    totals = np.zeros((ph_values.size, spec.m))
    names = [spec.names[k] for k in spec.comp]
    totals[:, names.index("Na+")] = 100.0
    totals[:, names.index("HPO4--")] = phosphate
    totals[:, names.index("H+")] = [_proton_total(x, phosphate) for x in h]
    c = spec.concentrations(
        spec.state_from(totals, np.zeros(ph_values.size)), np.zeros(ph_values.size)
    )
    k = spec.names.index
    assert np.allclose(c[:, k("H+")], h, rtol=1e-10)
    ratio = np.log10(c[:, k("HPO4--")] / c[:, k("H2PO4-")])
    assert np.allclose(-np.log10(c[:, k("H+")] / 1000.0), 7.2 + ratio, atol=1e-10)
    assert np.allclose(c @ spec.z, 0.0, atol=1e-9)  # electroneutral (Cl- balances)


def test_inert_anode_titrates_a_closed_reservoir() -> None:
    """An inert anode in a well-mixed reservoir behind a membrane that only Na+ and Cl-
    cross: the proton total rises by i t / (F V) exactly, and the pH follows the
    phosphate titration curve."""
    hindered = {name: 1e-9 for name in ("H+", "OH-", "H2PO4-", "HPO4--")}
    volume, i, t_end = 1e-3, 2.0, 600.0
    problem = _problem(
        left=ReservoirBoundary(volume, {"Na+": 130.0, "HPO4--": 10.0}, INERT, initial_pH=7.4),
        layers=(
            Layer(
                "membrane",
                50e-6,
                diffusivity_factors=hindered,
                initial={"Na+": 130.0, "HPO4--": 10.0},
                initial_pH=7.4,
            ),
        ),
        mesh=MeshSpec(1e-6, 10e-6, 1.2),
        control=(Segment(t_end, i, i),),
        reports=(ReportSpec("pH", "pH", t_end, "H+", region=(-1.0, -0.5)),),
    )
    result = simulate(problem)
    h0 = 1000.0 * 10.0**-7.4
    total = _proton_total(h0, 10.0) + i * t_end / (FARADAY * volume)
    h = brentq(lambda x: _proton_total(x, 10.0) - total, 1e-9, 1e3, xtol=1e-16, rtol=1e-14)
    assert result.reports["pH"] == pytest.approx(-math.log10(h / 1000.0), abs=1e-3)
    assert max(result.balance.values()) < 1e-12


def _surface_ph(electrode: ElectrodeReaction, phosphate: float, t_end: float) -> float:
    problem = _problem(
        left=ElectrodeBoundary(electrode),
        layers=(Layer("gel", 1e-3, initial={"Na+": 130.0, "HPO4--": phosphate}, initial_pH=7.4),),
        right=FixedBoundary({"Na+": 130.0, "HPO4--": phosphate}, pH=7.4),
        control=(Segment(t_end, 5.0, 5.0),),
        reports=(ReportSpec("pH", "pH", t_end, "H+", region=(0.0, 10e-6), side="before"),),
    )
    return simulate(problem).reports["pH"]


def test_P7_acid_under_an_inert_anode_buffered_and_held_by_agcl() -> None:
    """P7: with an inert anode the surface pH falls with the charge passed; a stronger
    buffer delays it; an Ag/AgCl anode does not acidify at all."""
    weak_early = _surface_ph(INERT, 1.0, 5.0)
    weak_late = _surface_ph(INERT, 1.0, 60.0)
    strong_early = _surface_ph(INERT, 10.0, 5.0)
    silver = _surface_ph(AGCL, 1.0, 60.0)
    assert weak_late < weak_early < 7.0
    assert strong_early > weak_early + 0.5
    assert silver == pytest.approx(7.4, abs=0.05)  # buffer anions drift toward it: +0.01


def test_P8_inert_cathode_makes_alkali() -> None:
    """P7 (cathode) and P8 (desincrustation works by it): OH- from water reduction raises
    the pH under an inert cathode above 9 in 60 s at 0.5 mA/cm^2."""
    problem = _problem(
        control=(Segment(60.0, -5.0, -5.0),),
        reports=(ReportSpec("pH", "pH", 60.0, "H+", region=(0.0, 10e-6), side="before"),),
    )
    assert simulate(problem).reports["pH"] > 9.0


def test_analytic_jacobian_with_equilibria() -> None:
    problem = _problem(mesh=MeshSpec(5e-6, 200e-6, 1.5))
    model = Model(problem, build_mesh(problem))
    rng = np.random.default_rng(2)
    state = model.state0.copy()
    state[:, : model.m] *= 1.0 + 0.1 * rng.random((model.nc, model.m))
    z_state = model.pack(state, model.initial_u(state, 5.0))
    out, _, data = model.dae_rhs(z_state, 5.0, True)
    assert data is not None
    rows, cols = model.jacobian_pattern()
    dense = np.zeros((out.size, out.size))
    dense[rows, cols] = model.jacobian_values(data)
    flat = z_state.ravel()
    for col in range(flat.size):
        step = 1e-7 * max(1.0, abs(flat[col]))
        plus, minus = flat.copy(), flat.copy()
        plus[col] += step
        minus[col] -= step
        fd = (
            model.dae_rhs(plus.reshape(z_state.shape), 5.0, False)[0]
            - model.dae_rhs(minus.reshape(z_state.shape), 5.0, False)[0]
        ).ravel() / (2 * step)
        assert np.abs(dense[:, col] - fd).max() <= 1e-5 * (np.abs(fd).max() + 1e-12), col


def test_free_jacobian_equals_the_free_columns_of_the_full_one() -> None:
    """The per-compartment Newton's Jacobian (by the free concentrations only) is the
    free-concentration block of the full derivative of the equilibrium residual, at
    random states and with conjugate bases at zero."""
    problem = _problem(mesh=MeshSpec(5e-6, 200e-6, 1.5))
    spec = Speciation(problem)
    rng = np.random.default_rng(7)
    state = np.abs(rng.random((40, spec.nstate))) * 5.0
    free = state[:, spec.m :]
    free[:] = np.where(spec.log_var, rng.normal(-3.0, 2.0, free.shape), rng.random(free.shape))
    free[::5, ~spec.log_var] = 0.0  # a conjugate base at zero
    c = spec.concentrations(state, np.zeros(40))
    full = spec.equilibrium_jacobian(spec.derivatives(c))[:, :, spec.m :]
    assert spec.r > 0
    assert np.abs(spec.free_jacobian(c) - full).max() <= 1e-14 * np.abs(full).max()
