"""Run a Problem: mesh it, discretise it, integrate it segment by segment.

The integrator restarts at every segment boundary of the control program (the current,
the voltage or a slope jumps there), so no step straddles a discontinuity; each segment
starts from a consistent state (face potentials and, under voltage control, the current
solved exactly for the imposed value).
"""

from __future__ import annotations

import math
import time as _time
from collections.abc import Callable
from typing import Any, Literal

import numpy as np

from ionto.core.errors import ConfigError, SolverError
from ionto.simulate.chemistry import H_PLUS
from ionto.simulate.electrodes import ChargeTracker, Piece, reaction_of, schedule, tracks_charge
from ionto.simulate.mesh import build_mesh
from ionto.simulate.model import Model
from ionto.simulate.problem import FARADAY, Problem, Segment
from ionto.simulate.result import Result, Snapshot, monitor_value
from ionto.simulate.rosenbrock import (
    EventReached,
    Linearization,
    Stats,
    StepFailure,
    integrate_segment,
    make_consistent,
    step_with_quadratures,
    take_step,
)
from ionto.simulate.sampling import Sampler

_Event = Callable[[float, np.ndarray, np.ndarray, float, np.ndarray, np.ndarray], float | None]


class _SegmentSystem:
    """The model under one control segment, as the integrator sees it.

    The flat state is Z (face potentials, totals, free concentrations), then under voltage
    control the current density (an algebraic unknown fixed by phi(0) - phi(L) = V(t)),
    then the *border states*: the plasma concentrations of systemic species and the
    activation states of layers whose conductance opens under current (differential).
    They form the border of the banded Jacobian. Under current control i(t) is linear in
    time."""

    def __init__(self, model: Model, segment: Segment, t_start: float) -> None:
        self.model = model
        self.segment = segment
        self.t_start = t_start
        self.slope = (segment.end - segment.start) / segment.duration
        self.voltage_mode = segment.mode == "voltage"
        self.nb = model.nc + 1
        self.bs = model.bs
        self.nband = self.nb * self.bs
        self.nv = 1 if self.voltage_mode else 0
        self.nsys = model.nsys
        self.nact = model.nact
        self.ncap = model.ncap
        mass = model.mass_vector()
        weight, logs = model.error_weights()
        damped = model.damped_mask()
        extra = self.nv + self.nsys + self.nact + 2 * self.ncap
        self.mass = np.concatenate(
            [
                mass,
                [0.0] * self.nv,
                model.sys_capacity,
                np.ones(self.nact + self.ncap),
                np.zeros(self.ncap),
            ]
        )
        stack = float(model.volumes.sum())
        self.weight = np.concatenate(
            [
                weight,
                [0.0] * self.nv,
                [stack] * (self.nsys + self.nact),
                stack * 1e-3 / np.maximum(model.cap_value, 1e-300),  # Q in mV of the layer
                np.zeros(self.ncap),
            ]
        )
        self.logs = np.concatenate([logs, np.zeros(extra, dtype=bool)])
        self.damped = np.concatenate([damped, np.zeros(extra, dtype=bool)])
        self.shape = (self.nb, self.bs)
        self.pattern = model.jacobian_pattern()
        self._coupling = model.plasma_coupling() if self.nsys else None

    def setpoint(self, t: float) -> float:
        """Imposed current density (A/m^2) or voltage (V) at time t (s)."""
        return self.segment.start + self.slope * (t - self.t_start)

    def split(self, state: np.ndarray) -> tuple[np.ndarray, float]:
        """(Z, i) from a flat state (i = 0 under current control: see ``current``)."""
        z_state = state[: self.nband].reshape(self.shape)
        return z_state, float(state[self.nband]) if self.voltage_mode else 0.0

    def plasma(self, state: np.ndarray) -> np.ndarray:
        """Border states in a flat state: plasma concentrations (mol/m^3), then the
        activation states (-)."""
        return state[self.nband + self.nv :]

    def current(self, t: float, state: np.ndarray) -> float:
        """Current density (A/m^2) at time t in the given state."""
        return self.split(state)[1] if self.voltage_mode else self.setpoint(t)

    def evaluate(self, t: float, y: np.ndarray, jac: bool) -> tuple[np.ndarray, np.ndarray, Any]:
        z_state, _ = self.split(y)
        i = self.current(t, y)
        model = self.model
        model.cycle = self.segment.cycle
        if self.nsys or self.nact or self.ncap:
            model.set_border(self.plasma(y))
        out, q, data = model.dae_rhs(z_state, i, jac)
        parts = [out.ravel()]
        if self.voltage_mode:
            parts.append(np.array([model.voltage_of(z_state[:, 0]) - self.setpoint(t)]))
        if self.nsys:
            parts.append(model.plasma_rhs(z_state[:-1, 1:]))
        if self.nact:
            parts.append(model.activation_rhs(i, z_state[:-1, 1:]))
        if self.ncap:
            parts.append(i - model.cap_current)  # dQ/dt: the displacement current
            volts = model.capacitor_voltage(z_state[:, 0])
            parts.append(volts - model.cap_offset - model.cap_charge / model.cap_value)
        if jac and (self.nact or self.ncap):
            assert data is not None
            self._border_columns(z_state, i, data)
        return np.concatenate(parts) if len(parts) > 1 else parts[0], q, data

    def _border_columns(self, z_state: np.ndarray, i: float, data: dict[str, Any]) -> None:
        """dF/db and dq/db of every activation state and capacitor charge b: exact for
        perfusion and conduction states (``Model.perfusion_columns``,
        ``Model.activation_columns``), by central differences for capacitor charges
        (F and q are smooth in them), the column of each ionic current
        through a capacitive layer (exact: -1/F on its faces' current conditions), and
        the analytic partials of da/dt."""
        model = self.model
        b0 = model.border_now()
        first = self.nsys
        count = self.nact + self.ncap
        cols = np.zeros((self.nband, count))
        qcols = np.zeros((model.quadrature_size(), count))
        pcols = np.zeros((self.nsys, count))  # plasma uptake by perfusion
        for k in range(count):
            if k < self.nact and model.act_perfusion[k]:
                col, qcol, pcol = model.perfusion_columns(k, z_state[:-1, 1:])
                cols[:, k], qcols[:, k], pcols[:, k] = col.ravel(), qcol, pcol
                continue
            if k < self.nact:  # conduction: no plasma term
                col, qcol = model.activation_columns(k, z_state, i, data.get("c"))
                cols[:, k], qcols[:, k] = col.ravel(), qcol
                continue
            # activation in [0, 1]; a charge step of 1 uV across the layer
            step = 1e-6 if k < self.nact else 1e-6 * model.cap_value[k - self.nact]
            res = []
            for sign in (1.0, -1.0):
                b = b0.copy()
                b[first + k] += sign * step
                model.set_border(b)
                out, q, _ = model.dae_rhs(z_state, i, False)
                up = model.plasma_rhs(z_state[:-1, 1:]) if self.nsys else np.zeros(0)
                res.append((out.ravel(), q, up))
            cols[:, k] = (res[0][0] - res[1][0]) / (2 * step)
            qcols[:, k] = (res[0][1] - res[1][1]) / (2 * step)
            pcols[:, k] = (res[0][2] - res[1][2]) / (2 * step)
        model.set_border(b0)
        icol = np.zeros((self.nb, self.bs, self.ncap))
        for g, faces in enumerate(model.cap_faces):
            icol[faces, 0, g] = -1.0 / FARADAY
        data["border_col"] = np.hstack([cols, icol.reshape(self.nband, self.ncap)])
        data["border_q"] = np.hstack([qcols, np.zeros((qcols.shape[0], self.ncap))])
        data["border_plasma"] = pcols
        if self.nact:
            da, di, dt = model.activation_partials(i, z_state[:-1, 1:])
            data["act_da"] = da
            data["act_di"] = di
            data["act_dt"] = dt

    def linearize(self, data: Any) -> Linearization:
        blocks = self.model.jacobian_blocks(data)
        if not (self.nv or self.nsys or self.nact or self.ncap):
            return Linearization(blocks=blocks)
        cols, rows = [], []
        k = self.nv + self.nsys + self.nact + 2 * self.ncap
        corner = np.zeros((k, k))
        if self.voltage_mode:
            cols.append(data["F_i"][:, None])
            row = np.zeros(self.shape)
            row[:, 0] = -1.0 / self.model.f_t
            rows.append(row.ravel()[None, :])
        if self._coupling is not None:
            if self.model.nact and np.any(self.model.act_perfusion):
                self._coupling = self.model.plasma_coupling()  # perfusion changes uptake
            col_c, row_c, corner_c = self._coupling
            cols.append(col_c)
            rows.append(row_c)
            corner[self.nv : self.nv + self.nsys, self.nv : self.nv + self.nsys] = corner_c
        if self.nact or self.ncap:
            a0 = self.nv + self.nsys
            na, nc = self.nact, self.ncap
            cols.append(data["border_col"])
            rows_b = np.zeros((na + 2 * nc, self.shape[0], self.shape[1]))
            if na:  # a vasodilator's level drives perfusion
                m = self.model.m
                rows_b[:na, :-1, 1 : 1 + m] = data["act_dt"]
            for g, faces in enumerate(self.model.cap_faces):
                rows_b[na + nc + g, faces, 0] = -1.0 / self.model.f_t  # V_layer by u
            rows.append(rows_b.reshape(na + 2 * nc, self.nband))
            if na:
                corner[a0 : a0 + na, a0 : a0 + na] = np.diag(data["act_da"])
                if self.voltage_mode:
                    corner[a0 : a0 + na, 0] = data["act_di"]
            if self.nsys:
                corner[self.nv : a0, a0 : a0 + na + nc] = data["border_plasma"]
            q0, i0 = a0 + na, a0 + na + nc
            for g in range(nc):
                corner[q0 + g, i0 + g] = -1.0  # dQ/dt = i - i_ion
                if self.voltage_mode:
                    corner[q0 + g, 0] = 1.0
                corner[i0 + g, q0 + g] = -1.0 / self.model.cap_value[g]  # V - Q/C
        return Linearization(None, np.hstack(cols), np.vstack(rows), corner, blocks)

    def quadrature_jvp(self, data: Any, v: np.ndarray) -> np.ndarray:
        z_dir, di = self.split(v)
        out = self.model.dae_quadrature_jvp(data, z_dir)
        if self.voltage_mode:
            out = out + data["q_i"] * di
        border = self.plasma(v)
        if self.nsys:
            out = out + self.model.plasma_quadrature_jvp(border[: self.nsys], data["vk"])
        if self.nact or self.ncap:
            out = out + data["border_q"] @ border[self.nsys :]
        return np.asarray(out)

    def drift(self, t: float, y: np.ndarray) -> float:
        if not self.model.r:
            return 0.0
        z_state, _ = self.split(y)
        return self.model.equilibrium_drift(z_state[:-1, 1:])

    def equilibrate(self, t: float, y: np.ndarray) -> np.ndarray | None:
        """y with the fast equilibria restored locally (``Model.equilibrate``), or None."""
        z_state, _ = self.split(y)
        model = self.model
        model.cycle = self.segment.cycle
        if self.nsys or self.nact or self.ncap:
            model.set_border(self.plasma(y))
        i = self.current(t, y)
        fixed = model.equilibrate(z_state, i)
        if fixed is None:
            return None
        out = y.copy()
        if self.voltage_mode:  # the potentials moved: find the current that keeps V(t)
            held = self._hold_voltage(fixed, i, self.setpoint(t))
            if held is None:
                return None
            fixed, out[self.nband] = held
        out[: self.nband] = fixed.ravel()
        return out

    def _hold_voltage(
        self, z_state: np.ndarray, i: float, volts: float
    ) -> tuple[np.ndarray, float] | None:
        """(Z, i) with the face potentials re-solved for the current i (A/m^2) at which
        phi(0) - phi(L) equals ``volts`` (V): secant iteration on the nearly ohmic V(i),
        to 1e-12 relative. None if it does not converge."""
        model = self.model
        state = z_state[:-1, 1:]
        s = slice(model._s0, model._s1)

        def volts_at(current: float) -> float:
            model.fluxes(state, current)
            return model.voltage_of(model.last_u)

        scale = max(abs(volts), 1e-3)
        try:
            v0 = volts_at(i)
            i1 = i * (1.0 + 1e-6) + 1e-9
            for _ in range(30):
                if abs(v0 - volts) <= 1e-12 * scale:
                    out = z_state.copy()
                    out[s, 0] = model.last_u[s]
                    return out, i
                v1 = volts_at(i1)
                if v1 == v0:
                    return None
                i, i1 = i1, i1 + (volts - v1) * (i1 - i) / (v1 - v0)
                v0 = v1
        except FloatingPointError:
            return None
        return None

    def time_derivative(self, t: float, data: Any) -> tuple[np.ndarray, np.ndarray] | None:
        if self.slope == 0.0:
            return None
        extra = np.zeros(self.nv + self.nsys + self.nact + 2 * self.ncap)
        if self.voltage_mode:
            ft = np.concatenate([np.zeros(self.nband), extra])
            ft[self.nband] = -self.slope
            return ft, np.zeros_like(data["q_i"])
        if self.nact:
            extra[self.nsys : self.nsys + self.nact] = data["act_di"] * self.slope
        if self.ncap:
            extra[self.nsys + self.nact : self.nsys + self.nact + self.ncap] = self.slope
        ft = np.concatenate([data["F_i"] * self.slope, extra])
        return ft, data["q_i"] * self.slope

    def initial_state(
        self,
        model: Model,
        state: np.ndarray,
        plasma: np.ndarray,
        u_guess: np.ndarray | None,
        i_guess: float,
    ) -> tuple[np.ndarray, float]:
        """Consistent flat state at the segment start (the differential totals and border
        states kept, every algebraic unknown solved) and its current density."""
        model.set_border(plasma)
        if not self.voltage_mode:
            flat = consistent_state(
                model, self.t_start, state, self.segment.start, u_guess, self.segment.cycle
            )
            return np.concatenate([flat, plasma]), self.segment.start
        i = solve_current_for_voltage(model, state, self.segment.start, i_guess, u_guess)
        flat = consistent_state(model, self.t_start, state, i, u_guess)
        return np.concatenate([flat, [i], plasma]), i


