"""Run a Problem: mesh it, discretise it, integrate it segment by segment.

The integrator restarts at every segment boundary of the control program (the current
or its slope jumps there), so no step straddles a discontinuity.
"""

from __future__ import annotations

import time as _time
from collections.abc import Callable

import numpy as np

from ionto.simulate.mesh import build_mesh
from ionto.simulate.model import Model
from ionto.simulate.problem import Problem, Segment
from ionto.simulate.result import Result, Snapshot
from ionto.simulate.rosenbrock import Stats, integrate_segment


class _SegmentSystem:
    """The model under one control segment: i(t) linear between its end values."""

    def __init__(self, model: Model, segment: Segment, t_start: float) -> None:
        self.model = model
        self.mass = model.mass_vector()
        self.mask = model.error_mask()
        self.nb = model.nc + 1
        self.bs = model.m + 1
        self.t_start = t_start
        self.segment = segment
        self.slope = (segment.end - segment.start) / segment.duration

    def current(self, t: float) -> float:
        """Current density (A/m^2) at time t (s)."""
        return self.segment.start + self.slope * (t - self.t_start)

    def evaluate(self, t: float, y: np.ndarray, jac: bool) -> tuple[np.ndarray, np.ndarray, object]:
        return self.model.dae_rhs(y, self.current(t), jac)

    def blocks(self, data: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        assert isinstance(data, dict)
        return self.model.dae_blocks(data)

    def quadrature_jvp(self, data: object, v: np.ndarray) -> np.ndarray:
        assert isinstance(data, dict)
        return self.model.dae_quadrature_jvp(data, v)


def segment_starts(problem: Problem) -> np.ndarray:
    """Start time (s) of every control segment, plus the end time."""
    return np.concatenate([[0.0], np.cumsum([seg.duration for seg in problem.control])])


def simulate(
    problem: Problem,
    progress: Callable[[float, float], None] | None = None,
    refine: float = 1.0,
) -> Result:
    """Simulate a problem; ``progress(t, t_end)`` is called after every step.

    ``refine`` divides every mesh cell by that factor (convergence studies)."""
    wall0 = _time.perf_counter()
    mesh = build_mesh(problem, refine)
    model = Model(problem, mesh)
    starts = segment_starts(problem)
    t_end = float(starts[-1])
    wanted = {float(t) for t in problem.output_times} | {r.time for r in problem.reports}
    stops = sorted(t for t in wanted if t > 0.0)
    snapshots: dict[float, Snapshot] = {}
    y = model.y0.copy()
    q = np.zeros(model.quadrature_size())
    if True:
        snapshots[0.0] = Snapshot(0.0, y.copy(), q.copy())
    stats = Stats()
    h = problem.solver.first_step
    rtol, atol = problem.solver.rtol, problem.solver.atol
    report: Callable[[float], None] | None = None
    if progress is not None:
        cb = progress

        def report(t: float) -> None:
            cb(t, t_end)

    for k, seg in enumerate(problem.control):
        t0, t1 = float(starts[k]), float(starts[k + 1])
        system = _SegmentSystem(model, seg, t0)

        def on_stop(t: float, zs: np.ndarray, qs: np.ndarray) -> None:
            snapshots[t] = Snapshot(t, zs[:-1, 1:].copy(), qs.copy())

        z_state = model.pack(y, model.consistent_u(y, seg.start))
        z_state, q, h = integrate_segment(
            system,
            t0,
            t1,
            z_state,
            q,
            stops,
            on_stop,
            rtol,
            atol,
            h if k == 0 else min(h, problem.solver.first_step),
            stats,
            time_dependent=seg.start != seg.end,
            max_steps=problem.solver.max_steps,
            progress=report,
            max_step=problem.solver.max_step,
        )
        y = z_state[:-1, 1:].copy()
        stats.segments += 1
    wall = _time.perf_counter() - wall0
    return Result.build(problem, model, snapshots, stats, wall)
