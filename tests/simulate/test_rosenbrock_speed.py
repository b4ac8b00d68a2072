"""The speed-ups of the integrator change nothing but the cost: the block-wise band
assembly gives the same band storage as the scatter of every Jacobian entry, the local
projection restores the fast equilibria with every total kept and the face potentials
exact, and the exact perfusion border columns equal central differences."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ionto.simulate.mesh import build_mesh
from ionto.simulate.model import Model
from ionto.simulate.problem import MeshSpec
from ionto.simulate.rosenbrock import Linearization, _BandAssembler
from ionto.simulate.scenario import load_problem
from ionto.simulate.simulation import _SegmentSystem, consistent_state

ROOT = Path(__file__).resolve().parents[2]


def _system() -> tuple[Model, _SegmentSystem, np.ndarray]:
    problem = load_problem(ROOT / "benchmarks" / "session.toml")
    # a coarse mesh keeps the test quick; the structure is the benchmark's
    problem = type(problem)(
        **{**problem.__dict__, "mesh": MeshSpec(min_cell=0.5e-6, max_cell=500e-6, growth=2.0)}
    )
    model = Model(problem, build_mesh(problem))
    segment = problem.control[1]  # the hold at -4 mA
    system = _SegmentSystem(model, segment, 30.0)
    border = np.concatenate([[1e-6], [0.3, 0.2, 0.4, 0.1]])  # plasma, activation, perfusion
    model.set_border(border)
    flat = consistent_state(model, 30.0, model.state0, segment.start, None)
    return model, system, np.concatenate([flat, border])


def test_block_assembly_equals_the_scatter_of_every_entry() -> None:
    model, system, y = _system()
    _, _, data = system.evaluate(60.0, y, True)
    lin = system.linearize(data)
    assert lin.blocks is not None
    asm = _BandAssembler(system.nb, system.bs, system.pattern)
    shift = np.linspace(1.0, 2.0, asm.n)
    by_blocks = asm.assemble(lin, shift)
    by_entries = asm.assemble(Linearization(values=lin.band_values()), shift)
    assert np.count_nonzero(by_blocks) > 5 * asm.n  # not trivially empty
    np.testing.assert_array_equal(by_blocks, by_entries)


def test_local_projection_restores_equilibria_and_keeps_totals() -> None:
    model, system, y = _system()
    rng = np.random.default_rng(7)
    z = y[: system.nband].reshape(system.shape).copy()
    m = model.m
    z[:-1, 1 + m :] *= 1.0 + 0.05 * rng.standard_normal(z[:-1, 1 + m :].shape)  # off equilibrium
    y_off = np.concatenate([z.ravel(), y[system.nband :]])
    assert system.drift(60.0, y_off) > 1e-3
    fixed = system.equilibrate(60.0, y_off)
    assert fixed is not None
    assert system.drift(60.0, fixed) < 1e-10
    zf = fixed[: system.nband].reshape(system.shape)
    np.testing.assert_array_equal(zf[:-1, 1 : 1 + m], z[:-1, 1 : 1 + m])  # totals kept
    np.testing.assert_array_equal(fixed[system.nband :], y_off[system.nband :])
    # the face potentials carry the set current exactly for the new concentrations
    f, _, _ = system.evaluate(60.0, fixed, False)
    rows = f[: system.nband].reshape(system.shape)[model._s0 : model._s1, 0]
    scale = abs(system.setpoint(60.0)) / 96485.33212
    assert np.max(np.abs(rows)) < 1e-9 * scale


def test_exact_perfusion_columns_equal_central_differences() -> None:
    model, system, y = _system()
    z = y[: system.nband].reshape(system.shape)
    state = z[:-1, 1:]
    i = system.setpoint(60.0)
    b0 = model.border_now()
    for g in np.flatnonzero(model.act_perfusion):
        col, qcol, pcol = model.perfusion_columns(int(g), state)
        res = []
        for sign in (1.0, -1.0):
            b = b0.copy()
            b[model.nsys + g] += sign * 1e-6
            model.set_border(b)
            out, q, _ = model.dae_rhs(z, i, False)
            res.append((out, q, model.plasma_rhs(state)))
        model.set_border(b0)
        np.testing.assert_allclose(col, (res[0][0] - res[1][0]) / 2e-6, rtol=1e-6, atol=1e-12)
        np.testing.assert_allclose(qcol, (res[0][1] - res[1][1]) / 2e-6, rtol=1e-6, atol=1e-12)
        assert pcol == pytest.approx((res[0][2] - res[1][2]) / 2e-6, rel=1e-6, abs=1e-15)