def consistent_state(
    model: Model,
    t: float,
    state: np.ndarray,
    i: float,
    u_guess: np.ndarray | None,
    cycle: tuple[float, float, float] | None = None,
) -> np.ndarray:
    """Flat Z at current density i with every algebraic unknown solved for the given
    compartment states (their totals in compartments with volume are kept)."""
    model.cycle = cycle
    u = model.initial_u(state, i) if u_guess is None else u_guess
    hold = _SegmentSystem(model, Segment(1.0, i, i, cycle=cycle), t)
    flat = np.concatenate([model.pack(state, u).ravel(), model.border_now()])
    return make_consistent(hold, t, flat, hold.damped)[: hold.nband]


def solve_current_for_voltage(
    model: Model, state: np.ndarray, volts: float, i_guess: float, u_guess: np.ndarray | None
) -> float:
    """Current density (A/m^2) that gives phi(0) - phi(L) = volts in the given state
    (the voltage rises monotonically with the current): bracketing secant (Illinois)."""
    shape = (model.nc + 1, model.bs)

    def residual(i: float) -> float:
        flat = consistent_state(model, 0.0, state, i, None)
        return model.voltage_of(flat.reshape(shape)[:, 0]) - volts

    a, fa = i_guess, residual(i_guess)
    if fa == 0.0:
        return a
    step = max(1.0, abs(i_guess))
    b = a - step if fa > 0 else a + step
    fb = residual(b)
    while fa * fb > 0:
        step *= 2.0
        b = a - step if fa > 0 else a + step
        fb = residual(b)
        if step > 1e6:
            raise ValueError(f"no current density below 1e6 A/m^2 gives {volts} V")
    side = 0
    c = a
    for _ in range(200):
        c = (a * fb - b * fa) / (fb - fa)
        fc = residual(c)
        if abs(fc) <= 1e-13 * max(1.0, abs(volts)) or abs(b - a) <= 1e-15 * max(1.0, abs(c)):
            return c
        if fc * fb > 0:
            b, fb = c, fc
            if side == -1:
                fa *= 0.5
            side = -1
        else:
            a, fa = c, fc
            if side == 1:
                fb *= 0.5
            side = 1
    return c


