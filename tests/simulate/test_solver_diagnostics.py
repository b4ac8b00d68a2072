"""Failures of the integration say where, when and what to try; the analytic Jacobian is
the derivative of the residual."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from ionto.core.errors import SolverError
from ionto.simulate.mesh import build_mesh
from ionto.simulate.model import Model
from ionto.simulate.problem import (
    FARADAY,
    ElectrodeBoundary,
    ElectrodeReaction,
    FixedBoundary,
    Layer,
    MeshSpec,
    NoFluxBoundary,
    Problem,
    Reaction,
    Segment,
    SolverSpec,
    Species,
)
from ionto.simulate.simulation import simulate

AGCL = ElectrodeReaction("Ag/AgCl", {"Cl-": -1.0}, {"Cl-": 1.0})
NACL = (Species("Na+", 1, 1.33e-9), Species("Cl-", -1, 2.03e-9))


def _cell(current: float, **solver: float) -> Problem:
    return Problem(
        species=NACL,
        electroneutral_species="Cl-",
        layers=(Layer("cell", 100e-6, initial={"Na+": 10.0}),),
        left=ElectrodeBoundary(AGCL),
        right=FixedBoundary({"Na+": 10.0}),
        control=(Segment(10.0, current, current),),
        mesh=MeshSpec(0.5e-6, 5e-6, 1.2),
        solver=SolverSpec(**solver),  # type: ignore[arg-type]
    )


def test_current_above_the_limiting_current_is_explained() -> None:
    """60 A/m^2 exceeds the limiting current 2 F D_Cl c0 / L = 39 A/m^2 of this cell: the
    salt at the anode runs out near the Sand time and the error says so."""
    with pytest.raises(SolverError) as info:
        simulate(_cell(60.0))
    error = info.value
    message = str(error)
    assert "depleted" in message and "limiting current" in message
    d_amb = 2 * 1.33e-9 * 2.03e-9 / (1.33e-9 + 2.03e-9)
    g = 60.0 / (2 * FARADAY * 2.03e-9)
    sand = math.pi / d_amb * (10.0 / (2 * g)) ** 2  # c(0, t) = 0
    assert error.time is not None
    assert 0.5 * sand < error.time < 2.0 * sand


def test_step_budget_exhaustion_names_the_setting() -> None:
    with pytest.raises(SolverError, match="max_steps"):
        simulate(_cell(5.0, max_steps=3))


def _jacobian_case() -> Model:
    species = (Species("D+", 1, 6e-10), Species("M+", 1, 8e-10), *NACL)
    problem = Problem(
        species=species,
        electroneutral_species="Cl-",
        layers=(
            Layer("gel", 30e-6, initial={"D+": 50.0, "Na+": 20.0}),
            Layer(
                "skin",
                20e-6,
                diffusivity_factor=0.01,
                fixed_charge=-20.0,
                exchange_rate=1e-3,
                initial={"Na+": 150.0},
                reaction_rates={"r": 0.01},
            ),
        ),
        left=ElectrodeBoundary(AGCL),
        right=FixedBoundary({"Na+": 150.0, "M+": 1.0}),
        control=(Segment(1.0, 5.0, 5.0),),
        mesh=MeshSpec(1e-6, 4e-6, 1.3),
        smoothing=1e-6,
        electroosmotic_coefficient=3e-9,
        exchange_concentrations={"Na+": 150.0},
        reactions=(Reaction("r", "D+", "M+"),),
    )
    return Model(problem, build_mesh(problem))


@pytest.mark.parametrize("right", ["fixed", "electrode", "wall"])
def test_analytic_jacobian_matches_finite_differences(right: str) -> None:
    model = _jacobian_case()
    if right != "fixed":
        boundary = ElectrodeBoundary(AGCL) if right == "electrode" else NoFluxBoundary()
        problem = dataclasses.replace(model.problem, right=boundary)
        model = Model(problem, build_mesh(problem))
    i = 5.0 if right != "wall" else 0.0
    rng = np.random.default_rng(1)
    y = model.state0 * (1.0 + 0.2 * rng.random(model.state0.shape)) + 0.5
    z_state = model.pack(y, model.initial_u(y, i) + 0.05 * rng.standard_normal(model.nc + 1))
    out, _, data = model.dae_rhs(z_state, i, True)
    assert data is not None
    rows, cols = model.jacobian_pattern()
    dense = np.zeros((out.size, out.size))
    dense[rows, cols] = model.jacobian_values(data)
    flat = z_state.ravel()
    for col in rng.choice(flat.size, size=40, replace=False):
        step = 1e-6 * max(1.0, abs(flat[col]))
        plus, minus = flat.copy(), flat.copy()
        plus[col] += step
        minus[col] -= step
        f_plus = model.dae_rhs(plus.reshape(z_state.shape), i, False)[0].ravel()
        f_minus = model.dae_rhs(minus.reshape(z_state.shape), i, False)[0].ravel()
        fd = (f_plus - f_minus) / (2 * step)
        scale = np.abs(fd).max() + 1e-30
        assert np.abs(dense[:, col] - fd).max() <= 1e-6 * scale, col
    # and the derivative by the current density
    d_i = 1e-4
    fd_i = (
        model.dae_rhs(z_state, i + d_i, False)[0] - model.dae_rhs(z_state, i - d_i, False)[0]
    ) / (2 * d_i)
    assert np.allclose(data["F_i"], fd_i.ravel(), rtol=1e-6, atol=1e-7 * np.abs(fd_i).max())
