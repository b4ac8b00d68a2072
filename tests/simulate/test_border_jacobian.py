"""The bordered Jacobian of the new border unknowns (voltage-control current, plasma,
conductance activation, hyperaemia with a vasodilator, capacitor charge and ionic
current) in a two-site chain with areas, against central differences of the whole
system, and the quadratures' Jacobian-vector product likewise."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from ionto.simulate.mesh import build_mesh
from ionto.simulate.model import Model
from ionto.simulate.problem import (
    Activation,
    ElectrodeBoundary,
    ElectrodeReaction,
    Hyperaemia,
    Layer,
    MeshSpec,
    Problem,
    Segment,
    SolverSpec,
    Species,
    Systemic,
)
from ionto.simulate.simulation import _SegmentSystem, consistent_state

AGCL = ElectrodeReaction("Ag/AgCl", {"Cl-": -1.0}, {"Cl-": 1.0})


def _problem() -> Problem:
    hyp = Hyperaemia(gain=3.0, charge=50.0, tau_off=100.0, drug="D+", drug_ec50=5.0, drug_rate=0.1)
    site = (
        Layer(
            "barrier",
            20e-6,
            1e-3,
            fixed_charge=-30.0,
            initial={"Na+": 150.0, "D+": 5.0},
            activation=Activation(10.0, 50.0, 100.0),
            capacitance=1e-2,
        ),
        Layer(
            "dermis",
            200e-6,
            0.4,
            exchange_rate=1e-3,
            initial={"Na+": 150.0, "D+": 2.0},
            hyperaemia=hyp,
        ),
    )
    layers = (
        Layer("gel", 100e-6, initial={"D+": 50.0, "Na+": 10.0}, area=1e-3),
        *(dataclasses.replace(la, area=1e-3) for la in site),
        Layer("body", 1e-3, exchange_rate=1e-2, initial={"Na+": 150.0}, area=2e-4),
        *(dataclasses.replace(la, name="i_" + la.name, area=3e-3) for la in reversed(site)),
        Layer("i_gel", 100e-6, initial={"Na+": 150.0}, area=3e-3),
    )
    return Problem(
        species=(Species("D+", 1, 6e-10), Species("Na+", 1, 1.33e-9), Species("Cl-", -1, 2.03e-9)),
        electroneutral_species="Cl-",
        layers=layers,
        left=ElectrodeBoundary(AGCL),
        right=ElectrodeBoundary(AGCL),
        control=(Segment(1.0, 0.5, 0.5, mode="voltage"),),
        mesh=MeshSpec(min_cell=1e-6, max_cell=50e-6, growth=1.4),
        electroosmotic_coefficient=2e-9,
        exchange_concentrations={"Na+": 150.0},
        systemic=(Systemic("D+", 1e-3, 1e-7),),
        treated_area=1e-3,
        solver=SolverSpec(),
    )


@pytest.mark.parametrize("mode", ["voltage", "current"])
def test_bordered_jacobian_matches_central_differences(mode: str) -> None:
    problem = _problem()
    model = Model(problem, build_mesh(problem))
    assert model.nact == 4 and model.ncap == 2 and model.nsys == 1
    segment = Segment(1.0, 0.5, 0.5, "voltage") if mode == "voltage" else Segment(1.0, 2.0, 3.0)
    system = _SegmentSystem(model, segment, 0.0)
    rng = np.random.default_rng(3)
    border = np.concatenate([[0.01], [0.2, 0.4, 0.1, 0.3], [0.002, -0.001], [1.5, 2.5]])
    model.set_border(border)
    flat = consistent_state(model, 0.0, model.state0, 2.0, None)
    parts = [flat + 1e-3 * rng.standard_normal(flat.size) * (system.mass[: flat.size] > 0)]
    if mode == "voltage":
        parts.append(np.array([2.0]))
    parts.append(border)
    y = np.concatenate(parts)
    t = 0.3
    f0, q0, data = system.evaluate(t, y, True)
    lin = system.linearize(data)
    rows, cols = system.pattern
    n = y.size
    nband = system.nband
    dense = np.zeros((n, n))
    dense[rows, cols] = lin.band_values()
    assert lin.border_col is not None and lin.border_row is not None
    assert lin.border_corner is not None
    dense[:nband, nband:] = lin.border_col
    dense[nband:, :nband] = lin.border_row
    dense[nband:, nband:] = lin.border_corner
    check = np.concatenate([rng.choice(nband, size=30, replace=False), np.arange(nband, n)])
    for col in check:
        step = 1e-6 * max(1.0, abs(y[col]))
        plus, minus = y.copy(), y.copy()
        plus[col] += step
        minus[col] -= step
        fp, qp, _ = system.evaluate(t, plus, False)
        fm, qm, _ = system.evaluate(t, minus, False)
        fd = (fp - fm) / (2 * step)
        scale = np.abs(fd).max() + 1e-30
        assert np.abs(dense[:, col] - fd).max() <= 1e-5 * scale, col
        direction = np.zeros(n)
        direction[col] = 1.0
        system.evaluate(t, y, True)  # the linearisation point again
        jvp = system.quadrature_jvp(data, direction)
        fq = (qp - qm) / (2 * step)
        assert np.abs(jvp - fq).max() <= 1e-5 * (np.abs(fq).max() + 1e-30), col