def _diagnose(model: Model, y: np.ndarray) -> str:
    """A hint from the state where the integration stopped: a species that has almost
    vanished where it was present at the start (a limiting current), or ''."""
    c = model.full(y)
    c0 = model.full(model.state0)
    present = c0 > 0.01 * np.abs(c0).max(axis=0)
    ratio = np.where(present, c / np.where(present, c0, 1.0), np.inf)
    j, k = np.unravel_index(int(np.argmin(ratio)), c.shape)
    if ratio[j, k] > 0.02:
        return ""
    x = float(model.centres[j])
    return (
        f"{model.names[int(k)]} is depleted ({float(c[j, k]):.3g} mol/m^3 at x = {x * 1e6:.4g} "
        f"um): the current likely exceeds what transport can supply there (a limiting "
        f"current, e.g. an Ag/AgCl anode starved of Cl-); lower the current or supply more of "
        f"the species the electrode consumes"
    )


def _solver_error(model: Model, system: _SegmentSystem, exc: StepFailure) -> SolverError:
    hints = []
    if exc.reason == "steps":
        hints.append("raise [solver] max_steps or loosen rtol")
    if exc.state is not None:
        z_state, _ = system.split(exc.state)
        hints.append(_diagnose(model, z_state[:-1, 1:]))
    if exc.reason != "steps":
        hints.append("refine the mesh near interfaces ([mesh] min_cell), or tighten rtol")
    hint = next(h for h in hints if h)
    return SolverError(f"time integration failed: {exc}", exc.time, hint)


def _watch_events(
    model: Model,
    system: _SegmentSystem,
    watch: list[Any],
    events: dict[str, float],
    t_prev: float,
    y_prev: np.ndarray,
    t: float,
    y_new: np.ndarray,
) -> None:
    """Record the first time each watched quantity falls below its threshold, located
    within the step by re-stepping from its start (Illinois on the step size)."""
    for spec in watch:
        if spec.name in events or t_prev >= spec.time:
            continue
        threshold = float(spec.threshold or 0.0)

        def g(state: np.ndarray, spec: Any = spec, threshold: float = threshold) -> float:
            z_state, _ = system.split(state)
            return monitor_value(model, z_state[:-1, 1:], spec) - threshold

        g1 = g(y_new)
        if g1 > 0.0:
            continue
        g0 = g(y_prev)
        a, fa, b, fb = 0.0, g0, t - t_prev, g1
        side = 0
        root = b
        q0 = np.zeros(model.quadrature_size())
        for _ in range(60):
            root = (a * fb - b * fa) / (fb - fa)
            fr = g(take_step(system, t_prev, y_prev, q0, root))
            if abs(fr) < 1e-12 or (b - a) < 1e-9 * max(1.0, t):
                break
            if fr > 0.0:
                a, fa = root, fr
                if side == 1:
                    fb *= 0.5
                side = 1
            else:
                b, fb = root, fr
                if side == -1:
                    fa *= 0.5
                side = -1
        when = t_prev + root
        events[spec.name] = when if when <= spec.time else float("nan")


def _locate(
    system: _SegmentSystem,
    t_prev: float,
    y_prev: np.ndarray,
    span: float,
    g: Callable[[float, np.ndarray, np.ndarray], float],
    g0: float,
    g1: float,
    scale: float,
) -> float:
    """Offset s in (0, span] where g(t_prev + s, y(s), dq(s)) crosses zero (g0 > 0 >= g1),
    dq the quadratures' increment from the step start, by re-stepping from the step start
    (Illinois on the step size): where |g| < 1e-10 ``scale``, or else the end of the final
    bracket where g <= 0."""
    q0 = np.zeros(system.model.quadrature_size())
    a, fa, b, fb = 0.0, g0, span, g1
    side = 0
    for _ in range(80):
        root = (a * fb - b * fa) / (fb - fa)
        y_root, dq_root = step_with_quadratures(system, t_prev, y_prev, q0, root)
        fr = g(t_prev + root, y_root, dq_root)
        if fr <= 0.0:
            b, fb = root, fr
            if side == -1:
                fa *= 0.5
            side = -1
        else:
            a, fa = root, fr
            if side == 1:
                fb *= 0.5
            side = 1
        if abs(fr) < 1e-10 * scale:
            return root
        if (b - a) < 1e-12 * max(1.0, t_prev):
            break
    return b


def _limit_event(
    model: Model,
    system: _SegmentSystem,
    watch_current: bool,
    bound: Callable[[float], float],
) -> _Event:
    """The switch of a source at one of its limits: fires when |x| reaches bound(t), x
    the current density (A/m^2) if ``watch_current`` else the voltage (V). A current
    source watches its voltage against the compliance, and at the compliance its current
    against the set current; a voltage source watches its current against the current
    limit, and at the limit its voltage against the set voltage. Crossings beyond a
    hysteresis of 1e-9 relative fire; the offset is where the step crossed (``_locate``)."""

    def g(t: float, y: np.ndarray, dq: np.ndarray | None = None) -> float:
        if watch_current:
            return abs(bound(t)) - abs(system.current(t, y))
        z_state, _ = system.split(y)
        return abs(bound(t)) - abs(model.voltage_of(z_state[:, 0]))

    def event(
        t_prev: float,
        y_prev: np.ndarray,
        q_prev: np.ndarray,
        t: float,
        y_new: np.ndarray,
        q_new: np.ndarray,
    ) -> float | None:
        scale = max(abs(bound(t_prev)), abs(bound(t)), 1e-300)
        g1 = g(t, y_new)
        if g1 >= -1e-9 * scale:
            return None
        g0 = g(t_prev, y_prev)
        if g0 <= 0.0:
            return 0.0
        return _locate(system, t_prev, y_prev, t - t_prev, g, g0, g1, scale)

    return event


def _capacity_event(
    model: Model, system: _SegmentSystem, tracker: ChargeTracker, q_start: np.ndarray
) -> _Event:
    """An electrode reaching its capacity while the current is free (a current source
    held at its compliance voltage): fires when the charge density passed since the
    quadratures were ``q_start``, F sum z q_in (the integral of i dt, exact), brings an
    electrode's clipped net charge to a bound it is not yet at (``tracker.gap``)."""
    nb = model.nbal

    def passed(dq: np.ndarray) -> float:
        return FARADAY * float(model.zbal @ dq[:nb])

    def event(
        t_prev: float,
        y_prev: np.ndarray,
        q_prev: np.ndarray,
        t: float,
        y_new: np.ndarray,
        q_new: np.ndarray,
    ) -> float | None:
        g1 = tracker.gap(passed(q_new - q_start))
        if g1 > 0.0:
            return None
        base = passed(q_prev - q_start)
        g0 = tracker.gap(base)
        if g0 <= 0.0:
            return 0.0

        def g(t: float, y: np.ndarray, dq: np.ndarray) -> float:
            return tracker.gap(base + passed(dq))

        return _locate(system, t_prev, y_prev, t - t_prev, g, g0, g1, tracker.scale)

    return event


def _earliest(events: dict[str, _Event], fired: list[str]) -> _Event:
    """One event from several: the earliest offset wins, and its name is put in
    ``fired`` (the handler of ``EventReached`` reads it)."""

    def event(
        t_prev: float,
        y_prev: np.ndarray,
        q_prev: np.ndarray,
        t: float,
        y_new: np.ndarray,
        q_new: np.ndarray,
    ) -> float | None:
        best: tuple[float, str] | None = None
        for name, ev in events.items():
            offset = ev(t_prev, y_prev, q_prev, t, y_new, q_new)
            if offset is not None and (best is None or offset < best[0]):
                best = (offset, name)
        if best is None:
            return None
        fired[:] = [best[1]]
        return best[0]

    return event


class _Exposure:
    """Irritation and burn-risk indicators of both electrode sites (claim P10), over
    every accepted step: the peak local current density (A/m^2 of the site's own area),
    the local charge density passed (integral of |i| / s, C/m^2, from the charge
    quadrature of every control piece, exact) and, with H+, the largest pH excursion at
    the electrode's face from its value at t = 0 (the first consistent state)."""

    def __init__(self, model: Model) -> None:
        self.model = model
        scale = model.cell_area_scale
        self.scales = (float(scale[0]), float(scale[-1]))
        self.peak = [0.0, 0.0]
        self.charge = [0.0, 0.0]
        self.total = 0.0  # integral of |i| dt so far, C/m^2 of the reference area
        self.ph_excursion = [0.0, 0.0]
        self.ph0 = [float("nan"), float("nan")]
        self.has_reference = False
        self.has_h = H_PLUS in model.names
        problem = model.problem
        self.sides = [
            side
            for side, end in enumerate((problem.left, problem.right))
            if reaction_of(end) is not None
        ]

    def _ph(self, y: np.ndarray) -> tuple[float, float]:
        k = self.model.names.index(H_PLUS)
        out = []
        for side in (0, 1):
            c = float(self.model.end_concentrations(y, side)[k])
            out.append(-math.log10(c / 1000.0) if c > 0 else float("nan"))
        return out[0], out[1]

    def step(
        self,
        system: _SegmentSystem,
        t_prev: float,
        y_prev: np.ndarray,
        t: float,
        y_new: np.ndarray,
    ) -> None:
        self.current(system, abs(system.current(t, y_new)))
        if self.has_h:
            if not self.has_reference:
                # the reference is the first consistent state (the initial guess of an
                # electrode face's free H+ is not yet in equilibrium: model.state0 is not)
                z_prev, _ = system.split(y_prev)
                self.ph0 = list(self._ph(z_prev[:-1, 1:]))
                self.has_reference = True
            z_state, _ = system.split(y_new)
            for side, ph in enumerate(self._ph(z_state[:-1, 1:])):
                if math.isfinite(ph) and math.isfinite(self.ph0[side]):
                    dev = abs(ph - self.ph0[side])
                    self.ph_excursion[side] = max(self.ph_excursion[side], dev)

    def current(self, system: _SegmentSystem, i: float) -> None:
        """Record |i| (A/m^2) flowing under ``system`` (a train: its pulses' peak)."""
        cycle = system.segment.cycle
        peak = abs(i) if cycle is None else cycle[2]
        for side, scale in enumerate(self.scales):
            self.peak[side] = max(self.peak[side], peak / scale)

    def passed(
        self, system: _SegmentSystem, t0: float, t1: float, q0: np.ndarray, q1: np.ndarray
    ) -> float:
        """Integral of |i| dt (C/m^2 of the reference area) over t0 .. t1 (s) of one
        stretch under ``system``: from the charge that entered at the left end
        (quadratures q0 -> q1; one sign of current in the stretch), or exactly for a
        ramp of set current through zero or a cycle-averaged train."""
        seg = system.segment
        dt = t1 - t0
        if seg.cycle is not None:
            return (seg.cycle[0] + seg.cycle[1]) * dt
        if not system.voltage_mode and system.setpoint(t0) * system.setpoint(t1) < 0:
            a, b = system.setpoint(t0), system.setpoint(t1)
            return dt * (a * a + b * b) / (2.0 * (abs(a) + abs(b)))
        nb = self.model.nbal
        return abs(FARADAY * float(self.model.zbal @ (q1[:nb] - q0[:nb])))

    def piece(
        self, system: _SegmentSystem, t0: float, t1: float, q0: np.ndarray, q1: np.ndarray
    ) -> None:
        """Add the charge density of a control piece (or of a stretch of it at or off
        the source's limit) from t0 to t1 (s), see ``passed``."""
        passed = self.passed(system, t0, t1, q0, q1)
        self.total += passed
        for side, scale in enumerate(self.scales):
            self.charge[side] += passed / scale

    def summary(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for side, name in enumerate(("left (active)", "right (indifferent)")):
            if side not in self.sides:
                continue  # a bath or a wall: no electrode there
            out[f"peak current density at the {name} electrode [A/m^2]"] = self.peak[side]
            out[f"charge density at the {name} electrode [C/m^2]"] = self.charge[side]
            if self.has_h:
                key = f"largest pH excursion at the {name} electrode [-]"
                out[key] = self.ph_excursion[side]
        return out


def segment_starts(problem: Problem) -> np.ndarray:
    """Start time (s) of every control segment, plus the end time."""
    return np.concatenate([[0.0], np.cumsum([seg.duration for seg in problem.control])])


def _continues(before: Piece, after: Piece) -> bool:
    """True when the control goes on without a jump from ``before`` into ``after``: the
    same mode and setpoint at the boundary (a change of slope only), no pulse train, and
    the electrodes' chemistry unchanged. The integrator then keeps its step size instead
    of restarting from ``first_step``."""
    a, b = before.segment, after.segment
    level = max(abs(a.end), abs(b.start))
    return (
        a.mode == b.mode
        and a.cycle is None
        and b.cycle is None
        and abs(a.end - b.start) <= 1e-12 * level
        and before.left == after.left
        and before.right == after.right
    )


def _note_exhausted(
    out: list[tuple[float, str]],
    t: float,
    before: tuple[tuple[bool, bool], tuple[bool, bool]],
    after: tuple[tuple[bool, bool], tuple[bool, bool]],
) -> None:
    """Record (t, "left anodic", ...) for every electrode direction spent from t on that
    was not spent just before (spent again after a reversal fed it back: recorded again)."""
    for side, was, now in zip(("left", "right"), before, after, strict=True):
        for kind, w, n in zip(("anodic", "cathodic"), was, now, strict=True):
            if n and not w:
                out.append((t, f"{side} {kind}"))


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
    before: dict[float, Snapshot] = {}
    after: dict[float, Snapshot] = {}
    y = model.state0.copy()
    plasma = model.border0()  # plasma concentrations, then activation states
    q = np.zeros(model.quadrature_size())
    stats = Stats()
    h = problem.solver.first_step
    rtol, atol = problem.solver.rtol, problem.solver.atol
    report: Callable[[float], None] | None = None
    if progress is not None:
        cb = progress

        def report(t: float) -> None:
            cb(t, t_end)

    events: dict[str, float] = {}
    watch = [spec for spec in problem.reports if spec.quantity == "time_below"]
    for spec in watch:  # already below at the start
        if monitor_value(model, y, spec) <= float(spec.threshold or 0.0):
            events[spec.name] = 0.0
    i_now = 0.0
    try:
        pieces = schedule(problem)
    except ValueError as exc:
        raise ConfigError("control", message=str(exc)) from None
    exposure = _Exposure(model)
    sampler = Sampler(problem, model, starts)  # withdraw-and-replace samples of a reservoir
    at_limit: list[list[float]] = []  # [start, end] of each stretch at a source limit
    smooth = False  # the control and the state go on without a jump into the next piece
    carried: np.ndarray | None = None  # the flat state at the end of the previous piece
    # an electrode's charge followed as the integration goes (a capacity behind a
    # compliance voltage), else the schedule's electrode flags hold piece by piece
    tracker = ChargeTracker(problem) if tracks_charge(problem) else None
    spent_now = ((False, False), (False, False))  # the model's (left, right) flags
    exhausted: list[tuple[float, str]] = []  # when each electrode direction ran out
    nb = model.nbal
    for k, piece in enumerate(pieces):
        seg = piece.segment
        t0 = piece.t_start
        if tracker is not None:
            flags = tracker.spent(seg.start + seg.end)  # one sign of current per piece
        else:
            flags = (piece.left, piece.right)
        if k > 0:
            smooth = smooth and _continues(pieces[k - 1], piece) and flags == spent_now
        t1 = t0 + seg.duration if k + 1 < len(pieces) else t_end
        _note_exhausted(exhausted, t0, spent_now, flags)
        model.set_spent(*flags)
        spent_now = flags
        slope = (seg.end - seg.start) / seg.duration

        def i_set(t: float, seg: Segment = seg, t0: float = t0, slope: float = slope) -> float:
            return seg.start + slope * (t - t0)

        # the source's limit in this piece: the compliance voltage of a current source, or
        # the current limit of a voltage source (V or A/m^2), None when it cannot bind
        voltage_piece = seg.mode == "voltage"
        limit = problem.current_limit if voltage_piece else problem.compliance_voltage
        limited = limit is not None and (seg.start != 0.0 or seg.end != 0.0)
        if limited and seg.cycle is not None:
            raise ConfigError(
                "control",
                message="a compliance voltage applies to every pulse: resolve the pulses "
                "(averaged = false) to run a pulse train against a compliance voltage",
            )
        capped = False  # running at the limit (under the other kind of control)
        t_here = t0
        switches = 0
        while True:
            t_stop = t1  # where this stretch ends: the piece's end or an exhaustion
            if tracker is not None and not capped and seg.mode == "current":
                ahead = tracker.exhaustion(Segment(t1 - t_here, i_set(t_here), i_set(t1)))
                if ahead is not None:
                    t_stop = t_here + ahead
            if capped:
                assert limit is not None
                level = i_set(t_here) or i_set(t1)
                held = limit if level > 0 else -limit
                other: Literal["current", "voltage"] = "current" if voltage_piece else "voltage"
                sub = Segment(t1 - t_here, held, held, other)
            else:
                sub = Segment(t1 - t_here, i_set(t_here), i_set(t1), seg.mode)
            system = _SegmentSystem(model, sub, t_here)
            try:
                if smooth and t_here == t0 and carried is not None:
                    # nothing jumped: the last state of the previous piece is as consistent
                    # as any state between two steps
                    state, i_now = carried, system.current(t_here, carried)
                    model.set_border(plasma)
                else:
                    state, i_now = system.initial_state(model, y, plasma, None, i_now)
            except (FloatingPointError, ValueError, ZeroDivisionError) as exc:
                raise SolverError(
                    f"no consistent state at the start of control piece {k + 1} ({exc})",
                    t_here,
                    _diagnose(model, y) or "check the control values of that segment",
                ) from exc
            if limited and not capped:
                assert limit is not None
                z_start, _ = system.split(state)
                now = abs(i_now) if voltage_piece else abs(model.voltage_of(z_start[:, 0]))
                if now > limit * (1.0 + 1e-9):
                    capped = True  # the setpoint is out of reach from the start
                    at_limit.append([t_here, t1])
                    continue
            z0, _ = system.split(state)
            y = z0[:-1, 1:].copy()  # zero-volume nodes and free concentrations polished
            exposure.current(system, i_now)
            q_here = q.copy()
            if t_here == t0:
                after[t0] = Snapshot(
                    t0,
                    y.copy(),
                    q.copy(),
                    i_now,
                    plasma.copy(),
                    sub.cycle,
                    sampler.snapshot(),
                    exposure.total,
                )
                if t0 == 0.0:
                    before[t0] = after[t0]

            def on_stop(
                t: float,
                st: np.ndarray,
                qs: np.ndarray,
                system: _SegmentSystem = system,
                t_from: float = t_here,
                q_from: np.ndarray = q_here,
            ) -> None:
                z_state, _ = system.split(st)
                # the charge passed up to t: that of the finished stretches and this one's
                charge = exposure.total + exposure.passed(system, t_from, t, q_from, qs)
                snap = Snapshot(
                    t,
                    z_state[:-1, 1:].copy(),
                    qs.copy(),
                    system.current(t, st),
                    system.plasma(st).copy(),
                    system.segment.cycle,
                    sampler.snapshot(),
                    charge,
                )
                before[t] = snap
                after[t] = snap

            def on_step(
                t_prev: float,
                y_prev: np.ndarray,
                t: float,
                y_new: np.ndarray,
                system: _SegmentSystem = system,
            ) -> None:
                _watch_events(model, system, watch, events, t_prev, y_prev, t, y_new)
                exposure.step(system, t_prev, y_prev, t, y_new)

            event: _Event | None = None
            if limited and limit is not None:
                fixed_limit = float(limit)

                def at_limit_value(t: float, v: float = fixed_limit) -> float:
                    return v

                # watch the current when it is the free quantity: a voltage source below its
                # current limit, or a current source held at its compliance voltage
                event = _limit_event(
                    model,
                    system,
                    watch_current=voltage_piece != capped,
                    bound=i_set if capped else at_limit_value,
                )
            fired: list[str] = []
            if tracker is not None and capped and event is not None:
                # the current is free: the charge passed decides where an electrode runs out
                event = _earliest(
                    {"limit": event, "capacity": _capacity_event(model, system, tracker, q_here)},
                    fired,
                )
            try:
                state, q, h = integrate_segment(
                    system,
                    t_here,
                    t_stop,
                    state,
                    q,
                    stops,
                    on_stop,
                    rtol,
                    atol,
                    h if t_here == t0 and (k == 0 or smooth) else min(h, problem.solver.first_step),
                    stats,
                    max_steps=problem.solver.max_steps,
                    progress=report,
                    max_step=problem.solver.max_step,
                    on_step=on_step,
                    event=event,
                )
            except EventReached as hit:
                z_state, _ = system.split(hit.y)
                y = z_state[:-1, 1:].copy()
                plasma = system.plasma(hit.y).copy()
                i_now = system.current(hit.t, hit.y)
                exposure.piece(system, t_here, hit.t, q_here, hit.q)
                if tracker is not None:
                    if capped:  # the charge that flowed: its quadrature (exact)
                        tracker.add(FARADAY * float(model.zbal @ (hit.q - q_here)[:nb]))
                    else:  # the set current flowed
                        tracker.advance(sub, hit.t - t_here)
                q, h, t_here = hit.q, hit.h, hit.t
                q_here = q.copy()
                if fired == ["capacity"]:
                    assert tracker is not None
                    # an electrode ran out at the compliance: new chemistry, still capped
                    flags = tracker.spent(seg.start + seg.end)
                    _note_exhausted(exhausted, t_here, spent_now, flags)
                    model.set_spent(*flags)
                    spent_now = flags
                    switches += 1
                    stats.segments += 1
                    if t1 - t_here > 1e-12 * max(1.0, t1):
                        continue
                    state = hit.y
                    break
                if capped:
                    at_limit[-1][1] = t_here
                else:
                    at_limit.append([t_here, t1])
                capped = not capped
                switches += 1
                if switches > 10_000:
                    raise SolverError(
                        "the source switches between its setpoint and its limit more than "
                        "10000 times in one control piece",
                        t_here,
                        "raise the compliance voltage or tighten rtol",
                    ) from None
                stats.segments += 1
                if t1 - t_here > 1e-12 * max(1.0, t1):
                    continue
                state = hit.y  # the switch falls on the end of the piece
            except StepFailure as exc:
                raise _solver_error(model, system, exc) from exc
            if t_stop < t1:
                # an electrode runs out under the set current: new chemistry from here
                assert tracker is not None
                exposure.piece(system, t_here, t_stop, q_here, q)
                tracker.advance(sub, t_stop - t_here)
                flags = tracker.spent(seg.start + seg.end)
                _note_exhausted(exhausted, t_stop, spent_now, flags)
                model.set_spent(*flags)
                spent_now = flags
                z_state, _ = system.split(state)
                y = z_state[:-1, 1:].copy()
                plasma = system.plasma(state).copy()
                i_now = system.current(t_stop, state)
                t_here = t_stop
                switches += 1
                stats.segments += 1
                continue
            if tracker is not None:
                if capped:
                    tracker.add(FARADAY * float(model.zbal @ (q - q_here)[:nb]))
                else:
                    tracker.advance(sub, t1 - t_here)
            exposure.piece(system, t_here, t1, q_here, q)
            break
        z_state, _ = system.split(state)
        y = z_state[:-1, 1:].copy()
        plasma = system.plasma(state).copy()
        i_now = system.current(t1, state)
        carried = state
        # the last step size carries into the next piece when nothing jumps at t1 (a
        # change of slope only): no sample taken, no compliance switch, no held limit
        smooth = not sampler.apply(t1, y, q) and switches == 0 and not capped
        stats.segments += 1
    wall = _time.perf_counter() - wall0
    result = Result.build(problem, model, before, after, stats, wall, events)
    merged: list[tuple[float, float]] = []
    for a, b in at_limit:  # a stretch held across control pieces is one stretch
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        elif b > a:
            merged.append((a, b))
    result.compliance_intervals = merged
    result.exhaustions = exhausted
    result.exposure = exposure.summary()
    return result
